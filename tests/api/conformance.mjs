// The REST API against its contract: the real collector (SQLite store) on
// 127.0.0.1, every operation of docs/openapi.yaml driven through every
// status it documents, each answer checked by a real OpenAPI tool chain:
// the document itself is validated (@apidevtools/swagger-parser), and every
// status, documented header and body is checked against it (ajv, with
// ajv-formats). Response objects are closed: a field the document does not
// name fails (additionalProperties: false is added wherever the document
// leaves it open). Every path also answers 405 for a method it lacks, and
// to OPTIONS with an Allow that names every method it documents. The
// fleet lifecycle's own cases (tokens, host removal and rename,
// re-enrollment) are in lifecycle.mjs.
//
// The test fails when an operation of the document has no case here, or a
// status it documents was never answered (but for the exemptions below,
// each with its reason), so that a route added to docs/openapi.yaml needs
// its cases in this file. It prints the count of routes and of
// (route, status) pairs checked.
//
// How the statuses are provoked: 400 from a bad parameter or body (and a
// query string that is not UTF-8), 401 without a valid token (each from its
// own loopback address, 127.0.2.N, so that they do not add up to a
// lockout) or with a revoked or used-up one, 403 from a token of another
// role (or a reenroll token of another host), 404 from an unknown id, 409
// from a repeated enrollment or acknowledgement or a rename to an id that
// exists, 413 from a body over max_body_bytes, 429 from the
// failed-authentication lockout of one address (127.0.0.9), 503 from the
// HTTP front end's bounds: a request that holds the in-flight body budget
// makes every other request with a body 503, and bursts of requests
// overflow the one worker and its queue of one (collector.yaml below);
// /healthz answers 503 while its database file is away.
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

import {lifecycleCases} from './lifecycle.mjs';
import {treesCases} from './trees.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.resolve(here, '..', '..');
const SPEC = process.env.DW_OPENAPI || path.join(SOURCE, 'docs', 'openapi.yaml');
const COLLECTOR = process.env.DW_COLLECTOR_BIN;

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}
const require = createRequire(path.join(SOURCE, 'tests', 'web', 'package.json'));
let SwaggerParser;
let Ajv;
let addFormats;
try {
  SwaggerParser = require('@apidevtools/swagger-parser');
  Ajv = require('ajv');
  addFormats = require('ajv-formats');
} catch (e) {
  skip('the OpenAPI validators are not installed: run npm ci --prefix tests/web');
}
if (!COLLECTOR || !fs.existsSync(COLLECTOR)) {
  console.error('DW_COLLECTOR_BIN must name the driftwatch-collector executable');
  process.exit(1);
}

// (operation, status) pairs the collector documents but cannot be made to
// answer from outside, each with the reason.
const EXEMPT = {
  'POST /api/v1/reports 500': 'an internal failure of the store; nothing a client sends causes it',
  'GET /api/v1/signing-key 404':
      'a collector without a signing key (no state directory); this one makes its key at start',
};

const failures = [];
function fail(what) {
  failures.push(what);
  console.error('FAIL: ' + what);
}

// ---- the contract -----------------------------------------------------------

// The document must be valid OpenAPI 3.0 before anything is checked with it.
await SwaggerParser.validate(SPEC);
const api = await SwaggerParser.dereference(SPEC);

// The error codes of the document's Error schema are those of the error
// table of docs/api.md (beside docs/openapi.yaml), no more, no fewer.
{
  const prose = fs.readFileSync(path.join(path.dirname(SPEC), 'api.md'), 'utf8');
  const table = prose.slice(prose.indexOf('\n## Errors'), prose.indexOf('\n### Refused reports'));
  const inTable = new Set();
  for (const row of table.matchAll(/^\| [0-9 /]+ \| ([^|]+) \|/gm)) {
    for (const code of row[1].matchAll(/`([a-z_]+)`/g)) inTable.add(code[1]);
  }
  const inEnum = new Set(api.components.schemas.Error.properties.error.enum);
  for (const code of inEnum) {
    if (!inTable.has(code)) fail(`error code ${code}: in docs/openapi.yaml, not in docs/api.md`);
  }
  for (const code of inTable) {
    if (!inEnum.has(code)) fail(`error code ${code}: in docs/api.md, not in docs/openapi.yaml`);
  }
}

// Closes every object schema the document leaves open, after folding allOf
// into one object (a closed part of an allOf would refuse the other parts'
// fields). Schemas are shared after dereferencing; each is changed once.
const closed = new WeakSet();
function close(schema) {
  if (!schema || typeof schema !== 'object' || closed.has(schema)) return schema;
  closed.add(schema);
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map(close);
    delete schema.allOf;
    for (const part of parts) {
      for (const [k, v] of Object.entries(part)) {
        if (k === 'properties') {
          schema.properties = {...(schema.properties || {}), ...v};
        } else if (k === 'required') {
          schema.required = [...new Set([...(schema.required || []), ...v])];
        } else if (!(k in schema)) {
          schema[k] = v;
        }
      }
    }
  }
  if (schema.properties) {
    schema.type = schema.type || 'object';
    for (const p of Object.values(schema.properties)) close(p);
  }
  if (schema.type === 'object' && schema.additionalProperties === undefined) {
    schema.additionalProperties = false;
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    close(schema.additionalProperties);
  }
  if (schema.items) close(schema.items);
  return schema;
}

const ajv = new Ajv({allErrors: true, strict: false});
addFormats(ajv);
const validators = new Map();
function validatorFor(schema) {
  if (!validators.has(schema)) validators.set(schema, ajv.compile(close(schema)));
  return validators.get(schema);
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];
const operations = new Map();  // "GET /api/v1/hosts/{id}" -> operation
for (const [p, item] of Object.entries(api.paths)) {
  for (const m of METHODS) {
    if (item[m]) operations.set(`${m.toUpperCase()} ${p}`, item[m]);
  }
}
const checked = new Map();  // operation key -> Set of statuses seen and valid
let responsesChecked = 0;

