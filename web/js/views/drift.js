// Drift events: filters that map 1:1 onto GET /api/v1/drift (the route's
// query is the API's query, so the URL can be shared), newest first unless
// the route says order=asc, paging both ways with the API's cursors, and
// expandable events.
import {api, ApiError} from '../api.js';
import {KINDS, SEVERITIES, h, message, replace, routeHref} from '../dom.js';
import {eventTable} from '../events.js';

// The /drift query parameters, in the order the form shows them.
export const DRIFT_PARAMS = ['host', 'group', 'path', 'kind', 'severity', 'since', 'until',
  'actor_exe', 'actor_uid', 'transient', 'order', 'limit', 'cursor'];

// "2026-11-01T10:00" (a datetime-local value, read as UTC) <-> RFC 3339.
export function localToRfc3339(v) {
  if (!v) return '';
  return (v.length === 16 ? v + ':00' : v) + 'Z';
}
export function rfc3339ToLocal(v) {
  if (!v) return '';
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString().slice(0, 16);
}

// The pager of one page of /drift or /paths/history: prev_cursor leads back
// towards the first page, next_cursor away from it; newest first, that is
// to newer and to older events.
export function pagerLinks(route, query, page) {
  const [first, back, on] = query.order === 'asc' ? ['Oldest', 'Older', 'Newer']
    : ['Newest', 'Newer', 'Older'];
  const link = (cursor, text, attrs) => h('a', {href: routeHref(route, {...query, cursor}),
    class: 'button', ...attrs}, text);
  return [
    query.cursor ? link('', `⇤ ${first}`, {id: 'first-page'}) : null,
    page.prev_cursor ? link(page.prev_cursor, `← ${back}`, {rel: 'prev', id: 'prev-page'}) : null,
    page.next_cursor ? link(page.next_cursor, `${on} →`, {rel: 'next', id: 'next-page'}) : null,
  ];
}

