// One host: its state, open drift (with accept for admins), its baselines
// and revisions, commands, containers, installed packages (filterable) and
// Merkle subtrees (with a comparison against another host).
import {api, ApiError, isReadOnly, openDrift} from '../api.js';
import {formatDuration, h, message, replace, routeHref, timeEl} from '../dom.js';
import {containerLabel, eventTable} from '../events.js';

function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// Reports of this host the collector refused: their drift may be missing.
function refusedFact(host) {
  const r = host.reports_refused || {count: 0};
  if (!r.count) return h('span', {id: 'reports-refused'}, '0');
  return h('span', {id: 'reports-refused'},
      h('span', {class: 'badge state-refused'}, `${r.count} reports refused`), ' ',
      h('span', {class: 'muted'}, 'last '), timeEl(r.last),
      r.reason ? h('span', {class: 'refused-reason'}, `: ${r.reason}`) : null);
}

// What the latest report folded (a check with more drift than one report
// carries): its exact counts and the paths' common prefixes.
function foldedNote(host) {
  const s = host.last_report_summary;
  if (!s || !s.folded) return null;
  const prefixes = s.folded_prefixes || [];
  return h('div', {'class': 'message message-info folded-note', 'role': 'note'},
      `${s.folded} of ${s.events} events of the latest check were folded by the agent ` +
      '(counted, not listed)' + (prefixes.length ? ': ' : '.'),
      prefixes.map((p, i) => [i ? ', ' : '', h('span', {class: 'path'}, p.prefix),
        ` (${p.events})`]));
}

function commandsTable(commands) {
  if (commands.length === 0) return h('p', {class: 'muted'}, 'No commands were ever queued.');
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data compact commands'},
      h('caption', {class: 'sr-only'}, 'Commands queued for this host, newest first'),
      h('thead', {}, h('tr', {}, ['#', 'Command', 'Queued', 'Handed out', 'Acknowledged',
        'Result'].map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, [...commands].reverse().map((c) => h('tr', {},
          h('td', {class: 'num'}, String(c.id)), h('td', {}, c.command),
          h('td', {}, timeEl(c.created)), h('td', {}, timeEl(c.handed_out)),
          h('td', {}, timeEl(c.acknowledged)),
          h('td', {}, c.acknowledged ? `${c.ok ? 'ok' : 'failed'}${c.detail ? ': ' + c.detail : ''}`
            : h('span', {class: 'muted'}, 'pending')))))));
}

// Every baseline revision the host reported or created (GET .../baselines).
function revisionsTable(r) {
  if (r.baselines.length === 0) return h('p', {class: 'muted'}, 'No baseline reported yet.');
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data compact revisions'},
      h('caption', {class: 'sr-only'}, 'Baseline revisions, newest first'),
      h('thead', {}, h('tr', {}, ['Baseline', 'Revision', 'Since', 'Last reported against',
        'Merkle root'].map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, r.baselines.map((b) => h('tr', {class: b.current ? 'current' : null},
          h('td', {}, b.name, b.current ? h('span', {class: 'badge state-ok'}, 'current') : null),
          h('td', {class: 'num'}, String(b.revision)),
          h('td', {}, timeEl(b.since)), h('td', {}, timeEl(b.last_seen)),
          h('td', {class: 'mono'}, b.root ? b.root.slice(0, 16) : '—'))))));
}

// The Merkle root of the host's current baseline revision, as its reports
// gave it (host.root is the latest scan's root, not the baseline's).
function currentRoot(r) {
  const cur = r.baselines.find((b) => b.current);
  if (!cur) return h('span', {class: 'muted'}, 'no baseline reported yet');
  return cur.root || h('span', {class: 'muted'}, 'not reported');
}

// "namespace/pod" from a container's Kubernetes labels; "" without them.
function podOf(c) {
  const labels = c.labels || {};
  const pod = labels['io.kubernetes.pod.name'];
  return pod ? `${labels['io.kubernetes.pod.namespace'] || '?'}/${pod}` : '';
}

