// Fleet overview: host counts, events by severity, the drift timeline, the
// most-drifted paths and image sprawl.
import {allDrift, api} from '../api.js';
import {RANGES, bucketize, burstNote, burstsOf, legend, rangeWindow, timelineChart, timelineTable}
  from '../chart.js';
import {SEVERITIES, h, svg, message, replace, routeHref, severityBadge, timeEl} from '../dom.js';

function card(metric, label, value, note, href) {
  const body = [h('span', {'class': 'card-value', 'data-metric': metric}, String(value)),
    h('span', {class: 'card-label'}, label)];
  if (note) body.push(h('span', {class: 'card-note'}, note));
  return h('li', {class: `card card-${metric}`}, href ? h('a', {href}, body) : body);
}

// The paths with the most events in `events`: [{path, events, hosts}].
// A critical banner while any host has an open critical integrity alert
// (docs/integrity.md): its history may have been rewritten on the host.
function integrityBanner(alerts) {
  const critical = alerts.filter((a) => a.severity === 'critical');
  if (critical.length === 0) return null;
  const hosts = [...new Set(critical.map((a) => a.host))].sort();
  return h('div', {'class': 'integrity-banner', 'id': 'integrity-banner', 'role': 'alert'},
      h('strong', {}, `${critical.length} open critical integrity alert` +
        (critical.length === 1 ? '' : 's')),
      ': the history of ', hosts.map((x, i) => [i ? ', ' : '',
        h('a', {href: routeHref('/hosts/' + encodeURIComponent(x))}, x)]),
      ' may have been rewritten on the host. Review, then reset trust: ',
      h('code', {}, 'driftwatch-collector host trust-reset HOST --reason TEXT'), '.');
}

export function topPaths(events, n = 10) {
  const by = new Map();
  for (const e of events) {
    let p = by.get(e.path);
    if (!p) {
      p = {path: e.path, events: 0, hosts: new Set(), worst: 0};
      by.set(e.path, p);
    }
    p.events++;
    p.hosts.add(e.host);
    p.worst = Math.max(p.worst, SEVERITIES.indexOf(e.severity));
  }
  return [...by.values()]
      .sort((a, b) => b.events - a.events || b.hosts.size - a.hosts.size ||
        (a.path < b.path ? -1 : 1))
      .slice(0, n);
}

function short(digest) {
  return digest ? digest.slice(0, 12) : '—';
}

// ' image' for 1, ' images' otherwise.
const plural = (n, word) => (n === 1 ? word : word + 's');
// Hosts listed under "Hosts needing attention" at most.
const ATTENTION_LIMIT = 100;

// Image sprawl from GET /images: how many distinct images and digests run,
// on which runtimes, and where; an image whose reference and digest come
// with more than one tree is built differently somewhere (sprawl).
function imagePanel(area, r) {
  if (r.images.length === 0) {
    replace(area, h('p', {class: 'muted'}, 'No host reported running containers.'));
    return;
  }
  replace(area,
      h('p', {class: 'sprawl-totals'},
          h('span', {'class': 'card-value', 'data-metric': 'distinct-images'},
              String(r.distinct_images)), ' distinct images, ',
          h('span', {'class': 'card-value', 'data-metric': 'distinct-digests'},
              String(r.distinct_digests)), ' distinct digests in use',
          r.sprawled ? [', ', h('span', {'class': 'card-value', 'data-metric': 'sprawled'},
              String(r.sprawled)), ' built differently across hosts'] : null),
      h('ul', {'class': 'runtime-totals', 'aria-label': 'Images by runtime'},
          (r.runtimes || []).map((x) => h('li', {'data-runtime': x.runtime},
              h('strong', {}, x.runtime), ': ',
              h('span', {'data-count': 'images'}, String(x.images)), plural(x.images, ' image'), ', ',
              h('span', {'data-count': 'digests'}, String(x.digests)), plural(x.digests, ' digest'),
              ', ',
              h('span', {'data-count': 'containers'}, String(x.containers)),
              plural(x.containers, ' container'),
              x.drifted ? [' (', h('span', {'data-count': 'drifted'}, String(x.drifted)),
                ' drifted)'] : null))),
      h('div', {class: 'table-wrap'}, h('table', {class: 'data compact image-table'},
          h('caption', {class: 'sr-only'}, 'Images and digests running in the fleet'),
          h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Image'),
              h('th', {scope: 'col'}, 'Digest'),
              h('th', {scope: 'col'}, 'Runtimes'),
              h('th', {scope: 'col', class: 'num'}, 'Hosts'),
              h('th', {scope: 'col', class: 'num'}, 'Containers'),
              h('th', {scope: 'col', class: 'num'}, 'Trees'),
              h('th', {scope: 'col', class: 'num'}, 'Drifted'))),
          h('tbody', {}, r.images.map((x) => h('tr', {'data-image': x.image,
            'data-digest': x.digest},
          h('th', {scope: 'row'}, x.image || h('span', {class: 'muted'}, 'unknown')),
          h('td', {class: 'mono', title: x.digest}, short(x.digest)),
          h('td', {class: 'runtimes'}, (x.runtimes || []).join(', ')),
          h('td', {class: 'num', title: x.host_ids.join(', ')}, String(x.hosts)),
          h('td', {class: 'num'}, String(x.containers)),
          h('td', {'class': 'num', 'title': (x.image_trees || []).join(', ')},
              x.distinct_trees > 1
                ? h('span', {class: 'badge state-drifted sprawl'}, `${x.distinct_trees} trees`)
                : String(x.distinct_trees || 0)),
          h('td', {class: 'num'}, x.drifted
                ? h('span', {class: 'badge state-drifted'}, String(x.drifted)) : '0')))))));
}

