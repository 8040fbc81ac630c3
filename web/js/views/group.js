// A group's page (#/groups/NAME?path=/etc): drift from peers. Which hosts
// of the group differ from the others and where ("12 of 100 hosts differ in
// 3 paths"), from GET /fleet/outliers, then each path with the entry most
// hosts hold and the hosts that differ; and the group's baselines
// (GET /groups/{G}/baselines).
import {api, ApiError} from '../api.js';
import {h, message, replace, routeHref, timeEl} from '../dom.js';

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// One entry in a line: "file 0644 0:0 1.2 kB xxh128:3f2a…", "absent".
export function entrySummary(e) {
  if (!e) return 'absent';
  const parts = [e.type];
  if (e.perm !== undefined) parts.push(e.perm);
  if (e.uid !== undefined || e.gid !== undefined) parts.push(`${e.uid ?? '?'}:${e.gid ?? '?'}`);
  if (e.size !== undefined && e.type === 'file') parts.push(`${e.size} B`);
  if (e.link !== undefined) parts.push('→ ' + e.link);
  if (e.hash) parts.push(e.hash.slice(0, e.hash.indexOf(':') + 13) + '…');
  return parts.join(' ');
}

// "12 of 100 hosts differ in 3 paths" (the paths listed; "at least" when
// the answer was cut at its limit).
export function groupHeadline(r) {
  const paths = r.paths.length;
  return `${r.differing_hosts} of ${plural(r.hosts, 'host', 'hosts')} differ in ` +
      `${r.truncated ? 'at least ' : ''}${plural(paths, 'path', 'paths')}`;
}

function entryCell(e) {
  return h('span', {class: e ? 'entry' : 'entry muted', title: e ? JSON.stringify(e) : ''},
      entrySummary(e));
}

function pathsTable(r) {
  if (r.paths.length === 0) {
    return message('info', r.hosts < 2 ?
      'Fewer than two hosts of this group have sent their tree: nothing to compare yet.' :
      'The hosts of this group agree on every path.');
  }
  const rows = r.paths.map((p) => h('tr', {'data-path': p.path},
      h('th', {scope: 'row'}, h('code', {}, p.path)),
      h('td', {class: 'majority'}, entryCell(p.majority),
          h('span', {class: 'muted holders'}, ` · ${plural(p.holders, 'host', 'hosts')}`)),
      h('td', {class: 'outliers'}, h('ul', {class: 'outlier-list'}, p.outliers.map((o) =>
        h('li', {'data-host': o.host},
            h('a', {href: routeHref('/hosts/' + encodeURIComponent(o.host))}, o.host), ': ',
            entryCell(o.entry)))))));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data outliers'},
      h('caption', {class: 'sr-only'}, 'Paths where the hosts of the group differ'),
      h('thead', {}, h('tr', {},
          h('th', {scope: 'col'}, 'Path'),
          h('th', {scope: 'col'}, 'Most hosts'),
          h('th', {scope: 'col'}, 'Hosts that differ'))),
      h('tbody', {}, rows)));
}

function baselinesSection(group) {
  const area = h('div', {class: 'status-area'}, message('info', 'Loading baselines…'));
  (async () => {
    try {
      const r = await api.groupBaselines(group);
      if (r.baselines.length === 0) {
        replace(area, h('p', {class: 'muted', id: 'no-group-baseline'},
            'This group has no baseline of its own; its hosts check against their own. ',
            'Make one with ', h('code', {}, `driftwatch-collector baseline --group ${group} ` +
              '--from-majority --by WHO --why TEXT'), '.'));
        return;
      }
      replace(area, h('table', {class: 'data group-baselines'},
          h('caption', {class: 'sr-only'}, 'Revisions of the group baseline, newest first'),
          h('thead', {}, h('tr', {}, ['Revision', 'Source', 'By', 'Why', 'Created', 'Root']
              .map((t) => h('th', {scope: 'col'}, t)))),
          h('tbody', {}, r.baselines.map((b) => h('tr', {'data-revision': String(b.revision)},
              h('th', {scope: 'row'}, `r${b.revision}`),
              h('td', {}, b.source), h('td', {}, b.by), h('td', {}, b.why),
              h('td', {class: 'nowrap'}, timeEl(b.created)),
              h('td', {}, h('code', {title: b.root}, b.root.slice(0, 12))))))));
    } catch (e) {
      replace(area, message('error', 'Cannot load the group\'s baselines: ' + e.message));
    }
  })();
  return h('section', {class: 'panel'}, h('h2', {}, 'Group baselines'), area);
}

export function groupView({params, match}) {
  const group = match[0];
  const prefix = params.get('path') || '';
  const status = h('div', {class: 'status-area'}, message('info', 'Comparing the group\'s hosts…'));
  const headline = h('p', {'class': 'headline', 'id': 'group-headline', 'aria-live': 'polite'});
  const notes = h('div', {class: 'group-notes'});
  const result = h('div', {});
  const input = h('input', {id: 'group-path', type: 'search', value: prefix,
    placeholder: '/etc', autocomplete: 'off', spellcheck: 'false'});
  const form = h('form', {class: 'filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = routeHref('/groups/' + encodeURIComponent(group),
        {path: input.value.trim()});
  }},
  h('div', {class: 'field'}, h('label', {for: 'group-path'}, 'Only under path'), input),
  h('button', {type: 'submit'}, 'Compare'));

  const view = h('div', {class: 'view group'},
      h('h1', {tabindex: '-1'}, 'Group ', h('span', {class: 'group-name'}, group)),
      h('p', {class: 'muted'}, 'The hosts of a group compared with each other: at each path, ' +
        'the entry most of them hold, and the hosts that differ. Host-specific paths ' +
        '(peer: ignore in the agents\' rules) are left out.'),
      form, status, headline, notes, result, baselinesSection(group));

  (async () => {
    try {
      const r = await api.outliers({group, path: prefix});
      replace(status);
      headline.textContent = groupHeadline(r);
      const lines = [];
      if (r.without_tree.length) {
        lines.push(h('p', {class: 'muted', id: 'without-tree'},
            `${plural(r.without_tree.length, 'host has', 'hosts have')} not sent a tree yet: `,
            r.without_tree.map((id, i) => [i ? ', ' : '',
              h('a', {href: routeHref('/hosts/' + encodeURIComponent(id))}, id)])));
      }
      if (r.ignored) {
        lines.push(h('p', {class: 'muted', id: 'ignored'},
            `${plural(r.ignored, 'host-specific path', 'host-specific paths')} left out.`));
      }
      if (r.truncated) {
        lines.push(message('info', `Only the first ${r.paths.length} paths are shown; ` +
          'narrow the path to see the rest.'));
      }
      replace(notes, lines);
      replace(result, pathsTable(r));
    } catch (e) {
      const text = e instanceof ApiError && e.status === 404 ?
        `There is no host in group "${group}".` : 'Cannot compare the group: ' + e.message;
      replace(status, message('error', text));
    }
  })();
  return view;
}