// The containers of the latest report (GET .../containers).
function containersTable(r) {
  if (!r.known) {
    return h('p', {class: 'muted'}, 'This host has not reported its containers (the agent ' +
      'checks them when it runs as root on the host root).');
  }
  if (r.containers.length === 0) {
    return h('p', {class: 'muted'}, 'No containers were running at the last report (',
        timeEl(r.received), ').');
  }
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data compact containers'},
      h('caption', {class: 'sr-only'}, 'Containers running at the last report'),
      h('thead', {}, h('tr', {}, ['Name', 'Runtime', 'Pod', 'Image', 'Digest', 'Drift'].map((c) =>
        h('th', {scope: 'col'}, c)))),
      h('tbody', {}, r.containers.map((c) => h('tr', {},
          h('th', {scope: 'row'}, c.name),
          h('td', {}, c.runtime),
          h('td', {}, podOf(c) || h('span', {class: 'muted'}, '—')),
          h('td', {}, c.image || h('span', {class: 'muted'}, 'unknown')),
          h('td', {class: 'mono', title: c.image_digest}, c.image_digest
            ? c.image_digest.slice(0, 12) : '—'),
          h('td', {}, !c.drift_known ? h('span', {class: 'muted'}, 'unknown')
            : c.drifted ? h('a', {href: routeHref('/drift',
                {path: `container:${containerLabel(c)}:*`})},
                h('span', {class: 'badge state-drifted'}, `${c.events} events`))
              : h('span', {class: 'badge state-ok'}, 'none')))))));
}

// The installed packages of the latest inventory, filtered by name on the
// collector (GET .../packages?name=).
function packagesPanel(id) {
  const list = h('div', {'id': 'packages', 'aria-live': 'polite'},
      message('info', 'Loading packages…'));
  const input = h('input', {id: 'pkg-filter', type: 'search', name: 'name',
    placeholder: 'e.g. openssl', autocomplete: 'off', spellcheck: 'false'});
  const load = async () => {
    try {
      const r = await api.hostPackages(id, input.value.trim());
      if (!r.digest) {
        replace(list, h('p', {class: 'muted'}, 'This host has not reported its packages.'));
        return;
      }
      replace(list,
          h('p', {class: 'muted', id: 'pkg-count'}, `${r.matched} of ${r.count} packages`,
              input.value.trim() ? ` matching "${input.value.trim()}"` : '', ' (received ',
              timeEl(r.received), ').'),
          r.packages.length === 0 ? null : h('div', {class: 'table-wrap scroll'},
              h('table', {class: 'data compact packages'},
                  h('caption', {class: 'sr-only'}, 'Installed packages'),
                  h('thead', {}, h('tr', {}, ['Name', 'Version', 'Architecture', 'Manager']
                      .map((c) => h('th', {scope: 'col'}, c)))),
                  h('tbody', {}, r.packages.map((p) => h('tr', {},
                      h('th', {scope: 'row'}, p.name), h('td', {class: 'mono'}, p.version),
                      h('td', {}, p.arch || '—'), h('td', {}, p.manager)))))));
    } catch (e) {
      replace(list, message('error', 'Cannot load the packages: ' + e.message));
    }
  };
  const form = h('form', {'class': 'filters', 'role': 'search', 'aria-label': 'Package filter',
    'onsubmit': (e) => {
      e.preventDefault();
      load();
    }},
  h('div', {class: 'field'}, h('label', {for: 'pkg-filter'}, 'Filter by name'), input),
  h('div', {class: 'field buttons'}, h('button', {type: 'submit'}, 'Filter')));
  load();
  return [form, list];
}

function adminActions(host, onQueued) {
  if (isReadOnly()) return null;
  const status = h('div', {class: 'status-area'});
  const queue = async (command, button) => {
    button.disabled = true;
    try {
      const r = await api.queueCommand(host.id, command);
      replace(status, message('ok', `Queued command #${r.id} (${r.command}) for ${r.host}; ` +
        'the agent takes it on its next poll.'));
      onQueued().catch(() => {});
    } catch (e) {
      replace(status, message('error', e instanceof ApiError && e.status === 403
        ? '403 Forbidden: only an admin token may queue commands. This token is read-only.'
        : 'Cannot queue the command: ' + e.message));
    } finally {
      button.disabled = false;
    }
  };
  return h('div', {class: 'actions'},
      h('button', {type: 'button', onclick: (e) => queue('baseline', e.target)},
          'Accept current state as new baseline'), ' ',
      h('button', {type: 'button', onclick: (e) => queue('check-now', e.target)}, 'Check now'),
      status);
}

