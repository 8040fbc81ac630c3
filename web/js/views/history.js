// Path history: every change of one (escaped) path on any host, newest
// first unless the route says order=asc, a page at a time, from
// GET /api/v1/paths/history.
import {api} from '../api.js';
import {h, message, replace, routeHref} from '../dom.js';
import {eventTable} from '../events.js';
import {pagerLinks} from './drift.js';

export function historyView({params}) {
  const path = params.get('path') || '';
  const query = {path};
  for (const k of ['order', 'limit', 'cursor']) {
    if (params.get(k)) query[k] = params.get(k);
  }
  if (query.order === 'desc') delete query.order;  // the default, left out of links
  const newest = query.order !== 'asc';
  const input = h('input', {'id': 'history-path', 'name': 'path', 'type': 'text', 'value': path,
    'required': true, 'placeholder': '/etc/passwd', 'autocomplete': 'off', 'spellcheck': 'false',
    'aria-describedby': 'history-help'});
  const orderSel = h('select', {id: 'history-order', name: 'order'},
      h('option', {value: 'desc', selected: newest}, 'newest first'),
      h('option', {value: 'asc', selected: !newest}, 'oldest first'));
  const form = h('form', {'class': 'filters', 'role': 'search', 'onsubmit': (e) => {
    e.preventDefault();
    location.hash = routeHref('/history', {path: input.value.trim(),
      order: orderSel.value === 'desc' ? '' : orderSel.value, limit: query.limit});
  }},
  h('div', {class: 'field wide'}, h('label', {for: 'history-path'}, 'Path'), input,
      h('span', {class: 'help', id: 'history-help'},
          'The exact path as the agents report it (escaped, docs/wire.md).')),
  h('div', {class: 'field'}, h('label', {for: 'history-order'}, 'Order'), orderSel),
  h('div', {class: 'field buttons'}, h('button', {type: 'submit', class: 'primary'}, 'Show history')));
  const status = h('div', {class: 'status-area'});
  const summary = h('div');
  const results = h('div');
  const pager = h('nav', {'class': 'pager', 'aria-label': 'Pages'});
  const view = h('div', {class: 'view history'},
      h('h1', {tabindex: '-1'}, path ? h('span', {}, 'History of ', h('code', {}, path)) :
        'Path history'),
      form, status, summary, results, pager);
  if (!path) {
    replace(status, message('info', 'Enter a path, or pick one from the overview or an event.'));
    return view;
  }
  (async () => {
    replace(status, message('info', 'Loading the history…'));
    try {
      const page = await api.pathHistory({...query, order: newest ? 'desc' : 'asc',
        limit: query.limit || 100});
      const events = page.events;
      const hosts = new Set(events.map((e) => e.host)).size;
      const paged = Boolean(query.cursor || page.next_cursor);
      replace(status);
      replace(summary, h('p', {'id': 'history-summary', 'aria-live': 'polite'},
          events.length === 0 && !query.cursor
            ? 'No host ever reported a change of this path.'
            : `${events.length} change${events.length === 1 ? '' : 's'} on ${hosts} ` +
              `host${hosts === 1 ? '' : 's'}` +
              `${paged ? ' on this page' : ''}, ${newest ? 'newest' : 'oldest'} first` +
              `${page.next_cursor ? `; ${newest ? 'older' : 'newer'} ones follow` : ''}.`));
      replace(results, events.length ? eventTable(events, {showPath: false,
        caption: 'Changes of ' + path}) : null);
      replace(pager, pagerLinks('/history', query, page));
    } catch (e) {
      replace(status, message('error', 'Cannot load the history: ' + e.message));
    }
  })();
  return view;
}
