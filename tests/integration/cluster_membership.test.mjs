// cluster_membership — nodes register in a real Redis and are seen by `parleyctl cluster
// status`: join, kill -9 (the key lapses), clean stop (gone at once), drain/serve, a Redis
// restart (nodes re-register), and the parley_cluster_* gauges on /metrics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil, SLOW } from './helpers.mjs';
import { startRedis, startNode, kill9, clusterCtl, clusterStatus } from './cluster_helpers.mjs';

const redis = await startRedis();
after(() => redis.stop());

const byId = (st) => Object.fromEntries(st.nodes.map((n) => [n.id, n]));

test('three nodes register, drain and serve, and leave by kill -9 or a clean stop', async () => {
  const t0 = Date.now();
  const [a, b, c] = await Promise.all([
    startNode(redis, { id: 'node-a', region: 'eu' }),
    startNode(redis, { id: 'node-b', region: 'eu' }),
    startNode(redis, { id: 'node-c', region: 'us' }),
  ]);
  try {
    await waitUntil(async () => (await clusterStatus(redis)).nodes.length === 3,
      { timeout: 3000 * SLOW, what: 'three nodes in cluster status' });
    const n = byId(await clusterStatus(redis));
    assert.equal(n['node-a'].region, 'eu');
    assert.equal(n['node-c'].region, 'us');
    assert.equal(n['node-b'].url, `http://127.0.0.1:${b.port}`);
    for (const x of Object.values(n)) {
      assert.equal(x.state, 'serving');
      assert.equal(x.load, 0);
      assert.match(x.media_addr, /^127\.0\.0\.1:\d+$/);
      assert.ok(x.age_ms >= 0 && x.age_ms < 2600 * SLOW, `age ${x.age_ms}`);
    }
    console.log(`three nodes listed ${Date.now() - t0} ms after the first start`);

    // The text form names them too.
    const text = await clusterCtl(redis, ['cluster', 'status']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /node-a\s+eu\s+serving/);

    // drain -> draining within 3 s; serve -> serving again.
    let r = await clusterCtl(redis, ['node', 'drain', 'node-b']);
    assert.equal(r.code, 0, r.stderr);
    await waitUntil(async () => byId(await clusterStatus(redis))['node-b']?.state === 'draining',
      { timeout: 3000 * SLOW, what: 'node-b draining' });
    const mb = await b.metrics();
    assert.equal(mb.parley_cluster_draining, 1);
    r = await clusterCtl(redis, ['node', 'serve', 'node-b']);
    assert.equal(r.code, 0, r.stderr);
    await waitUntil(async () => byId(await clusterStatus(redis))['node-b']?.state === 'serving',
      { timeout: 3000 * SLOW, what: 'node-b serving again' });

    // The gauges.
    const m = await a.metrics();
    assert.equal(m.parley_cluster_redis_up, 1);
    assert.equal(m.parley_cluster_nodes, 3);
    assert.equal(m.parley_cluster_rooms_homed, 0);
    assert.equal(m.parley_cluster_draining, 0);
    assert.equal(m.parley_cluster_lease_lost_total, 0);

    // kill -9: the key lapses (PEXPIRE 6000 ms) and readers drop it.
    const tk = Date.now();
    await kill9(c);
    await waitUntil(async () => !byId(await clusterStatus(redis))['node-c'],
      { timeout: 7500 * SLOW, interval: 200, what: 'node-c gone after kill -9' });
    console.log(`kill -9: gone after ${Date.now() - tk} ms`);

    // A clean stop deletes the key at once.
    await a.stop();
    const st = await clusterStatus(redis);
    assert.deepEqual(st.nodes.map((x) => x.id), ['node-b'], 'node-a gone as soon as it exited');
  } finally {
    for (const d of [a, b]) if (!d.exit) await d.stop();
  }
});

test('a Redis restart: nodes re-register, the drain flag survives, metrics tell', async () => {
  const a = await startNode(redis, { id: 'node-r1' });
  const b = await startNode(redis, { id: 'node-r2' });
  try {
    await waitUntil(async () => (await clusterStatus(redis)).nodes.length === 2,
      { timeout: 3000 * SLOW, what: 'two nodes' });
    assert.equal((await clusterCtl(redis, ['node', 'drain', 'node-r2'])).code, 0);
    await waitUntil(async () => byId(await clusterStatus(redis))['node-r2']?.state === 'draining',
      { timeout: 3000 * SLOW, what: 'node-r2 draining' });

    await redis.kill9();
    await waitUntil(async () => (await a.metrics()).parley_cluster_redis_up === 0,
      { timeout: 3000 * SLOW, what: 'redis_up 0 while Redis is down' });
    const tr = Date.now();
    await redis.start(); // same port, empty: persistence is off
    await waitUntil(async () => (await clusterStatus(redis)).nodes.length === 2,
      { timeout: 4000 * SLOW, interval: 100, what: 'both nodes back after the Redis restart' });
    console.log(`Redis restart: nodes back ${Date.now() - tr} ms after it was ready`);
    assert.equal(byId(await clusterStatus(redis))['node-r2'].state, 'draining',
      'a draining node stays draining across a Redis restart');
    const m = await a.metrics();
    assert.equal(m.parley_cluster_redis_up, 1);
    assert.ok(m.parley_cluster_redis_reconnects_total >= 1);
  } finally {
    await a.stop();
    await b.stop();
  }
  assert.deepEqual((await clusterStatus(redis)).nodes, [], 'clean stops leave no node behind');
});

test('flags: rediss:// and a missing or short secret are refused at start', async () => {
  const { execFile } = await import('node:child_process');
  const { PARLEYD } = await import('./helpers.mjs');
  const run = (args) => new Promise((resolve) => execFile(PARLEYD, args, (err, stdout, stderr) =>
    resolve({ code: err ? err.code : 0, stderr })));
  let r = await run(['--cluster', 'rediss://127.0.0.1:1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /rediss:\/\/ \(TLS\) is not supported/);
  r = await run(['--cluster', redis.url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs --cluster-secret-file/);
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-short-')), 's');
  writeFileSync(f, 'too short\n');
  r = await run(['--cluster', redis.url, '--cluster-secret-file', f]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /at least 32 are needed/);
  r = await run(['--management']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--management needs --cluster/);
});
