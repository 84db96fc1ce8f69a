// cluster_failover — placement and failure behaviours of the cluster (issue 14, items 3 and 5)
// with a real redis-server and real parleyd nodes: new rooms spread over the least-loaded
// nodes; a drained node takes no new rooms but keeps its own; Redis down keeps existing
// calls going through relays while a new room fails fast with 503, and everything recovers
// when Redis returns (same home, same epoch); a home stopped cleanly releases its leases at
// once, and a room placed on a node just killed is placed again on a live one; a room goes
// to a node of the caller's region, or another region when none serves; a node started
// while Redis is down serves its rooms, and gives way to the established home when it returns.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SLOW, sleep, waitUntil } from './helpers.mjs';
import { startCluster } from './cluster_helpers.mjs';

const N_ROOMS = 80;
const ROOMS = Array.from({ length: N_ROOMS }, (_, i) => `fo${i}`);
let next = 0;
const fresh = () => {
  assert.ok(next < ROOMS.length, 'enough rooms in the store');
  return ROOMS[next++];
};

const c = await startCluster({ nodes: 3, rooms: ROOMS });
after(() => c.stop());
const [n1, n2, n3] = c.nodes;
// A node places rooms only on nodes it has seen (its list is re-read every 2 s).
await waitUntil(async () => (await Promise.all(c.nodes.map((n) => n.metrics()))).every((m) => m.parley_cluster_nodes === 3),
  { timeout: 5000 * SLOW, what: 'three nodes seen by each' });

/** Until every live node sees `want` nodes serving (parley_cluster_nodes_serving). */
function waitServing(nodes, want) {
  return waitUntil(async () => {
    for (const n of nodes) {
      const m = await n.metricsOrNull();
      if (!m || m.parley_cluster_nodes_serving !== want) return false;
    }
    return true;
  }, { timeout: 6000 * SLOW, interval: 100, what: `every node to see ${want} serving nodes` });
}

/** Joins a fresh room through node `via`; returns {room, p, home}. */
async function joinFresh(via, name = 'P') {
  const room = fresh();
  const p = await via.join(room, { name });
  const lease = await c.leaseOf(room);
  assert.ok(lease, `${room} is leased after a join`);
  return { room, p, home: lease.node, epoch: lease.epoch };
}

test('12 new rooms joined through one node spread over the three (least-loaded)', async () => {
  const count = { n1: 0, n2: 0, n3: 0 };
  const joined = [];
  for (let i = 0; i < 12; i++) {
    const j = await joinFresh(n1);
    count[j.home]++;
    joined.push(j.p);
  }
  for (const p of joined) await p.release();
  console.log(`12 rooms through n1 placed: ${JSON.stringify(count)}`);
  for (const id of ['n1', 'n2', 'n3']) assert.ok(count[id] >= 3, `${id} got ${count[id]} of 12: ${JSON.stringify(count)}`);
});