function compareForm(host, others) {
  const result = h('div', {'class': 'status-area', 'aria-live': 'polite'});
  const select = h('select', {id: 'compare-with'}, others.map((o) => h('option', {value: o}, o)));
  const form = h('form', {class: 'filters compare-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api.compare(host.id, select.value);
      replace(result,
          h('p', {}, r.root_equal ? 'The Merkle roots are equal: same watched content.'
            : `Subtrees that differ: ${r.differ.length ? r.differ.join(', ') : 'none'}.`),
          h('div', {class: 'table-wrap'}, h('table', {class: 'data compact compare'},
              h('caption', {}, `${r.a} compared with ${r.b}`),
              h('thead', {}, h('tr', {}, ['Subtree', r.a, r.b, 'Status'].map((c) =>
                h('th', {scope: 'col'}, c)))),
              h('tbody', {}, r.subtrees.map((s) => h('tr', {class: `cmp-${s.status}`},
                  h('th', {scope: 'row', class: 'path'}, s.path),
                  h('td', {class: 'mono'}, s.a || '—'), h('td', {class: 'mono'}, s.b || '—'),
                  h('td', {}, s.status.replace('_', ' '))))))));
    } catch (err) {
      replace(result, message('error', 'Cannot compare: ' + err.message));
    }
  }},
  h('div', {class: 'field'}, h('label', {for: 'compare-with'}, 'Compare with host'), select),
  h('div', {class: 'field'}, h('button', {type: 'submit'}, 'Compare')));
  return [form, result];
}

// The host's integrity (docs/integrity.md): open integrity alerts and what
// the collector holds of its chain.
function integrityPanel(alerts, chain) {
  const held = chain.agent_chain;
  return [
    alerts.length === 0
      ? h('p', {class: 'muted', id: 'integrity-none'}, 'No open integrity alert.')
      : h('div', {class: 'table-wrap'}, h('table', {class: 'data compact', id: 'integrity-alerts'},
          h('caption', {class: 'sr-only'}, 'Open integrity alerts'),
          h('thead', {}, h('tr', {}, ['Detected', 'Severity', 'Kind', 'Seq', 'What diverged']
              .map((t) => h('th', {scope: 'col'}, t)))),
          h('tbody', {}, alerts.map((a) => h('tr', {'data-kind': a.kind},
              h('td', {}, timeEl(a.detected)),
              h('td', {}, h('span', {class: `badge integrity-${a.severity}`}, a.severity)),
              h('td', {}, a.kind),
              h('td', {class: 'num'}, a.seq === null ? '—' : String(a.seq)),
              h('td', {class: 'detail'}, a.detail)))))),
    facts([
      ['Chain held', `${held.held} records (epoch ${held.epoch})`],
      ['Chain head', h('span', {class: 'mono', id: 'chain-head'}, held.head)],
      ['Collector event chain', `${chain.event_chain.length} events`],
    ]),
  ];
}

