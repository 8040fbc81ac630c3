// Browser test of integrity on the dashboard (docs/integrity.md "At the
// collector"): a host whose chain forks, through crafted reports posted to
// the real API, shows a critical banner on the overview and its open
// integrity alert on its page; after a trust reset both are gone.
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import crypto from 'node:crypto';
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {apiGet, call, goto, page, pageErrors, reportBody, shot, signIn, start, stop,
  tokens} from './fixture.mjs';

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const GENESIS = '0'.repeat(64);

// core/chain.h: RecordHash and NextHead.
function recordHash(r) {
  return sha256(`driftwatch-chain-1\n${r.seq}\n${r.kind}\n${r.time_ns}\n${r.body}`);
}
function nextHead(prev, rec) {
  return sha256(Buffer.concat([Buffer.from(prev, 'hex'), Buffer.from(rec, 'hex')]));
}

// A chain of `config` records: a kind the collector escrows without judging
// its body, so that the only alert is the fork.
function chainOf(bodies) {
  const records = [];
  const heads = [];
  bodies.forEach((body, i) => {
    const r = {seq: i + 1, kind: 'config', time_ns: 1700000000000000000 + i, body};
    heads.push(nextHead(i ? heads[i - 1] : GENESIS, recordHash(r)));
    records.push(r);
  });
  return {records, heads};
}
function section(c, from, to) {
  return {from, length: to, head: to ? c.heads[to - 1] : GENESIS,
    records: c.records.slice(from, to)};
}
const body = (digest) => `{"digest":"${digest.repeat(64)}","path":"/etc/driftwatch/agent.yaml"}`;

describe('integrity on the dashboard', () => {
  let agentToken;
  let forkedHead;
  let heldHead;

  before(async () => {
    await start();
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host: 'int-1', group: 'web', agent_version: '0.2.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    agentToken = enrolled.json.token;
    const honest = chainOf([body('a'), body('b'), body('c')]);
    const forked = chainOf([body('a'), body('e'), body('f')]);
    heldHead = honest.heads[2];
    forkedHead = forked.heads[1];
    let sent = await call('POST', '/api/v1/reports', agentToken,
        {...reportBody('int-1', {hoursAgo: 2, events: []}), chain: section(honest, 0, 3)});
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    assert.equal(sent.json.chain.state, 'adopted');
    sent = await call('POST', '/api/v1/reports', agentToken,
        {...reportBody('int-1', {hoursAgo: 1, events: []}), chain: section(forked, 1, 3)});
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    assert.deepEqual(sent.json.chain, {held: 3, head: heldHead, state: 'alert'});
  });
  after(stop);

  test('the overview shows a critical banner naming the host', async () => {
    await goto('');
    await page.waitForSelector('#token');
    await signIn(tokens.read);
    await page.waitForSelector('#integrity-banner');
    const text = (await page.textContent('#integrity-banner')).replace(/\s+/g, ' ');
    assert.ok(text.startsWith('1 open critical integrity alert: the history of int-1 may have ' +
      'been rewritten on the host.'), text);
    assert.equal(await page.getAttribute('#integrity-banner', 'role'), 'alert');
    const attention = await page.textContent('#attention-h + *');
    assert.ok(attention.includes('int-1') && attention.includes('1 integrity alerts'), attention);
    await shot('overview-integrity-banner');
    await page.click('#integrity-banner a:text-is("int-1")');
    await page.waitForSelector('#integrity-alerts');
  });

  test('the host page lists its open integrity alert with what diverged', async () => {
    const want = (await apiGet('/api/v1/integrity?host=int-1&open=true')).alerts;
    assert.equal(want.length, 1);
    assert.equal(want[0].kind, 'fork');
    assert.equal((await page.textContent('#integrity-h')).trim(), 'Integrity (1 open)');
    const row = page.locator('#integrity-alerts tbody tr');
    assert.equal(await row.count(), 1);
    assert.equal(await row.getAttribute('data-kind'), 'fork');
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[1], 'critical');
    assert.equal(cells[2], 'fork');
    assert.equal(cells[3], '2');
    assert.ok(cells[4].includes(forkedHead) && cells[4].includes(want[0].detail.slice(0, 40)),
        cells[4]);
    assert.equal((await page.textContent('#chain-head')).trim(), heldHead);
    await shot('host-integrity');
  });

  test('after a trust reset the banner and the alert are gone', async () => {
    const reset = await call('POST', '/api/v1/hosts/int-1/trust-reset', tokens.admin,
        {reason: 'reviewed: test'});
    assert.equal(reset.status, 200, JSON.stringify(reset.json));
    await goto('#/hosts/int-1');
    await page.waitForSelector('#integrity-none');
    assert.equal((await page.textContent('#integrity-h')).trim(), 'Integrity (0 open)');
    await goto('');
    await page.waitForSelector('[data-metric="hosts"]');
    assert.equal(await page.locator('#integrity-banner').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});
