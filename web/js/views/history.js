// Path history: every change of one (escaped) path on any host, oldest
// first, from GET /api/v1/paths/history.
import {api} from '../api.js';
import {h, message, replace, routeHref} from '../dom.js';
import {eventTable} from '../events.js';

export function historyView({params}) {
  const path = params.get('path') || '';
  const input = h('input', {'id': 'history-path', 'name': 'path', 'type': 'text', 'value': path,
    'required': true, 'placeholder': '/etc/passwd', 'autocomplete': 'off', 'spellcheck': 'false',
    'aria-describedby': 'history-help'});
  const form = h('form', {'class': 'filters', 'role': 'search', 'onsubmit': (e) => {
    e.preventDefault();
    location.hash = routeHref('/history', {path: input.value.trim()});
  }},
  h('div', {class: 'field wide'}, h('label', {for: 'history-path'}, 'Path'), input,
      h('span', {class: 'help', id: 'history-help'},
          'The exact path as the agents report it (escaped, docs/wire.md).')),
  h('div', {class: 'field buttons'}, h('button', {type: 'submit', class: 'primary'}, 'Show history')));
  const status = h('div', {class: 'status-area'});
  const summary = h('div');
  const results = h('div');
  const more = h('div', {class: 'pager'});
  const view = h('div', {class: 'view history'},
      h('h1', {tabindex: '-1'}, path ? h('span', {}, 'History of ', h('code', {}, path)) :
        'Path history'),
      form, status, summary, results, more);
  if (!path) {
    replace(status, message('info', 'Enter a path, or pick one from the overview or an event.'));
    return view;
  }
  const events = [];
  const load = async (cursor) => {
    replace(status, message('info', 'Loading the history…'));
    try {
      const page = await api.pathHistory(path, cursor, 500);
      events.push(...page.events);
      const hosts = new Set(events.map((e) => e.host));
      replace(status);
      replace(summary, h('p', {'id': 'history-summary', 'aria-live': 'polite'}, events.length === 0
        ? 'No host ever reported a change of this path.'
        : `${events.length} changes on ${hosts.size} host${hosts.size === 1 ? '' : 's'}` +
          `${page.next_cursor ? ' so far' : ''}, oldest first.`));
      replace(results, events.length ? eventTable(events, {showPath: false,
        caption: 'Changes of ' + path}) : null);
      replace(more, page.next_cursor ? h('button', {type: 'button', onclick: () =>
        load(page.next_cursor)}, 'Load more') : null);
    } catch (e) {
      replace(status, message('error', 'Cannot load the history: ' + e.message));
    }
  };
  load('');
  return view;
}
