// Browser test of containers of every runtime on the dashboard
// (docs/dashboard.md): reports with Docker, Podman, containerd (Kubernetes)
// and driftwatch containers posted through the real API; the overview's
// image sprawl counts every runtime, the Kubernetes view groups namespace ->
// pod -> container with drift, and a container's events show its image and
// pod.
// Exit status: 0 passed, 1 failed, 77 skipped (no chromium or node_modules).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {apiGet, call, fileEvent, goto, idsOf, page, pageErrors, reportBody, shot, shownIds,
  signIn, start, stop, texts, tokens} from './fixture.mjs';

const TREE_A = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const TREE_B = 'ffeeddccbbaa99887766554433221100';
const SHA = (c) => 'sha256:' + c.repeat(64);

const pod = (ns, name, container) => ({'io.kubernetes.pod.namespace': ns,
  'io.kubernetes.pod.name': name, 'io.kubernetes.container.name': container});

function ctr(name, id, runtime, image, digest, events, tree, labels) {
  return {name, id, runtime, image, image_digest: digest, image_id: SHA('e'), image_tree: tree,
    drift_known: true, events, ...(labels ? {labels} : {})};
}

// node-1 runs a pod of two containers (containerd), a Docker container and
// a driftwatch one; node-2 a Podman container of the same busybox as the
// Docker one, unpacked to another tree, and a pod of kube-system.
const NODES = {
  'node-1': [
    ctr('shop-web/nginx', 'a1a1a1a1a1a1a1', 'containerd', 'nginx:1.25', SHA('1'), 1, TREE_A,
        pod('shop', 'shop-web', 'nginx')),
    ctr('shop-web/envoy', 'a2a2a2a2a2a2a2', 'containerd', 'envoy:1.29', SHA('2'), 0, TREE_A,
        pod('shop', 'shop-web', 'envoy')),
    ctr('web-1', 'd1d1d1d1d1d1d1', 'docker', 'busybox:latest', SHA('3'), 1, TREE_A),
    ctr('api', 'x1x1x1x1x1x1x1', 'driftwatch', 'app:2', '61235775b9276edc690f810d5a2a13f7', 0,
        ''),
  ],
  'node-2': [
    ctr('db', 'p1p1p1p1p1p1p1', 'podman', 'busybox:latest', SHA('3'), 0, TREE_B),
    ctr('dns/coredns', 'a3a3a3a3a3a3a3', 'containerd', 'coredns:1.11', SHA('4'), 0, TREE_A,
        pod('kube-system', 'dns', 'coredns')),
  ],
};

const EVENTS = {
  'node-1': [
    fileEvent('container:containerd:shop-web/nginx:/etc/nginx/nginx.conf', 'modified', 'high',
        {type: 'file', size: 10}, {type: 'file', size: 12}, ['size']),
    fileEvent('container:docker:web-1:/etc/hosts.allow', 'added', 'medium', null,
        {type: 'file', size: 3}, []),
  ],
  'node-2': [],
};

