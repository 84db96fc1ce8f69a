// Cluster configuration sync with a real redis-server and real parleyd processes: a management
// node (--management) and two others. Rooms, accounts and API keys written with parleyctl on the
// management node's data dir reach every node within a second; a garbage body in Redis is
// refused and changes nothing; a node restarted while Redis is down serves the rooms it knew,
// and a change made while Redis was down arrives once it is back.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { Daemon, parleyctl, waitUntil, sleep, T, SLOW } from './helpers.mjs';
import { startRedis, startNode } from './cluster_helpers.mjs';

const IO = '/api/rtm/v1/io';
const ORIGIN = 'https://app.example.com';

/** redis-cli against the test's Redis. */
function cli(redis, ...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(redis.port), ...args], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
  });
}

async function ctl(dir, ...args) {
  const r = await parleyctl(dir, args);
  assert.equal(r.code, 0, `parleyctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** request_token's status for alias on d, without a PIN: 200, 403 (the PIN prompt) or 404. */
async function tokenStatus(d, alias) {
  const r = await d.api('POST', alias, 'request_token', { body: { display_name: 'Probe' } });
  if (r.status === 200) {
    await d.api('POST', alias, 'release_token', { token: r.body.result.token, noCheck: true });
  }
  return r.status;
}

function upgrade(d, query, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: d.port, path: IO + query, agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...headers } });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

describe('cluster configuration sync', () => {
  let redis, mgmt, a, b;

  before(async () => {
    redis = await startRedis();
    mgmt = await startNode(redis, { id: 'mgmt', management: true, rooms: ['seed-room'] });
    a = await startNode(redis, { id: 'node-a' });
    b = await startNode(redis, { id: 'node-b' });
    await waitUntil(async () => (await tokenStatus(a, 'seed-room')) === 200 && (await tokenStatus(b, 'seed-room')) === 200,
      { timeout: 5000, what: 'the seed room on both nodes' });
  });
  after(async () => {
    for (const d of [a, b, mgmt]) await d?.stop().catch((e) => console.error(e.message));
    await redis?.stop();
  });

  test('a room added or removed on the management node is there, or gone, everywhere within 1 s', T(60000), async () => {
    const times = [];
    for (let i = 0; i < 20; i++) {
      const alias = `sync-room-${i}`;
      const pin = i % 2 === 1;
      const args = ['room', 'add', alias, ...(pin ? ['--pin', '4321'] : [])];
      await sleep(Math.random() * 250); // not in step with the management node's 200 ms poll
      await ctl(mgmt.dataDir, ...args);
      const t0 = Date.now();
      const want = pin ? 403 : 200;
      const seen = await waitUntil(async () => {
        const [sa, sb] = await Promise.all([tokenStatus(a, alias), tokenStatus(b, alias)]);
        assert.ok([404, want].includes(sa) && [404, want].includes(sb), `${alias}: ${sa} ${sb}`);
        return sa === want && sb === want && Date.now();
      }, { timeout: 3000, interval: 50, what: `${alias} on both nodes` });
      times.push(seen - t0);
    }
    console.log(`# room add -> joinable on 2 other nodes: p50 ${pct(times, 0.5)} ms, max ${Math.max(...times)} ms over ${times.length} (poll 50 ms): ${times.join(" ")}`);
    assert.ok(Math.max(...times) < 1000 * SLOW, `propagation ${Math.max(...times)} ms`);

    const gone = [];
    for (const i of [0, 1, 2, 3]) {
      await ctl(mgmt.dataDir, 'room', 'remove', `sync-room-${i}`);
      const t0 = Date.now();
      await waitUntil(async () => (await tokenStatus(a, `sync-room-${i}`)) === 404 && (await tokenStatus(b, `sync-room-${i}`)) === 404,
        { timeout: 3000, interval: 50, what: `sync-room-${i} gone` });
      gone.push(Date.now() - t0);
    }
    console.log(`# room remove -> 404 on 2 other nodes: max ${Math.max(...gone)} ms`);
    assert.ok(Math.max(...gone) < 1000 * SLOW);
    assert.equal(await tokenStatus(a, 'sync-room-4'), 200, 'the others stay');

    // Not one apply per change: a version that arrives while the previous apply is still on
    // the threadpool is superseded by the newest, and a removal the others already answer
    // 404 for may still be followed by a publish of its last commit; so A must reach the
    // management node's final version, and the counters only have to have moved.
    await waitUntil(async () => (await a.metrics()).parley_cluster_config_version === (await mgmt.metrics()).parley_cluster_config_version,
      { timeout: 2000 * SLOW, interval: 50, what: 'A at the version the management node published last' });
    const [ma, mm] = [await a.metrics(), await mgmt.metrics()];
    assert.ok(ma.parley_cluster_config_applied_total >= 1, JSON.stringify(ma));
    assert.ok(mm.parley_cluster_config_published_total >= 1, JSON.stringify(mm));
  });

  test('an account and API key made on the management node work on the others', T(), async () => {
    const key = await ctl(mgmt.dataDir, 'key', 'add', '--account',
      JSON.parse(await ctl(mgmt.dataDir, 'account', 'add', '--cid', 'acme', '--json')).cid, '--origin', ORIGIN);
    assert.match(key, /^pk_/);
    const jwt = await ctl(mgmt.dataDir, 'jwt', '--account', 'acme', '--client-id', 'agent-1');
    await waitUntil(async () => (await upgrade(a, `?api_key=${key}`, { Origin: ORIGIN })) === 101,
      { timeout: 1000 * SLOW, interval: 50, what: 'the key on node A' });
    assert.equal(await upgrade(b, `?api_key=${key}`, { Origin: ORIGIN }), 101, 'the key on node B');
    assert.equal(await upgrade(b, `?access_token=${jwt}`), 101, 'a JWT of the account on node B');
    assert.equal(await upgrade(b, `?api_key=${key}`, { Origin: 'https://evil.example' }), 403, 'origins came along');
    assert.equal(await upgrade(b, `?api_key=pk_${'x'.repeat(43)}`, { Origin: ORIGIN }), 401);
  });

  test('a malformed body in Redis is refused with a log line and changes nothing', T(), async () => {
    const before = Number(await cli(redis, 'HGET', 'pl:config', 'version'));
    const bad = String(before + 1);
    await cli(redis, 'HSET', 'pl:config', 'version', bad, 'body', '{"format":1,"rooms":[{"id":1');
    await cli(redis, 'PUBLISH', 'pl:config', bad);
    await waitUntil(async () => (await a.metrics()).parley_cluster_config_refused_total >= 1,
      { timeout: 2000, what: 'the refusal on A' });
    assert.match(a.stderr, new RegExp(`config version ${bad} refused \\(\\d+ bytes\\): not JSON`));
    assert.equal(await tokenStatus(a, 'sync-room-5'), 403, 'A still has its rooms');
    // The next real change goes above the refused version and is applied.
    await ctl(mgmt.dataDir, 'room', 'add', 'after-garbage');
    await waitUntil(async () => (await tokenStatus(a, 'after-garbage')) === 200,
      { timeout: 1000 * SLOW, interval: 50, what: 'after-garbage on A' });
    assert.ok((await a.metrics()).parley_cluster_config_version > Number(bad));
  });

  test('Redis down: a restarted node serves what it knew; a change made meanwhile arrives later', T(60000), async () => {
    await redis.stop();
    await a.stop({ keepData: true });
    a = await new Daemon(a.dataDir, a.args).start();
    assert.equal(await tokenStatus(a, 'seed-room'), 200, 'known room, Redis down');
    assert.equal(await tokenStatus(a, 'sync-room-5'), 403, 'known PIN room, Redis down');
    assert.equal(await tokenStatus(a, 'sync-room-0'), 404, 'removed room stays removed');
    await ctl(mgmt.dataDir, 'room', 'add', 'while-down');
    await sleep(500);
    assert.equal(await tokenStatus(b, 'while-down'), 404, 'nothing to carry it yet');
    await redis.start();
    const t0 = Date.now();
    await waitUntil(async () => (await tokenStatus(a, 'while-down')) === 200 && (await tokenStatus(b, 'while-down')) === 200,
      { timeout: 8000, interval: 50, what: 'while-down on both nodes after Redis returned' });
    console.log(`# change made while Redis was down: on both nodes ${Date.now() - t0} ms after Redis restarted`);
  });

  test('a restarted management node publishes a higher version; the others do not rewrite the same body', T(), async () => {
    const before = (await mgmt.metrics()).parley_cluster_config_version;
    const appliedB = (await b.metrics()).parley_cluster_config_applied_total;
    await mgmt.stop({ keepData: true });
    mgmt = await new Daemon(mgmt.dataDir, mgmt.args).start();
    const after = await waitUntil(async () => {
      const v = (await mgmt.metrics()).parley_cluster_config_version;
      return v > before && v;
    }, { timeout: 5000, what: 'a publish after the restart' });
    await waitUntil(async () => (await b.metrics()).parley_cluster_config_version === after,
      { timeout: 6000, what: 'B at the new version' });
    assert.equal((await b.metrics()).parley_cluster_config_applied_total, appliedB, 'same body: only the version moved');
    assert.equal(await tokenStatus(b, 'while-down'), 200);
  });
});