export function driftView({params}) {
  const query = {};
  for (const k of DRIFT_PARAMS) {
    if (params.get(k)) query[k] = params.get(k);
  }
  if (query.order === 'desc') delete query.order;  // the default, left out of links
  const field = (id, label, control, help) => h('div', {class: 'field'},
      h('label', {for: id}, label), control,
      help ? h('span', {class: 'help', id: id + '-help'}, help) : null);
  const hostSel = h('select', {id: 'f-host', name: 'host'},
      h('option', {value: ''}, 'any host'),
      query.host ? h('option', {value: query.host, selected: true}, query.host) : null);
  const groupSel = h('select', {id: 'f-group', name: 'group'},
      h('option', {value: ''}, 'any group'),
      query.group ? h('option', {value: query.group, selected: true}, query.group) : null);
  const pathIn = h('input', {'id': 'f-path', 'name': 'path', 'type': 'text', 'value': query.path || '',
    'placeholder': '/etc/*', 'autocomplete': 'off', 'spellcheck': 'false',
    'aria-describedby': 'f-path-help'});
  const kindSel = h('select', {id: 'f-kind', name: 'kind'}, h('option', {value: ''}, 'any kind'),
      KINDS.map((k) => h('option', {value: k, selected: k === query.kind}, k)));
  const sevSel = h('select', {id: 'f-severity', name: 'severity'},
      h('option', {value: ''}, 'any severity'),
      SEVERITIES.map((s) => h('option', {value: s, selected: s === query.severity}, `${s} or worse`)));
  const sinceIn = h('input', {id: 'f-since', name: 'since', type: 'datetime-local',
    value: rfc3339ToLocal(query.since)});
  const untilIn = h('input', {id: 'f-until', name: 'until', type: 'datetime-local',
    value: rfc3339ToLocal(query.until)});
  const exeIn = h('input', {'id': 'f-actor-exe', 'name': 'actor_exe', 'type': 'text',
    'value': query.actor_exe || '', 'placeholder': '/usr/bin/vim', 'autocomplete': 'off',
    'spellcheck': 'false', 'aria-describedby': 'f-actor-exe-help'});
  const uidIn = h('input', {'id': 'f-actor-uid', 'name': 'actor_uid', 'type': 'text',
    'inputmode': 'numeric', 'pattern': '[0-9]*', 'value': query.actor_uid || '',
    'placeholder': '1000', 'autocomplete': 'off'});
  const transientSel = h('select', {id: 'f-transient', name: 'transient'},
      h('option', {value: ''}, 'any'),
      h('option', {value: 'true', selected: query.transient === 'true'}, 'transient only'),
      h('option', {value: 'false', selected: query.transient === 'false'}, 'not transient'));
  const orderSel = h('select', {id: 'f-order', name: 'order'},
      h('option', {value: 'desc', selected: query.order !== 'asc'}, 'newest first'),
      h('option', {value: 'asc', selected: query.order === 'asc'}, 'oldest first'));
  const limitSel = h('select', {id: 'f-limit', name: 'limit'}, ['25', '100', '500', '1000'].map(
      (n) => h('option', {value: n, selected: n === (query.limit || '100')}, n)));

  const form = h('form', {'class': 'filters drift-filters', 'role': 'search',
    'aria-label': 'Drift filters', 'onsubmit': (e) => {
      e.preventDefault();
      location.hash = routeHref('/drift', {
        host: hostSel.value, group: groupSel.value, path: pathIn.value.trim(),
        kind: kindSel.value, severity: sevSel.value,
        since: localToRfc3339(sinceIn.value), until: localToRfc3339(untilIn.value),
        actor_exe: exeIn.value.trim(), actor_uid: uidIn.value.trim(),
        transient: transientSel.value,
        order: orderSel.value === 'desc' ? '' : orderSel.value,
        limit: limitSel.value === '100' ? '' : limitSel.value,
      });
    }},
  field('f-host', 'Host', hostSel),
  field('f-group', 'Group', groupSel),
  field('f-path', 'Path', pathIn, '* and ? match any characters, / included'),
  field('f-kind', 'Kind', kindSel),
  field('f-severity', 'Severity', sevSel),
  field('f-since', 'Since (UTC)', sinceIn),
  field('f-until', 'Until (UTC)', untilIn),
  field('f-actor-exe', 'Changed by (executable)', exeIn,
      'realtime events: the exact executable path'),
  field('f-actor-uid', 'Changed by (uid)', uidIn),
  field('f-transient', 'Transient', transientSel),
  field('f-order', 'Order', orderSel),
  field('f-limit', 'Per page', limitSel),
  h('div', {class: 'field buttons'},
      h('button', {type: 'submit', class: 'primary'}, 'Apply filters'),
      h('a', {href: '#/drift', class: 'button'}, 'Clear')));

  const status = h('div', {class: 'status-area'}, message('info', 'Loading drift events…'));
  const results = h('div');
  const pager = h('nav', {'class': 'pager', 'aria-label': 'Pages'});
  // The order always goes to the API, so the page does not depend on its default.
  const apiQuery = {};
  for (const k of DRIFT_PARAMS) apiQuery[k] = k === 'order' ? query.order || 'desc' : query[k];
  const view = h('div', {class: 'view drift'},
      h('h1', {tabindex: '-1'}, 'Drift events'), form,
      h('p', {class: 'muted api-query'}, 'API query: ',
          h('code', {id: 'api-query'}, '/api/v1/drift' + routeHref('', apiQuery).slice(1))),
      status, results, pager);

  (async () => {
    try {
      const [page, hosts] = await Promise.all([api.drift(apiQuery), api.hosts()]);
      const ids = hosts.hosts.map((x) => x.id);
      const groups = [...new Set(hosts.hosts.map((x) => x.group).filter(Boolean))].sort();
      replace(hostSel, h('option', {value: ''}, 'any host'),
          [...new Set([...ids, query.host].filter(Boolean))].sort().map(
              (x) => h('option', {value: x, selected: x === query.host}, x)));
      replace(groupSel, h('option', {value: ''}, 'any group'),
          [...new Set([...groups, query.group].filter(Boolean))].sort().map(
              (g) => h('option', {value: g, selected: g === query.group}, g)));
      const newest = apiQuery.order === 'desc';
      replace(status, message('info', page.events.length === 0
        ? 'No drift events match these filters.'
        : `${page.events.length} events on this page, ${newest ? 'newest' : 'oldest'} first` +
          `${page.next_cursor ? `; ${newest ? 'older' : 'newer'} ones follow` : ''}.`));
      replace(results, page.events.length ? eventTable(page.events, {caption: 'Drift events'}) :
        null);
      replace(pager, pagerLinks('/drift', query, page));
    } catch (e) {
      replace(status, message('error', e instanceof ApiError && e.status === 400
        ? 'The collector refused this filter: ' + e.message
        : 'Cannot load drift events: ' + e.message));
    }
  })();
  return view;
}
