// The table of drift events shared by the drift, host and path history
// pages: one row per event, expandable to show old vs new attributes and
// the content diff (or why there is none), with
// the admin "accept" action (a baseline request for the event's host).
import {api, ApiError, isReadOnly} from './api.js';
import {h, message, replace, routeHref, severityBadge, timeEl} from './dom.js';

// Attribute names in the order the wire format lists them (docs/wire.md).
const ATTRIBUTE_ORDER = ['type', 'perm', 'uid', 'gid', 'size', 'mtime_ns', 'ctime_ns', 'inode',
  'nlink', 'rdev', 'link', 'hash', 'xattrs'];

function attributeNames(ev) {
  const names = new Set([...Object.keys(ev.old || {}), ...Object.keys(ev.new || {})]);
  const known = ATTRIBUTE_ORDER.filter((n) => names.has(n));
  return known.concat([...names].filter((n) => !ATTRIBUTE_ORDER.includes(n)).sort());
}

function show(v) {
  return v === undefined ? '—' : String(v);
}

// "perm 0644 → 0666, size 10 → 15" for the changed attributes, or the
// package versions for package events.
export function changeSummary(ev) {
  if (ev.package) {
    if (ev.from && ev.to) return `${ev.package} ${ev.from} → ${ev.to}`;
    return `${ev.package} ${ev.to || ev.from || ''}`.trim();
  }
  const changed = ev.attributes || [];
  if (changed.length === 0) {
    // Added or removed: what the entry is (or was).
    const e = ev.new || ev.old;
    if (!e) return '';
    const what = [e.type, e.perm, e.link !== undefined ? '→ ' + e.link : undefined]
        .filter((x) => x !== undefined).join(' ');
    return (ev.new ? 'new ' : 'was ') + what;
  }
  return changed.map((a) => {
    const o = ev.old && ev.old[a], n = ev.new && ev.new[a];
    if (a === 'hash' || a === 'xattrs') return a;
    return `${a} ${show(o)} → ${show(n)}`;
  }).join(', ');
}

// One line for people, as the agent's FormatActor (core/actor.h) writes
// it: "/usr/bin/vim, pid 4242, uid 1000 (login alice)", with ", euid 0"
// when it differs, ", in docker:web-1" for a container and ", exited".
// The strings are in the wire's escaped form already (docs/wire.md).
export function formatActor(a) {
  return actorParts(a).map((p) => p.text).join(', ');
}

// The parts of formatActor; the executable's part carries `exe` (the value
// the drift filter actor_exe takes).
function actorParts(a) {
  const parts = [];
  if (a.exe) {
    parts.push({text: a.exe, exe: a.exe});
  } else if (a.comm) {
    parts.push({text: a.comm});
  }
  parts.push({text: `pid ${a.pid}`});
  if (a.uid !== undefined && a.uid >= 0) {
    let uid = `uid ${a.uid}`;
    if (a.login) {
      uid += ` (login ${a.login})`;
    } else if (a.loginuid !== undefined && a.loginuid >= 0 && a.loginuid !== a.uid) {
      uid += ` (loginuid ${a.loginuid})`;
    }
    parts.push({text: uid});
  }
  if (a.euid !== undefined && a.euid >= 0 && a.euid !== a.uid) parts.push({text: `euid ${a.euid}`});
  if (a.container) parts.push({text: `in ${a.container}`});
  if (a.exited) parts.push({text: 'exited'});
  return parts;
}

const KIND_VERBS = {added: 'added', modified: 'modified', removed: 'removed'};

// The actor as nodes: the executable links to the drift events of the same
// executable, the uid to those of the same user.
function actorNodes(a) {
  const nodes = [];
  for (const [i, p] of actorParts(a).entries()) {
    if (i > 0) nodes.push(', ');
    if (p.exe) {
      nodes.push(h('a', {href: routeHref('/drift', {actor_exe: p.exe}), class: 'actor-exe',
        title: 'Drift events made by this executable'}, p.text));
    } else if (p.text.startsWith('uid ')) {
      nodes.push(h('a', {href: routeHref('/drift', {actor_uid: String(a.uid)}),
        class: 'actor-uid', title: 'Drift events made by this user'}, p.text));
    } else {
      nodes.push(p.text);
    }
  }
  return nodes;
}