// Checks one answer of `key` ("METHOD /template") against the document.
function check(key, res, note = '') {
  const what = `${key} -> ${res.status}${note ? ' (' + note + ')' : ''}`;
  const op = operations.get(key);
  if (!op) return fail(`${what}: no such operation in the document`);
  if (!op.operationId) fail(`${key}: no operationId`);
  const doc = op.responses[String(res.status)];
  if (!doc) return fail(`${what}: status not documented: ${res.body.slice(0, 300)}`);
  responsesChecked++;
  let ok = true;
  for (const [name, h] of Object.entries(doc.headers || {})) {
    const v = res.headers[name.toLowerCase()];
    if (v === undefined) {
      if (h.required) {
        fail(`${what}: header ${name} missing`);
        ok = false;
      }
      continue;
    }
    const value = h.schema && h.schema.type === 'integer' ? Number(v) : v;
    if (h.schema && h.schema.type === 'integer' && !/^[0-9]+$/.test(v)) {
      fail(`${what}: header ${name}: '${v}' is not an integer`);
      ok = false;
    } else if (h.schema && !validatorFor(h.schema)(value)) {
      fail(`${what}: header ${name}: '${v}' does not match its schema`);
      ok = false;
    }
  }
  const media = Object.keys(doc.content || {});
  if (media.length === 0) {
    if (res.body !== '') {
      fail(`${what}: body where none is documented: ${res.body.slice(0, 200)}`);
      ok = false;
    }
  } else {
    const type = (res.headers['content-type'] || '').split(';')[0].trim();
    if (!media.includes(type)) {
      fail(`${what}: content type '${type}', documented: ${media.join(', ')}`);
      ok = false;
    } else {
      const schema = doc.content[type].schema;
      let body = res.body;
      if (type === 'application/json') {
        try {
          body = JSON.parse(res.body);
        } catch (e) {
          fail(`${what}: not JSON: ${res.body.slice(0, 200)}`);
          ok = false;
        }
      }
      if (ok && schema) {
        const v = validatorFor(schema);
        if (!v(body)) {
          fail(`${what}: body does not match the document: ` +
              ajv.errorsText(v.errors, {dataVar: 'body'}) + ': ' + res.body.slice(0, 300));
          ok = false;
        }
      }
    }
  }
  if (ok) {
    if (!checked.has(key)) checked.set(key, new Set());
    checked.get(key).add(String(res.status));
  }
}

// ---- the collector ----------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dw_api_it.'));
const db = path.join(tmp, 'collector.db');
const MAX_BODY = 65536;
const config = path.join(tmp, 'collector.yaml');
fs.writeFileSync(config, [
  'version: 1',
  `db: ${db}`,
  `max_body_bytes: ${MAX_BODY}`,
  'http:',
  '  workers: 1',
  '  max_queued: 1',
  `  max_inflight_body_bytes: ${MAX_BODY + 40000}`,
  '',
].join('\n'));

function tokenCreate(role) {
  return execFileSync(COLLECTOR, ['token', 'create', '--db', db, '--role', role],
      {encoding: 'utf8'}).trim();
}

let collector;
let port;
function startCollector() {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(tmp, 'collector.log'), 'a');
    collector = spawn(COLLECTOR, ['--config', config, '--listen', '127.0.0.1:0'],
        {stdio: ['ignore', 'pipe', log]});
    let out = '';
    const timer = setTimeout(() => reject(new Error('collector printed no URL in 10 s')), 10000);
    collector.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(new URL(out.slice(0, nl).trim()));
      }
    });
    collector.on('exit', (code) => reject(new Error(`collector exited with ${code}`)));
  });
}

