// Hosts: a sortable, filterable table of the fleet. Filter and sort live in
// the route (#/hosts?q=web&group=web&status=drifted&sort=last_seen&dir=desc).
import {api, openDrift} from '../api.js';
import {SEVERITIES, formatDuration, h, message, parseTime, replace, routeHref, timeEl}
  from '../dom.js';

const STATUSES = {'': 'any status', 'drifted': 'drifted', 'silent': 'silent', 'ok': 'ok',
  'refused': 'reports refused'};

function refusedCount(x) {
  return x.reports_refused ? x.reports_refused.count : 0;
}

function hostStatus(x) {
  if (x.silent) return 'silent';
  return x.drifted ? 'drifted' : 'ok';
}

// Columns: key, header, value used for sorting.
const COLUMNS = [
  {key: 'id', label: 'Host', value: (x) => x.id},
  {key: 'group', label: 'Group', value: (x) => x.group},
  {key: 'status', label: 'Status', value: (x) => ['ok', 'drifted', 'silent'].indexOf(hostStatus(x))},
  {key: 'last_seen', label: 'Last seen', value: (x) => parseTime(x.last_seen) || 0},
  {key: 'open', label: 'Open drift', value: (x) => x.last_report_events},
  {key: 'baseline', label: 'Baseline', value: (x) => x.baseline.revision},
  {key: 'baseline_age', label: 'Baseline age',
    value: (x) => x.baseline.age_seconds === null ? -1 : x.baseline.age_seconds},
];

export function filterHosts(hosts, {q = '', group = '', status = ''}) {
  const needle = q.toLowerCase();
  return hosts.filter((x) => (!needle || x.id.toLowerCase().includes(needle) ||
      x.group.toLowerCase().includes(needle)) &&
      (!group || x.group === group) &&
      (!status || (status === 'refused' ? refusedCount(x) > 0 : hostStatus(x) === status)));
}

export function sortHosts(hosts, key, dir) {
  const col = COLUMNS.find((c) => c.key === key) || COLUMNS[0];
  const sign = dir === 'desc' ? -1 : 1;
  return [...hosts].sort((a, b) => {
    const va = col.value(a), vb = col.value(b);
    if (va < vb) return -sign;
    if (va > vb) return sign;
    return a.id < b.id ? -1 : 1;
  });
}

// The severity breakdown of a host's open drift, filled in when known.
function openDriftCell(x, breakdowns) {
  const cell = h('td', {class: 'open-drift'});
  const known = breakdowns.get(x.id);
  if (x.last_report_events === 0) {
    cell.appendChild(h('span', {class: 'muted'}, '0'));
  } else if (!known) {
    cell.append(String(x.last_report_events), h('span', {class: 'muted'}, ' …'));
  } else {
    cell.append(h('span', {class: 'open-total'}, String(x.last_report_events)));
    for (const s of [...SEVERITIES].reverse()) {
      if (known[s]) {
        cell.append(' ', h('span', {'class': `badge sev-${s}`, 'title': `${known[s]} ${s}`,
          'data-severity': s}, `${known[s]} ${s}`));
      }
    }
  }
  return cell;
}

