// The dashboard's browser test fixture (dashboard_test.mjs): the real
// driftwatch-collector on 127.0.0.1 with a fresh store seeded through the
// real API, Debian's chromium driven headless through playwright-core, and
// the helpers the tests share. Importing it checks the environment and
// exits 77 (skipped) without chromium or node_modules.
//
// Environment (set by tests/web/meson.build):
//   DW_COLLECTOR_BIN   the driftwatch-collector executable
//   DW_WEB_SOURCE      the web/ directory to serve (copied to a temp root)
//   DW_SCREENSHOT_DIR  where the screenshots go
//   DW_CHROMIUM        the browser (default /usr/bin/chromium)
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.DW_CHROMIUM || '/usr/bin/chromium';
const COLLECTOR = process.env.DW_COLLECTOR_BIN;
export const WEB_SOURCE = process.env.DW_WEB_SOURCE || path.join(here, '..', '..', 'web');
const SHOTS = process.env.DW_SCREENSHOT_DIR || path.join(os.tmpdir(), 'driftwatch-web-shots');

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (apt-get install chromium)`);
let chromium;
try {
  chromium = createRequire(path.join(here, 'package.json'))('playwright-core').chromium;
} catch (e) {
  skip('playwright-core is not installed: run npm ci --prefix tests/web');
}
if (!COLLECTOR || !fs.existsSync(COLLECTOR)) {
  console.error('DW_COLLECTOR_BIN must name the driftwatch-collector executable');
  process.exit(1);
}

export const HOUR = 3600 * 1000;
export const NOW = Date.now();

// ---------------------------------------------------------------- fixture

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dw_web_it.'));
const db = path.join(tmp, 'collector.db');
const webRoot = path.join(tmp, 'web');
let collector;
export let url;
let context;
export let page;
export const tokens = {};
export const pageErrors = [];

function tokenCreate(role) {
  return execFileSync(COLLECTOR, ['token', 'create', '--db', db, '--role', role],
      {encoding: 'utf8'}).trim();
}

// Starts the collector and resolves with the URL it prints first.
function startCollector() {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(tmp, 'collector.log'), 'a');
    collector = spawn(COLLECTOR, ['--listen', '127.0.0.1:0', '--db', db, '--web-root', webRoot],
        {stdio: ['ignore', 'pipe', log]});
    let out = '';
    const timer = setTimeout(() => reject(new Error('collector printed no URL in 10 s')), 10000);
    collector.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    collector.on('exit', (code) => reject(new Error(`collector exited with ${code}`)));
  });
}

export async function call(method, p, token, body) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(url + p, {method, headers,
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  return {status: r.status, json: text ? JSON.parse(text) : null};
}

export async function apiGet(p) {
  const r = await call('GET', p, tokens.read);
  assert.equal(r.status, 200, `GET ${p}: ${JSON.stringify(r.json)}`);
  return r.json;
}

// A raw HTTP exchange, the path sent exactly as given (no URL normalising).
export function rawGet(p, method = 'GET') {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({host: u.hostname, port: u.port, path: p, method}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => body += d);
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body}));
    });
    req.on('error', reject);
    req.end();
  });
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
let uuidCounter = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++uuidCounter).padStart(12, '0')}`;
export const HASH = (n) => n.toString(16).padStart(32, '0');

export function fileEvent(p, kind, severity, oldAttrs, newAttrs, attributes) {
  const e = {path: p, kind, attributes, severity, rule: '/etc/** (host.yaml:3)'};
  if (oldAttrs) e.old = oldAttrs;
  if (newAttrs) e.new = newAttrs;
  return e;
}

export const PASSWD_OLD = {type: 'file', perm: '0644', uid: 0, gid: 0, size: 1200,
  hash: 'xxh128:db7579e38542cc973a701d65c24cbd1b'};
export const PASSWD_NEW = {type: 'file', perm: '0666', uid: 0, gid: 0, size: 1250,
  hash: 'xxh128:2263bde0a9189aa23febcf7d39d1794f'};

