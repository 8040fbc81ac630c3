// Kubernetes: the fleet's pod containers grouped by namespace, then pod
// (GET /kubernetes), with their drift; the route's filters (namespace,
// host, image, runtime, drifted) are the API's.
import {api, ApiError} from '../api.js';
import {h, message, replace, routeHref} from '../dom.js';
import {containerLabel} from '../events.js';

const FILTERS = ['namespace', 'host', 'image', 'runtime', 'drifted'];

function driftCell(c) {
  if (!c.drift_known) return h('span', {class: 'muted'}, 'unknown');
  if (!c.drifted) return h('span', {class: 'badge state-ok'}, 'none');
  return h('a', {href: routeHref('/drift', {host: c.host,
    path: `container:${containerLabel(c)}:*`})},
  h('span', {class: 'badge state-drifted'}, `${c.events} events`));
}

function podTable(ns, pod) {
  return h('section', {'class': 'pod', 'data-pod': pod.pod,
    'aria-label': `Pod ${ns.namespace}/${pod.pod}`},
  h('h3', {}, pod.pod, ' ', h('span', {class: 'muted'}, 'on ',
      pod.hosts.map((x, i) => [i ? ', ' : '',
        h('a', {href: routeHref('/hosts/' + encodeURIComponent(x))}, x)])),
  ' ', pod.drifted ? h('span', {class: 'badge state-drifted'},
      `${pod.drifted} drifted`) : h('span', {class: 'badge state-ok'}, 'no drift')),
  h('div', {class: 'table-wrap'}, h('table', {class: 'data compact pod-containers'},
      h('caption', {class: 'sr-only'}, `Containers of pod ${ns.namespace}/${pod.pod}`),
      h('thead', {}, h('tr', {}, ['Container', 'Runtime', 'Image', 'Digest', 'Host', 'Drift']
          .map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, pod.containers.map((c) => h('tr', {'data-container': c.pod_container || c.name},
          h('th', {scope: 'row'}, c.pod_container || c.name),
          h('td', {}, c.runtime),
          h('td', {}, c.image || h('span', {class: 'muted'}, 'unknown')),
          h('td', {class: 'mono', title: c.image_digest}, c.image_digest
            ? c.image_digest.replace(/^sha256:/, '').slice(0, 12) : '—'),
          h('td', {}, c.host),
          h('td', {class: 'drift'}, driftCell(c))))))));
}

function namespaceSection(ns) {
  return h('section', {'class': 'panel namespace', 'data-namespace': ns.namespace,
    'aria-labelledby': `ns-${ns.namespace}`},
  h('h2', {id: `ns-${ns.namespace}`}, ns.namespace, ' ',
      h('span', {class: 'muted ns-counts'},
          `${ns.pods.length} pod${ns.pods.length === 1 ? '' : 's'}, ` +
          `${ns.containers} container${ns.containers === 1 ? '' : 's'}, ` +
          `${ns.drifted} drifted, ${ns.events} events`)),
  ns.pods.map((p) => podTable(ns, p)));
}

export function kubernetesView({params}) {
  const status = h('div', {class: 'status-area'}, message('info', 'Loading the pods…'));
  const body = h('div', {id: 'kubernetes'});
  const query = {};
  for (const k of FILTERS) {
    if (params.get(k)) query[k] = params.get(k);
  }
  const inputs = {
    namespace: h('input', {id: 'k-namespace', name: 'namespace', value: query.namespace || ''}),
    host: h('input', {id: 'k-host', name: 'host', value: query.host || ''}),
    drifted: h('select', {id: 'k-drifted', name: 'drifted'},
        [['', 'any'], ['true', 'drifted'], ['false', 'not drifted']].map(([v, t]) =>
          h('option', {value: v, selected: (query.drifted || '') === v}, t))),
  };
  const form = h('form', {class: 'filters kubernetes-filters', onsubmit: (ev) => {
    ev.preventDefault();
    const next = {...query};
    for (const [k, el] of Object.entries(inputs)) next[k] = el.value.trim();
    location.hash = routeHref('/kubernetes', next);
  }},
  h('label', {for: 'k-namespace'}, 'Namespace'), inputs.namespace,
  h('label', {for: 'k-host'}, 'Host'), inputs.host,
  h('label', {for: 'k-drifted'}, 'Drift'), inputs.drifted,
  h('button', {type: 'submit'}, 'Apply'));
  const view = h('div', {class: 'view kubernetes'},
      h('h1', {tabindex: '-1'}, 'Kubernetes'),
      h('p', {class: 'muted'}, 'Containers with Kubernetes labels (io.kubernetes.pod.namespace, ' +
        'io.kubernetes.pod.name, io.kubernetes.container.name), by namespace and pod, as the ' +
        'hosts\' latest reports found them.'),
      form, status, body);
  (async () => {
    try {
      const r = await api.kubernetes(query);
      if (r.namespaces.length === 0) {
        replace(status, message('info', Object.keys(query).length
          ? 'No Kubernetes container matches these filters.'
          : 'No host reported a Kubernetes container.'));
        return;
      }
      replace(status, r.truncated ? message('info', `Showing the first ${r.containers} ` +
        'containers; narrow with a filter.') : null);
      replace(body, h('p', {'class': 'k8s-totals', 'data-metric': 'k8s-containers'},
          `${r.containers} containers in ${r.namespaces.length} namespaces`),
      r.namespaces.map(namespaceSection));
    } catch (e) {
      const text = e instanceof ApiError && e.status === 400
        ? 'The collector refused this filter: ' + e.message
        : 'Cannot load the pods: ' + e.message;
      replace(status, message('error', text));
    }
  })();
  return view;
}
