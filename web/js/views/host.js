// One host: its state, open drift, baseline and the commands that changed
// it, Merkle subtrees (with a comparison against another host), and links to
// its package and container drift.
import {api, ApiError, isReadOnly, openDrift} from '../api.js';
import {formatDuration, h, message, replace, routeHref, timeEl} from '../dom.js';
import {eventTable} from '../events.js';

function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
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
  const form = h('form', {class: 'filters', onsubmit: async (e) => {
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

export function hostView({match}) {
  const id = match[0];
  const status = h('div', {class: 'status-area'}, message('info', 'Loading the host…'));
  const body = h('div');
  const view = h('div', {class: 'view host'},
      h('p', {class: 'crumbs'}, h('a', {href: '#/hosts'}, 'Hosts'), ' / '),
      h('h1', {tabindex: '-1'}, id), status, body);

  (async () => {
    try {
      const [host, all] = await Promise.all([api.host(id), api.hosts()]);
      const state = host.silent ? 'silent' : host.drifted ? 'drifted' : 'ok';
      const others = all.hosts.map((x) => x.id).filter((x) => x !== id);
      const openArea = h('div', {}, message('info', 'Loading open drift…'));
      const subtrees = Object.entries(host.subtrees || {});
      const commandsArea = h('div', {}, commandsTable(host.commands || []));
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
                    ['Group', host.group || '—'],
                    ['Reports from', host.target || '—'],
                    ['Agent version', host.agent_version || '—'],
                    ['Enrolled', timeEl(host.enrolled)],
                    ['Last seen', timeEl(host.last_seen)],
                    ['Last report', timeEl(host.last_report)],
                    ['Reports / events', `${host.reports} / ${host.events}`],
                  ])),
              h('section', {'class': 'panel', 'aria-labelledby': 'baseline-h'},
                  h('h2', {id: 'baseline-h'}, 'Baseline'),
                  facts([
                    ['Name', host.baseline.name || '—'],
                    ['Revision', String(host.baseline.revision)],
                    ['Since', timeEl(host.baseline.since)],
                    ['Age', formatDuration(host.baseline.age_seconds)],
                    ['Merkle root', h('span', {class: 'mono'}, host.root || '—')],
                  ]),
                  h('p', {class: 'muted'}, 'Earlier revisions are listed with the baseline ' +
                    'commands below; the collector keeps no other revision history.'),
                  adminActions(host, refreshCommands))),
          h('section', {'class': 'panel', 'aria-labelledby': 'open-h'},
              h('h2', {id: 'open-h'}, `Open drift (${host.last_report_events})`),
              h('p', {class: 'muted'}, 'The events of the latest report. ',
                  h('a', {href: routeHref('/drift', {host: id})}, 'All drift of this host')),
              openArea),
          h('section', {'class': 'panel', 'aria-labelledby': 'commands-h'},
              h('h2', {id: 'commands-h'}, 'Baselines and commands'),
              commandsArea),
          h('div', {class: 'grid'},
              h('section', {'class': 'panel', 'aria-labelledby': 'packages-h'},
                  h('h2', {id: 'packages-h'}, 'Packages'),
                  h('p', {class: 'muted'}, 'The collector stores package drift, not package ' +
                    'lists. '),
                  h('ul', {}, ['package-installed', 'package-removed', 'package-changed',
                    'package-file-modified'].map((k) => h('li', {},
                    h('a', {href: routeHref('/drift', {host: id, kind: k})}, k))))),
              h('section', {'class': 'panel', 'aria-labelledby': 'containers-h'},
                  h('h2', {id: 'containers-h'}, 'Containers'),
                  h('p', {class: 'muted'}, 'This collector does not list the containers of a ' +
                    'host yet; container drift is reported by targets named container:<id>.'))),
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
      const open = await openDrift(host);
      replace(openArea, open.events.length === 0
        ? h('p', {class: 'muted'}, 'No open drift.')
        : eventTable(open.events, {showHost: false, caption: 'Open drift of ' + id}),
      open.complete ? null : message('info', 'The host has more events than this page reads.'));
    } catch (e) {
      replace(status, message('error', e instanceof ApiError && e.status === 404
        ? `No host "${id}" is enrolled.` : 'Cannot load the host: ' + e.message));
    }
  })();
  return view;
}