export function overviewView({params}) {
  const rangeKey = RANGES[params.get('range')] ? params.get('range') : '24h';
  const range = RANGES[rangeKey];
  const status = h('div', {class: 'status-area'}, message('info', 'Loading the fleet…'));
  const cards = h('ul', {'class': 'cards', 'aria-label': 'Fleet totals'});
  const severities = h('div', {class: 'panel-body'});
  const timeline = h('div', {class: 'panel-body'});
  const paths = h('div', {class: 'panel-body'});
  const attention = h('div', {class: 'panel-body'});
  const images = h('div', {class: 'panel-body', id: 'images'});

  const rangePicker = h('fieldset', {class: 'segmented'},
      h('legend', {class: 'sr-only'}, 'Timeline range'),
      Object.entries(RANGES).map(([key, r]) => h('label', {},
          h('input', {type: 'radio', name: 'range', value: key, checked: key === rangeKey,
            onchange: () => {
              location.hash = routeHref('/', {range: key === '24h' ? '' : key});
            }}),
          h('span', {}, r.label))));

  const banner = h('div', {id: 'integrity-banner-area'});
  const view = h('div', {class: 'view overview'},
      h('h1', {tabindex: '-1'}, 'Fleet overview'),
      banner,
      status,
      cards,
      h('div', {class: 'grid'},
          h('section', {'class': 'panel wide', 'aria-labelledby': 'timeline-h'},
              h('div', {class: 'panel-head'},
                  h('h2', {id: 'timeline-h'}, 'Drift timeline'), rangePicker),
              timeline),
          h('section', {'class': 'panel', 'aria-labelledby': 'sev-h'},
              h('h2', {id: 'sev-h'}, 'Events by severity'), severities),
          h('section', {'class': 'panel', 'aria-labelledby': 'paths-h'},
              h('h2', {id: 'paths-h'}, `Most-drifted paths, last ${range.label}`), paths),
          h('section', {'class': 'panel', 'aria-labelledby': 'attention-h'},
              h('h2', {id: 'attention-h'}, 'Hosts needing attention'), attention),
          h('section', {'class': 'panel wide', 'aria-labelledby': 'images-h'},
              h('h2', {id: 'images-h'}, 'Image sprawl'), images)));

  (async () => {
    try {
      // The counts cover the fleet; the list is the first page of the
      // hosts that want attention, so that its size does not grow with it.
      const [summary, integrity] = await Promise.all([
        api.summary({attention: 'true', limit: ATTENTION_LIMIT}),
        api.integrity({open: 'true'})]);
      replace(banner, integrityBanner(integrity.alerts));
      const total = SEVERITIES.reduce((s, k) => s + (summary.events_by_severity[k] || 0), 0);
      replace(cards,
          card('hosts', 'hosts', summary.hosts, null, '#/hosts'),
          card('drifted', 'drifted', summary.drifted_hosts, 'drift in the latest report',
              routeHref('/hosts', {status: 'drifted'})),
          card('silent', 'silent', summary.silent_hosts, 'no report for 3 check intervals',
              routeHref('/hosts', {status: 'silent'})),
          card('events', 'events stored', total, null, '#/drift'),
          card('refused', 'reports refused', summary.reports_refused || 0,
              `${summary.refused_hosts || 0} host(s); drift may be missing`,
              routeHref('/hosts', {status: 'refused'})));
      const max = Math.max(1, ...SEVERITIES.map((k) => summary.events_by_severity[k] || 0));
      replace(severities, h('table', {class: 'data compact severity-table'},
          h('caption', {class: 'sr-only'}, 'Stored drift events by severity'),
          h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Severity'),
              h('th', {scope: 'col', class: 'num'}, 'Events'),
              h('th', {'scope': 'col', 'aria-hidden': 'true'}))),
          h('tbody', {}, [...SEVERITIES].reverse().map((k) => {
            const n = summary.events_by_severity[k] || 0;
            return h('tr', {'data-severity': k},
                h('th', {scope: 'row'}, h('a', {href: routeHref('/drift', {severity: k})},
                    severityBadge(k))),
                h('td', {class: 'num'}, String(n)),
                h('td', {'class': 'meter-cell', 'aria-hidden': 'true'},
                    svg('svg', {viewBox: '0 0 100 10', preserveAspectRatio: 'none',
                      class: 'hbar'}, svg('rect', {x: 0, y: 0, height: 10,
                      width: (100 * n / max).toFixed(1), class: `seg sev-${k}`}))));
          }))));
      const needs = summary.host_list.filter((x) => x.drifted || x.silent || x.reports_refused ||
        x.integrity_alerts);
      const more = summary.next_cursor
        ? h('p', {class: 'muted', id: 'attention-more'}, `The first ${needs.length} hosts; `,
            h('a', {href: '#/hosts'}, 'every host'), ' is on the hosts page.')
        : null;
      replace(attention, needs.length === 0
        ? h('p', {class: 'muted'}, 'Every host reported recently without drift.')
        : h('ul', {class: 'host-list'}, needs.map((x) => h('li', {},
            h('a', {href: routeHref('/hosts/' + encodeURIComponent(x.id))}, x.id),
            x.group ? h('span', {class: 'muted'}, ' (', h('a', {'class': 'group-link',
              'href': routeHref('/groups/' + encodeURIComponent(x.group))}, x.group), ')')
              : null, ' ',
            x.drifted ? h('span', {class: 'badge state-drifted'}, 'drifted') : null, ' ',
            x.silent ? h('span', {class: 'badge state-silent'}, 'silent') : null, ' ',
            x.reports_refused ? h('span', {class: 'badge state-refused'},
                `${x.reports_refused} reports refused`) : null, ' ',
            x.integrity_alerts ? h('span', {class: 'badge integrity-critical'},
                `${x.integrity_alerts} integrity alerts`) : null, ' ',
            h('span', {class: 'muted'}, 'last seen '), timeEl(x.last_seen)))), more);

      imagePanel(images, await api.images());

      const now = Date.now();
      const win = rangeWindow(range, now);
      const {events, complete} = await allDrift({since: new Date(win.start).toISOString()});
      const buckets = bucketize(events, range, now);
      const scale = burstsOf(buckets);
      const chartArea = h('div', {class: 'chart-area'});
      const draw = () => replace(chartArea, timelineChart(buckets, range,
          {width: chartArea.clientWidth || timeline.clientWidth, scale}));
      const note = burstNote(scale, range);
      replace(timeline, legend(), chartArea,
          note ? h('p', {class: 'muted chart-note', id: 'burst-note'}, note) : null,
          complete ? null : message('info', `Showing the first ${events.length} events of ` +
            'this range.'),
          h('details', {}, h('summary', {}, 'Show the numbers'), timelineTable(buckets, range)));
      draw();
      // Redrawn for the new width when the window is resized, while shown.
      let pending = 0;
      const onResize = () => {
        if (!chartArea.isConnected) {
          window.removeEventListener('resize', onResize);
          return;
        }
        clearTimeout(pending);
        pending = setTimeout(draw, 150);
      };
      window.addEventListener('resize', onResize);
      const top = topPaths(events);
      replace(paths, top.length === 0
        ? h('p', {class: 'muted'}, `No drift in the last ${range.label}.`)
        : h('table', {class: 'data compact top-paths'},
            h('caption', {class: 'sr-only'}, 'Paths with the most events'),
            h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Path'),
                h('th', {scope: 'col', class: 'num'}, 'Events'),
                h('th', {scope: 'col', class: 'num'}, 'Hosts'),
                h('th', {scope: 'col'}, 'Worst'))),
            h('tbody', {}, top.map((p) => h('tr', {},
                h('td', {class: 'path'}, h('a', {href: routeHref('/history', {path: p.path})},
                    p.path)),
                h('td', {class: 'num'}, String(p.events)),
                h('td', {class: 'num'}, String(p.hosts.size)),
                h('td', {}, severityBadge(SEVERITIES[p.worst])))))));
      replace(status);
    } catch (e) {
      replace(status, message('error', 'Cannot load the overview: ' + e.message));
    }
  })();
  return view;
}