export function hostView({match}) {
  const id = match[0];
  const status = h('div', {class: 'status-area'}, message('info', 'Loading the host…'));
  const body = h('div');
  const view = h('div', {class: 'view host'},
      h('p', {class: 'crumbs'}, h('a', {href: '#/hosts'}, 'Hosts'), ' / '),
      h('h1', {tabindex: '-1'}, id), status, body);

  (async () => {
    try {
      const [host, all, integrity, chain] = await Promise.all([api.host(id), api.hosts(),
        api.integrity({host: id, open: 'true'}), api.hostChain(id)]);
      const state = host.silent ? 'silent' : host.drifted ? 'drifted' : 'ok';
      const others = all.hosts.map((x) => x.id).filter((x) => x !== id);
      const openArea = h('div', {}, message('info', 'Loading open drift…'));
      const subtrees = Object.entries(host.subtrees || {});
      const commandsArea = h('div', {}, commandsTable(host.commands || []));
      const revisionsArea = h('div', {id: 'revisions'}, message('info', 'Loading revisions…'));
      const containersArea = h('div', {id: 'containers'},
          message('info', 'Loading containers…'));
      const baselineRoot = h('span', {class: 'mono', id: 'baseline-root'}, '…');
      const refreshCommands = async () => {
        const fresh = await api.host(id);
        replace(commandsArea, commandsTable(fresh.commands || []));
      };
      replace(body,
          h('div', {class: 'grid'},
              h('section', {'class': 'panel', 'aria-labelledby': 'state-h'},
                  h('h2', {id: 'state-h'}, 'State'),
                  facts([
                    ['Status', h('span', {class: `badge state-${state}`}, state)],
                    ['Group', host.group ? h('a', {'class': 'group-link',
                      'href': routeHref('/groups/' + encodeURIComponent(host.group))}, host.group)
                      : '—'],
                    ['Reports from', host.target || '—'],
                    ['Agent version', host.agent_version || '—'],
                    ['Enrolled', timeEl(host.enrolled)],
                    ['Last seen', timeEl(host.last_seen)],
                    ['Last report', timeEl(host.last_report)],
                    ['Reports / events', `${host.reports} / ${host.events}`],
                    ['Reports refused', refusedFact(host)],
                    ['Latest scan root', h('span', {class: 'mono', id: 'latest-root',
                      title: 'Merkle root of the latest report'}, host.root || '—')],
                  ])),
              h('section', {'class': 'panel', 'aria-labelledby': 'baseline-h'},
                  h('h2', {id: 'baseline-h'}, 'Baseline'),
                  facts([
                    ['Name', host.baseline.name || '—'],
                    ['Revision', String(host.baseline.revision)],
                    ['Since', timeEl(host.baseline.since)],
                    ['Age', formatDuration(host.baseline.age_seconds)],
                    ['Baseline root', baselineRoot],
                  ]),
                  adminActions(host, refreshCommands))),
          h('section', {'class': 'panel', 'aria-labelledby': 'integrity-h', 'id': 'integrity'},
              h('h2', {id: 'integrity-h'}, `Integrity (${integrity.alerts.length} open)`),
              integrityPanel(integrity.alerts, chain)),
          h('section', {'class': 'panel', 'aria-labelledby': 'revisions-h'},
              h('h2', {id: 'revisions-h'}, 'Baselines and revisions'), revisionsArea),
          h('section', {'class': 'panel', 'aria-labelledby': 'open-h'},
              h('h2', {id: 'open-h'}, `Open drift (${host.last_report_events})`),
              h('p', {class: 'muted'}, 'The events of the latest report. ',
                  h('a', {href: routeHref('/drift', {host: id})}, 'All drift of this host')),
              foldedNote(host),
              openArea),
          h('section', {'class': 'panel', 'aria-labelledby': 'commands-h'},
              h('h2', {id: 'commands-h'}, 'Commands'),
              commandsArea),
          h('section', {'class': 'panel', 'aria-labelledby': 'containers-h'},
              h('h2', {id: 'containers-h'}, 'Containers'), containersArea),
          h('section', {'class': 'panel', 'aria-labelledby': 'packages-h'},
              h('h2', {id: 'packages-h'}, 'Packages'),
              packagesPanel(id),
              h('p', {class: 'muted'}, 'Package drift: ',
                  ['package-installed', 'package-removed', 'package-changed',
                    'package-file-modified'].map((k, i) => [i ? ', ' : '',
                    h('a', {href: routeHref('/drift', {host: id, kind: k})}, k)]))),
          h('section', {'class': 'panel', 'aria-labelledby': 'subtrees-h'},
              h('h2', {id: 'subtrees-h'}, 'Watched subtrees'),
              subtrees.length === 0 ? h('p', {class: 'muted'}, 'No report yet.')
                : h('div', {class: 'table-wrap'}, h('table', {class: 'data compact'},
                    h('caption', {class: 'sr-only'}, 'Merkle hash of each watched subtree'),
                    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Subtree'),
                        h('th', {scope: 'col'}, 'Hash'))),
                    h('tbody', {}, subtrees.map(([p, hash]) => h('tr', {},
                        h('th', {scope: 'row', class: 'path'}, p),
                        h('td', {class: 'mono'}, hash)))))),
              others.length ? compareForm(host, others) : null));
      replace(status);
      const [revs, ctrs] = await Promise.all([api.hostBaselines(id), api.hostContainers(id)]);
      replace(revisionsArea, revisionsTable(revs));
      replace(baselineRoot, currentRoot(revs));
      replace(containersArea, containersTable(ctrs));
      const open = await openDrift(host);
      // In the order the agent listed them (ids follow it), whatever the API's order.
      const listed = [...open.events].sort((a, b) => a.id - b.id);
      replace(openArea, listed.length === 0
        ? h('p', {class: 'muted'}, 'No open drift.')
        : eventTable(listed, {showHost: false, caption: 'Open drift of ' + id}),
      open.complete ? null : message('info', 'The host has more events than this page reads.'));
    } catch (e) {
      replace(status, message('error', e instanceof ApiError && e.status === 404
        ? `No host "${id}" is enrolled.` : 'Cannot load the host: ' + e.message));
    }
  })();
  return view;
}
