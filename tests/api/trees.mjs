// The fleet's trees' cases of the API conformance test (conformance.mjs):
// tree objects offered, uploaded, set as a host's tree and fetched back
// (docs/api.md "Fleet trees"). Every answer goes through the caller's
// check() against docs/openapi.yaml; what each answer must say is asserted
// here besides.
//
// treesCases() drives the statuses only these routes answer (200, 400
// bad_object, 404 no_group_baseline, 409 missing_objects) and returns the
// routes' entries for the cases conformance.mjs runs on every route (400 for
// a query that is not UTF-8, 401, 403, 413, 429, 503), with the token of a
// role each route refuses.

// Two tree objects made by core's SerializeTree (core/entry.cc), with their
// XXH3-128 ids: an empty directory, and a directory holding one entry "d",
// a directory whose subtree is the empty one.
const EMPTY = {id: '4d6ac5b7d1a1655cab94ac0ace7276c0', data: 'AQA='};
const PARENT = {id: '6c315e5a4e9b89e8f743fcac2d35a1d0',
  data: 'AQEBZAIBTWrFt9GhZVyrlKwKznJ2wA=='};
const UNKNOWN = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

const parse = (res) => {
  try {
    const v = JSON.parse(res.body);
    return v && typeof v === 'object' ? v : {};
  } catch (e) {
    return {};
  }
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// h: {request, check, fail, A (admin token), R (read token), agent (an
// agent token)}.
export async function treesCases(h) {
  const {request, check, fail, A, R, agent} = h;
  const expect = (key, res, status, note, code) => {
    check(key, res, note);
    const body = parse(res);
    if (res.status !== status || (code && body.error !== code)) {
      fail(`${key} (${note}): expected ${status}${code ? ' ' + code : ''}, got ` +
          `${res.status} ${res.body.slice(0, 300)}`);
    }
    return body;
  };
  const OFFER = 'POST /api/v1/trees/offer';
  const OBJECTS = 'POST /api/v1/trees/objects';
  const TREE = 'POST /api/v1/agents/tree';
  const FETCH = 'POST /api/v1/trees/fetch';
  const GROUP = 'GET /api/v1/agents/group-baseline';
  const post = (target, token, body) => request('POST', target, {token, body});

  let b = expect(OFFER, await post('/api/v1/trees/offer', agent,
      {ids: [PARENT.id, EMPTY.id, PARENT.id]}), 200, 'nothing held');
  if (!same(b.want, [PARENT.id, EMPTY.id])) fail(`${OFFER}: want ${JSON.stringify(b.want)}`);
  expect(OFFER, await post('/api/v1/trees/offer', agent, {ids: []}), 400, 'no ids');
  expect(OFFER, await post('/api/v1/trees/offer', agent, {ids: ['ABC']}), 400, 'bad id');

  b = expect(OBJECTS, await post('/api/v1/trees/objects', agent, {objects: [PARENT]}), 409,
      'child missing', 'missing_objects');
  if (!same(b.want, [EMPTY.id])) fail(`${OBJECTS}: want ${JSON.stringify(b.want)}`);
  expect(OBJECTS, await post('/api/v1/trees/objects', agent,
      {objects: [{id: PARENT.id, data: EMPTY.data}]}), 400, 'wrong id', 'bad_object');
  b = expect(OBJECTS, await post('/api/v1/trees/objects', agent, {objects: [EMPTY, PARENT]}),
      200, 'children first');
  if (b.stored !== 2 || b.held !== 0) fail(`${OBJECTS}: ${JSON.stringify(b)}`);

  b = expect(TREE, await post('/api/v1/agents/tree', agent, {root: UNKNOWN}), 409,
      'root not held', 'missing_objects');
  if (!same(b.want, [UNKNOWN])) fail(`${TREE}: want ${JSON.stringify(b.want)}`);
  expect(TREE, await post('/api/v1/agents/tree', agent, {root: 'x'}), 400, 'bad root');
  b = expect(TREE, await post('/api/v1/agents/tree', agent,
      {root: PARENT.id, host_specific: ['/etc/hostname']}), 200, 'set');
  if (b.root !== PARENT.id) fail(`${TREE}: ${JSON.stringify(b)}`);

  b = expect(FETCH, await post('/api/v1/trees/fetch', R, {ids: [PARENT.id, UNKNOWN]}), 200,
      'one held');
  const got = (b.objects || []).map((o) => [o.id, o.data]);
  if (!same(got, [[PARENT.id, PARENT.data]]) || !same(b.missing, [UNKNOWN]) ||
      !same(b.more, [])) {
    fail(`${FETCH}: ${JSON.stringify(b)}`);
  }
  expect(FETCH, await post('/api/v1/trees/fetch', R, {ids: 'all'}), 400, 'not a list');

  expect(GROUP, await request('GET', '/api/v1/agents/group-baseline', {token: agent}), 404,
      'none yet', 'no_group_baseline');

  return {
    routes: [
      [OFFER, 'POST', '/api/v1/trees/offer', agent, {ids: [PARENT.id]}],
      [OBJECTS, 'POST', '/api/v1/trees/objects', agent, {objects: [EMPTY]}],
      [TREE, 'POST', '/api/v1/agents/tree', agent, {root: PARENT.id}],
      [FETCH, 'POST', '/api/v1/trees/fetch', agent, {ids: [EMPTY.id]}],
      [GROUP, 'GET', '/api/v1/agents/group-baseline', agent, undefined, 404],
    ],
    wrongRole: {[OFFER]: R, [OBJECTS]: A, [TREE]: R, [FETCH]: h.enroll, [GROUP]: A},
  };
}
