// DOM and formatting helpers. Every text goes in through textContent (never
// innerHTML), so values from the API cannot inject markup, and through
// showControls, so they cannot reorder what is shown around them.

// The Unicode bidirectional controls: U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069. A right-to-left override in a file name would show
// "/etc/cron.d/<RLO>hs.exe" as ".../exe.sh".
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const utf8 = new TextEncoder();

// Text with each bidirectional control written as the \xHH escapes of its
// UTF-8 bytes (U+202E -> "\xe2\x80\xae"): the form the collector and the
// agent give paths (EscapePath, docs/wire.md), so what is shown can be pasted
// back as a path filter.
export function showControls(text) {
  return text.replace(BIDI_CONTROLS, (ch) =>
    Array.from(utf8.encode(ch), (b) => '\\x' + b.toString(16).padStart(2, '0')).join(''));
}

// Attributes whose value a person reads (tooltips, screen readers).
const SHOWN_ATTRIBUTES = new Set(['title', 'aria-label', 'alt', 'placeholder']);

// h('a', {href: '#/'}, 'text', child, ...): builds an element. Attributes
// starting with "on" are event listeners; false/null/undefined ones are left
// out; `class` and `for` are spelled as in HTML.
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, SHOWN_ATTRIBUTES.has(name) ? showControls(String(value)) : String(value));
    }
  }
  append(el, children);
  return el;
}

export function svg(tag, attrs = {}, ...children) {
  return h('svg:' + tag, attrs, ...children);
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) {
      append(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(showControls(String(c))));
    }
  }
}

// Replaces the children of el.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const SEVERITIES = ['low', 'medium', 'high', 'critical'];
export const KINDS = [
  'added', 'modified', 'removed', 'package-installed', 'package-removed',
  'package-changed', 'package-file-modified',
];

// "2026-11-01T12:00:00.123456789Z" -> milliseconds since the epoch (NaN when
// absent). Date.parse copes with at most millisecond fractions.
export function parseTime(rfc3339) {
  if (!rfc3339) return NaN;
  return Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));
}

// "2026-11-01 12:00 UTC" style; "never" for null.
export function formatTime(rfc3339, withSeconds = false) {
  const ms = parseTime(rfc3339);
  if (Number.isNaN(ms)) return 'never';
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) + ' ' + iso.slice(11, withSeconds ? 19 : 16) + ' UTC';
}

// 90 -> "1 min", 7200 -> "2 h", 259200 -> "3 d".
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

export function formatAgo(rfc3339, now = Date.now()) {
  const ms = parseTime(rfc3339);
  if (Number.isNaN(ms)) return 'never';
  return formatDuration((now - ms) / 1000) + ' ago';
}

// A <time> element showing the UTC time with the age as its title.
export function timeEl(rfc3339, withSeconds = false) {
  if (!rfc3339) return h('span', {class: 'muted'}, 'never');
  return h('time', {datetime: rfc3339, title: formatAgo(rfc3339)},
      formatTime(rfc3339, withSeconds));
}

export function severityBadge(sev) {
  return h('span', {class: `badge sev-${sev}`}, sev);
}

// A hash route's query: "#/drift?host=a&kind=added" -> URLSearchParams.
export function routeParams(hash) {
  const q = hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
}

// Builds "#/path?k=v" leaving out empty values.
export function routeHref(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

// A status line: role=status is announced by screen readers.
export function message(kind, text, id) {
  return h('p', {class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status',
    id}, text);
}