// "modified by /usr/bin/vim, pid 4242, uid 1000 (login alice)" under the
// change, and a badge for a change undone before it was reported.
function actorLine(ev) {
  if (!ev.actor && !ev.transient) return null;
  const verb = KIND_VERBS[ev.kind] || 'changed';
  return [
    ev.actor ? h('div', {class: 'actor'}, `${verb} by `, actorNodes(ev.actor)) : null,
    ev.transient ? h('div', {class: 'transient'}, h('span', {class: 'badge transient-badge'},
        'transient'), ' ',
    ev.reverted_by ? ['changed and reverted by ', actorNodes(ev.reverted_by)]
      : 'changed and reverted') : null,
  ];
}

// The label a container's events carry in their paths
// ("container:LABEL:/path", docs/wire.md): this launcher's containers by
// their name, others' as RUNTIME:NAME unless the name has that form already.
export function containerLabel(c) {
  if (c.runtime === 'driftwatch' || c.name.startsWith(c.runtime + ':')) return c.name;
  return `${c.runtime}:${c.name}`;
}

// "in containerd shop-web/nginx · image nginx:1.25 · pod shop/shop-web"
// under the change of a container's event (its `container`, as the report
// named it).
function containerLine(ev) {
  const c = ev.container;
  if (!c) return null;
  return h('div', {class: 'container-line'},
      'in ', h('span', {class: 'container-runtime'}, c.runtime), ' ',
      h('span', {class: 'container-name'}, c.name),
      ' · image ', h('span', {class: 'container-image mono',
        title: c.image_digest || 'digest unknown'}, c.image || 'unknown'),
      c.namespace || c.pod ? [' · pod ', h('a', {class: 'container-pod',
        href: routeHref('/kubernetes', {namespace: c.namespace || ''})},
      `${c.namespace || '?'}/${c.pod || '?'}`)] : null);
}

function detailTable(ev) {
  const changed = new Set(ev.attributes || []);
  const names = attributeNames(ev);
  if (names.length === 0) return h('p', {class: 'muted'}, 'No attributes recorded.');
  return h('table', {class: 'data compact attrs'},
      h('caption', {}, 'Attributes, old and new'),
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Attribute'),
          h('th', {scope: 'col'}, 'Old'), h('th', {scope: 'col'}, 'New'))),
      h('tbody', {}, names.map((n) => h('tr', {class: changed.has(n) ? 'changed' : null},
          h('th', {scope: 'row'}, n, changed.has(n) ? h('span', {class: 'sr-only'}, ' (changed)') :
            null),
          h('td', {class: 'mono'}, show(ev.old && ev.old[n])),
          h('td', {class: 'mono'}, show(ev.new && ev.new[n]))))));
}

// Why a changed content has no diff (the event's `content`, docs/wire.md).
const CONTENT_NOTES = {
  'redacted': 'Content redacted: the rule keeps nothing of this file, so there is no diff.',
  'binary': 'Binary content: no text diff.',
  'not-kept': 'Content not kept (over the size cap, or no copy on one side): no diff.',
  'omitted': 'Diff left out of the report to fit its size; `driftwatch history --diff` on the host shows it.',
};

export function contentNote(note) {
  return h('p', {'class': 'content-note muted', 'data-note': note},
      CONTENT_NOTES[note] || `No diff (${note}).`);
}