describe('containers of every runtime on the dashboard', () => {
  before(async () => {
    await start();
    for (const [host, containers] of Object.entries(NODES)) {
      const enrolled = await call('POST', '/api/v1/enroll', tokens.enroll,
          {host, group: 'k8s', agent_version: '0.3.0'});
      assert.equal(enrolled.status, 201, JSON.stringify(enrolled.json));
      const body = {...reportBody(host, {hoursAgo: 0, events: EVENTS[host]}), containers};
      const sent = await call('POST', '/api/v1/reports', enrolled.json.token, body);
      assert.equal(sent.status, 200, JSON.stringify(sent.json));
    }
  });
  after(stop);

  test('the image sprawl panel counts images and digests of every runtime', async () => {
    await goto('');
    await page.waitForSelector('#token');
    await signIn(tokens.read);
    await page.waitForSelector('table.image-table tbody tr');
    const images = await apiGet('/api/v1/images');
    // The seeded fleet's driftwatch and docker images, plus these nodes'.
    assert.equal(Number(await page.textContent('[data-metric="distinct-images"]')),
        images.distinct_images);
    assert.equal(Number(await page.textContent('[data-metric="distinct-digests"]')),
        images.distinct_digests);
    assert.equal(images.sprawled, 1);
    assert.equal(Number(await page.textContent('[data-metric="sprawled"]')), 1);
    assert.deepEqual(images.runtimes.map((r) => r.runtime),
        ['containerd', 'docker', 'driftwatch', 'podman']);
    const containerd = images.runtimes[0];
    assert.deepEqual([containerd.images, containerd.digests, containerd.containers,
      containerd.drifted], [3, 3, 3, 1]);
    for (const r of images.runtimes) {
      const li = page.locator(`ul.runtime-totals li[data-runtime="${r.runtime}"]`);
      assert.equal(await li.locator('[data-count="images"]').textContent(), String(r.images));
      assert.equal(await li.locator('[data-count="digests"]').textContent(), String(r.digests));
      assert.equal(await li.locator('[data-count="containers"]').textContent(),
          String(r.containers));
    }
    // busybox runs on Docker and Podman, from two different trees.
    const busybox = page.locator('table.image-table tbody tr[data-image="busybox:latest"]');
    assert.deepEqual(await busybox.locator('td').allTextContents(),
        [SHA('3').slice(0, 12), 'docker, podman', '2', '2', '2 trees', '1']);
    const rows = await page.$$eval('table.image-table tbody tr', (trs) => trs.map((r) =>
      r.querySelector('th').textContent.trim()));
    assert.deepEqual(rows, images.images.map((x) => x.image));
    await shot('overview-runtimes');
  });

  test('the Kubernetes view groups namespace, pod and container with drift', async () => {
    await page.click('#nav a[data-route="/kubernetes"]');
    await page.waitForSelector('section.namespace');
    const k8s = await apiGet('/api/v1/kubernetes');
    assert.deepEqual(await page.$$eval('section.namespace', (s) => s.map((x) =>
      x.dataset.namespace)), k8s.namespaces.map((n) => n.namespace));
    assert.deepEqual(k8s.namespaces.map((n) => n.namespace), ['kube-system', 'shop']);
    const shop = page.locator('section.namespace[data-namespace="shop"]');
    assert.equal((await shop.locator('.ns-counts').textContent()).trim(),
        '1 pod, 2 containers, 1 drifted, 1 events');
    const web = shop.locator('section.pod[data-pod="shop-web"]');
    assert.deepEqual(await web.locator('tbody th').allTextContents(), ['nginx', 'envoy']);
    assert.deepEqual(await web.locator('tbody td.drift').allTextContents(), ['1 events', 'none']);
    assert.match(await web.locator('h3').textContent(), /shop-web on node-1 1 drifted/);
    await shot('kubernetes');

    // The drift badge opens the container's events, which name it.
    await web.locator('tbody td.drift a').click();
    await page.waitForFunction(() => location.hash.startsWith('#/drift'));
    await page.waitForSelector('table.events tbody tr.event');
    const want = (await apiGet('/api/v1/drift?host=node-1&path=' +
        encodeURIComponent('container:containerd:shop-web/nginx:*'))).events;
    assert.equal(want.length, 1);
    assert.deepEqual(await shownIds(), idsOf(want));
    assert.deepEqual(await texts('tr.event .container-line'),
        ['in containerd shop-web/nginx · image nginx:1.25 · pod shop/shop-web']);
    await page.click(`tr.event[data-id="${want[0].id}"] button.expand`);
    const facts = await page.locator(`#event-${want[0].id}-detail dl.facts`).textContent();
    for (const text of ['containerd shop-web/nginx (a1a1a1a1a1a1a1)',
      `nginx:1.25 @ ${SHA('1')}`, 'shop/shop-web']) {
      assert.ok(facts.includes(text), `${text} in ${facts}`);
    }
    await shot('drift-container');
  });

  test('a Docker container event shows its image, and no pod', async () => {
    await goto('#/drift?host=node-1');
    await page.waitForSelector('table.events tbody tr.event');
    assert.deepEqual((await texts('tr.event .container-line')).sort(),
        ['in containerd shop-web/nginx · image nginx:1.25 · pod shop/shop-web',
          'in docker web-1 · image busybox:latest']);
  });

  test('the Kubernetes filters are the API\'s', async () => {
    await goto('#/kubernetes');
    await page.waitForSelector('section.namespace');
    await page.fill('#k-namespace', 'kube-system');
    await page.click('.kubernetes-filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('namespace=kube-system'));
    await page.waitForSelector('section.namespace[data-namespace="kube-system"]');
    assert.deepEqual(await page.$$eval('section.namespace', (s) => s.map((x) =>
      x.dataset.namespace)), ['kube-system']);
    await goto('#/kubernetes?drifted=maybe');
    const alert = page.locator('.status-area .message-error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /refused this filter: drifted/);
    await goto('#/kubernetes?namespace=nowhere');
    await page.locator('.status-area .message-info',
        {hasText: 'No Kubernetes container matches these filters.'}).waitFor();
    assert.equal(await page.locator('section.namespace').count(), 0);
  });

  test('no script errors or CSP violations', () => {
    const unexpected = pageErrors.filter((e) =>
      !/Failed to load resource: the server responded with a status of 400/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
