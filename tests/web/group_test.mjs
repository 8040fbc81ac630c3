// Browser test of the group page (docs/dashboard.md "Group"): five hosts of
// group "web" enrolled through the real API, each uploading a hand-made
// tree (tree_fixture serializes them) through POST /trees/objects and
// /agents/tree. web-2 has an edited /etc/ssh/sshd_config, web-4 an extra
// file in /etc/cron.d, /etc/hostname differs on every host and is
// host-specific. A sixth host never sends a tree. The page, reached from the
// host list, shows the headline, exactly those two paths with their
// majority and outliers, the host without a tree, the path filter, and the
// group's baselines once one is made.
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {apiGet, call, goto, page, pageErrors, shot, signIn, start, stop, texts, tokens}
  from './fixture.mjs';

const FIXTURE = process.env.DW_TREE_FIXTURE_BIN;
const HOSTS = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'];
const SPECIFIC = ['/etc/hostname'];

function hostSpec(host) {
  const spec = {
    '/etc/hostname': {content: host + '\n'},
    '/etc/ssh/sshd_config': {content: 'PermitRootLogin no\n', perm: '0600'},
    '/etc/cron.d/backup': {content: '0 3 * * * root backup\n'},
    '/usr/bin/nginx': {content: 'ELF nginx', perm: '0755'},
  };
  if (host === 'web-2') spec['/etc/ssh/sshd_config'] = {content: 'PermitRootLogin yes\n', perm: '0600'};
  if (host === 'web-4') spec['/etc/cron.d/miner'] = {content: '* * * * * root miner\n'};
  return spec;
}

const agentTokens = {};

describe('the group page', () => {
  before(async () => {
    assert.ok(FIXTURE, 'DW_TREE_FIXTURE_BIN must name the tree_fixture executable');
    await start({seed: false});
    const spec = {};
    for (const host of HOSTS) spec[host] = hostSpec(host);
    const trees = JSON.parse(execFileSync(FIXTURE, {input: JSON.stringify(spec),
      encoding: 'utf8'}));
    for (const host of [...HOSTS, 'web-6']) {
      const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
          {host, group: 'web', agent_version: '0.3.0'});
      assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
      agentTokens[host] = enrolled.json.token;
    }
    for (const host of HOSTS) {
      const t = trees[host];
      const offer = await call('POST', '/api/v1/trees/offer', agentTokens[host],
          {ids: t.objects.map((o) => o.id)});
      assert.equal(offer.status, 200, JSON.stringify(offer.json));
      const want = new Set(offer.json.want);
      const objects = t.objects.filter((o) => want.has(o.id));
      if (objects.length) {
        const put = await call('POST', '/api/v1/trees/objects', agentTokens[host], {objects});
        assert.equal(put.status, 200, JSON.stringify(put.json));
      }
      const set = await call('POST', '/api/v1/agents/tree', agentTokens[host],
          {root: t.root, host_specific: SPECIFIC});
      assert.equal(set.status, 200, JSON.stringify(set.json));
    }
  });
  after(stop);

  test('the host list links to the group page, which names the outliers', async () => {
    await goto('#/hosts');
    await page.waitForSelector('#token');
    await signIn(tokens.read);
    await page.waitForSelector('table.hosts tbody tr[data-host="web-2"]');
    await page.click('tr[data-host="web-2"] a.group-link');
    await page.waitForFunction(() => location.hash === '#/groups/web');
    await page.waitForSelector('table.outliers tbody tr');
    const want = await apiGet('/api/v1/fleet/outliers?group=web');
    assert.equal(want.hosts, 5);
    assert.equal(want.differing_hosts, 2);
    assert.deepEqual(want.without_tree, ['web-6']);
    assert.equal(want.ignored, 1);
    assert.equal(await page.textContent('#group-headline'), '2 of 5 hosts differ in 2 paths');
    assert.deepEqual(await page.$$eval('table.outliers tbody tr', (rows) =>
      rows.map((r) => r.dataset.path)), ['/etc/cron.d/miner', '/etc/ssh/sshd_config']);
    assert.deepEqual(want.paths.map((p) => p.path), ['/etc/cron.d/miner', '/etc/ssh/sshd_config']);
    const miner = page.locator('tr[data-path="/etc/cron.d/miner"]');
    assert.equal((await miner.locator('td.majority').textContent()).trim(), 'absent · 4 hosts');
    assert.deepEqual(await miner.locator('li').evaluateAll((li) => li.map((x) => x.dataset.host)),
        ['web-4']);
    const sshd = page.locator('tr[data-path="/etc/ssh/sshd_config"]');
    const majority = (await sshd.locator('td.majority').textContent()).trim();
    assert.match(majority, /^file 0600 0:0 19 B xxh128:[0-9a-f]{12}… · 4 hosts$/);
    const outlier = (await sshd.locator('li[data-host="web-2"]').textContent()).trim();
    assert.match(outlier, /^web-2: file 0600 0:0 20 B xxh128:[0-9a-f]{12}…$/);
    assert.ok(outlier.includes(want.paths[1].outliers[0].entry.hash.slice(7, 19)));
    assert.equal((await page.textContent('#without-tree')).trim(),
        '1 host has not sent a tree yet: web-6');
    assert.equal((await page.textContent('#ignored')).trim(), '1 host-specific path left out.');
    assert.ok(await page.isVisible('#no-group-baseline'));
    await shot('group');
  });

  test('the path filter narrows the comparison', async () => {
    await page.fill('#group-path', '/etc/ssh');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('path=%2Fetc%2Fssh'));
    await page.waitForFunction(() =>
      document.querySelector('#group-headline').textContent === '1 of 5 hosts differ in 1 path');
    assert.deepEqual(await texts('table.outliers tbody th'), ['/etc/ssh/sshd_config']);
    await goto('#/groups/web?path=/usr');
    await page.waitForFunction(() =>
      document.querySelector('#group-headline').textContent === '0 of 5 hosts differ in 0 paths');
    assert.equal((await page.textContent('.view.group > div > .message-info')).trim(),
        'The hosts of this group agree on every path.');
  });

  test('a group baseline from the majority is listed', async () => {
    const made = await call('POST', '/api/v1/groups/web/baselines', tokens.admin,
        {from_majority: true, by: 'ops', why: 'web fleet golden state'});
    assert.equal(made.status, 201, JSON.stringify(made.json));
    await goto('#/groups/web');
    await page.waitForSelector('table.group-baselines tbody tr');
    assert.deepEqual(await texts('table.group-baselines tbody tr[data-revision="1"] > *'),
        ['r1', 'majority', 'ops', 'web fleet golden state',
          (await page.textContent('table.group-baselines time')).trim(),
          made.json.root.slice(0, 12)]);
  });

  test('an unknown group says so', async () => {
    await goto('#/groups/nowhere');
    await page.waitForSelector('.view.group .message-error');
    assert.equal((await page.textContent('.view.group .message-error')).trim(),
        'There is no host in group "nowhere".');
    // The one expected failure: the 404 of the unknown group.
    const unexpected = pageErrors.filter((e) => !/404/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