// A unified diff as lines, syntax-neutral: every line its own element, the
// added and removed ones marked by class and by a visible "+" or "-"
// marker (not by colour alone), hunk and file headers set apart. Text goes
// in through textContent, bidi controls shown escaped (h() and showControls).
export function diffView(text) {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const rows = lines.map((line) => {
    let cls = 'diff-context';
    let marker = ' ';
    let rest = line.slice(1);
    let label = null;
    if (line.startsWith('+++ ') || line.startsWith('--- ')) {
      cls = 'diff-file';
      marker = '';
      rest = line;
    } else if (line.startsWith('@@')) {
      cls = 'diff-hunk';
      marker = '';
      rest = line;
    } else if (line.startsWith('+')) {
      cls = 'diff-add';
      marker = '+';
      label = 'added: ';
    } else if (line.startsWith('-')) {
      cls = 'diff-del';
      marker = '-';
      label = 'removed: ';
    } else if (line.startsWith('\\')) {
      cls = 'diff-note';
      marker = '';
      rest = line;
    }
    return h('span', {class: 'diff-line ' + cls},
        label ? h('span', {class: 'sr-only'}, label) : null,
        marker ? h('span', {'class': 'diff-marker', 'aria-hidden': 'true'}, marker) : null,
        h('span', {class: 'diff-text'}, rest), '\n');
  });
  return h('pre', {'class': 'diff', 'aria-label': 'Content diff'}, rows);
}

// The event's content: its diff, loaded when the row is first opened, or
// the note saying why there is none. null when neither applies.
function contentArea(ev) {
  if (!ev.has_diff) return ev.content ? contentNote(ev.content) : null;
  const area = h('div', {'class': 'diff-area', 'data-state': 'idle'},
      h('p', {class: 'muted'}, 'Loading the diff…'));
  area.load = async () => {
    if (area.dataset.state !== 'idle') return;
    area.dataset.state = 'loading';
    try {
      const r = await api.eventDiff(ev.id);
      if (r.diff === null) {
        replace(area, contentNote(r.content || 'not-kept'));
      } else {
        replace(area, h('h4', {}, 'Content diff'), diffView(r.diff));
      }
      area.dataset.state = 'loaded';
    } catch (err) {
      replace(area, message('error', 'The diff could not be loaded: ' + err.message));
      area.dataset.state = 'idle';
    }
  };
  return area;
}

// The admin action: accept this event's path into its host's baseline
// (POST /hosts/{id}/accept with the event id), after an inline
// confirmation; shows the queued command. Host paths only: container and
// package drift are not part of the host baseline.
function acceptAction(ev) {
  if (!ev.path || !ev.path.startsWith('/')) return null;
  const area = h('div', {class: 'accept'});
  const status = h('div', {class: 'status-area'});
  const start = () => {
    replace(area,
        h('p', {}, `Accept ${ev.path} on ${ev.host}: its agent takes the path's current state ` +
          'into a new baseline revision (baseline accept --path) on its next poll; other drift ' +
          'stays open.'),
        h('button', {type: 'button', class: 'danger confirm-accept', onclick: confirm},
            `Accept ${ev.path}`), ' ',
        h('button', {type: 'button', onclick: reset}, 'Cancel'), status);
    area.querySelector('button').focus();
  };
  const confirm = async (e) => {
    e.target.disabled = true;
    try {
      const r = await api.accept(ev.host, {events: [ev.id]});
      replace(area, message('ok', `Accept queued: command #${r.id} (${r.command}) for ` +
        `${r.host}: ${r.paths.join(', ')}.`, 'accept-queued'));
    } catch (err) {
      const text = err instanceof ApiError && err.status === 403
        ? '403 Forbidden: only an admin token may accept drift. This token is read-only.'
        : 'The accept request failed: ' + err.message;
      replace(area, message('error', text));
    }
  };
  const reset = () => {
    replace(area, h('button', {type: 'button', class: 'accept-button', onclick: start},
        'Accept…'));
  };
  reset();
  return area;
}

