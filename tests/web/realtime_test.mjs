// Browser test of realtime drift on the dashboard (docs/dashboard.md): a
// realtime report with actors posted through the real API, the actor line
// and transient badge of its rows, the actor filters of the drift view, and
// the host keeping its last check as its state.
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {NOW, apiGet, call, fileEvent, goto, idsOf, page, pageErrors, reportBody,
  requestsTo, shot, shownIds, signIn, start, stop, texts, tokens} from './fixture.mjs';

const iso = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

const VIM = {pid: 4242, exe: '/usr/bin/vim', cmdline: 'vim /etc/motd', comm: 'vim', uid: 1000,
  euid: 1000, loginuid: 1000, login: 'alice', session: 3, ppid: 4000,
  parent_exe: '/usr/bin/bash', cgroup: '/user.slice/user-1000.slice/session-3.scope'};
const SED = {pid: 51, exe: '/usr/bin/sed', uid: 0, euid: 0};
const CP = {pid: 99, exe: '/usr/bin/cp', uid: 0, euid: 0, container: 'docker:web-1',
  exited: true};
// Markup in an executable's name is shown as text, never applied.
const ODD = {pid: 7, exe: '/tmp/<b>bold</b>', uid: 1000};

function realtimeEvent(p, severity, actor, extra = {}) {
  const e = fileEvent(p, 'modified', severity, {type: 'file', size: 1}, {type: 'file', size: 2},
      ['size']);
  return {...e, time: iso(NOW - 60000), actor, ...extra};
}

// A realtime report (docs/wire.md "source"): events only, no state of its own.
function realtimeBody(host, events) {
  const body = reportBody(host, {hoursAgo: 0, events});
  delete body.interval_seconds;
  return {...body, source: 'realtime', root: '0'.repeat(32), subtrees: {}};
}