test('drain: no new room on n2, its own room stays there undisturbed; serve: n2 takes rooms again', async () => {
  // A room homed on n2 with participants through n2 and n1.
  let own;
  for (let i = 0; i < 8 && !own; i++) {
    const j = await joinFresh(n2, 'Own');
    if (j.home === 'n2') own = j;
  }
  assert.ok(own, 'a room placed on n2');
  const other = await n1.join(own.room, { name: 'Viaone' });
  const es = await other.events();
  await es.synced();

  const r = await c.ctlCluster('node', 'drain', 'n2');
  assert.equal(r.code, 0, r.stderr);
  const t0 = Date.now();
  await waitServing(c.nodes, 2);
  console.log(`drain seen by every node ${Date.now() - t0} ms after parleyctl node drain`);
  const st = await c.status();
  assert.equal(st.nodes.find((n) => n.id === 'n2').state, 'draining');

  const homes = [];
  for (const via of c.nodes) {
    for (let i = 0; i < 10; i++) {
      const j = await joinFresh(via, `D${i}`);
      homes.push(j.home);
      assert.notEqual(j.home, 'n2', `room ${j.room} joined through ${via.nodeId} placed on the draining n2`);
      await j.p.release();
    }
  }
  console.log(`30 rooms during the drain placed on: ${JSON.stringify(homes.reduce((a, h) => ({ ...a, [h]: (a[h] ?? 0) + 1 }), {}))}`);

  // n2's room stayed on n2 with its epoch; its participants are undisturbed.
  assert.deepEqual(await c.leaseOf(own.room), { node: 'n2', epoch: own.epoch });
  await own.p.do('message', { type: 'text/plain', payload: 'still here' });
  await es.waitFor('message_received', (d) => d.payload === 'still here', { timeout: 3000 });
  assert.ok(!es.events.some((e) => e.event === 'disconnect'), 'no disconnect during the drain');
  const late = await n3.join(own.room, { name: 'Late' });
  assert.equal((await late.participants()).length, 3);

  const s = await c.ctlCluster('node', 'serve', 'n2');
  assert.equal(s.code, 0, s.stderr);
  await waitServing(c.nodes, 3);
  // n2 carries its room's three participants: the least-loaded choice comes to it soon.
  const back = [];
  for (let i = 0; i < 12 && !back.includes('n2'); i++) back.push((await joinFresh(n1, `S${i}`)).home);
  assert.ok(back.includes('n2'), `n2 takes new rooms again: ${back}`);
  es.close();
});

