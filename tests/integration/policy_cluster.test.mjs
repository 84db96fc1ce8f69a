// policy_cluster — media location (client API §E.4) picks the region a new room is placed
// in: two regions on a real Redis, a real HTTP policy server answering the location (then
// overflow locations) per alias; a join arriving in one region lands its room on the
// other region's node when the policy says so, an overflow location is used when the
// first has no node, and a policy server that fails leaves placement as without one.
// The location is asked only when a room is placed: joining a placed room asks nothing.
// Ad-hoc rooms (the policy server's service configuration, in no store) meet across
// nodes: participants joining one through different nodes and aliases share one room.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { waitUntil, SLOW } from './helpers.mjs';
import { startRedis, startNode, clusterStatus, redisCommand } from './cluster_helpers.mjs';

/** A policy server answering only media location, per alias; records the requests. */
const asked = [];
const LOCATIONS = {
  'to-us': { status: 'success', result: { location: 'us' } },
  'overflow': { status: 'success', result: { location: 'mars', overflow_locations: ['moon', 'us'] } },
  'failing': null, // 500
  'to-eu': { status: 'success', result: { location: 'eu' } },
  'hung': 'hang', // every request about it: no answer for 10 s
};
// Service configuration: ad-hoc rooms, in no node's store. Both aliases are one room.
const SERVICES = {
  'adhoc-1': { status: 'success', action: 'continue', result: { service_type: 'conference', name: 'Team room', allow_guests: false } },
  'adhoc-2': { status: 'success', action: 'continue', result: { service_type: 'conference', name: 'Team room', allow_guests: false } },
  'odd room %41 ü': { status: 'success', action: 'continue', result: { service_type: 'conference', name: 'Odd', allow_guests: false } },
};
const hung = new Set();
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const q = Object.fromEntries(u.searchParams);
  asked.push({ path: u.pathname, q });
  if (LOCATIONS[q.local_alias] === 'hang') {
    hung.add(res);
    setTimeout(() => { hung.delete(res); if (!res.destroyed) res.writeHead(404).end(); }, 10000);
    return;
  }
  const answer = u.pathname === '/policy/v1/participant/location' ? LOCATIONS[q.local_alias]
    : u.pathname === '/policy/v1/service/configuration' ? SERVICES[q.local_alias] : undefined;
  if (answer === undefined) { // service and participant: "use your own configuration"
    res.writeHead(404).end();
    return;
  }
  if (answer === null) {
    res.writeHead(500).end('no');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const POLICY = `http://127.0.0.1:${server.address().port}`;

const redis = await startRedis();
const ROOMS = Object.keys(LOCATIONS);
const BUDGET = 2000; // ms: --policy-timeout, one budget per join
const args = ['--policy-url', POLICY, '--policy-timeout', String(BUDGET)];
const eu = await startNode(redis, { id: 'node-eu', region: 'eu', rooms: ROOMS, args });
const us = await startNode(redis, { id: 'node-us', region: 'us', rooms: ROOMS, args });
after(async () => {
  await eu.stop();
  await us.stop();
  await redis.stop();
  for (const res of hung) res.destroy();
  server.closeAllConnections?.();
  await new Promise((r) => server.close(r));
});
await waitUntil(async () => (await Promise.all([eu, us].map((n) => n.metrics())))
  .every((m) => m.parley_cluster_nodes === 2), { timeout: 5000 * SLOW, what: 'both nodes seen by each' });

async function homeOf(room) {
  const st = await clusterStatus(redis);
  return st.rooms.find((r) => r.room === room)?.home;
}

test('media location places a new room in its region, then overflow, else here', async () => {
  // Without a policy answer a room goes to the least-loaded node of the joiner's node's
  // region: node-eu for joins through node-eu. The policy moves it.
  const a = await eu.join('to-us', { name: 'Alice' });
  assert.equal(await homeOf('to-us'), 'node-us', 'the location "us" took the room to node-us');
  const loc = asked.find((r) => r.path === '/policy/v1/participant/location' && r.q.local_alias === 'to-us');
  assert.ok(loc, 'the location was asked');
  assert.equal(loc.q.remote_display_name, 'Alice');
  assert.equal(loc.q.remote_address, '127.0.0.1');
  // The room works where it was placed: a roster through either node.
  assert.deepEqual((await a.participants()).map((p) => p.display_name), ['Alice']);
  // A room already placed costs no location request: Bob's join (through the home) and
  // Bea's (relayed from node-eu) ask the policy server nothing about where it goes.
  const locationsOf = (alias) => asked.filter((r) => r.path === '/policy/v1/participant/location' && r.q.local_alias === alias).length;
  assert.equal(locationsOf('to-us'), 1);
  const b = await us.join('to-us', { name: 'Bob' });
  assert.equal((await b.participants()).length, 2);
  const b2 = await eu.join('to-us', { name: 'Bea' });
  assert.equal((await b2.participants()).length, 3);
  assert.equal(locationsOf('to-us'), 1, 'joins of a placed room asked no media location');

  // "mars" and "moon" have no node: the first overflow location that has one is used.
  await eu.join('overflow', { name: 'Carol' });
  assert.equal(await homeOf('overflow'), 'node-us');

  // A failing policy server: placed as without one (the joiner's node's region).
  await eu.join('failing', { name: 'Dan' });
  assert.equal(await homeOf('failing'), 'node-eu');

  // A room already placed stays where it is, whatever the location says later.
  await us.join('to-eu', { name: 'Erin' });
  assert.equal(await homeOf('to-eu'), 'node-eu');
  LOCATIONS['to-eu'] = { status: 'success', result: { location: 'us' } };
  await us.join('to-eu', { name: 'Frank' });
  assert.equal(await homeOf('to-eu'), 'node-eu', 'a placed room is not moved');

  // One location request per room placed (to-us, overflow, failing, to-eu): none for
  // the joins of a room already placed, none by a home for a relayed join.
  const locs = asked.filter((r) => r.path === '/policy/v1/participant/location');
  assert.deepEqual(locs.map((r) => r.q.local_alias), ['to-us', 'overflow', 'failing', 'to-eu']);
});

test('a hanging policy server costs a cluster join one budget, not two', async () => {
  // The location hangs where the join arrives; the home is told what it took and does
  // not wait for its service request again: the join falls back to the store.
  const t0 = Date.now();
  const p = await eu.join('hung', { name: 'Gina' });
  const ms = Date.now() - t0;
  assert.ok(p.token, 'joined from the store');
  assert.ok(ms >= BUDGET - 100 && ms < BUDGET + 1000, `the join took ${ms} ms (budget ${BUDGET})`);
  const services = asked.filter((r) => r.path === '/policy/v1/service/configuration' && r.q.local_alias === 'hung');
  assert.equal(services.length, 0, 'no service request once the budget was spent');
});

test('an ad-hoc room (in no store) is one conference across nodes', async () => {
  const n0 = asked.length;
  // The home writes an alias's room key to Redis after its join, asynchronously; a join
  // through the other node before it lands asks the service again (correct, one request
  // more), so the count below waits for each write.
  const known = (alias) => waitUntil(async () => await redisCommand(redis.port, 'EXISTS', `pl:alias:${alias}`) === 1,
    { what: `Redis to know ${alias}` });
  const a = await eu.join('adhoc-1', { name: 'Hana' });
  const home = await homeOf('adhoc-1');
  assert.ok(home, 'the ad-hoc room is placed under its first alias');
  await known('adhoc-1');
  // Through the other node, the same alias: the same conference.
  const b = await us.join('adhoc-1', { name: 'Ivan' });
  const names = (p) => p.participants().then((l) => l.map((x) => x.display_name).sort());
  assert.deepEqual(await names(a), ['Hana', 'Ivan']);
  assert.deepEqual(await names(b), ['Hana', 'Ivan'], 'the roster through the other node');
  // Another alias the policy maps to the same service name, through either node.
  const c = await eu.join('adhoc-2', { name: 'Jon' });
  await known('adhoc-2');
  const d = await us.join('adhoc-2', { name: 'Kim' });
  assert.deepEqual(await names(d), ['Hana', 'Ivan', 'Jon', 'Kim']);
  assert.deepEqual(await names(c), ['Hana', 'Ivan', 'Jon', 'Kim']);
  const st = await clusterStatus(redis);
  assert.equal(st.rooms.filter((r) => r.home).map((r) => r.room).filter((r) => r.startsWith('adhoc')).length, 1,
    JSON.stringify(st.rooms));
  // One media location for the one room placed; an alias Redis knows costs the entry node
  // no service request (the home asks one per join, as a single node does).
  const mine = asked.slice(n0);
  assert.equal(mine.filter((r) => r.path === '/policy/v1/participant/location').length, 1);
  assert.equal(mine.filter((r) => r.path === '/policy/v1/service/configuration').length, 4 + 2,
    'one per join at the home, plus one where each alias was first joined away from Redis');
  // The event stream works through the node that is not the home.
  const away = home === 'node-eu' ? b : a;
  const ev = await away.events();
  try {
    const names = (await ev.synced()).filter((e) => e.event === 'participant_create').map((e) => e.data.display_name);
    assert.deepEqual(names.sort(), ['Hana', 'Ivan', 'Jon', 'Kim'], 'the roster in the event stream');
  } finally { ev.close(); }
  // A room key with spaces, '%' and UTF-8 (a client's alias, sent percent-encoded in
  // X-Parley-Room-Key) crosses to its home intact.
  const odd = 'odd room %41 ü';
  LOCATIONS[odd] = { status: 'success', result: { location: 'us' } }; // not a store room
  const o1 = await eu.join(odd, { name: 'Mia' });
  assert.equal(await homeOf(odd), 'node-us');
  const o2 = await us.join(odd, { name: 'Ned' });
  assert.deepEqual(await names(o1), ['Mia', 'Ned']);
  assert.deepEqual(await names(o2), ['Mia', 'Ned']);
  // An alias nobody knows: 404 as on one node.
  const r = await eu.api('POST', 'nobody-knows', 'request_token', { body: { display_name: 'X' }, noCheck: true });
  assert.equal(r.status, 404);
});
