// The collector's REST API (docs/api.md) as seen from the browser. The token
// lives in sessionStorage only: it never goes into a URL, a cookie or
// localStorage, and it is gone when the tab closes.

const TOKEN_KEY = 'driftwatch.token';
const ROLE_KEY = 'driftwatch.role';
const BASE = '/api/v1';

// The most pages a view follows for one question (1000 events each).
export const MAX_PAGES = 20;

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

// role: what GET /whoami said of the token ("read" or "admin").
export function setToken(token, role) {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (role) {
    sessionStorage.setItem(ROLE_KEY, role);
  } else {
    sessionStorage.removeItem(ROLE_KEY);
  }
}

export function getRole() {
  return sessionStorage.getItem(ROLE_KEY) || '';
}

export function setRole(role) {
  sessionStorage.setItem(ROLE_KEY, role);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
}

// Admin actions (commands, accepting drift) are offered to admin tokens
// only; a 403 on an admin action also takes them away for this tab.
export function isReadOnly() {
  return getRole() !== 'admin';
}

function markReadOnly() {
  sessionStorage.setItem(ROLE_KEY, 'read');
}

// Listeners called with the ApiError of any 401, so the app can sign out.
const unauthorizedListeners = [];
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

// One API call. `quiet` keeps a 401 from signing the tab out (for checking
// a token before it is stored).
async function request(method, path, params, body, {token = getToken(), quiet = false} = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const url = BASE + path + (q.toString() ? '?' + q.toString() : '');
  const headers = {'Accept': 'application/json'};
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const init = {method, headers, cache: 'no-store', credentials: 'omit'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'the collector did not answer: ' + e.message);
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data && data.error, data && data.detail);
    if (resp.status === 401 && !quiet) unauthorizedListeners.forEach((fn) => fn(err));
    if (resp.status === 403 && method !== 'GET') markReadOnly();
    throw err;
  }
  return data;
}

export const api = {
  // Checks a token before it is stored: resolves with the fleet's counts.
  tryToken: (token) => request('GET', '/fleet/summary', {limit: 1}, undefined,
      {token, quiet: true}),
  whoami: (token) => request('GET', '/whoami', {}, undefined, token ? {token, quiet: true} : {}),
  // The fleet's counts and a page of its hosts; params: {limit, cursor, attention}.
  summary: (params) => request('GET', '/fleet/summary', params),
  images: () => request('GET', '/images'),
  // params: {host, image, digest, runtime, namespace, pod, drifted, limit, after}.
  containers: (params) => request('GET', '/containers', params),
  // Namespaces -> pods -> containers; params: {host, namespace, pod, image, runtime, drifted}.
  kubernetes: (params) => request('GET', '/kubernetes', params),
  hostPackages: (id, name) =>
    request('GET', '/hosts/' + encodeURIComponent(id) + '/packages', {name}),
  hostContainers: (id) => request('GET', '/hosts/' + encodeURIComponent(id) + '/containers'),
  hostBaselines: (id) => request('GET', '/hosts/' + encodeURIComponent(id) + '/baselines'),
  // Queues an accept command: body {paths: [...]} and/or {events: [ids]}.
  accept: (host, body) =>
    request('POST', '/hosts/' + encodeURIComponent(host) + '/accept', {}, body),
  // Integrity alerts: params {host, open: 'true'}; a host's escrowed chain.
  integrity: (params) => request('GET', '/integrity', params),
  hostChain: (id) => request('GET', '/hosts/' + encodeURIComponent(id) + '/chain'),
  hosts: () => request('GET', '/hosts'),
  host: (id) => request('GET', '/hosts/' + encodeURIComponent(id)),
  drift: (params) => request('GET', '/drift', params),
  // params: {path, order, limit, cursor}.
  pathHistory: (params) => request('GET', '/paths/history', params),
  compare: (a, b) => request('GET', '/fleet/compare', {a, b}),
  // Peer drift of a group: params {group, path, limit}.
  outliers: (params) => request('GET', '/fleet/outliers', params),
  groupBaselines: (group) =>
    request('GET', '/groups/' + encodeURIComponent(group) + '/baselines'),
  // {id, path, diff (text or null), content (note or null)}.
  eventDiff: (id) => request('GET', '/events/' + encodeURIComponent(id) + '/diff'),
  queueCommand: (host, command) =>
    request('POST', '/hosts/' + encodeURIComponent(host) + '/commands', {}, {command}),
  // The fleet's lifecycle (admin tokens).
  tokens: () => request('GET', '/tokens'),
  createToken: (body) => request('POST', '/tokens', {}, body),
  revokeToken: (id) => request('DELETE', '/tokens/' + encodeURIComponent(id)),
  removeHost: (id) => request('DELETE', '/hosts/' + encodeURIComponent(id)),
  renameHost: (id, name) =>
    request('POST', '/hosts/' + encodeURIComponent(id) + '/rename', {}, {name}),
};

// Every event of a /drift query, newest first, following cursors for at
// most MAX_PAGES pages: when incomplete, the events left out are the oldest.
// Resolves {events, complete}.
export async function allDrift(params) {
  const events = [];
  let cursor = '';
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await api.drift({...params, order: 'desc', limit: 1000, cursor});
    events.push(...r.events);
    if (!r.next_cursor) return {events, complete: true};
    cursor = r.next_cursor;
  }
  return {events, complete: false};
}

// The open drift of a host: the events of its latest report (those received
// at host.last_report). The API has no "latest report" filter, so this asks
// for the host's events detected in the day before the report was received
// and, when that misses some (a report delayed in the agent's outbox), reads
// the host's whole history. Resolves {events, complete}.
export async function openDrift(host) {
  if (!host.last_report || !host.last_report_events) return {events: [], complete: true};
  const received = Date.parse(host.last_report.replace(/(\.\d{3})\d+/, '$1'));
  const since = new Date(received - 86400 * 1000).toISOString();
  const pick = (r) => ({
    events: r.events.filter((e) => e.received === host.last_report),
    complete: r.complete,
  });
  let r = pick(await allDrift({host: host.id, since}));
  // A folded report lists fewer events than it counts (docs/wire.md).
  const listed = host.last_report_summary ? host.last_report_summary.listed
    : host.last_report_events;
  if (r.events.length < listed) r = pick(await allDrift({host: host.id}));
  return r;
}