test('Redis down: relayed calls go on, a new room fails fast with 503; Redis back: all recovers', async () => {
  // A room with participants on its home and through another node (relayed).
  const first = await joinFresh(n1, 'Homed');
  const homeNode = c.node(first.home);
  const via = c.nodes.find((n) => n !== homeNode);
  const guest = await via.join(first.room, { name: 'Relayed' });
  const es = await guest.events(); // relayed
  await es.synced();
  const homeEs = await first.p.events(); // on the home
  await homeEs.synced();

  await c.redis.kill();
  await waitUntil(async () => (await Promise.all(c.nodes.map((n) => n.metrics()))).every((m) => m.parley_cluster_redis_up === 0),
    { timeout: 3000 * SLOW, what: 'every node to see Redis down' });

  // Existing calls go on through the relay.
  await guest.refresh();
  await guest.do('message', { type: 'text/plain', payload: 'redis is gone' });
  await homeEs.waitFor('message_received', (d) => d.payload === 'redis is gone', { timeout: 3000 });
  await first.p.do('message', { type: 'text/plain', payload: 'from the home' });
  await es.waitFor('message_received', (d) => d.payload === 'from the home', { timeout: 3000 });
  const again = await via.join(first.room, { name: 'Known home' });
  assert.equal((await again.participants()).length, 3);

  // A new room: 503 with the reason, at once, through every node.
  const room = fresh();
  for (const n of c.nodes) {
    const t = performance.now();
    const r = await n.api('POST', room, 'request_token', { body: { display_name: 'New' } });
    const ms = performance.now() - t;
    console.log(`new room join through ${n.nodeId} with Redis down: ${r.status} in ${ms.toFixed(1)} ms`);
    assert.equal(r.status, 503, r.text);
    assert.match(r.body.result, /cluster's directory cannot be reached/);
    assert.ok(ms < 250 * SLOW, `${ms} ms`);
  }
  await sleep(1000); // down for a while: the reconnect backoff grows

  // Redis back, empty, on the same port.
  const t0 = Date.now();
  await c.redis.start();
  await waitUntil(async () => (await n2.api('POST', room, 'request_token', { body: { display_name: 'New' }, noCheck: true })).status === 200,
    { timeout: 5000 * SLOW, interval: 50, what: 'a new room placed again' });
  const placedMs = Date.now() - t0;
  await c.waitMembers({ timeout: 5000 * SLOW });
  const membersMs = Date.now() - t0;
  await waitUntil(async () => (await c.leaseOf(first.room))?.node === first.home,
    { timeout: 5000 * SLOW, interval: 50, what: 'the existing lease re-asserted' });
  console.log(`Redis back: new room placed after ${placedMs} ms, all nodes registered after ${membersMs} ms, lease back after ${Date.now() - t0} ms`);
  assert.deepEqual(await c.leaseOf(first.room), { node: first.home, epoch: first.epoch }, 'same home, same epoch');
  assert.ok(placedMs < 4000 * SLOW, `${placedMs} ms`);
  await guest.do('message', { type: 'text/plain', payload: 'redis is back' });
  await homeEs.waitFor('message_received', (d) => d.payload === 'redis is back', { timeout: 3000 });
  await first.p.do('message', { type: 'text/plain', payload: 'home again' });
  await es.waitFor('message_received', (d) => d.payload === 'home again', { timeout: 3000 });
  assert.ok(!es.events.some((e) => e.event === 'disconnect'), 'the relayed stream never broke');
  await c.waitConfig();
  es.close();
  homeEs.close();
});

test('a home stopped with SIGTERM releases its leases at once: its room is re-placed on the next join', async () => {
  let j;
  for (let i = 0; i < 8; i++) {
    j = await joinFresh(n1, 'Before');
    if (j.home !== 'n1') break; // keep the management node
  }
  assert.notEqual(j.home, 'n1');
  const home = c.node(j.home);
  const via = c.nodes.find((n) => n !== home && n !== n1) ?? n1;
  const t0 = Date.now();
  await home.cleanStop();
  const stopMs = Date.now() - t0;
  assert.equal(await c.leaseOf(j.room), null, 'the lease is gone when the process has exited');
  const t1 = Date.now();
  const p = await via.join(j.room, { name: 'After' });
  const joinMs = Date.now() - t1;
  const lease = await c.leaseOf(j.room);
  console.log(`SIGTERM of ${j.home}: exited in ${stopMs} ms; rejoin through ${via.nodeId} placed on ${lease.node} (epoch ${j.epoch} -> ${lease.epoch}) in ${joinMs} ms, ${Date.now() - t0} ms after SIGTERM`);
  assert.notEqual(lease.node, j.home);
  assert.ok(lease.epoch > j.epoch);
  assert.ok(joinMs < 1000 * SLOW, `${joinMs} ms`);
  assert.equal((await p.participants()).length, 1);
  // New rooms right after the stop: never sent to the node that left.
  for (let i = 0; i < 4; i++) {
    const k = await joinFresh(via, `New${i}`);
    assert.notEqual(k.home, j.home, `${k.room} placed on the stopped ${j.home}`);
  }
  await home.restart();
  await c.waitMembers();
  // Right after its restart, a room it takes is reachable through the others at once.
  const t2 = Date.now();
  const r = await joinFresh(home, 'Restarted');
  for (const n of c.nodes) await n.join(r.room, { name: `Via${n.nodeId}` });
  console.log(`room ${r.room} homed on ${r.home} joined through every node ${Date.now() - t2} ms after the restart`);
  await c.waitMembers();
});

test('kill -9 of a node: new rooms joined at once go to live nodes, none to the dead one', async () => {
  // The least loaded of n2 and n3 dies (placement would pick it first); joins go through
  // the other.
  const st = await c.status();
  const load = (id) => st.nodes.find((n) => n.id === id).load;
  const [dead, via] = load('n2') <= load('n3') ? [n2, n3] : [n3, n2];
  console.log(`loads before kill -9 of ${dead.nodeId}: ${st.nodes.map((n) => `${n.id}=${n.load}`).join(' ')}`);
  await dead.kill9();
  const t0 = Date.now();
  const homes = [];
  for (let i = 0; i < 6; i++) {
    const t = Date.now();
    const j = await joinFresh(via, `K${i}`);
    homes.push(`${j.home} ${Date.now() - t} ms`);
    assert.notEqual(j.home, dead.nodeId, `${j.room} placed on the dead ${dead.nodeId}`);
  }
  const replaced = (via.stderr.match(/refused the connection .*placing the room again/g) ?? []).length;
  console.log(`6 rooms through ${via.nodeId} right after kill -9 of ${dead.nodeId} (${Date.now() - t0} ms): ${homes.join(', ')}; re-placed after a refused relay: ${replaced}`);
  const others = st.nodes.filter((n) => n.id !== dead.nodeId).map((n) => n.load);
  if (load(dead.nodeId) < Math.min(...others)) assert.ok(replaced >= 1, 'the least loaded (dead) node was chosen and the join re-placed');
  await dead.restart();
  await c.waitMembers();
});

test('a node started while Redis is down serves the rooms it knew; Redis back: the established home wins', async () => {
  const a = await joinFresh(n1, 'Established');
  const home = c.node(a.home);
  const x = [n3, n2].find((n) => n !== home); // not the management node
  const homeEs = await a.p.events();
  await homeEs.synced();
  await c.redis.kill();
  await x.restart();
  // Blind: no Redis since it started. Rooms of its store are served here.
  const blind = await x.join(a.room, { name: 'Blind' });
  const blindEs = await blind.events();
  await blindEs.synced();
  assert.equal((await blind.participants()).length, 1, 'a copy of the room, alone');
  const b = fresh();
  const lone = await x.join(b, { name: 'Lone' });
  const t0 = Date.now();
  await c.redis.start();
  // The established home puts its lease back; the blind copy finds it taken and ends.
  await blindEs.waitFor('disconnect', () => true, { timeout: 10000 });
  const endMs = Date.now() - t0;
  assert.deepEqual(await c.leaseOf(a.room), { node: a.home, epoch: a.epoch }, 'the established room kept its home and epoch');
  // The room nobody else had is homed on the node that served it.
  const lb = await waitUntil(() => c.leaseOf(b), { timeout: 10000 * SLOW, interval: 100, what: `a lease for ${b}` });
  console.log(`Redis back: the blind copy of ${a.room} on ${x.nodeId} ended after ${endMs} ms; ${b} homed on ${lb.node} epoch ${lb.epoch} after ${Date.now() - t0} ms`);
  assert.equal(lb.node, x.nodeId);
  assert.ok(lb.epoch >= 1);
  assert.equal((await lone.participants()).length, 1);
  assert.ok(!homeEs.events.some((e) => e.event === 'disconnect'), 'the established room was undisturbed');
  // The blind participant rejoins through the same node: now relayed to the home.
  const again = await x.join(a.room, { name: 'Blind again' });
  const names = (await again.participants()).map((p) => p.display_name).sort();
  assert.deepEqual(names, ['Blind again', 'Established']);
  await c.waitMembers();
  await c.waitConfig();
  homeEs.close();
});

test('regions: a room goes to a node of the caller\'s region, or to another region when none serves', async () => {
  const rc = await startCluster({ nodes: 3, rooms: ROOMS.slice(0, 12), region: (i) => (i === 0 ? 'a' : 'b') });
  try {
    const [a1, b2, b3] = rc.nodes;
    await waitUntil(async () => (await Promise.all(rc.nodes.map((n) => n.metrics()))).every((m) => m.parley_cluster_nodes_serving === 3),
      { timeout: 6000 * SLOW, what: 'every node sees three' });
    let k = 0;
    const placed = { a: [], b: [] };
    for (let i = 0; i < 3; i++) {
      for (const [via, region] of [[b2, 'b'], [b3, 'b'], [a1, 'a']]) {
        const room = ROOMS[k++];
        await via.join(room, { name: 'R' });
        placed[region].push((await rc.leaseOf(room)).node);
      }
    }
    console.log(`placed by region of the caller: ${JSON.stringify(placed)}`);
    assert.ok(placed.b.every((n) => n === 'n2' || n === 'n3'), `region b callers: ${placed.b}`);
    assert.ok(placed.a.every((n) => n === 'n1'), `region a callers: ${placed.a}`);
    for (const id of ['n2', 'n3']) assert.equal((await rc.ctlCluster('node', 'drain', id)).code, 0);
    await waitUntil(async () => (await Promise.all(rc.nodes.map((n) => n.metrics()))).every((m) => m.parley_cluster_nodes_serving === 1),
      { timeout: 6000 * SLOW, what: 'every node sees region b drained' });
    for (const via of [b2, b3]) {
      const room = ROOMS[k++];
      await via.join(room, { name: 'R' });
      assert.equal((await rc.leaseOf(room)).node, 'n1', `${room} through ${via.nodeId} with region b drained`);
    }
  } finally {
    await rc.stop();
  }
});