export function hostsView({params}) {
  const state = {
    q: params.get('q') || '', group: params.get('group') || '',
    status: params.get('status') || '', sort: params.get('sort') || 'id',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  let hosts = [];
  const breakdowns = new Map();
  const status = h('div', {class: 'status-area'}, message('info', 'Loading hosts…'));
  const tableArea = h('div', {class: 'table-wrap'});
  const count = h('p', {'class': 'muted', 'id': 'hosts-count', 'aria-live': 'polite'});

  // Keeps the route in step with the filter without re-rendering the page.
  const syncUrl = () => {
    const href = routeHref('/hosts', {q: state.q, group: state.group, status: state.status,
      sort: state.sort === 'id' ? '' : state.sort, dir: state.dir === 'asc' ? '' : state.dir});
    history.replaceState(null, '', href);
  };

  const q = h('input', {id: 'hosts-q', type: 'search', value: state.q, autocomplete: 'off',
    oninput: () => {
      state.q = q.value; syncUrl(); draw();
    }});
  const groupSel = h('select', {id: 'hosts-group', onchange: () => {
    state.group = groupSel.value; syncUrl(); draw();
  }});
  const statusSel = h('select', {id: 'hosts-status', onchange: () => {
    state.status = statusSel.value; syncUrl(); draw();
  }}, Object.entries(STATUSES).map(([v, label]) =>
    h('option', {value: v, selected: v === state.status}, label)));

  function draw() {
    const rows = sortHosts(filterHosts(hosts, state), state.sort, state.dir);
    count.textContent = `${rows.length} of ${hosts.length} hosts`;
    const head = h('tr', {}, COLUMNS.map((c) => {
      const active = state.sort === c.key;
      return h('th', {'scope': 'col',
        'aria-sort': active ? (state.dir === 'asc' ? 'ascending' : 'descending') : null},
      h('button', {'type': 'button', 'class': 'sort', 'data-sort': c.key, 'onclick': () => {
        state.dir = active && state.dir === 'asc' ? 'desc' : 'asc';
        state.sort = c.key;
        syncUrl();
        draw();
        tableArea.querySelector(`button[data-sort="${c.key}"]`).focus();
      }}, c.label, h('span', {'class': 'sort-mark', 'aria-hidden': 'true'},
          active ? (state.dir === 'asc' ? ' ▲' : ' ▼') : '')));
    }));
    const body = h('tbody', {}, rows.map((x) => h('tr', {'data-host': x.id},
        h('th', {scope: 'row'}, h('a', {href: routeHref('/hosts/' + encodeURIComponent(x.id))},
            x.id)),
        h('td', {}, x.group ? h('a', {'class': 'group-link', 'data-group': x.group,
          'href': routeHref('/groups/' + encodeURIComponent(x.group))}, x.group)
          : h('span', {class: 'muted'}, '—')),
        h('td', {}, h('span', {class: `badge state-${hostStatus(x)}`}, hostStatus(x)),
            refusedCount(x) ? [' ', h('span', {class: 'badge state-refused',
              title: x.reports_refused.reason || ''}, `${refusedCount(x)} reports refused`)]
              : null),
        h('td', {class: 'nowrap'}, timeEl(x.last_seen)),
        openDriftCell(x, breakdowns),
        h('td', {}, x.baseline.name ? `${x.baseline.name} r${x.baseline.revision}` :
          h('span', {class: 'muted'}, 'none')),
        h('td', {class: 'num'}, formatDuration(x.baseline.age_seconds)))));
    replace(tableArea, h('table', {class: 'data hosts'},
        h('caption', {class: 'sr-only'}, 'Hosts; the column buttons sort the table'),
        h('thead', {}, head), body));
  }

  const view = h('div', {class: 'view hosts'},
      h('h1', {tabindex: '-1'}, 'Hosts'),
      h('form', {class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault()},
          h('div', {class: 'field'}, h('label', {for: 'hosts-q'}, 'Filter by host or group'), q),
          h('div', {class: 'field'}, h('label', {for: 'hosts-group'}, 'Group'), groupSel),
          h('div', {class: 'field'}, h('label', {for: 'hosts-status'}, 'Status'), statusSel)),
      status, count, tableArea);

  (async () => {
    try {
      hosts = (await api.hosts()).hosts;
      const groups = [...new Set(hosts.map((x) => x.group).filter(Boolean))].sort();
      replace(groupSel, h('option', {value: ''}, 'any group'),
          groups.map((g) => h('option', {value: g, selected: g === state.group}, g)));
      replace(status);
      draw();
      // Severity breakdowns of the drifted hosts, a few requests at a time.
      const queue = hosts.filter((x) => x.last_report_events > 0);
      const worker = async () => {
        for (let x = queue.shift(); x; x = queue.shift()) {
          const r = await openDrift(x);
          const counts = {};
          for (const e of r.events) counts[e.severity] = (counts[e.severity] || 0) + 1;
          breakdowns.set(x.id, counts);
          draw();
        }
      };
      await Promise.all([worker(), worker(), worker()]);
    } catch (e) {
      replace(status, message('error', 'Cannot load hosts: ' + e.message));
    }
  })();
  return view;
}