// Host -> reports (finished = NOW - hoursAgo), sent in this order.
const SEED = {
  'web-1': {group: 'web', reports: [
    {hoursAgo: 20, events: [
      fileEvent('/etc/passwd', 'modified', 'high', PASSWD_OLD, PASSWD_NEW, ['perm', 'size', 'hash']),
      fileEvent('/etc/nginx/nginx.conf', 'modified', 'medium', {type: 'file', size: 10,
        hash: 'xxh128:' + HASH(1)}, {type: 'file', size: 12, hash: 'xxh128:' + HASH(2)},
      ['size', 'hash']),
    ]},
    {hoursAgo: 2, events: [
      fileEvent('/etc/passwd', 'modified', 'high', PASSWD_NEW,
          {...PASSWD_NEW, size: 1300, hash: 'xxh128:' + HASH(3)}, ['size', 'hash']),
      fileEvent('/etc/ssh/sshd_config', 'modified', 'critical', {type: 'file', perm: '0600'},
          {type: 'file', perm: '0644'}, ['perm']),
      fileEvent('/usr/bin/sudo2', 'added', 'high', null, {type: 'file', perm: '4755', uid: 0},
          []),
    ]},
  ]},
  'web-2': {group: 'web', reports: [
    {hoursAgo: 5, events: [
      fileEvent('/etc/passwd', 'modified', 'high', PASSWD_OLD, PASSWD_NEW, ['perm']),
      {path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', kind: 'package-changed', attributes: [],
        severity: 'medium', rule: 'packages (host.yaml:9)', package: 'libssl3',
        from: '3.0.11-1~deb12u1', to: '3.0.11-1~deb12u2'},
    ]},
    {hoursAgo: 1, events: []},
  ]},
  'db-1': {group: 'db', reports: [
    {hoursAgo: 30, events: [
      fileEvent('/etc/postgresql/15/main/pg_hba.conf', 'modified', 'low',
          {type: 'file', size: 4000}, {type: 'file', size: 4100}, ['size']),
      fileEvent('/etc/cron.d/backup', 'removed', 'medium', {type: 'file', perm: '0644'}, null, []),
    ]},
  ]},
  // Enrolled, never reported: silent.
  'cache-1': {group: 'db', reports: []},
  // Checks every second: silent three seconds after its only report.
  'edge-1': {group: 'edge', reports: [{hoursAgo: 0, events: [], interval: 1}]},
};

// The inventory the latest report of a host carries (docs/wire.md).
export const PACKAGES = [
  {manager: 'dpkg', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64'},
  {manager: 'dpkg', name: 'curl', version: '7.88.1-10+deb12u5', arch: 'amd64'},
  {manager: 'dpkg', name: 'libssl3', version: '3.0.11-1~deb12u2', arch: 'amd64'},
  {manager: 'dpkg', name: 'openssl', version: '3.0.11-1~deb12u2', arch: 'amd64'},
];
const CONTAINERS = {
  'web-1': [
    {name: 'web', id: 'c1', runtime: 'driftwatch', image: 'nginx:1.25',
      image_digest: '9f86d081884c7d659a2feaa0c55ad015',
      drift_known: true, events: 2},
    {name: 'cache', id: 'c2', runtime: 'docker', image: 'redis:7',
      image_digest: 'a665a45920422f9d417e4867efdc4fb8',
      drift_known: true, events: 0},
  ],
  'web-2': [
    {name: 'web', id: 'c3', runtime: 'driftwatch', image: 'nginx:1.25',
      image_digest: '9f86d081884c7d659a2feaa0c55ad015',
      drift_known: true, events: 0},
    {name: 'web-canary', id: 'c4', runtime: 'driftwatch', image: 'nginx:1.25',
      image_digest: '2c26b46b68ffc68ff99b453c1d304134', drift_known: true, events: 1},
  ],
};

// The digest of a package list: XXH3-128 of its canonical text (one
// "manager TAB name TAB version TAB arch" line per package), as xxh128sum
// (Debian package xxhash) prints it. The collector refuses a list whose
// digest does not match.
function packagesDigestOf(list) {
  const text = list.map((p) => [p.manager, p.name, p.version, p.arch].join('\t') + '\n').join('');
  return execFileSync('xxh128sum', {input: text, encoding: 'utf8'}).split(' ')[0];
}

export function reportBody(host, r) {
  const finished = NOW - r.hoursAgo * HOUR;
  const count = (pred) => r.events.filter(pred).length;
  return {
    format: 1, report_id: uuid(), host_id: host, agent_version: '0.1.0', sent: iso(NOW),
    baseline: 'default', baseline_revision: 1, baseline_root: HASH(7), root: HASH(8 + uuidCounter),
    target: host, started: iso(finished - 1500), finished: iso(finished),
    summary: {added: count((e) => e.kind === 'added'), modified: count((e) => e.kind === 'modified'),
      removed: count((e) => e.kind === 'removed'),
      packages: count((e) => e.kind.startsWith('package-'))},
    subtrees: {'/etc': HASH(host === 'web-2' ? 0x200 : 0x100 + r.hoursAgo), '/usr/bin': HASH(0x300)},
    events: r.events,
    warnings: [],
    stats: {files: 100, dirs: 10, others: 1, files_hashed: 5, bytes_hashed: 5000,
      duration_ns: 1500000},
    interval_seconds: r.interval || 3600,
    ...(CONTAINERS[host] ? {containers: CONTAINERS[host]} : {}),
  };
}

let packagesDigest = '';

async function seed() {
  packagesDigest = packagesDigestOf(PACKAGES);
  for (const [host, spec] of Object.entries(SEED)) {
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host, group: spec.group, agent_version: '0.1.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    for (const r of spec.reports) {
      const body = reportBody(host, r);
      if (host === 'web-1') body.packages = {digest: packagesDigest, count: 4, list: PACKAGES};
      const sent = await call('POST', '/api/v1/reports', enrolled.json.token, body);
      assert.equal(sent.status, 200, JSON.stringify(sent.json));
      assert.equal(sent.json.events, r.events.length);
    }
    if (host === 'web-2') {
      // One report the collector refuses (an event of no known kind).
      const bad = reportBody(host, {hoursAgo: 1, events: [
        fileEvent('/etc/hosts', 'modified', 'high', {type: 'file'}, {type: 'file'}, [])]});
      bad.events[0].kind = 'exploded';
      const refused = await call('POST', '/api/v1/reports', enrolled.json.token, bad);
      assert.equal(refused.status, 400, JSON.stringify(refused.json));
      assert.equal(refused.json.error, 'invalid_report');
    }
  }
}

