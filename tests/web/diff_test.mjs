// Browser test of content diffs on the dashboard (docs/dashboard.md): a
// report whose events carry a unified diff and a content note, posted
// through the real API; the event row opened on the drift and path history
// pages shows the diff with its added and removed lines marked (class and
// a visible +/- marker), text never taken as markup, bidi controls shown
// escaped; an event without a diff shows its note.
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {apiGet, call, fileEvent, goto, page, pageErrors, reportBody, shot, signIn, start, stop,
  tokens} from './fixture.mjs';

const DIFF = [
  '--- /etc/app.conf',
  '+++ /etc/app.conf',
  '@@ -1,4 +1,4 @@',
  ' listen 80',
  '-debug off',
  '+debug on',
  ' user www',
  '-name <b>old</b>',
  '+name \u202eevil',
  '',
].join('\n');

function contentEvent(p, extra) {
  return {...fileEvent(p, 'modified', 'high', {type: 'file', size: 10}, {type: 'file', size: 11},
      ['size', 'hash']), ...extra};
}

describe('content diffs on the dashboard', () => {
  let events;

  before(async () => {
    await start();
    const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
        {host: 'cd-1', group: 'cd', agent_version: '0.2.0'});
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
    const sent = await call('POST', '/api/v1/reports', enrolled.json.token,
        reportBody('cd-1', {hoursAgo: 1, events: [
          contentEvent('/etc/app.conf', {diff: DIFF}),
          contentEvent('/etc/app.key', {content: 'redacted'}),
        ]}));
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    events = (await apiGet('/api/v1/drift?host=cd-1&order=asc')).events;
  });
  after(stop);

  test('the API lists has_diff and serves the diff apart', async () => {
    assert.deepEqual(events.map((e) => [e.path, e.has_diff, e.content, 'diff' in e]), [
      ['/etc/app.conf', true, undefined, false],
      ['/etc/app.key', false, 'redacted', false],
    ]);
    const d = await apiGet(`/api/v1/events/${events[0].id}/diff`);
    assert.deepEqual(d, {id: events[0].id, path: '/etc/app.conf', diff: DIFF, content: null});
    const r = await apiGet(`/api/v1/events/${events[1].id}/diff`);
    assert.deepEqual(r, {id: events[1].id, path: '/etc/app.key', diff: null,
      content: 'redacted'});
  });

  async function checkDiffRow(id) {
    await page.click(`tr.event[data-id="${id}"] button.expand`);
    const detail = page.locator(`#event-${id}-detail`);
    await detail.locator('pre.diff').waitFor();
    const added = await detail.locator('.diff-line.diff-add').allTextContents();
    const removed = await detail.locator('.diff-line.diff-del').allTextContents();
    // The marker is visible text, not colour alone; the sr-only label says it too.
    assert.deepEqual(await detail.locator('.diff-add .diff-marker').allTextContents(), ['+', '+']);
    assert.deepEqual(await detail.locator('.diff-del .diff-marker').allTextContents(), ['-', '-']);
    assert.deepEqual(await detail.locator('.diff-add .diff-text').allTextContents(),
        ['debug on', 'name \\xe2\\x80\\xaeevil']);
    assert.deepEqual(await detail.locator('.diff-del .diff-text').allTextContents(),
        ['debug off', 'name <b>old</b>']);
    assert.ok(added.every((t) => t.includes('added: +')), added.join('|'));
    assert.ok(removed.every((t) => t.includes('removed: -')), removed.join('|'));
    assert.deepEqual(await detail.locator('.diff-context .diff-text').allTextContents(),
        ['listen 80', 'user www']);
    assert.equal(await detail.locator('.diff-hunk').textContent(), '@@ -1,4 +1,4 @@\n');
    assert.equal(await detail.locator('pre.diff b').count(), 0, 'markup is shown as text');
    const shown = await detail.locator('pre.diff').textContent();
    assert.ok(!shown.includes('\u202e'), 'a bidi control is shown escaped');
  }

  test('the drift row shows the diff with marked lines, and the note', async () => {
    await goto('');
    await page.waitForSelector('#token');
    await signIn(tokens.read);
    await page.waitForSelector('[data-metric="hosts"]');
    await goto('#/drift?host=cd-1&order=asc');
    await page.waitForSelector('table.events tbody tr.event');
    assert.equal(await page.locator(`tr.event[data-id="${events[0].id}"] .badge.has-diff`)
        .count(), 1);
    await checkDiffRow(events[0].id);
    await shot('drift-diff');
    await page.click(`tr.event[data-id="${events[1].id}"] button.expand`);
    const note = page.locator(`#event-${events[1].id}-detail .content-note`);
    await note.waitFor();
    assert.equal(await note.getAttribute('data-note'), 'redacted');
    assert.match(await note.textContent(), /redacted/);
    assert.equal(await page.locator(`#event-${events[1].id}-detail pre.diff`).count(), 0);
  });

  test('the path history shows the same diff', async () => {
    await goto('#/history?path=%2Fetc%2Fapp.conf');
    await page.waitForSelector(`table.events tbody tr.event[data-id="${events[0].id}"]`);
    await checkDiffRow(events[0].id);
    await shot('history-diff');
  });

  test('no script errors or CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});
