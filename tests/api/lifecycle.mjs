// The fleet lifecycle's cases of the API conformance test (conformance.mjs):
// tokens listed, created and revoked, hosts renamed and removed, and a
// reinstalled host enrolled again with a reenroll token (docs/api.md "Fleet
// lifecycle"). Every answer goes through the caller's check() against
// docs/openapi.yaml; what each answer must say is asserted here besides.
//
// lifecycleCases() drives the statuses only these routes answer (200, 201,
// 400, 401 token_revoked and token_used_up, 403 of a reenroll token for
// another host, 404, 409) and returns the routes' entries for the cases
// conformance.mjs runs on every route (400 for a query that is not UTF-8,
// 401, 403, 413, 429, 503), with the token of a role each route refuses.

const parse = (res) => {
  try {
    const v = JSON.parse(res.body);
    return v && typeof v === 'object' ? v : {};
  } catch (e) {
    return {};
  }
};

// h: {request, check, fail, A (admin token), R (read token), report(host, ms)}.
export async function lifecycleCases(h) {
  const {request, check, fail, A, R, report} = h;
  const T = Date.parse('2026-11-02T00:00:00Z');
  // Checks `res` against the document as an answer of `key`, and that its
  // status (and error code) is the one expected; returns its body.
  const expect = (key, res, status, note, code) => {
    check(key, res, note);
    const body = parse(res);
    if (res.status !== status || (code && body.error !== code)) {
      fail(`${key} (${note}): expected ${status}${code ? ' ' + code : ''}, got ` +
          `${res.status} ${res.body.slice(0, 300)}`);
    }
    return body;
  };
  const tokenRow = async (id) => {
    const listed = expect('GET /api/v1/tokens', await request('GET', '/api/v1/tokens',
        {token: A}), 200, 'list');
    return (listed.tokens || []).find((t) => t.id === id) || {};
  };

  // GET /tokens: every token by its public id, never a secret (the
  // document's Token schema is closed: a "token" field fails it).
  const all = expect('GET /api/v1/tokens', await request('GET', '/api/v1/tokens', {token: A}),
      200, 'every token');
  const tokens = all.tokens || [];
  if (tokens.length !== 6 || !tokens.some((t) => t.role === 'agent' && t.host === 'web-1')) {
    fail(`GET /tokens: expected the 3 created and 3 agent tokens, got ${JSON.stringify(all)}`);
  }

  // POST /tokens: an enroll token with limits enrolls db-1, which reports.
  const limited = expect('POST /api/v1/tokens', await request('POST', '/api/v1/tokens',
      {token: A, body: {role: 'enroll', uses: 2, expires: '7d'}}), 201, 'enroll, 2 uses, 7d');
  if (limited.uses_left !== 2 || limited.host !== null || limited.expires === null ||
      limited.revoked !== null) {
    fail(`POST /tokens: the limits are not as asked: ${JSON.stringify(limited)}`);
  }
  let agent = expect('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: limited.token, body: {host: 'db-1', group: 'db'}}), 201, 'limited token').token;
  expect('POST /api/v1/reports', await request('POST', '/api/v1/reports',
      {token: agent, body: report('db-1', T)}), 200, 'db-1');

  // A reenroll token: one use unless told, its host in whoami, and no other host.
  const again = expect('POST /api/v1/tokens', await request('POST', '/api/v1/tokens',
      {token: A, body: {role: 'reenroll', host: 'db-1'}}), 201, 'reenroll');
  if (again.role !== 'reenroll' || again.host !== 'db-1' || again.uses_left !== 1) {
    fail(`POST /tokens reenroll: expected host db-1 and 1 use: ${JSON.stringify(again)}`);
  }
  const who = expect('GET /api/v1/whoami', await request('GET', '/api/v1/whoami',
      {token: again.token}), 200, 'reenroll token');
  if (who.role !== 'reenroll' || who.host !== 'db-1') {
    fail(`whoami of a reenroll token: ${JSON.stringify(who)}`);
  }
  expect('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: again.token, body: {host: 'web-1'}}), 403, 'reenroll token of another host',
  'forbidden');

  // 409 already_enrolled for an enroll token, whose use is not taken.
  const taken = expect('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: limited.token, body: {host: 'db-1'}}), 409, 'enrolled already', 'already_enrolled');
  if (!String(taken.detail).includes('token create --role reenroll --host db-1')) {
    fail(`409 already_enrolled does not say how to re-enroll: ${taken.detail}`);
  }
  if ((await tokenRow(limited.id)).uses_left !== 1) {
    fail('a refused enrollment took a use of the enroll token');
  }

  // The reinstalled host enrolls again: its history stays, its agent token
  // of before is revoked, and the reenroll token's one use is gone.
  const agentBefore = agent;
  agent = expect('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: again.token, body: {host: 'db-1', group: 'db2', agent_version: '1.1'}}), 201,
  're-enrollment').token;
  expect('GET /api/v1/agents/commands', await request('GET', '/api/v1/agents/commands',
      {token: agentBefore}), 401, 'agent token before the re-enrollment', 'token_revoked');
  expect('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: again.token, body: {host: 'db-1'}}), 401, 'reenroll token used', 'token_used_up');
  const kept = expect('GET /api/v1/hosts/{id}', await request('GET', '/api/v1/hosts/db-1',
      {token: R}), 200, 're-enrolled');
  if (kept.reports !== 1 || kept.group !== 'db2' || kept.agent_version !== '1.1') {
    fail(`re-enrolled db-1: expected its report kept and the new group: ${JSON.stringify(kept)}`);
  }

  // DELETE /tokens/{id}: revoked now, the same time when asked again; the
  // token's next request is 401 token_revoked, on any route.
  const revoked = expect('DELETE /api/v1/tokens/{id}', await request('DELETE',
      `/api/v1/tokens/${limited.id}`, {token: A}), 200, 'enroll token');
  const twice = expect('DELETE /api/v1/tokens/{id}', await request('DELETE',
      `/api/v1/tokens/${limited.id}`, {token: A}), 200, 'revoked before');
  if (revoked.id !== limited.id || twice.revoked !== revoked.revoked) {
    fail(`revoking twice: ${JSON.stringify(revoked)} then ${JSON.stringify(twice)}`);
  }
  expect('POST /api/v1/enroll', await request('POST', '/api/v1/enroll',
      {token: limited.token, body: {host: 'db-9'}}), 401, 'revoked token', 'token_revoked');
  const spare = expect('POST /api/v1/tokens', await request('POST', '/api/v1/tokens',
      {token: A, body: {role: 'read'}}), 201, 'read');
  expect('DELETE /api/v1/tokens/{id}', await request('DELETE', `/api/v1/tokens/${spare.id}`,
      {token: A}), 200, 'read token');
  expect('GET /api/v1/tokens', await request('GET', '/api/v1/tokens', {token: spare.token}),
      401, 'revoked token', 'token_revoked');
  if ((await tokenRow(spare.id)).revoked === null) fail('GET /tokens: a revoked token not shown so');

  // POST /hosts/{id}/rename: the history moves; the agent, still reporting
  // as the old id, is refused until it enrolls as the new one.
  const renamed = expect('POST /api/v1/hosts/{id}/rename', await request('POST',
      '/api/v1/hosts/db-1/rename', {token: A, body: {name: 'db-2'}}), 200, 'db-1 to db-2');
  if (renamed.id !== 'db-2' || renamed.previous !== 'db-1') {
    fail(`rename: ${JSON.stringify(renamed)}`);
  }
  if (expect('GET /api/v1/hosts/{id}', await request('GET', '/api/v1/hosts/db-2', {token: R}),
      200, 'renamed').reports !== 1) {
    fail('the renamed host lost its report');
  }
  expect('POST /api/v1/reports', await request('POST', '/api/v1/reports',
      {token: agent, body: report('db-1', T + 1000)}), 403, 'as the id before a rename');
  expect('POST /api/v1/hosts/{id}/rename', await request('POST', '/api/v1/hosts/db-2/rename',
      {token: A, body: {name: 'web-1'}}), 409, 'to an id that exists', 'conflict');

  // 400: bad bodies; 404: unknown ids (nothing changes).
  for (const [key, method, target, body, status] of [
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', '{not json', 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'agent'}, 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'read', uses: 2}, 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'enroll', uses: 0}, 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'enroll', expires: 'soon'}, 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'reenroll'}, 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'read', host: 'db-2'}, 400],
    ['POST /api/v1/hosts/{id}/rename', 'POST', '/api/v1/hosts/db-2/rename', {}, 400],
    ['POST /api/v1/hosts/{id}/rename', 'POST', '/api/v1/hosts/db-2/rename', {name: 'a b'}, 400],
    ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', {role: 'reenroll', host: 'nope'}, 404],
    ['DELETE /api/v1/tokens/{id}', 'DELETE', '/api/v1/tokens/t_000000000000', undefined, 404],
    ['DELETE /api/v1/hosts/{id}', 'DELETE', '/api/v1/hosts/nope', undefined, 404],
    ['POST /api/v1/hosts/{id}/rename', 'POST', '/api/v1/hosts/nope/rename', {name: 'x-1'}, 404],
  ]) {
    expect(key, await request(method, target, {token: A, body}), status,
        status === 400 ? 'bad input' : 'unknown');
  }
  if ((await tokenRow(spare.id)).id === undefined) fail('GET /tokens lost a token');

  // DELETE /hosts/{id}: the host and its history go, its agent token is
  // revoked; a second removal is 404.
  const removed = expect('DELETE /api/v1/hosts/{id}', await request('DELETE',
      '/api/v1/hosts/db-2', {token: A}), 200, 'db-2');
  if (removed.id !== 'db-2' || removed.removed !== true) fail(`remove: ${JSON.stringify(removed)}`);
  expect('GET /api/v1/hosts/{id}', await request('GET', '/api/v1/hosts/db-2', {token: R}), 404,
      'removed');
  expect('GET /api/v1/whoami', await request('GET', '/api/v1/whoami', {token: agent}), 401,
      'agent token of a removed host', 'token_revoked');
  expect('DELETE /api/v1/hosts/{id}', await request('DELETE', '/api/v1/hosts/db-2', {token: A}),
      404, 'removed before');

  // For the cases run on every route: [key, method, target, token, body,
  // status when served]. None of them is served but in the bursts (503),
  // whose served answers change nothing: the token was revoked before, the
  // host is unknown.
  return {
    routes: [
      ['GET /api/v1/tokens', 'GET', '/api/v1/tokens', A],
      ['POST /api/v1/tokens', 'POST', '/api/v1/tokens', A, {role: 'read'}],
      ['DELETE /api/v1/tokens/{id}', 'DELETE', `/api/v1/tokens/${limited.id}`, A],
      ['DELETE /api/v1/hosts/{id}', 'DELETE', '/api/v1/hosts/db-2', A, undefined, 404],
      ['POST /api/v1/hosts/{id}/rename', 'POST', '/api/v1/hosts/nope/rename', A, {name: 'x-1'}],
    ],
    wrongRole: {
      'GET /api/v1/tokens': R, 'POST /api/v1/tokens': R, 'DELETE /api/v1/tokens/{id}': R,
      'DELETE /api/v1/hosts/{id}': R, 'POST /api/v1/hosts/{id}/rename': R,
    },
  };
}