// Every event the API holds for a query, following next_cursor (at most
// 20 pages), whatever order it answers in.
export async function allEvents(query = '') {
  const events = [];
  let cursor = '';
  for (let i = 0; i < 20; i++) {
    const r = await apiGet(`/api/v1/drift?limit=1000${query}${cursor ? '&cursor=' + cursor : ''}`);
    events.push(...r.events);
    if (!r.next_cursor) return events;
    cursor = r.next_cursor;
  }
  throw new Error('more than 20 pages of drift');
}

// Newest first as docs/api.md orders it: by detection time, then event id.
// `detected` always has nine fraction digits, so the strings compare as times.
export const newestFirst = (events) => [...events].sort((a, b) =>
  (a.detected < b.detected ? 1 : a.detected > b.detected ? -1 : b.id - a.id));
export const idsOf = (events) => events.map((e) => e.id);
export const shownIds = () => page.$$eval('table.events tbody tr.event',
    (rows) => rows.map((r) => Number(r.dataset.id)));
export const shownDetected = () => page.$$eval('table.events tbody tr.event time',
    (els) => els.map((t) => t.getAttribute('datetime')));

// The API requests the page made (URLs), for asserting what it asked.
export const apiRequests = [];
export function requestsTo(route) {
  return apiRequests.map((u) => new URL(u)).filter((u) => u.pathname === route);
}

export async function shot(name) {
  fs.mkdirSync(SHOTS, {recursive: true});
  await page.screenshot({path: path.join(SHOTS, name + '.png'), fullPage: true});
}

// Opens a route; the same route again is loaded afresh (a hash that does
// not change would not draw the page again).
export async function goto(hash) {
  const target = url + '/' + hash;
  if (page.url() === target) {
    await page.reload();
  } else {
    await page.goto(target);
  }
}

export async function signIn(token) {
  await page.fill('#token', token);
  await page.click('form.signin-form button[type=submit]');
}

export async function texts(selector) {
  return page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));
}

// Starts the collector on a copy of the web root with traps planted in it,
// seeds the fleet (unless `seed` is false) and opens the browser; `page` is
// set when it resolves. Console errors matching `expectedConsole` are not
// page errors.
export async function start({seed: seedFleet = true, expectedConsole = null} = {}) {
  fs.cpSync(WEB_SOURCE, webRoot, {recursive: true});
  // Things that must never be served: a secret next to the root, reached
  // by traversal or through symlinks planted inside the root.
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP SECRET');
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(webRoot, 'leak.txt'));
  fs.symlinkSync(tmp, path.join(webRoot, 'up'));
  for (const role of ['enroll', 'read', 'admin']) tokens[role] = tokenCreate(role);
  url = await startCollector();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  if (seedFleet) await seed();
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: {width: 1280, height: 800},
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/')) apiRequests.push(r.url());
  });
  page.on('pageerror', (e) => pageErrors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    const expected = expectedConsole && expectedConsole.test(m.text());
    if (m.type() === 'error' && !expected) pageErrors.push('console: ' + m.text());
  });
}

export async function stop() {
  if (context) await context.close();
  if (collector) collector.kill('SIGTERM');
  fs.rmSync(tmp, {recursive: true, force: true});
}
