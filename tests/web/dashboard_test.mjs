// Browser test of the dashboard (docs/dashboard.md): the real collector on
// 127.0.0.1, seeded through the real API, and Debian's chromium (fixture.mjs);
// checks what a person sees against what the API says. Also checks the
// collector's static file serving over real HTTP (headers, traversal).
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {HASH, HOUR, NOW, PACKAGES, PASSWD_NEW, PASSWD_OLD, WEB_SOURCE, allEvents, apiGet,
  apiRequests, call, fileEvent, goto, idsOf, newestFirst, page, pageErrors, rawGet, reportBody,
  requestsTo, shot, shownDetected, shownIds, signIn, start, stop, texts, tokens} from './fixture.mjs';

describe('dashboard', () => {
  before(start);
  after(stop);

  test('static files carry the security headers', async () => {
    const index = await rawGet('/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.body, fs.readFileSync(path.join(WEB_SOURCE, 'index.html'), 'utf8'));
    assert.equal(index.headers['content-security-policy'],
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; " +
        "form-action 'self'; frame-ancestors 'none'");
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['referrer-policy'], 'no-referrer');
    assert.equal(index.headers['cache-control'], 'no-cache');
    const js = await rawGet('/js/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.body, fs.readFileSync(path.join(WEB_SOURCE, 'js', 'app.js'), 'utf8'));
    const head = await rawGet('/css/dashboard.css', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(head.body, '');
    // HEAD announces the length GET sends (docs/api.md, HEAD).
    assert.equal(head.headers['content-length'],
        String(fs.statSync(path.join(WEB_SOURCE, 'css', 'dashboard.css')).size));
    // The API keeps its JSON answers; POST outside the API is not a file.
    const health = await rawGet('/healthz');
    assert.deepEqual([health.status, JSON.parse(health.body)], [200, {status: 'ok'}]);
    const noToken = await rawGet('/api/v1/hosts');
    assert.equal(noToken.status, 401);
    assert.equal(JSON.parse(noToken.body).error, 'unauthorized');
  });

  test('nothing outside the web root is served', async () => {
    for (const p of ['/../secret.txt', '/../../../../etc/passwd', '/%2e%2e/secret.txt',
      '/%2E%2E/%2e%2e/etc/passwd', '/js/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt',
      '/%2f%2e%2e%2fsecret.txt', '//etc/passwd', '/%2fetc%2fpasswd', '/etc/passwd',
      '/leak.txt', '/up/secret.txt', '/up/web/index.html', '/.%2e/secret.txt',
      '/index.html%00.txt']) {
      const r = await rawGet(p);
      assert.deepEqual([r.status, r.body, r.headers['content-type'],
        r.headers['x-content-type-options']],
      [404, 'not found\n', 'text/plain; charset=utf-8', 'nosniff'], p);
    }
    // A backslash is never a path separator for the file server.
    const backslash = await rawGet('/..\\secret.txt');
    assert.deepEqual([backslash.status, backslash.body], [404, 'not found\n']);
  });

  test('a wrong token shows the 401 message', async () => {
    await goto('');
    await page.waitForSelector('#token');
    await signIn('dw_' + '0'.repeat(64));
    const alert = page.locator('#signin-status .message-error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /^401 Unauthorized: the collector does not know/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('driftwatch.token')), null);
    assert.equal(await page.isHidden('#nav'), true);
    await shot('signin-401');
  });

  test('signing in shows the overview with the API numbers', async () => {
    // edge-1 checks every second: three seconds after its report it is
    // silent, as the API and the overview both say.
    const until = Date.now() + 10000;
    while ((await apiGet('/api/v1/hosts/edge-1')).silent === false && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const edge = await apiGet('/api/v1/hosts/edge-1');
    assert.deepEqual([edge.silent, edge.interval_seconds], [true, 1]);
    await signIn(tokens.read);
    await page.waitForSelector('[data-metric="hosts"]');
    assert.equal(await page.textContent('#session-role'), 'Signed in (read)');
    const summary = await apiGet('/api/v1/fleet/summary');
    const shown = {};
    for (const m of ['hosts', 'drifted', 'silent', 'events']) {
      shown[m] = Number(await page.textContent(`[data-metric="${m}"]`));
    }
    const stored = Object.values(summary.events_by_severity).reduce((a, b) => a + b, 0);
    assert.deepEqual(shown, {hosts: summary.hosts, drifted: summary.drifted_hosts,
      silent: summary.silent_hosts, events: stored});
    assert.equal(summary.silent_hosts, 2);  // cache-1 (never reported) and edge-1
    assert.deepEqual(shown, {hosts: 5, drifted: 2, silent: summary.silent_hosts, events: 9});
    // web-2's refused report: on the overview's card and in its attention list.
    assert.equal(Number(await page.textContent('[data-metric="refused"]')),
        summary.reports_refused);
    assert.equal(summary.reports_refused, 1);
    assert.deepEqual(await texts('.host-list li .badge.state-refused'), ['1 reports refused']);
    for (const sev of ['low', 'medium', 'high', 'critical']) {
      const n = await page.textContent(`.severity-table tr[data-severity="${sev}"] td.num`);
      assert.equal(Number(n), summary.events_by_severity[sev], sev);
    }
    // The token is in sessionStorage and nowhere in the URL.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('driftwatch.token')),
        tokens.read);
    assert.ok(!page.url().includes(tokens.read));

    // Timeline (24 h, hourly): its bars add up to the API's events of the window.
    await page.waitForSelector('svg.chart');
    const bars = await page.$$eval('svg.chart g.bar', (gs) => gs.map((g) => ({
      start: g.dataset.start, total: Number(g.dataset.total)})));
    assert.equal(bars.length, 24);
    const end = Math.floor(NOW / HOUR) * HOUR + HOUR;
    const windowStart = end - 24 * HOUR;
    assert.equal(bars[0].start, new Date(windowStart).toISOString());
    const inWindow = (await apiGet('/api/v1/drift?limit=1000&since=' +
        new Date(windowStart).toISOString())).events;
    assert.equal(bars.reduce((s, b) => s + b.total, 0), inWindow.length);
    assert.equal(inWindow.length, 7);
    // The most-drifted path of the last 24 h.
    const top = await page.$$eval('.top-paths tbody tr', (rows) => rows.map((r) =>
      [...r.querySelectorAll('td')].map((td) => td.textContent.trim())));
    assert.deepEqual(top[0], ['/etc/passwd', '3', '2', 'high']);
    assert.equal(top.length, 5);
    // Image sprawl, as GET /images counts it.
    const images = await apiGet('/api/v1/images');
    assert.deepEqual([images.distinct_images, images.distinct_digests], [2, 3]);
    assert.equal(Number(await page.textContent('[data-metric="distinct-images"]')), 2);
    assert.equal(Number(await page.textContent('[data-metric="distinct-digests"]')), 3);
    const imageRows = await page.$$eval('table.image-table tbody tr', (rows) => rows.map((r) =>
      [...r.children].map((c) => c.textContent.trim())));
    assert.deepEqual(imageRows, images.images.map((x) => [x.image, x.digest.slice(0, 12),
      x.runtimes.join(', '), String(x.hosts), String(x.containers), String(x.distinct_trees),
      String(x.drifted)]));
    assert.deepEqual(imageRows.map((r) => [r[3], r[4], r[6]]),
        [['1', '1', '1'], ['2', '2', '1'], ['1', '1', '0']]);
    await shot('overview');

    // The 30-day range switches to daily buckets and takes in db-1's events.
    await page.check('input[name="range"][value="30d"]');
    await page.waitForFunction(() => location.hash === '#/?range=30d' &&
      document.querySelectorAll('svg.chart g.bar').length === 30);
    const total30 = await page.$$eval('svg.chart g.bar',
        (gs) => gs.reduce((s, g) => s + Number(g.dataset.total), 0));
    assert.equal(total30, 9);
  });

  test('phone width keeps the overview usable', async () => {
    await page.setViewportSize({width: 390, height: 844});
    await goto('#/');
    await page.waitForSelector('svg.chart');
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    await shot('overview-phone');
    await page.setViewportSize({width: 1280, height: 800});
  });

  test('hosts table sorts and filters', async () => {
    await goto('#/hosts');
    await page.waitForSelector('table.hosts tbody tr');
    const hosts = (await apiGet('/api/v1/hosts')).hosts;
    assert.deepEqual(await texts('table.hosts tbody th'), hosts.map((x) => x.id));
    // Open drift of web-1 broken down by severity once loaded.
    await page.waitForSelector('tr[data-host="web-1"] .badge[data-severity="critical"]');
    assert.deepEqual(await texts('tr[data-host="web-1"] td.open-drift .badge'),
        ['1 critical', '2 high']);
    // Keyboard: focus the Host column's sort button and press Enter.
    await page.focus('button.sort[data-sort="id"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('th[aria-sort="descending"] button[data-sort="id"]');
    assert.deepEqual(await texts('table.hosts tbody th'), hosts.map((x) => x.id).sort().reverse());
    // Filter: the group select and the status select narrow the table.
    await page.selectOption('#hosts-group', 'db');
    assert.deepEqual(await texts('table.hosts tbody th'), ['db-1', 'cache-1']);
    await page.selectOption('#hosts-status', 'silent');
    assert.deepEqual(await texts('table.hosts tbody th'), ['cache-1']);
    assert.equal(new URL(page.url()).hash, '#/hosts?group=db&status=silent&dir=desc');
    await page.selectOption('#hosts-group', '');
    await page.selectOption('#hosts-status', '');
    await page.fill('#hosts-q', 'web');
    assert.deepEqual(await texts('table.hosts tbody th'), ['web-2', 'web-1']);
    await page.fill('#hosts-q', '');
    await shot('hosts');
  });

  test('host page shows open drift, baseline and compare', async () => {
    await goto('#/hosts/web-1');
    await page.waitForSelector('table.events tbody tr.event');
    const host = await apiGet('/api/v1/hosts/web-1');
    assert.equal(await page.textContent('h1'), 'web-1');
    const open = await texts('table.events tbody tr.event td.changes');
    assert.equal(open.length, host.last_report_events);
    assert.deepEqual(open, ['size 1250 → 1300, hash', 'perm 0600 → 0644', 'new file 4755']);
    // A read token is offered no accept action.
    await page.click('table.events tbody tr.event button.expand');
    assert.equal(await page.locator('tr.detail:not([hidden]) button.accept-button').count(), 0);
    // Baselines and revisions, containers, packages: as the API lists them.
    await page.waitForSelector('table.revisions tbody tr');
    const revs = await apiGet('/api/v1/hosts/web-1/baselines');
    assert.deepEqual(await texts('table.revisions tbody tr td:nth-child(2)'),
        revs.baselines.map((b) => String(b.revision)));
    assert.equal(await page.textContent('table.revisions tbody tr.current td:first-child'),
        'defaultcurrent');
    // The two Merkle roots, each under its own name: the latest scan's (the
    // host's root) and the current baseline revision's, as the reports gave it.
    const current = revs.baselines.find((b) => b.current);
    assert.deepEqual([current.name, current.revision, current.root], ['default', 1, HASH(7)]);
    assert.notEqual(host.root, current.root);
    const fact = (id) => page.$eval(id, (el) => [el.closest('dd').previousElementSibling
        .textContent, el.textContent, el.closest('section').querySelector('h2').textContent]);
    await page.waitForFunction(() => document.getElementById('baseline-root').textContent !== '…');
    assert.deepEqual(await fact('#latest-root'), ['Latest scan root', host.root, 'State']);
    assert.deepEqual(await fact('#baseline-root'), ['Baseline root', HASH(7), 'Baseline']);
    const baselinePanel = await page.textContent('section[aria-labelledby="baseline-h"]');
    assert.ok(!baselinePanel.includes(host.root), 'the baseline panel shows the scan root');
    const ctrs = await apiGet('/api/v1/hosts/web-1/containers');
    assert.deepEqual(await texts('table.containers tbody th'), ctrs.containers.map((c) => c.name));
    assert.deepEqual(await texts('table.containers tbody td:nth-child(6)'), ['2 events', 'none']);
    await page.waitForSelector('table.packages tbody tr');
    assert.deepEqual(await texts('table.packages tbody th'), PACKAGES.map((p) => p.name));
    await page.fill('#pkg-filter', 'SSL');
    await page.press('#pkg-filter', 'Enter');
    await page.waitForFunction(() =>
      document.querySelectorAll('table.packages tbody tr').length === 2);
    const filtered = await apiGet('/api/v1/hosts/web-1/packages?name=SSL');
    assert.deepEqual(await texts('table.packages tbody th'), filtered.packages.map((p) => p.name));
    assert.deepEqual(filtered.packages.map((p) => p.name), ['libssl3', 'openssl']);
    assert.match(await page.textContent('#pkg-count'), /^2 of 4 packages matching "SSL"/);
    await page.selectOption('#compare-with', 'web-2');
    await page.click('form.compare-form button[type=submit]');
    await page.waitForSelector('table.compare');
    const cmp = await apiGet('/api/v1/fleet/compare?a=web-1&b=web-2');
    assert.deepEqual(await texts('table.compare tbody tr td:last-child'),
        cmp.subtrees.map((s) => s.status.replace('_', ' ')));
    await shot('host');
    // A host whose report was refused says so, with the collector's reason.
    await goto('#/hosts/web-2');
    await page.waitForSelector('#reports-refused .badge');
    const web2 = await apiGet('/api/v1/hosts/web-2');
    assert.equal(web2.reports_refused.count, 1);
    assert.equal(await page.textContent('#reports-refused .badge'), '1 reports refused');
    assert.match(await page.textContent('#reports-refused .refused-reason'),
        /^: invalid: events\[0\]\.kind: expected one of added/);
  });

  test('drift filters map onto the API query', async () => {
    await goto('#/drift');
    await page.waitForSelector('table.events tbody tr.event');
    await page.selectOption('#f-host', 'web-1');
    await page.selectOption('#f-severity', 'high');
    await page.fill('#f-path', '/etc/*');
    await page.click('.drift-filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('host=web-1'));
    assert.equal(new URL(page.url()).hash, '#/drift?host=web-1&path=%2Fetc%2F*&severity=high');
    const query = 'host=web-1&path=%2Fetc%2F*&severity=high&order=desc';
    assert.equal(await page.textContent('#api-query'), '/api/v1/drift?' + query);
    await page.waitForSelector('table.events tbody tr.event');
    // The page asked for exactly that query and shows what the API answered.
    assert.equal(requestsTo('/api/v1/drift').at(-1).search, '?' + query);
    const want = (await apiGet('/api/v1/drift?' + query)).events;
    assert.deepEqual(await shownIds(), idsOf(want));
    // Newest first: web-1's check of 2 h ago (sshd_config after passwd in
    // the report, so above it), then the one of 20 h ago.
    assert.deepEqual(want.map((e) => [e.path, e.severity]),
        [['/etc/ssh/sshd_config', 'critical'], ['/etc/passwd', 'high'], ['/etc/passwd', 'high']]);
    // Expanding an event shows old vs new attributes.
    const older = want[2];
    await page.click('tr.event[data-id="' + older.id + '"] button.expand');
    const detail = page.locator(`#event-${older.id}-detail`);
    await detail.waitFor();
    const rows = await detail.locator('table.attrs tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
    assert.deepEqual(rows, [
      ['type', 'file', 'file'], ['perm (changed)', '0644', '0666'], ['uid', '0', '0'],
      ['gid', '0', '0'], ['size (changed)', '1200', '1250'],
      ['hash (changed)', PASSWD_OLD.hash, PASSWD_NEW.hash]]);
    await shot('drift');

    // A read token sees no accept action; the API refuses it all the same.
    assert.equal(await detail.locator('button.accept-button').count(), 0);
    const refused = await call('POST', '/api/v1/hosts/web-1/accept', tokens.read,
        {events: [older.id]});
    assert.equal(refused.status, 403);
  });

  test('the drift list is newest first, a late report in its place', async () => {
    // late-1 reports a check of 1 h ago, then one of 25 h ago that sat in
    // its outbox: stored last, detected before everything of web-1 and web-2.
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host: 'late-1', group: 'web', agent_version: '0.1.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    for (const [hoursAgo, p] of [[1, '/etc/motd'], [25, '/etc/issue']]) {
      const sent = await call('POST', '/api/v1/reports', enrolled.json.token,
          reportBody('late-1', {hoursAgo, events: [fileEvent(p, 'modified', 'low',
              {type: 'file', size: 1}, {type: 'file', size: 2}, ['size'])]}));
      assert.equal(sent.status, 200, JSON.stringify(sent.json));
    }
    const all = await allEvents();
    const expected = newestFirst(all);
    const late = all.find((e) => e.path === '/etc/issue');
    assert.equal(Math.max(...idsOf(all)), late.id);  // received last

    // The page asks for newest first.
    const [request] = await Promise.all([
      page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/drift'),
      goto('#/drift')]);
    assert.equal(new URL(request.url()).searchParams.get('order'), 'desc');
    await page.waitForSelector('table.events tbody tr.event');
    // What a person sees: the newest drift at the top, each row detected no
    // later than the one above, the late report among the events of its time.
    const shown = await shownIds();
    assert.deepEqual(shown, idsOf(expected));
    assert.equal(shown[0], all.find((e) => e.path === '/etc/motd').id);
    const times = await shownDetected();
    assert.deepEqual(times, [...times].sort().reverse());
    const at = (pred) => shown.findIndex((id) => pred(all.find((e) => e.id === id)));
    assert.ok(at((e) => e.id === late.id) > at((e) => e.host === 'web-1'));
    assert.ok(at((e) => e.id === late.id) < at((e) => e.host === 'db-1'));
    assert.equal(await page.textContent('.drift .status-area'),
        `${all.length} events on this page, newest first.`);
    await shot('drift-newest-first');
  });

  test('newer and older pages follow prev_cursor and next_cursor', async () => {
    const expected = idsOf(newestFirst(await allEvents()));
    assert.equal(expected.length, 11);
    apiRequests.length = 0;
    await goto('#/drift?limit=4');
    await page.waitForSelector('table.events tbody tr.event');
    assert.deepEqual(await shownIds(), expected.slice(0, 4));
    // The first page: nothing newer.
    assert.deepEqual(await texts('nav.pager a'), ['Older →']);
    const pageIs = (ids) => page.waitForFunction((want) => JSON.stringify(
        [...document.querySelectorAll('table.events tbody tr.event')].map((r) =>
          Number(r.dataset.id))) === JSON.stringify(want), ids);
    await page.click('#next-page');
    await pageIs(expected.slice(4, 8));
    assert.deepEqual(await texts('nav.pager a'), ['⇤ Newest', '← Newer', 'Older →']);
    await page.click('#next-page');
    await pageIs(expected.slice(8));
    assert.deepEqual(await texts('nav.pager a'), ['⇤ Newest', '← Newer']);
    // Back with the API's prev_cursor, not the browser's history.
    await page.click('#prev-page');
    await pageIs(expected.slice(4, 8));
    await page.click('#prev-page');
    await pageIs(expected.slice(0, 4));
    // Every request asked for newest first; the cursors came from the API.
    const asked = requestsTo('/api/v1/drift');
    assert.ok(asked.length >= 5, asked.join(' '));
    assert.ok(asked.every((u) => u.searchParams.get('order') === 'desc' &&
      u.searchParams.get('limit') === '4'));
    // Oldest first on request, with the labels turned round.
    await goto('#/drift?order=asc&limit=4');
    await pageIs([...expected].reverse().slice(0, 4));
    assert.deepEqual(await texts('nav.pager a'), ['Newer →']);
    assert.equal(await page.$eval('#f-order', (s) => s.value), 'asc');
  });

  test('path history lists every change of one path, newest first', async () => {
    apiRequests.length = 0;
    await goto('#/');
    await page.click('.top-paths a:text-is("/etc/passwd")');
    await page.waitForSelector('#history-summary');
    assert.equal(new URL(page.url()).hash, '#/history?path=%2Fetc%2Fpasswd');
    const asked = requestsTo('/api/v1/paths/history');
    assert.deepEqual(asked.map((u) => [u.searchParams.get('path'), u.searchParams.get('order')]),
        [['/etc/passwd', 'desc']]);
    const hist = newestFirst((await apiGet('/api/v1/paths/history?path=%2Fetc%2Fpasswd')).events);
    assert.equal(await page.textContent('#history-summary'), '3 changes on 2 hosts, newest first.');
    assert.deepEqual(await shownIds(), idsOf(hist));
    assert.deepEqual(await texts('table.events tbody tr.event td:nth-child(3)'),
        ['web-1', 'web-2', 'web-1']);
    await shot('history');
    // Two at a time: older, then newer again through prev_cursor.
    await goto('#/history?path=%2Fetc%2Fpasswd&limit=2');
    await page.waitForFunction(() => document.querySelector('#history-summary')?.textContent ===
      '2 changes on 2 hosts on this page, newest first; older ones follow.');
    assert.deepEqual(await shownIds(), idsOf(hist).slice(0, 2));
    await page.click('#next-page');
    await page.waitForFunction(() => document.querySelector('#history-summary')?.textContent ===
      '1 change on 1 host on this page, newest first.');
    assert.deepEqual(await shownIds(), idsOf(hist).slice(2));
    assert.deepEqual(await texts('nav.pager a'), ['⇤ Newest', '← Newer']);
    await page.click('#prev-page');
    await page.waitForFunction(() => document.querySelector('#history-summary')?.textContent
      .startsWith('2 changes'));
    assert.deepEqual(await shownIds(), idsOf(hist).slice(0, 2));
  });

  test('an admin accepts one event through the API', async () => {
    await page.click('#signout');
    await page.waitForSelector('#token');
    await signIn(tokens.admin);
    await page.waitForSelector('#nav:not([hidden])');
    assert.equal(await page.textContent('#session-role'), 'Signed in (admin)');
    await goto('#/drift?host=web-2');
    await page.waitForSelector('table.events tbody tr.event');
    const first = (await apiGet('/api/v1/drift?host=web-2')).events
        .find((e) => e.path === '/etc/passwd');
    await page.click(`tr.event[data-id="${first.id}"] button.expand`);
    await page.click('tr.detail:not([hidden]) button.accept-button');
    // Confirm step: nothing is queued before the second click.
    assert.equal((await apiGet('/api/v1/hosts/web-2')).commands.length, 0);
    await page.click('tr.detail:not([hidden]) button.confirm-accept');
    const ok = page.locator('#accept-queued');
    await ok.waitFor();
    const host = await apiGet('/api/v1/hosts/web-2');
    assert.equal(host.commands.length, 1);
    assert.deepEqual([host.commands[0].command, host.commands[0].paths,
      host.commands[0].acknowledged], ['accept', ['/etc/passwd'], null]);
    assert.equal(await ok.textContent(),
        `Accept queued: command #${host.commands[0].id} (accept) for web-2: /etc/passwd.`);
    await shot('accept');
  });

  test('bidirectional controls are shown escaped, never applied', async () => {
    // "/etc/cron.d/<RLO>hs.exe" would display as "/etc/cron.d/exe.sh".
    const RLO = '\u202e';
    const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host: 'bidi-1', group: 'edge', agent_version: '0.1.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    const ev = fileEvent(`/etc/cron.d/${RLO}hs.exe`, 'added', 'high', null,
        {type: 'file', perm: '0755'}, []);
    // The rule text is not a path: it reaches the dashboard as sent.
    ev.rule = `/etc/** (${RLO}lmay.tsoh:3)`;
    const sent = await call('POST', '/api/v1/reports', enrolled.json.token,
        reportBody('bidi-1', {hoursAgo: 0, events: [ev]}));
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    const api = (await apiGet('/api/v1/drift?host=bidi-1')).events;
    assert.deepEqual(api.map((e) => e.path), ['/etc/cron.d/\\xe2\\x80\\xaehs.exe']);

    await goto('#/drift?host=bidi-1');
    await page.waitForSelector('table.events tbody tr.event');
    assert.deepEqual(await texts('table.events tbody tr.event td.path'),
        ['/etc/cron.d/\\xe2\\x80\\xaehs.exe']);
    await page.click('table.events tbody tr.event button.expand');
    const rule = page.locator('tr.detail:not([hidden]) dl.facts dd.mono').first();
    assert.equal(await rule.textContent(), '/etc/** (\\xe2\\x80\\xaelmay.tsoh:3)');
    assert.doesNotMatch(await page.evaluate(() => document.body.innerText), BIDI);

    // The path history page, reached from the event, shows it the same way.
    await page.click('table.events tbody tr.event td.path a');
    await page.waitForSelector('table.events tbody tr.event');
    assert.equal(new URL(page.url()).hash,
        '#/history?path=' + encodeURIComponent('/etc/cron.d/\\xe2\\x80\\xaehs.exe'));
    assert.equal(await page.textContent('h1 code'), '/etc/cron.d/\\xe2\\x80\\xaehs.exe');
    assert.doesNotMatch(await page.evaluate(() => document.body.innerText), BIDI);

    // Even a raw control in the page's own address is shown escaped.
    await goto('#/history?path=' + encodeURIComponent(`/tmp/${RLO}x`));
    await page.waitForSelector('h1 code');
    assert.equal(await page.textContent('h1 code'), '/tmp/\\xe2\\x80\\xaex');
    assert.doesNotMatch(await page.evaluate(() => document.body.innerText), BIDI);
    await shot('bidi');
  });

  test('burstScale picks out bursts against the median of the other buckets', async () => {
    const {burstScale} = await import(pathToFileURL(path.join(WEB_SOURCE, 'js', 'chart.js')).href);
    const of = (totals) => burstScale(totals.map((total) => ({total})));
    // [bucket totals, axis maximum, burst threshold]
    for (const [totals, max, limit] of [
      [[], 0, Infinity],
      [[0, 0, 0], 0, Infinity],
      [[1300], 1300, Infinity],  // one busy bucket alone is the scale
      [[3, 1300], 3, 49],
      [[2, 1, 2, 1300, 1, 2, 0], 2, 49],
      [[10, 10, 10, 60], 60, Infinity],  // under ten times the median
      [[1, 1, 1, 49], 49, Infinity],  // under 50 events
      [[1, 1, 1, 50], 1, 49],
      [[5, 5, 5, 5, 900, 1300], 5, 50],  // two bursts
      [[100, 120, 90, 1100], 120, 1000],
    ]) {
      assert.deepEqual(of(totals), {max, limit}, JSON.stringify(totals));
    }
  });

  test('one burst does not flatten a week of the timeline', async () => {
    // pkg-1: 1,300 package events in one check three days ago, and one or two
    // file events at noon on each other day of the week.
    const DAY = 24 * HOUR;
    const today = Math.floor(NOW / DAY) * DAY;
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host: 'pkg-1', group: 'pkg', agent_version: '0.1.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    const send = async (daysAgo, events) => {
      const hoursAgo = Math.round((NOW - (today - daysAgo * DAY + 12 * HOUR)) / HOUR);
      const sent = await call('POST', '/api/v1/reports', enrolled.json.token,
          reportBody('pkg-1', {hoursAgo, events}));
      assert.equal(sent.status, 200, JSON.stringify(sent.json));
      assert.equal(sent.json.events, events.length);
    };
    for (const d of [1, 2, 4, 5, 6]) {
      await send(d, Array.from({length: 1 + d % 2}, (_, i) => fileEvent(`/etc/app/${d}-${i}.conf`,
          'modified', i ? 'low' : 'high', {type: 'file', size: 1}, {type: 'file', size: 2},
          ['size'])));
    }
    await send(3, Array.from({length: 1300}, (_, i) => ({path: `pkg:dpkg/lib${i}:amd64`,
      kind: 'package-installed', attributes: [], severity: 'medium',
      rule: 'packages (host.yaml:9)', package: `lib${i}`, to: '1.0-1'})));

    await goto('#/?range=7d');
    await page.waitForFunction(() => document.querySelectorAll('svg.chart g.bar').length === 7);
    const bars = await page.$$eval('svg.chart g.bar', (gs) => gs.map((g) => {
      const r = g.getBoundingClientRect();
      return {start: g.dataset.start, total: Number(g.dataset.total), burst: g.dataset.burst,
        top: r.top, height: r.height, label: g.querySelector('.burst-label')?.textContent};
    }));
    // Every bar holds what the API holds for its day.
    const windowStart = today + DAY - 7 * DAY;
    const week = await allEvents('&since=' + new Date(windowStart).toISOString());
    assert.deepEqual(bars.map((b) => b.total), bars.map((b) => week.filter((e) => {
      const t = Date.parse(e.detected.replace(/(\.\d{3})\d+/, '$1'));
      return t >= Date.parse(b.start) && t < Date.parse(b.start) + DAY;
    }).length));
    // The other days keep a visible height: drawn to scale against 1,300
    // events, one event would be under a pixel.
    const small = bars.filter((b) => !b.burst && b.total > 0);
    assert.ok(small.length >= 5, JSON.stringify(bars));
    for (const b of small) {
      assert.ok(b.height >= 12, `${b.start}: ${b.total} events drawn ${b.height}px high`);
    }
    // The burst: marked, with its count, rising above the axis.
    const burst = bars.filter((b) => b.burst);
    assert.deepEqual(burst.map((b) => [b.start, b.total, b.label]),
        [[new Date(today - 3 * DAY).toISOString(), 1300, '1,300']]);
    const axisTop = await page.$$eval('svg.chart line.gridline',
        (ls) => Math.min(...ls.map((l) => l.getBoundingClientRect().top)));
    assert.ok(burst[0].top < axisTop, `burst top ${burst[0].top} under the axis ${axisTop}`);
    assert.equal(await page.textContent('#burst-note'), 'Burst drawn clipped, above the ' +
      'scale, so that the other days keep their height: ' +
      `${new Date(today - 3 * DAY).toISOString().slice(5, 10)} UTC (1,300 events).`);
    assert.match(await page.textContent('svg.chart desc'), /Drawn clipped, above the scale: /);
    await shot('overview-burst');
  });

  test('a token that stops working signs the tab out with the 401 message', async () => {
    await page.evaluate(() => sessionStorage.setItem('driftwatch.token', 'dw_' + 'f'.repeat(64)));
    await page.reload();
    const alert = page.locator('#signin-status .message-error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /^401 Unauthorized: the collector no longer accepts/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('driftwatch.token')), null);
  });

  test('no script errors or CSP violations', () => {
    // The 401 and 403 answers above are logged by chromium as failed loads.
    const unexpected = pageErrors.filter((e) =>
      !/Failed to load resource: the server responded with a status of 40[13]/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
