// Browser test of the dashboard's admin page (docs/dashboard.md "Admin"):
// the real driftwatch-collector on 127.0.0.1 with a fresh store seeded
// through the real API, Debian's chromium headless through playwright-core.
// Every action taken in the page is checked against what the API then says.
//
// Environment (set by tests/web/meson.build):
//   DW_COLLECTOR_BIN   the driftwatch-collector executable
//   DW_WEB_SOURCE      the web/ directory to serve (copied to a temp root)
//   DW_SCREENSHOT_DIR  where the screenshots go
//   DW_CHROMIUM        the browser (default /usr/bin/chromium)
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {call, page, pageErrors, shot, signIn as fillToken, start, stop, tokens, url}
  from './fixture.mjs';

async function signIn(token) {
  await page.goto(url + '/#/');
  await fillToken(token);
  await page.waitForSelector('#session-role');
}

async function signOut() {
  await page.click('#signout');
  await page.waitForSelector('#token');
}

// Asserts that the status line says what `re` expects, waiting for it: an
// earlier message stays on the page until the answer to the latest action
// replaces it.
async function expectStatus(re) {
  await page
    .waitForFunction(
      ([source, flags]) => {
        const m = document.querySelector('#admin-status .message');
        return m && new RegExp(source, flags).test(m.textContent) ? m.textContent : null;
      },
      [re.source, re.flags],
    )
    .catch(() => null);
  assert.match(((await page.textContent('#admin-status .message')) || '').trim(), re);
}

describe('admin page', () => {
  before(async () => {
    // The 409 of the refused rename below is expected in the console.
    await start({seed: false, expectedConsole: /Failed to load resource: .* status of 409/});
    for (const [host, group] of [['web-1', 'web'], ['web-2', 'web']]) {
      const r = await call('POST', '/api/v1/enroll', tokens.enroll, {host, group});
      assert.equal(r.status, 201, JSON.stringify(r.json));
      tokens[host] = r.json.token;
    }
  });

  after(stop);

  test('a read token sees no admin link and no admin actions', async () => {
    await signIn(tokens.read);
    assert.equal(await page.isHidden('#nav-admin'), true);
    await page.goto(url + '/#/admin');
    await page.waitForSelector('.admin .message-error');
    assert.match(await page.textContent('.admin .message-error'), /for admin tokens/);
    assert.equal(await page.$('#create-token'), null);
    await signOut();
  });

  test('tokens are listed by id, never by secret', async () => {
    await signIn(tokens.admin);
    assert.equal(await page.isVisible('#nav-admin'), true);
    await page.click('#nav-admin a');
    await page.waitForSelector('#tokens table');
    const listed = await page.$$eval('#tokens tbody tr', (rows) => rows.map((r) => r.dataset.token));
    const api = await call('GET', '/api/v1/tokens', tokens.admin);
    assert.deepEqual(listed, api.json.tokens.map((t) => t.id));
    assert.equal(listed.length, 5);  // enroll, read, admin, two agents
    const body = await page.textContent('body');
    for (const secret of Object.values(tokens)) assert.equal(body.includes(secret), false);
    const hosts = await page.$$eval('#admin-hosts tbody tr', (rows) => rows.map((r) => r.dataset.host));
    assert.deepEqual(hosts, ['web-1', 'web-2']);
  });

  test('an enroll token is created, its secret shown once, then revoked', async () => {
    await page.selectOption('#new-role', 'enroll');
    await page.fill('#new-uses', '3');
    await page.fill('#new-expires', '7d');
    await page.click('#create-token button[type=submit]');
    await page.waitForSelector('#token-secret-value');
    const secret = await page.inputValue('#token-secret-value');
    assert.match(secret, /^dw_[0-9a-f]{64}$/);
    const who = await call('GET', '/api/v1/whoami', secret);
    assert.deepEqual(who.json, {role: 'enroll'});
    const listed = (await call('GET', '/api/v1/tokens', tokens.admin)).json.tokens;
    const mine = listed[listed.length - 1];
    assert.equal(mine.uses_left, 3);
    assert.notEqual(mine.expires, null);
    await expectStatus(new RegExp(`Created enroll token ${mine.id}`));
    await page.waitForSelector(`#tokens tr[data-token="${mine.id}"]`);
    await shot('admin-token-created');

    // Revoke asks first; Cancel leaves it alone.
    await page.click(`#revoke-${mine.id}`);
    await page.click(`#tokens tr[data-token="${mine.id}"] button:text("Cancel")`);
    assert.equal((await call('GET', '/api/v1/whoami', secret)).status, 200);
    await page.click(`#revoke-${mine.id}`);
    await page.click(`#revoke-${mine.id}-confirm`);
    await page.waitForSelector(`#tokens tr.revoked[data-token="${mine.id}"]`);
    await expectStatus(/Revoked token .*: its next request is refused/);
    const refused = await call('GET', '/api/v1/whoami', secret);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'token_revoked');
    // The secret is not kept: after a reload it is gone from the page.
    await page.reload();
    await page.waitForSelector('#tokens table');
    assert.equal(await page.$('#token-secret-value'), null);
    assert.equal((await page.textContent('body')).includes(secret), false);
  });

  test('a re-enroll token re-enrolls the host it was made for', async () => {
    await page.click('#reenroll-web-1');
    await page.waitForSelector('#token-secret-value');
    const secret = await page.inputValue('#token-secret-value');
    assert.match(await page.textContent('#token-secret'), /for host web-1/);
    const again = await call('POST', '/api/v1/enroll', tokens.enroll, {host: 'web-1'});
    assert.equal(again.status, 409);
    assert.equal(again.json.error, 'already_enrolled');
    const r = await call('POST', '/api/v1/enroll', secret, {host: 'web-1', group: 'web'});
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal((await call('GET', '/api/v1/whoami', tokens['web-1'])).json.error,
        'token_revoked');
  });

  test('a host is renamed and removed after a confirmation', async () => {
    await page.reload();
    await page.waitForSelector('#admin-hosts table');
    await page.fill('#rename-web-2-name', 'web-9');
    await page.click('#rename-web-2');
    await page.click('#rename-web-2-confirm');
    await page.waitForSelector('#admin-hosts tr[data-host="web-9"]');
    await expectStatus(/Renamed host web-2 to web-9/);
    assert.equal((await call('GET', '/api/v1/hosts/web-9', tokens.read)).status, 200);
    assert.equal((await call('GET', '/api/v1/hosts/web-2', tokens.read)).status, 404);

    await page.fill('#rename-web-9-name', 'web-1');
    await page.click('#rename-web-9');
    await page.click('#rename-web-9-confirm');
    await expectStatus(/Renaming web-9: 409/);

    await page.click('#remove-web-9');
    await page.waitForSelector('#remove-web-9-confirm');
    await shot('admin-confirm-remove');
    await page.click('#remove-web-9-confirm');
    await page.waitForSelector('#admin-hosts tr[data-host="web-9"]', {state: 'detached'});
    await expectStatus(/Removed host web-9/);
    assert.equal((await call('GET', '/api/v1/hosts/web-9', tokens.read)).status, 404);
    assert.equal((await call('GET', '/api/v1/agents/commands', tokens['web-2'])).json.error,
        'token_revoked');
    await shot('admin');
    assert.deepEqual(pageErrors, []);
  });
});