describe('realtime drift on the dashboard', () => {
  let agentToken;
  let checkRoot;

  before(async () => {
    await start();
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host: 'rt-1', group: 'rt', agent_version: '0.2.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    agentToken = enrolled.json.token;
    const check = reportBody('rt-1', {hoursAgo: 1, events: [
      fileEvent('/etc/issue', 'modified', 'low', {type: 'file', size: 1}, {type: 'file', size: 3},
          ['size'])]});
    checkRoot = check.root;
    const sent = await call('POST', '/api/v1/reports', agentToken, check);
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    const rt = await call('POST', '/api/v1/reports', agentToken, realtimeBody('rt-1', [
      realtimeEvent('/etc/motd', 'medium', VIM),
      realtimeEvent('/etc/hosts', 'high', SED, {transient: true, reverted_by: CP}),
      realtimeEvent('/etc/odd', 'low', ODD),
    ]));
    assert.equal(rt.status, 200, JSON.stringify(rt.json));
    assert.equal(rt.json.events, 3);
  });
  after(stop);

  test('a realtime report adds events and keeps the last check as the state', async () => {
    const host = await apiGet('/api/v1/hosts/rt-1');
    assert.equal(host.root, checkRoot);
    assert.deepEqual(Object.keys(host.subtrees).sort(), ['/etc', '/usr/bin']);
    const events = (await apiGet('/api/v1/drift?host=rt-1&order=asc')).events;
    assert.deepEqual(events.map((e) => e.path), ['/etc/issue', '/etc/motd', '/etc/hosts',
      '/etc/odd']);
    assert.deepEqual(events[1].actor, VIM);
    assert.equal(events[1].time, iso(NOW - 60000));
    assert.equal(events[2].transient, true);
    assert.deepEqual(events[2].reverted_by, CP);
    assert.equal(events[0].actor, undefined);
    assert.equal(events[0].transient, undefined);
  });

  test('the rows say who changed what, and what was reverted', async () => {
    await goto('');
    await page.waitForSelector('#token');
    await signIn(tokens.read);
    await page.waitForSelector('[data-metric="hosts"]');
    await goto('#/drift?host=rt-1&order=asc');
    await page.waitForSelector('table.events tbody tr.event');
    const want = (await apiGet('/api/v1/drift?host=rt-1&order=asc')).events;
    assert.deepEqual(await shownIds(), idsOf(want));
    const row = (path) => page.locator('tr.event', {has: page.locator(`a:text-is("${path}")`)});
    assert.equal((await row('/etc/motd').locator('.actor').textContent()).trim(),
        'modified by /usr/bin/vim, pid 4242, uid 1000 (login alice)');
    assert.equal((await row('/etc/hosts').locator('.actor').textContent()).trim(),
        'modified by /usr/bin/sed, pid 51, uid 0');
    assert.equal((await row('/etc/hosts').locator('.transient').textContent()).trim(),
        'transient changed and reverted by /usr/bin/cp, pid 99, uid 0, in docker:web-1, exited');
    assert.equal(await row('/etc/issue').locator('.actor').count(), 0);
    // Markup in a name is text.
    assert.equal((await row('/etc/odd').locator('.actor').textContent()).trim(),
        'modified by /tmp/<b>bold</b>, pid 7, uid 1000');
    assert.equal(await row('/etc/odd').locator('.actor b').count(), 0);
    // The details add the command line, the parent and the cgroup.
    const motd = want[1];
    await page.click(`tr.event[data-id="${motd.id}"] button.expand`);
    const facts = await page.locator(`#event-${motd.id}-detail dl.facts`).textContent();
    for (const text of ['vim /etc/motd', '/usr/bin/bash, pid 4000', VIM.cgroup,
      '/usr/bin/vim, pid 4242, uid 1000 (login alice)']) {
      assert.ok(facts.includes(text), `${text} in ${facts}`);
    }
    await shot('drift-realtime');
  });

  test('clicking the actor filters the drift list by executable', async () => {
    await page.click('tr.event .actor a.actor-exe:text-is("/usr/bin/vim")');
    await page.waitForFunction(() => location.hash.includes('actor_exe='));
    assert.equal(new URL(page.url()).hash, '#/drift?actor_exe=%2Fusr%2Fbin%2Fvim');
    await page.waitForSelector('table.events tbody tr.event');
    assert.equal(requestsTo('/api/v1/drift').at(-1).searchParams.get('actor_exe'),
        '/usr/bin/vim');
    const want = (await apiGet('/api/v1/drift?actor_exe=%2Fusr%2Fbin%2Fvim')).events;
    assert.deepEqual(want.map((e) => e.path), ['/etc/motd']);
    assert.deepEqual(await shownIds(), idsOf(want));
    assert.equal(await page.inputValue('#f-actor-exe'), '/usr/bin/vim');
  });

  test('the uid and transient inputs map onto the API query', async () => {
    await goto('#/drift');
    await page.waitForSelector('table.events tbody tr.event');
    await page.fill('#f-actor-uid', '0');
    await page.selectOption('#f-transient', 'true');
    await page.click('.drift-filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('actor_uid=0'));
    const query = 'actor_uid=0&transient=true&order=desc';
    assert.equal(await page.textContent('#api-query'), '/api/v1/drift?' + query);
    await page.waitForSelector('table.events tbody tr.event');
    const want = (await apiGet('/api/v1/drift?' + query)).events;
    assert.deepEqual(want.map((e) => e.path), ['/etc/hosts']);
    assert.deepEqual(await shownIds(), idsOf(want));
    assert.deepEqual(await texts('tr.event .transient-badge'), ['transient']);
    // Not transient, uid 1000: vim's and the odd one, nothing of the check.
    const others = (await apiGet('/api/v1/drift?actor_uid=1000&transient=false')).events;
    assert.deepEqual(others.map((e) => e.path).sort(), ['/etc/motd', '/etc/odd']);
    // A bad filter is the API's 400, shown as such.
    await goto('#/drift?actor_uid=alice');
    const alert = page.locator('.status-area .message-error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /refused this filter: .*actor_uid/);
  });

  test('a report with an oversized actor is refused and nothing is stored', async () => {
    const before = await apiGet('/api/v1/hosts/rt-1');
    const eventsBefore = (await apiGet('/api/v1/drift?host=rt-1&limit=1000')).events.length;
    const huge = {...VIM, exe: '/usr/bin/' + 'x'.repeat(5000)};
    const r = await call('POST', '/api/v1/reports', agentToken,
        realtimeBody('rt-1', [realtimeEvent('/etc/motd', 'medium', huge)]));
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.error, 'invalid_report');
    assert.match(r.json.detail,
        /events\[0\]\.actor\.exe: 5009 bytes; expected at most 4096/);
    const afterHost = await apiGet('/api/v1/hosts/rt-1');
    assert.equal(afterHost.reports, before.reports);
    assert.equal((await apiGet('/api/v1/drift?host=rt-1&limit=1000')).events.length,
        eventsBefore);
  });

  test('no script errors or CSP violations', () => {
    const unexpected = pageErrors.filter((e) =>
      !/Failed to load resource: the server responded with a status of 400/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
