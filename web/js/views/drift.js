// Drift events: filters that map 1:1 onto GET /api/v1/drift (the route's
// query is the API's query, so the URL can be shared), cursor paging, and
// expandable events.
import {api, ApiError} from '../api.js';
import {KINDS, SEVERITIES, h, message, replace, routeHref} from '../dom.js';
import {eventTable} from '../events.js';

// The /drift query parameters, in the order the form shows them.
export const DRIFT_PARAMS = ['host', 'group', 'path', 'kind', 'severity', 'since', 'until', 'limit',
  'cursor'];

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

// Pages seen in this tab for one filter, so "Previous page" can go back.
const trail = {filter: '', cursors: []};

export function driftView({params}) {
  const query = {};
  for (const k of DRIFT_PARAMS) {
    if (params.get(k)) query[k] = params.get(k);
  }
  const filterKey = DRIFT_PARAMS.filter((k) => k !== 'cursor').map((k) => query[k] || '').join('|');
  if (trail.filter !== filterKey) {
    trail.filter = filterKey;
    trail.cursors = [];
  }
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
  const limitSel = h('select', {id: 'f-limit', name: 'limit'}, ['25', '100', '500', '1000'].map(
      (n) => h('option', {value: n, selected: n === (query.limit || '100')}, n)));

  const form = h('form', {'class': 'filters drift-filters', 'role': 'search',
    'aria-label': 'Drift filters', 'onsubmit': (e) => {
      e.preventDefault();
      location.hash = routeHref('/drift', {
        host: hostSel.value, group: groupSel.value, path: pathIn.value.trim(),
        kind: kindSel.value, severity: sevSel.value,
        since: localToRfc3339(sinceIn.value), until: localToRfc3339(untilIn.value),
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
  field('f-limit', 'Per page', limitSel),
  h('div', {class: 'field buttons'},
      h('button', {type: 'submit', class: 'primary'}, 'Apply filters'),
      h('a', {href: '#/drift', class: 'button'}, 'Clear')));

  const status = h('div', {class: 'status-area'}, message('info', 'Loading drift events…'));
  const results = h('div');
  const pager = h('nav', {'class': 'pager', 'aria-label': 'Pages'});
  const view = h('div', {class: 'view drift'},
      h('h1', {tabindex: '-1'}, 'Drift events'), form,
      h('p', {class: 'muted api-query'}, 'API query: ',
          h('code', {id: 'api-query'}, '/api/v1/drift' + routeHref('', query).slice(1))),
      status, results, pager);

  (async () => {
    try {
      const [page, hosts] = await Promise.all([api.drift(query), api.hosts()]);
      const ids = hosts.hosts.map((x) => x.id);
      const groups = [...new Set(hosts.hosts.map((x) => x.group).filter(Boolean))].sort();
      replace(hostSel, h('option', {value: ''}, 'any host'),
          [...new Set([...ids, query.host].filter(Boolean))].sort().map(
              (x) => h('option', {value: x, selected: x === query.host}, x)));
      replace(groupSel, h('option', {value: ''}, 'any group'),
          [...new Set([...groups, query.group].filter(Boolean))].sort().map(
              (g) => h('option', {value: g, selected: g === query.group}, g)));
      replace(status, message('info', page.events.length === 0
        ? 'No drift events match these filters.'
        : `${page.events.length} events on this page${page.next_cursor ? '; more follow' : ''}.`));
      replace(results, page.events.length ? eventTable(page.events, {caption: 'Drift events'}) :
        null);
      const here = query.cursor || '';
      const at = trail.cursors.indexOf(here);
      if (at < 0) trail.cursors.push(here);
      const links = [];
      if (query.cursor) {
        links.push(h('a', {href: routeHref('/drift', {...query, cursor: ''}), class: 'button'},
            'First page'));
        const i = trail.cursors.indexOf(here);
        if (i > 0) {
          links.push(h('a', {href: routeHref('/drift', {...query, cursor: trail.cursors[i - 1]}),
            class: 'button', rel: 'prev'}, '← Previous page'));
        }
      }
      if (page.next_cursor) {
        links.push(h('a', {href: routeHref('/drift', {...query, cursor: page.next_cursor}),
          class: 'button', rel: 'next', id: 'next-page'}, 'Next page →'));
      }
      replace(pager, links);
    } catch (e) {
      replace(status, message('error', e instanceof ApiError && e.status === 400
        ? 'The collector refused this filter: ' + e.message
        : 'Cannot load drift events: ' + e.message));
    }
  })();
  return view;
}
