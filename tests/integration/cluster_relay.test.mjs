// cluster_relay — any node answers the client API: three parleyd nodes on a real
// redis-server; joins through every node land in one room on one home node, event
// streams and chat are relayed, `calls` answers with the home's media port, forged relay
// headers and tokens are refused, and a home killed with -9 ends relayed streams with a
// `disconnect` event at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { API, TESTS_DIR, rawRequest, waitUntil, sleep, SLOW } from './helpers.mjs';
import { startRedis, startNode, kill9, clusterStatus } from './cluster_helpers.mjs';

const OFFER = readFileSync(path.join(TESTS_DIR, 'fixtures/sdp/chrome156_offer.sdp'), 'utf8');
const redis = await startRedis();
after(() => redis.stop());

const ROOM = 'relayroom';
const nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((id) => startNode(redis, { id, rooms: [ROOM] })));
const [A, B, C] = nodes;
const ids = { [A.port]: 'node-a', [B.port]: 'node-b', [C.port]: 'node-c' };
let homeKilled = false;
after(async () => {
  for (const n of nodes) if (!(homeKilled && n === nodes.home)) await n.stop();
});
// Each node sees the others (its own list is refreshed every 2 s).
await waitUntil(async () => (await Promise.all(nodes.map((n) => n.metrics())))
  .every((m) => m.parley_cluster_nodes === 3), { timeout: 5000 * SLOW, what: 'three nodes seen by each' });

async function homeOf(room) {
  const st = await clusterStatus(redis);
  return st.rooms.find((r) => r.room === room)?.home;
}

test('joins through every node meet in one room; streams, chat and calls are relayed', async () => {
  const alice = await A.join(ROOM, { name: 'Alice' });
  const home = await homeOf(ROOM);
  assert.ok(home, 'the room is leased after the first join');
  const bob = await B.join(ROOM, { name: 'Bob' });
  const carol = await C.join(ROOM, { name: 'Carol' });
  assert.equal(await homeOf(ROOM), home, 'still one home');
  const homeNode = nodes.find((n) => ids[n.port] === home);
  const others = nodes.filter((n) => n !== homeNode);
  nodes.home = homeNode;
  // Tokens carry the cluster MAC; clients see an opaque URL-safe string.
  assert.match(alice.token, /^[A-Za-z0-9_.-]+$/);

  // Every participant, asked through its own node, sees all three.
  const want = [alice.uuid, bob.uuid, carol.uuid].sort();
  for (const p of [alice, bob, carol]) {
    const list = await p.participants();
    assert.deepEqual(list.map((x) => x.uuid).sort(), want, `roster through ${ids[p.d.port]}`);
  }

  // An event stream through a non-home node sees joins made through another node.
  const far = others[0];
  const viewer = [alice, bob, carol].find((p) => p.d === far);
  const es = await viewer.events();
  await es.synced();
  const joiner = others[1];
  const dave = await joiner.join(ROOM, { name: 'Dave' });
  await es.waitFor('participant_create', (d) => d.uuid === dave.uuid, { timeout: 3000 * SLOW });

  // Chat through one node reaches a stream relayed through another.
  const chatter = [alice, bob, carol].find((p) => p.d !== far);
  await chatter.do('message', { type: 'text/plain', payload: 'hello across nodes' });
  await es.waitFor('message_received', (d) => d.payload === 'hello across nodes', { timeout: 3000 * SLOW });

  // calls through a non-home node: the answer names the home's media port.
  const st = await clusterStatus(redis);
  const homeMedia = st.nodes.find((n) => n.id === home).media_addr;
  const homePort = Number(homeMedia.split(':').pop());
  const farPorts = st.nodes.filter((n) => n.id !== home).map((n) => Number(n.media_addr.split(':').pop()));
  const r = await viewer.post(`participants/${viewer.uuid}/calls`, { call_type: 'WEBRTC', sdp: OFFER });
  assert.equal(r.status, 200, r.text);
  const cands = [...r.body.result.sdp.matchAll(/a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gi)].map((m) => Number(m[1]));
  assert.ok(cands.length > 0, `candidates in ${r.body.result.sdp}`);
  for (const p of cands) {
    assert.equal(p, homePort, 'media goes straight to the home');
    assert.ok(!farPorts.includes(p));
  }

  // The relaying node counted its relays; the stream is one of them.
  const m = await far.metrics();
  assert.ok(m.parley_cluster_relayed_requests_total >= 4, JSON.stringify(m.parley_cluster_relayed_requests_total));
  assert.equal(m.parley_cluster_relayed_streams, 1);
  assert.equal(m.parley_cluster_relay_errors_total, 0);
  es.close();

  // A forged relay header is refused, whatever it carries.
  const fake = `node-x ${Date.now()} ${'0'.repeat(64)}`;
  const forged = await rawRequest(homeNode.port, 'GET', `${API}/${ROOM}/participants`,
    { headers: { 'x-parley-relay': fake, token: alice.token } });
  assert.equal(forged.status, 403);
  assert.equal(JSON.parse(forged.text).result, 'Invalid relay signature');

  // A forged token: 403 at the signalling node, never relayed.
  const before = (await far.metrics()).parley_cluster_relayed_requests_total;
  const parts = viewer.token.split('.');
  const longer = [parts[0], parts[1], String(Number(parts[2]) + 3600), parts[3]].join('.');
  for (const bad of [longer, parts[0], 'x'.repeat(43), `${viewer.token.slice(0, -2)}AA`]) {
    const res = await far.api('GET', ROOM, 'participants', { token: bad, noCheck: true });
    assert.equal(res.status, 403, `token ${bad}`);
    assert.equal(res.body.result, 'Invalid token');
  }
  assert.equal((await far.metrics()).parley_cluster_relayed_requests_total, before, 'nothing relayed');

  // The home still looks tokens up: release_token there revokes them for every node.
  await dave.release();
  const gone = await dave.d.api('GET', ROOM, 'participants', { token: dave.token, noCheck: true });
  assert.equal(gone.status, 403);
});

test('kill -9 of the home: a relayed event stream gets disconnect within 1 s', async () => {
  const homeNode = nodes.home;
  const far = nodes.find((n) => n !== homeNode);
  const eve = await far.join(ROOM, { name: 'Eve' });
  const es = await eve.events();
  await es.synced();
  const t0 = Date.now();
  homeKilled = true;
  await kill9(homeNode);
  const ev = await es.waitFor('disconnect', () => true, { timeout: 1000 * SLOW });
  const ms = Date.now() - t0;
  assert.ok(ev, 'disconnect event');
  await es.waitClosed(1000 * SLOW);
  console.log(`disconnect on the relayed stream ${ms} ms after kill -9 of the home`);
  assert.ok(ms < 1000 * SLOW, `${ms} ms`);
  const m = await far.metrics();
  assert.ok(m.parley_cluster_relay_errors_total >= 1);
  assert.equal(m.parley_cluster_relayed_streams, 0);
  await sleep(10);
});