// One request on its own connection. `body`: an object (sent as JSON), a
// string, or undefined. `from`: the local address to connect from.
// `announce`: a Content-Length to send without any body (the answer comes
// before the body would be read).
function request(method, target, {token, body, from, announce} = {}) {
  return new Promise((resolve) => {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const data = body === undefined ? undefined
      : typeof body === 'string' ? body : JSON.stringify(body);
    if (data !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(data);
    }
    if (announce !== undefined) headers['Content-Length'] = announce;
    const req = http.request({host: '127.0.0.1', port, path: target, method, headers,
      agent: false, localAddress: from}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => text += d);
      res.on('end', () => {
        if (announce !== undefined) req.destroy();
        resolve({status: res.statusCode, headers: res.headers, body: text});
      });
      res.on('error', (e) => resolve({status: -1, headers: {}, body: String(e)}));
    });
    req.setTimeout(20000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({status: -1, headers: {}, body: String(e)}));
    if (announce !== undefined) {
      req.flushHeaders();
      return;
    }
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// Holds `bytes` of the in-flight body budget: announces a body and sends
// none of it until release() is called. `answered` turns true when the
// collector answers instead (it could not reserve the bytes).
function holdBody(target, token, bytes) {
  const headers = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json',
    'Content-Length': bytes};
  const req = http.request({host: '127.0.0.1', port, path: target, method: 'POST', headers,
    agent: false});
  const hold = {answered: false, release: () => req.destroy()};
  req.on('response', (res) => {
    hold.answered = true;
    res.resume();
  });
  req.on('error', () => {});
  req.flushHeaders();
  return hold;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls `attempt` (which answers a response or null) until it answers a
// response: at most `tries` times and for `ms` milliseconds, `gap` ms apart.
// The response, or null when none came.
async function poll(attempt, {tries, ms, gap = 0}) {
  const deadline = Date.now() + ms;
  for (let i = 0; i < tries && Date.now() < deadline; i++) {
    const res = await attempt();
    if (res) return res;
    if (gap > 0) await sleep(gap);
  }
  return null;
}

let url;
try {
  var tokens = {read: tokenCreate('read'), admin: tokenCreate('admin'),
    enroll: tokenCreate('enroll')};
  url = await startCollector();
  port = Number(url.port);
} catch (e) {
  console.error(e.message);
  console.error(fs.readFileSync(path.join(tmp, 'collector.log'), 'utf8'));
  process.exit(1);
}

async function run() {
  const T0 = Date.parse('2026-11-01T00:00:00Z');
  const iso = (ms) => new Date(ms).toISOString();
  let reportN = 0;
  const uuid = () => `00000000-0000-4000-8000-${String(++reportN).padStart(12, '0')}`;
  const event = (p, kind = 'modified', severity = 'high') => ({path: p, kind, severity,
    attributes: ['perm'], old: {type: 'file', perm: '0644'}, new: {type: 'file', perm: '0600'},
    rule: '/etc/** (host.yaml:3)'});
  const report = (host, events, finishedMs, extra = {}) => ({format: 1, report_id: uuid(),
    host_id: host, agent_version: '1.0', sent: iso(finishedMs), target: host,
    baseline: 'default', baseline_revision: 1, baseline_root: 'a96faf705af16834e6c632b61e964e1f',
    root: '4b2212e31ac97fd4575a0b1c44d8843f', started: iso(finishedMs - 1000),
    finished: iso(finishedMs), subtrees: {'/etc': '61235775b9276edc690f810d5a2a13f7'},
    events, warnings: ['/etc/shadow: permission denied'],
    stats: {files: 10, dirs: 2, others: 1, files_hashed: 4, bytes_hashed: 300, duration_ns: 55},
    interval_seconds: 3600, ...extra});
  const R = tokens.read;
  const A = tokens.admin;
  let probe = 0;
  const stranger = () => `127.0.2.${1 + (probe++ % 250)}`;
  const BAD_UTF8 = '?%FF=1';

  // Enrollment: 201 from an enroll token and from an admin token.
  let r = await request('POST', '/api/v1/enroll', {token: tokens.enroll,
    body: {host: 'web-1', group: 'web', agent_version: '1.0'}});
  check('POST /api/v1/enroll', r);
  const agent1 = JSON.parse(r.body).token;
  r = await request('POST', '/api/v1/enroll', {token: A, body: {host: 'web-2', group: 'web'}});
  check('POST /api/v1/enroll', r);
  const agent2 = JSON.parse(r.body).token;
  r = await request('POST', '/api/v1/enroll', {token: A, body: {host: 'k8s-1', group: 'k8s'}});
  check('POST /api/v1/enroll', r);
  const agentK = JSON.parse(r.body).token;

  // Reports: many events (for the bursts below), a late one, containers.
  const many = [];
  for (let i = 0; i < 150; i++) many.push(event(`/etc/app/f${i}`, 'added', 'medium'));
  for (const [host, token, events, t, extra] of [
    ['web-1', agent1, [event('/etc/passwd'), event('/etc/hosts', 'added', 'low')], T0 + 2000,
      {containers: [{name: 'web', id: '4fe1aa', runtime: 'driftwatch', image: 'nginx:1.25',
        image_digest: '61235775b9276edc690f810d5a2a13f7', drift_known: true, events: 0}]}],
    ['web-2', agent2, many, T0 + 3000, {}],
    ['web-1', agent1, [event('/etc/passwd', 'removed', 'critical')], T0 + 1000, {}],
    // A Kubernetes node: a pod's container with its runtime identity, and an
    // event in it (the event names the container, GET /drift).
    ['k8s-1', agentK, [event('container:containerd:shop-web/nginx:/etc/nginx/nginx.conf')],
      T0 + 500, {containers: [{name: 'shop-web/nginx', id: '9c0d11', runtime: 'containerd', image: 'nginx:1.25',
        image_digest: 'sha256:' + '3'.repeat(64), image_id: 'sha256:' + 'a'.repeat(64),
        image_tree: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', drift_known: true, events: 1,
        labels: {'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.name': 'shop-web',
          'io.kubernetes.container.name': 'nginx'},
        started: '2026-11-01T00:00:00.5Z', pid: 4242, excluded: ['/data']}]}],
  ]) {
    r = await request('POST', '/api/v1/reports', {token, body: report(host, events, t, extra)});
    check('POST /api/v1/reports', r);
    if (r.status !== 200) fail('report not stored: ' + r.body);
  }

  // Content: an event with its diff, one whose content is redacted.
  const DIFF = '--- /etc/app.conf\n+++ /etc/app.conf\n@@ -1,2 +1,2 @@\n port=80\n-debug=0\n+debug=1\n';
  r = await request('POST', '/api/v1/reports', {token: agent2, body: report('web-2', [
    {...event('/etc/app.conf'), attributes: ['hash'], diff: DIFF},
    {...event('/etc/app.key'), attributes: ['hash'], content: 'redacted'},
  ], T0 + 2500)});
  check('POST /api/v1/reports', r, 'content');
  const historyOf = async (p) => JSON.parse((await request('GET',
      '/api/v1/paths/history?path=' + encodeURIComponent(p), {token: R})).body).events[0];
  const withDiff = await historyOf('/etc/app.conf');
  const redacted = await historyOf('/etc/app.key');
  if (!withDiff || withDiff.has_diff !== true || 'diff' in withDiff) {
    fail('a listed event with a diff: expected has_diff true and no diff: ' +
        JSON.stringify(withDiff));
  }
  if (!redacted || redacted.has_diff !== false || redacted.content !== 'redacted') {
    fail('a listed redacted event: expected has_diff false and content redacted: ' +
        JSON.stringify(redacted));
  }
  r = await request('GET', `/api/v1/events/${withDiff.id}/diff`, {token: R});
  check('GET /api/v1/events/{id}/diff', r);
  if (r.status !== 200 || JSON.parse(r.body).diff !== DIFF) fail('diff not served: ' + r.body);
  r = await request('GET', `/api/v1/events/${redacted.id}/diff`, {token: R});
  check('GET /api/v1/events/{id}/diff', r, 'redacted');
  if (r.status !== 200 || JSON.parse(r.body).diff !== null ||
      JSON.parse(r.body).content !== 'redacted') {
    fail('a redacted event: expected diff null and content redacted: ' + r.body);
  }

  // The reads, 200.
  for (const [key, target, token] of [
    ['GET /api/v1/whoami', '/api/v1/whoami', agent1],
    ['GET /api/v1/whoami', '/api/v1/whoami', R],
    ['GET /api/v1/signing-key', '/api/v1/signing-key', agent1],
    ['GET /api/v1/hosts', '/api/v1/hosts', R],
    ['GET /api/v1/hosts/{id}', '/api/v1/hosts/web-1', R],
    ['GET /api/v1/hosts/{id}/packages', '/api/v1/hosts/web-1/packages?name=ng', R],
    ['GET /api/v1/hosts/{id}/containers', '/api/v1/hosts/web-1/containers', R],
    ['GET /api/v1/hosts/{id}/baselines', '/api/v1/hosts/web-1/baselines', A],
    ['GET /api/v1/images', '/api/v1/images', R],
    ['GET /api/v1/containers', '/api/v1/containers?namespace=shop&drifted=true', R],
    ['GET /api/v1/containers', '/api/v1/containers?limit=1', R],
    ['GET /api/v1/kubernetes', '/api/v1/kubernetes', R],
    ['GET /api/v1/drift', '/api/v1/drift?path=container:*', R],
    ['GET /api/v1/integrity', '/api/v1/integrity?host=web-1&open=true', R],
    ['GET /api/v1/hosts/{id}/chain', '/api/v1/hosts/web-1/chain', R],
    ['GET /api/v1/fleet/summary', '/api/v1/fleet/summary', R],
    ['GET /api/v1/fleet/compare', '/api/v1/fleet/compare?a=web-1&b=web-2', R],
    ['GET /api/v1/fleet/outliers', '/api/v1/fleet/outliers?group=web&path=/etc&limit=5', R],
    ['GET /api/v1/paths/history', '/api/v1/paths/history?path=/etc/passwd', R],
    ['GET /api/v1/paths/history', '/api/v1/paths/history?path=/etc/passwd&order=asc&limit=1', R],
    ['GET /metrics', '/metrics', R],
    ['GET /healthz', '/healthz', undefined],
  ]) {
    check(key, await request('GET', target, {token}), target);
  }

  // /drift: newest first, the late report in its place, cursors both ways.
  const page = async (q) => {
    const res = await request('GET', '/api/v1/drift' + q, {token: R});
    check('GET /api/v1/drift', res, q);
    return res.status === 200 ? JSON.parse(res.body) : {events: []};
  };
  const first = await page('?host=web-1&limit=2');
  const times = first.events.map((e) => Date.parse(e.detected));
  if (times.join() !== [T0 + 2000, T0 + 2000].join()) {
    fail(`/drift?host=web-1 is not newest first: ${times}`);
  }
  if (first.prev_cursor !== null || typeof first.next_cursor !== 'string') {
    fail('first page: expected prev_cursor null and a next_cursor');
  }
  const second = await page('?host=web-1&limit=2&cursor=' + encodeURIComponent(first.next_cursor));
  if (second.events.length !== 1 || Date.parse(second.events[0].detected) !== T0 + 1000 ||
      second.next_cursor !== null) {
    fail('second page: expected the late report\'s event and no next_cursor');
  }
  const back = await page('?host=web-1&limit=2&cursor=' + encodeURIComponent(second.prev_cursor));
  if (JSON.stringify(back.events) !== JSON.stringify(first.events) || back.prev_cursor !== null) {
    fail('the page before the second is not the first');
  }
  await page('?order=asc&severity=medium&kind=added&since=2026-11-01T00:00:00Z&limit=1000');

  // /fleet/summary: the counts over every host, the host list in pages by
  // id, followed by next_cursor; attention=true keeps the hosts that want it.
  const summary = async (q) => {
    const res = await request('GET', '/api/v1/fleet/summary' + q, {token: R});
    check('GET /api/v1/fleet/summary', res, q);
    return res.status === 200 ? JSON.parse(res.body) : {host_list: []};
  };
  const whole = await summary('?limit=1000');
  const wholeIds = whole.host_list.map((x) => x.id);
  if (whole.hosts !== wholeIds.length || whole.next_cursor !== null || wholeIds.length < 2 ||
      [...wholeIds].sort().join() !== wholeIds.join()) {
    fail(`/fleet/summary?limit=1000: ${whole.hosts} hosts, listed ${wholeIds}`);
  }
  const paged = [];
  let hostCursor = null;
  for (let i = 0; i <= wholeIds.length; i++) {
    const p = await summary('?limit=1' +
        (hostCursor ? '&cursor=' + encodeURIComponent(hostCursor) : ''));
    if (p.hosts !== whole.hosts || p.drifted_hosts !== whole.drifted_hosts ||
        p.host_list.length > 1) {
      fail(`/fleet/summary?limit=1: the counts or the page differ: ${JSON.stringify(p)}`);
    }
    paged.push(...p.host_list.map((x) => x.id));
    hostCursor = p.next_cursor;
    if (!hostCursor) break;
  }
  if (paged.join() !== wholeIds.join()) {
    fail(`/fleet/summary in pages of 1 listed ${paged}, expected ${wholeIds}`);
  }
  const wants = whole.host_list.filter((x) => x.drifted || x.silent || x.reports_refused ||
    x.integrity_alerts).map((x) => x.id);
  const attentionIds = (await summary('?attention=true')).host_list.map((x) => x.id);
  // (Every host here drifted; tests/pg/store_summary_test.cc has quiet ones.)
  if (attentionIds.join() !== wants.join()) {
    fail(`/fleet/summary?attention=true listed ${attentionIds}, expected ${wants}`);
  }
  for (const q of ['?cursor=web-1', '?cursor=h1.%2F', '?attention=yes', '?limit=0', '?host=x']) {
    const res = await request('GET', '/api/v1/fleet/summary' + q, {token: R});
    check('GET /api/v1/fleet/summary', res, q);
    if (res.status !== 400) fail(`/fleet/summary${q}: ${res.status}, expected 400`);
  }

  // A realtime report (docs/wire.md "source"): events with actors, one
  // transient; the actor filters return exactly the matching events.
  const vim = {pid: 4242, exe: '/usr/bin/vim', cmdline: 'vim /etc/motd', uid: 1000, euid: 1000,
    loginuid: 1000, login: 'alice', session: 3, ppid: 4000, parent_exe: '/usr/bin/bash',
    cgroup: '/user.slice/user-1000.slice/session-3.scope', comm: 'vim'};
  const cp = {pid: 99, exe: '/usr/bin/cp', uid: 0, euid: 0, container: 'docker:web-1',
    exited: true};
  r = await request('POST', '/api/v1/reports', {token: agent2, body: report('web-2', [
    {...event('/etc/motd'), time: iso(T0 + 3500), actor: vim},
    {...event('/etc/issue'), time: iso(T0 + 3600), actor: {pid: 51, exe: '/usr/bin/sed', uid: 0},
      transient: true, reverted_by: cp},
  ], T0 + 4000, {source: 'realtime', root: 'f'.repeat(32), subtrees: {},
    walk: {journal: true, dirty_paths: 2, full_reason: ''}})});
  check('POST /api/v1/reports', r, 'realtime');
  const pathsOf = async (q) => (await page(q)).events.map((e) => e.path).join(' ');
  for (const [q, want] of [
    ['?actor_exe=%2Fusr%2Fbin%2Fvim', '/etc/motd'],
    ['?actor_uid=0', '/etc/issue'],
    ['?actor_uid=1000&transient=false', '/etc/motd'],
    ['?transient=true&host=web-2', '/etc/issue'],
    ['?actor_exe=%2Fusr%2Fbin%2Fcp', ''],
  ]) {
    const got = await pathsOf(q);
    if (got !== want) fail(`/drift${q}: got '${got}', expected '${want}'`);
  }
  const withActor = (await page('?actor_exe=%2Fusr%2Fbin%2Fvim')).events[0];
  const canon = (o) => JSON.stringify(Object.entries(o || {}).sort());
  if (!withActor || canon(withActor.actor) !== canon(vim) ||
      withActor.time !== '2026-11-01T00:00:03.500000000Z') {
    fail('the event of /usr/bin/vim does not carry its actor and time: ' +
        JSON.stringify(withActor));
  }
  r = await request('GET', '/api/v1/paths/history?path=/etc/issue&transient=true', {token: R});
  check('GET /api/v1/paths/history', r, 'transient');
  if (r.status !== 200 || JSON.parse(r.body).events.length !== 1) {
    fail('/paths/history?transient=true: expected the transient event: ' + r.body);
  }
  for (const q of ['?actor_uid=alice', '?transient=maybe', '?actor_uid=-1']) {
    check('GET /api/v1/drift', await request('GET', '/api/v1/drift' + q, {token: R}), q);
  }
  // The host kept its last check: its root and subtrees are the check's.
  r = await request('GET', '/api/v1/hosts/web-2', {token: R});
  if (JSON.parse(r.body).root !== '4b2212e31ac97fd4575a0b1c44d8843f') {
    fail('a realtime report replaced the root of web-2: ' + r.body);
  }

  // Commands: queue, poll (hands them out), acknowledge, acknowledge again.
  r = await request('POST', '/api/v1/hosts/web-1/commands', {token: A, body: {command: 'check-now'}});
  check('POST /api/v1/hosts/{id}/commands', r);
  r = await request('POST', '/api/v1/hosts/web-1/accept', {token: A,
    body: {paths: ['/etc/hosts'], events: [first.events[0].id]}});
  check('POST /api/v1/hosts/{id}/accept', r);
  r = await request('POST', '/api/v1/fleet/baseline', {token: A, body: {group: 'web'}});
  check('POST /api/v1/fleet/baseline', r);
  r = await request('GET', '/api/v1/agents/commands', {token: agent1});
  check('GET /api/v1/agents/commands', r);
  const handed = JSON.parse(r.body).commands;
  if (handed.length < 3) fail(`web-1 was handed ${handed.length} commands, expected 3`);
  const baselineCmd = handed.find((c) => c.command === 'baseline');
  const ack = `/api/v1/agents/commands/${baselineCmd.id}/ack`;
  r = await request('POST', ack, {token: agent1, body: {ok: true, detail: 'done',
    baseline: {name: 'default', revision: 2, created: iso(T0 + 5000),
      root: '4b2212e31ac97fd4575a0b1c44d8843f'}}});
  check('POST /api/v1/agents/commands/{id}/ack', r);
  r = await request('POST', ack, {token: agent1, body: {ok: true}});
  check('POST /api/v1/agents/commands/{id}/ack', r, 'again');
  check('GET /api/v1/hosts/{id}', await request('GET', '/api/v1/hosts/web-1', {token: R}),
      'with commands');

  // Restore: one host, and a group.
  r = await request('POST', '/api/v1/hosts/web-1/restore', {token: A,
    body: {paths: ['/etc/passwd', '/etc/nginx/**'], remove_added: true, reason: 'undo'}});
  check('POST /api/v1/hosts/{id}/restore', r);
  r = await request('POST', '/api/v1/fleet/restore', {token: A,
    body: {group: 'web', all: true, dry_run: true, reason: 'drill'}});
  check('POST /api/v1/fleet/restore', r);
  if (r.status !== 200 || JSON.parse(r.body).queued !== 2) fail('fleet restore: ' + r.body);
  r = await request('GET', '/api/v1/agents/commands', {token: agent2});
  check('GET /api/v1/agents/commands', r, 'restore');
  const restore = JSON.parse(r.body).commands.find((c) => c.command === 'restore');
  if (!restore || restore.all !== true || restore.dry_run !== true || restore.reason !== 'drill') {
    fail('the restore handed to web-2 lacks its options: ' + r.body);
  }
  check('GET /api/v1/hosts/{id}', await request('GET', '/api/v1/hosts/web-1', {token: R}),
      'with a restore');

  // Integrity: a trust reset (docs/api.md "Integrity").
  check('POST /api/v1/hosts/{id}/trust-reset', await request('POST',
      '/api/v1/hosts/web-2/trust-reset', {token: A, body: {reason: 'reviewed'}}));

  // 409: enrolled already.
  check('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: tokens.enroll, body: {host: 'web-1'}}), 'again');

  // The fleet lifecycle: tokens, host removal and rename, re-enrollment.
  const lifecycle = await lifecycleCases({request, check, fail, A, R,
    report: (host, ms) => report(host, [], ms)});
  // The fleet's trees: objects offered, uploaded, set and fetched.
  const trees = await treesCases({request, check, fail, A, R, agent: agent1,
    enroll: tokens.enroll});

  // Peers: a group's outliers and baselines. Before any tree of group k8s,
  // none can be made; k8s-1 then sends the empty tree and becomes the
  // group's baseline (group web keeps none: the trees cases expect that).
  const EMPTY_TREE = '4d6ac5b7d1a1655cab94ac0ace7276c0';
  r = await request('GET', '/api/v1/fleet/outliers?group=k8s', {token: R});
  check('GET /api/v1/fleet/outliers', r, 'no trees');
  r = await request('POST', '/api/v1/groups/k8s/baselines', {token: A,
    body: {from_majority: true, why: 'no tree yet'}});
  check('POST /api/v1/groups/{group}/baselines', r, 'no trees');
  r = await request('POST', '/api/v1/trees/objects', {token: agentK,
    body: {objects: [{id: EMPTY_TREE, data: 'AQA='}]}});
  if (r.status !== 200) fail('the empty tree object was not stored: ' + r.status + ' ' + r.body);
  r = await request('POST', '/api/v1/agents/tree', {token: agentK,
    body: {root: EMPTY_TREE, host_specific: ['/etc/hostname']}});
  if (r.status !== 200) fail('k8s-1 tree not set: ' + r.status + ' ' + r.body);
  r = await request('POST', '/api/v1/groups/k8s/baselines', {token: A,
    body: {from_host: 'k8s-1', by: 'ops', why: 'golden'}});
  check('POST /api/v1/groups/{group}/baselines', r);
  if (r.status === 201 && JSON.parse(r.body).root !== EMPTY_TREE) {
    fail('the group baseline from k8s-1 is not its tree: ' + r.body);
  }
  check('GET /api/v1/groups/{group}/baselines',
      await request('GET', '/api/v1/groups/k8s/baselines', {token: R}));
  // k8s-1's agent now reads its group's baseline.
  r = await request('GET', '/api/v1/agents/group-baseline', {token: agentK});
  check('GET /api/v1/agents/group-baseline', r, 'group k8s has a baseline');
  if (r.status !== 200 || JSON.parse(r.body).root !== EMPTY_TREE) {
    fail('k8s-1 does not read its group baseline: ' + r.status + ' ' + r.body);
  }

  // One case per operation and status: [key, method, target, token, body,
  // status when served (200 unless said)].
  const routes = [
    ['GET /metrics', 'GET', '/metrics', R],
    ['GET /api/v1/whoami', 'GET', '/api/v1/whoami', R],
    ['GET /api/v1/signing-key', 'GET', '/api/v1/signing-key', R],
    ['POST /api/v1/enroll', 'POST', '/api/v1/enroll', tokens.enroll, {host: 'web-3'}],
    ['POST /api/v1/reports', 'POST', '/api/v1/reports', agent1, report('web-1', [], T0 + 9000)],
    ['GET /api/v1/hosts', 'GET', '/api/v1/hosts', R],
    ['GET /api/v1/hosts/{id}', 'GET', '/api/v1/hosts/web-1', R],
    ['POST /api/v1/hosts/{id}/commands', 'POST', '/api/v1/hosts/web-1/commands', A,
      {command: 'baseline'}],
    ['POST /api/v1/hosts/{id}/accept', 'POST', '/api/v1/hosts/web-1/accept', A,
      {paths: ['/etc/passwd']}],
    ['GET /api/v1/hosts/{id}/packages', 'GET', '/api/v1/hosts/web-1/packages', R],
    ['GET /api/v1/hosts/{id}/containers', 'GET', '/api/v1/hosts/web-1/containers', R],
    ['GET /api/v1/hosts/{id}/baselines', 'GET', '/api/v1/hosts/web-1/baselines', R],
    ['GET /api/v1/images', 'GET', '/api/v1/images', R],
    ['GET /api/v1/containers', 'GET', '/api/v1/containers', R],
    ['GET /api/v1/kubernetes', 'GET', '/api/v1/kubernetes', R],
    ['GET /api/v1/drift', 'GET', '/api/v1/drift', R],
    ['GET /api/v1/paths/history', 'GET', '/api/v1/paths/history?path=/etc/passwd', R],
    ['GET /api/v1/fleet/summary', 'GET', '/api/v1/fleet/summary', R],
    ['GET /api/v1/fleet/compare', 'GET', '/api/v1/fleet/compare?a=web-1&b=web-2', R],
    ['POST /api/v1/fleet/baseline', 'POST', '/api/v1/fleet/baseline', A, {}],
    ['GET /api/v1/fleet/outliers', 'GET', '/api/v1/fleet/outliers?group=web', R],
    ['GET /api/v1/groups/{group}/baselines', 'GET', '/api/v1/groups/web/baselines', R],
    ['POST /api/v1/groups/{group}/baselines', 'POST', '/api/v1/groups/k8s/baselines', A,
      {from_host: 'k8s-1', why: 'again'}],
    ['GET /api/v1/agents/commands', 'GET', '/api/v1/agents/commands', agent1],
    ['POST /api/v1/agents/commands/{id}/ack', 'POST', ack, agent1, {ok: true}],
    ['GET /api/v1/events/{id}/diff', 'GET', `/api/v1/events/${withDiff.id}/diff`, R],
    ['POST /api/v1/hosts/{id}/restore', 'POST', '/api/v1/hosts/web-1/restore', A,
      {paths: ['/etc/passwd'], reason: 'undo'}],
    ['POST /api/v1/fleet/restore', 'POST', '/api/v1/fleet/restore', A,
      {group: 'web', all: true, dry_run: true, reason: 'undo'}],
    ['GET /api/v1/integrity', 'GET', '/api/v1/integrity', R],
    ['GET /api/v1/hosts/{id}/chain', 'GET', '/api/v1/hosts/web-1/chain', R],
    ['POST /api/v1/hosts/{id}/trust-reset', 'POST', '/api/v1/hosts/web-1/trust-reset', A,
      {reason: 'reviewed'}],
    ...lifecycle.routes,
    ...trees.routes,
  ];
  const withQuery = (target, q) => target + (target.includes('?') ? '&' + q.slice(1) : q);

  // 400: a query string that is not UTF-8 (every route), and a bad
  // parameter or body of each route that takes one.
  for (const [key, method, target, token, body] of routes) {
    check(key, await request(method, withQuery(target, BAD_UTF8), {token, body}), 'not UTF-8');
  }
  for (const [key, method, target, token, body] of [
    ['POST /api/v1/enroll', 'POST', '/api/v1/enroll', tokens.enroll, {host: 'bad host'}],
    ['POST /api/v1/reports', 'POST', '/api/v1/reports', agent1, '{not json'],
    ['POST /api/v1/reports', 'POST', '/api/v1/reports', agent1, {format: 2}],
    ['POST /api/v1/hosts/{id}/commands', 'POST', '/api/v1/hosts/web-1/commands', A,
      {command: 'reboot'}],
    ['POST /api/v1/hosts/{id}/accept', 'POST', '/api/v1/hosts/web-1/accept', A, {}],
    ['GET /api/v1/drift', 'GET', '/api/v1/drift?order=newest', R],
    ['GET /api/v1/drift', 'GET', '/api/v1/drift?cursor=c1.2', R],
    ['GET /api/v1/paths/history', 'GET', '/api/v1/paths/history', R],
    ['GET /api/v1/fleet/compare', 'GET', '/api/v1/fleet/compare?a=web-1', R],
    ['POST /api/v1/fleet/baseline', 'POST', '/api/v1/fleet/baseline', A, {group: 5}],
    ['GET /api/v1/fleet/outliers', 'GET', '/api/v1/fleet/outliers?group=web&path=etc', R],
    ['GET /api/v1/fleet/outliers', 'GET', '/api/v1/fleet/outliers', R],
    ['POST /api/v1/groups/{group}/baselines', 'POST', '/api/v1/groups/web/baselines', A,
      {from_majority: true}],
    ['POST /api/v1/agents/commands/{id}/ack', 'POST', '/api/v1/agents/commands/x/ack', agent1,
      {ok: true}],
    ['GET /api/v1/events/{id}/diff', 'GET', '/api/v1/events/x/diff', R],
    ['POST /api/v1/hosts/{id}/restore', 'POST', '/api/v1/hosts/web-1/restore', A,
      {paths: ['/etc/passwd']}],
    ['POST /api/v1/hosts/{id}/restore', 'POST', '/api/v1/hosts/web-1/restore', A,
      {reason: 'neither paths nor all'}],
    ['POST /api/v1/fleet/restore', 'POST', '/api/v1/fleet/restore', A,
      {all: true, paths: ['/etc/passwd'], reason: 'both'}],
    ['GET /api/v1/integrity', 'GET', '/api/v1/integrity?open=maybe', R],
    ['POST /api/v1/hosts/{id}/trust-reset', 'POST', '/api/v1/hosts/web-1/trust-reset', A, {}],
    ['GET /api/v1/containers', 'GET', '/api/v1/containers?drifted=maybe', R],
    ['GET /api/v1/containers', 'GET', '/api/v1/containers?after=nowhere', R],
    ['GET /api/v1/kubernetes', 'GET', '/api/v1/kubernetes?limit=3', R],
  ]) {
    check(key, await request(method, target, {token, body}), 'bad input');
  }

  // 401: no token, and a wrong one.
  for (const [key, method, target, , body] of routes) {
    check(key, await request(method, target, {body, from: stranger()}), 'no token');
    check(key, await request(method, target, {token: 'dw_' + '0'.repeat(64), body,
      from: stranger()}), 'unknown token');
  }

  // 403: a token of a role the route does not serve.
  const wrongRole = {
    'GET /metrics': agent1, 'POST /api/v1/enroll': R, 'POST /api/v1/reports': R,
    'GET /api/v1/hosts': agent1, 'GET /api/v1/hosts/{id}': tokens.enroll,
    'POST /api/v1/hosts/{id}/commands': R, 'POST /api/v1/hosts/{id}/accept': R,
    'GET /api/v1/hosts/{id}/packages': agent1, 'GET /api/v1/hosts/{id}/containers': agent1,
    'GET /api/v1/hosts/{id}/baselines': agent1, 'GET /api/v1/images': agent1,
    'GET /api/v1/containers': agent1, 'GET /api/v1/kubernetes': tokens.enroll,
    'GET /api/v1/drift': agent1, 'GET /api/v1/paths/history': agent1,
    'GET /api/v1/fleet/summary': agent1, 'GET /api/v1/fleet/compare': agent1,
    'POST /api/v1/fleet/baseline': R, 'GET /api/v1/agents/commands': R,
    'GET /api/v1/fleet/outliers': agent1, 'GET /api/v1/groups/{group}/baselines': agent1,
    'POST /api/v1/groups/{group}/baselines': R,
    'POST /api/v1/agents/commands/{id}/ack': A,
    'GET /api/v1/events/{id}/diff': agent1, 'POST /api/v1/hosts/{id}/restore': R,
    'POST /api/v1/fleet/restore': R,
    'GET /api/v1/integrity': agent1, 'GET /api/v1/hosts/{id}/chain': agent1,
    'POST /api/v1/hosts/{id}/trust-reset': R,
    ...lifecycle.wrongRole,
    ...trees.wrongRole,
  };
  for (const [key, method, target, , body] of routes) {
    if (wrongRole[key]) {
      check(key, await request(method, target, {token: wrongRole[key], body}), 'wrong role');
    }
  }
  // An agent reporting as another host.
  check('POST /api/v1/reports', await request('POST', '/api/v1/reports',
      {token: agent2, body: report('web-1', [], T0 + 9500)}), 'as another host');

  // 404: unknown ids.
  for (const [key, method, target, token, body] of [
    ['GET /api/v1/hosts/{id}', 'GET', '/api/v1/hosts/nope', R],
    ['POST /api/v1/hosts/{id}/commands', 'POST', '/api/v1/hosts/nope/commands', A,
      {command: 'baseline'}],
    ['POST /api/v1/hosts/{id}/accept', 'POST', '/api/v1/hosts/nope/accept', A,
      {paths: ['/etc/passwd']}],
    ['GET /api/v1/hosts/{id}/packages', 'GET', '/api/v1/hosts/nope/packages', R],
    ['GET /api/v1/hosts/{id}/containers', 'GET', '/api/v1/hosts/nope/containers', R],
    ['GET /api/v1/hosts/{id}/baselines', 'GET', '/api/v1/hosts/nope/baselines', R],
    ['GET /api/v1/fleet/compare', 'GET', '/api/v1/fleet/compare?a=web-1&b=nope', R],
    ['GET /api/v1/fleet/outliers', 'GET', '/api/v1/fleet/outliers?group=nowhere', R],
    ['POST /api/v1/groups/{group}/baselines', 'POST', '/api/v1/groups/web/baselines', A,
      {from_host: 'nope', why: 'x'}],
    ['POST /api/v1/agents/commands/{id}/ack', 'POST', '/api/v1/agents/commands/999999/ack',
      agent1, {ok: true}],
    ['GET /api/v1/events/{id}/diff', 'GET', '/api/v1/events/999999/diff', R],
    ['POST /api/v1/hosts/{id}/restore', 'POST', '/api/v1/hosts/nope/restore', A,
      {all: true, reason: 'undo'}],
    ['GET /api/v1/integrity', 'GET', '/api/v1/integrity?host=nope', R],
    ['GET /api/v1/hosts/{id}/chain', 'GET', '/api/v1/hosts/nope/chain', R],
    ['POST /api/v1/hosts/{id}/trust-reset', 'POST', '/api/v1/hosts/nope/trust-reset', A,
      {reason: 'reviewed'}],
  ]) {
    check(key, await request(method, target, {token, body}), 'unknown');
  }

  // 413: a body over max_body_bytes on every route that takes one, and a
  // report with more events than max_events_per_report.
  const big = JSON.stringify({pad: 'x'.repeat(MAX_BODY + 10)});
  for (const [key, method, target, token] of routes) {
    if (method === 'POST') check(key, await request(method, target, {token, body: big}), 'large');
  }
  const tooMany = [];
  for (let i = 0; i < 400; i++) tooMany.push({path: `/f${i}`, kind: 'added', severity: 'low'});
  check('POST /api/v1/reports', await request('POST', '/api/v1/reports',
      {token: agent1, body: report('web-1', tooMany, T0 + 9900)}), 'too many events');

  // 405: every path, with a method it does not serve.
  let notAllowed = 0;
  const errorSchema = validatorFor(api.components.schemas.Error);
  for (const [p, item] of Object.entries(api.paths)) {
    const method = METHODS.find((m) => !item[m]).toUpperCase();
    const target = p.replace('{id}', p.includes('commands') ? String(baselineCmd.id) : 'web-1')
        .replace('{group}', 'web');
    const res = await request(method, target, {token: A});
    let body = null;
    try {
      body = JSON.parse(res.body);
    } catch (e) { /* reported below */ }
    if (res.status !== 405 || !errorSchema(body) || body.error !== 'method_not_allowed') {
      fail(`${method} ${p}: expected 405 method_not_allowed, got ${res.status} ${res.body}`);
    } else {
      notAllowed++;
    }
    // OPTIONS is not served; its Allow names every method the path documents.
    const options = await request('OPTIONS', target, {token: A});
    const allow = (options.headers.allow || '').split(',').map((m) => m.trim());
    const missing = METHODS.filter((m) => item[m] && !allow.includes(m.toUpperCase()));
    if (options.status !== 405 || missing.length > 0) {
      fail(`OPTIONS ${p}: expected 405 with Allow naming ${missing.join(', ')}, got ` +
          `${options.status} Allow: ${options.headers.allow}`);
    }
  }

  // 503 on every route that takes a body: another request holds the
  // in-flight body budget. The hold counts once the collector has admitted
  // it: from then a body of 50000 bytes (not JSON, refused as such while
  // nothing is held) answers 503. When that body took the budget first, the
  // hold is answered 503 itself and is made again.
  let hold = holdBody('/api/v1/enroll', A, MAX_BODY);
  const unjson = 'x'.repeat(50000);
  const held = await poll(async () => {
    if (hold.answered) hold = holdBody('/api/v1/enroll', A, MAX_BODY);
    const res = await request('POST', '/api/v1/enroll', {token: A, body: unjson});
    return res.status === 503 && !hold.answered ? res : null;
  }, {tries: 200, ms: 10000, gap: 50});
  if (!held) fail('a held body budget: no 503 to a body of 50000 bytes within 10 s (200 tries)');
  for (const [key, method, target, token, body] of routes) {
    if (method !== 'POST' || !held) continue;
    const res = await request(method, target, {token, announce: 50000});
    if (res.status !== 503) {
      fail(`${key}: expected 503 while the body budget is held, got ${res.status}`);
    }
    check(key, res, 'body budget held');
  }
  hold.release();
  await sleep(300);

  // 503 on the routes without a body: a burst overflows the one worker and
  // its queue (bounded: up to 60 bursts of 48 per route within 20 s).
  for (const [key, method, target, token, , served = 200] of routes) {
    if (method === 'POST') continue;
    let rounds = 0;
    const started = Date.now();
    const seen = await poll(async () => {
      rounds++;
      const burst = [];
      for (let i = 0; i < 4; i++) {
        burst.push(request('GET', '/api/v1/drift?limit=1000', {token: R}));
      }
      for (let i = 0; i < 44; i++) burst.push(request(method, target, {token}));
      const answers = await Promise.all(burst);
      for (const a of answers.slice(4)) {
        if (a.status !== served && a.status !== 503) {
          fail(`${key} in a burst: ${a.status} ${a.body}`);
        }
      }
      return answers.slice(4).find((a) => a.status === 503) || null;
    }, {tries: 60, ms: 20000});
    if (!seen) {
      fail(`${key}: no 503 in ${rounds} bursts of 48 (${Date.now() - started} ms)`);
    } else {
      check(key, seen, 'burst');
    }
  }

  // 503 from /healthz: its database file is away, then back.
  const away = db + '.away';
  fs.renameSync(db, away);
  let health = null;
  for (let i = 0; i < 60 && !(health && health.status === 503); i++) {
    await sleep(250);
    health = await request('GET', '/healthz');
  }
  check('GET /healthz', health, 'database file away');
  fs.renameSync(away, db);
  for (let i = 0; i < 60 && health.status !== 200; i++) {
    await sleep(250);
    health = await request('GET', '/healthz');
  }
  check('GET /healthz', health, 'back');

  // 429: one address fails authentication until it is locked out; every
  // route then refuses even a valid token from it.
  const LOCKED = '127.0.0.9';
  const lockOut = async () => {
    for (let i = 0; i < 25; i++) {
      const res = await request('GET', '/api/v1/whoami', {token: 'dw_wrong', from: LOCKED});
      if (res.status === 429) return true;
    }
    return false;
  };
  for (const [key, method, target, token, body] of routes) {
    if (!(await lockOut())) {
      fail('no lockout after 25 failed authentications');
      break;
    }
    const res = await request(method, target, {token, body, from: LOCKED});
    if (res.status !== 429) fail(`${key}: expected 429 from a locked-out address, got ${res.status}`);
    check(key, res, 'locked out');
  }
  // The same valid token from another address is served.
  check('GET /api/v1/whoami', await request('GET', '/api/v1/whoami', {token: R}), 'other address');

  // Coverage: every operation, every documented status.
  let pairs = 0;
  for (const [key, op] of operations) {
    const seen = checked.get(key) || new Set();
    if (seen.size === 0) fail(`${key}: no test case (add its cases to tests/api/conformance.mjs)`);
    for (const status of Object.keys(op.responses)) {
      if (seen.has(status)) {
        pairs++;
      } else if (!EXEMPT[`${key} ${status}`]) {
        fail(`${key}: documented status ${status} was never answered`);
      }
    }
  }
  const paths = Object.keys(api.paths).length;
  console.log(`openapi conformance: ${operations.size} routes (operations) on ${paths} paths, ` +
      `${pairs} (route, status) pairs checked against docs/openapi.yaml, plus 405 on ` +
      `${notAllowed} paths; ${responsesChecked} responses validated`);
}

let code = 0;
try {
  await run();
} catch (e) {
  fail('test error: ' + (e.stack || e));
}
collector.removeAllListeners('exit');
collector.kill('SIGTERM');
await new Promise((r) => collector.once('exit', r));
if (failures.length > 0) {
  console.error(`${failures.length} failure(s); collector log: ` +
      fs.readFileSync(path.join(tmp, 'collector.log'), 'utf8').slice(-2000));
  code = 1;
} else {
  fs.rmSync(tmp, {recursive: true, force: true});
}
process.exit(code);