// options: {showHost: true, showPath: true, caption: 'text'}
export function eventTable(events, options = {}) {
  const showHost = options.showHost !== false;
  const showPath = options.showPath !== false;
  const cols = 5 + (showHost ? 1 : 0) + (showPath ? 1 : 0);
  const tbody = h('tbody');
  for (const ev of events) {
    const detailId = `event-${ev.id}-detail`;
    const content = contentArea(ev);
    const toggle = h('button', {'type': 'button', 'class': 'expand', 'aria-expanded': 'false',
      'aria-controls': detailId, 'aria-label': `Show details of event ${ev.id}`}, '▸');
    const detail = h('tr', {id: detailId, class: 'detail', hidden: true},
        h('td', {colspan: cols},
            h('div', {class: 'detail-grid'},
                detailTable(ev),
                h('dl', {class: 'facts'},
                    h('dt', {}, 'Rule'), h('dd', {class: 'mono'}, ev.rule || '—'),
                    ev.package ? [h('dt', {}, 'Package'), h('dd', {}, changeSummary(ev))] : null,
                    ev.container ? [h('dt', {}, 'Container'),
                      h('dd', {}, `${ev.container.runtime} ${ev.container.name} ` +
                        `(${ev.container.id})`),
                      h('dt', {}, 'Image'), h('dd', {class: 'mono'},
                          `${ev.container.image || 'unknown'}` +
                          (ev.container.image_digest ? ` @ ${ev.container.image_digest}` : '')),
                      ev.container.pod ? [h('dt', {}, 'Pod'), h('dd', {},
                          `${ev.container.namespace}/${ev.container.pod}`)] : null] : null,
                    ev.cause ? [h('dt', {}, 'Cause'), h('dd', {}, ev.cause)] : null,
                    ev.time ? [h('dt', {}, 'Seen'), h('dd', {}, timeEl(ev.time, true))] : null,
                    ev.actor ? [h('dt', {}, 'Actor'), h('dd', {}, formatActor(ev.actor))] : null,
                    ev.actor && ev.actor.cmdline ? [h('dt', {}, 'Command line'),
                      h('dd', {class: 'mono'}, ev.actor.cmdline)] : null,
                    ev.actor && ev.actor.parent_exe ? [h('dt', {}, 'Parent'),
                      h('dd', {class: 'mono'}, `${ev.actor.parent_exe}, pid ${ev.actor.ppid}`)] :
                      null,
                    ev.actor && ev.actor.cgroup ? [h('dt', {}, 'cgroup'),
                      h('dd', {class: 'mono'}, ev.actor.cgroup)] : null,
                    ev.reverted_by ? [h('dt', {}, 'Reverted by'),
                      h('dd', {}, formatActor(ev.reverted_by))] : null,
                    h('dt', {}, 'Detected'), h('dd', {}, timeEl(ev.detected, true)),
                    h('dt', {}, 'Received'), h('dd', {}, timeEl(ev.received, true)),
                    h('dt', {}, 'Report'), h('dd', {class: 'mono'}, ev.report_id)),
                content,
                isReadOnly() ? null : acceptAction(ev))));
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? '▾' : '▸';
      detail.hidden = !open;
      if (open && content && content.load) content.load();
    });
    tbody.appendChild(h('tr', {'class': 'event', 'data-id': ev.id},
        h('td', {}, toggle),
        h('td', {class: 'nowrap'}, timeEl(ev.detected)),
        showHost ? h('td', {}, h('a', {href: routeHref('/hosts/' + encodeURIComponent(ev.host))},
            ev.host)) : null,
        showPath ? h('td', {class: 'path'}, h('a', {href: routeHref('/history', {path: ev.path}),
          title: 'History of this path'}, ev.path)) : null,
        h('td', {}, ev.kind),
        h('td', {}, severityBadge(ev.severity)),
        h('td', {class: 'changes'}, changeSummary(ev),
            ev.has_diff ? h('span', {class: 'badge has-diff', title: 'Open the row for the diff'},
                'diff') : null,
            containerLine(ev),
            actorLine(ev))));
    tbody.appendChild(detail);
  }
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data events'},
      options.caption ? h('caption', {}, options.caption) : null,
      h('thead', {}, h('tr', {},
          h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Details')),
          h('th', {scope: 'col'}, 'Detected'),
          showHost ? h('th', {scope: 'col'}, 'Host') : null,
          showPath ? h('th', {scope: 'col'}, 'Path') : null,
          h('th', {scope: 'col'}, 'Kind'),
          h('th', {scope: 'col'}, 'Severity'),
          h('th', {scope: 'col'}, 'Change'))),
      tbody));
}
