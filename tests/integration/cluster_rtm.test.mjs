// cluster_rtm — RTM sessions in a cluster (issue 14 item 4: "RTM sessions may likewise start on
// any node"), with a real redis-server and three real parleyd nodes (n1 the management node).
// An account, its JWTs and an API key written on the management node start sessions on the
// other nodes (one with real ICE + DTLS + SRTP media and a supervisor: tests/tools/
// supervisor_probe); POST /api/rtm/v1/session on one node answers that node's ws_endpoint and
// registers the reservation in Redis (pl:rtm:<id>, refreshed while it lasts, gone when it ends);
// a session_start or supervisor_join_session for a session held on another node gets an `error`
// SESSION_ON_OTHER_NODE naming that node's ws_endpoint, frames sent meanwhile are answered in
// order, and following the endpoint works.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { BIN_DIR, T, SLOW, rawRequest, sleep, waitUntil } from './helpers.mjs';
import { startCluster } from './cluster_helpers.mjs';
import { Rtm, IO, UUID, offer } from './rtm_client.mjs';

const ORIGIN = 'https://app.example.com';

const live = new Set();
/** A socket to url (ws://...), resolving with an Rtm or rejecting with the refused status. */
function connectUrl(url, opts = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on('open', () => { const c = new Rtm(ws); live.add(c); resolve(c); });
    ws.on('unexpected-response', (req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}
const wsUrl = (node) => `ws://127.0.0.1:${node.httpPort}${IO}`;
const connect = (node, jwt) => connectUrl(`${wsUrl(node)}?access_token=${jwt}`);

let c, n1, n2, n3, acme, supKey;
const ctl = async (...args) => {
  const r = await c.ctl(...args);
  assert.equal(r.code, 0, `parleyctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
/** A JWT minted on the management node's store (the account's secret lives there). */
const mint = (client, cid = 'acme') => ctl('jwt', '--account', cid, '--client-id', client);
const registration = async (sid) => {
  const v = await c.redis.command('GET', `pl:rtm:${sid}`);
  if (v === null) return null;
  const [node, cid, endpoint] = v.split('\n');
  return { node, cid, endpoint };
};
/** POST /api/rtm/v1/session on node, as through a load balancer: the Host is the balancer's. */
const reserve = (node, jwt, body = {}) => rawRequest(node.httpPort, 'POST', '/api/rtm/v1/session',
  { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${jwt}`, Host: 'rtm.example.com' },
    body: JSON.stringify(body) });

before(async () => {
  c = await startCluster({ nodes: 3 });
  [n1, n2, n3] = c.nodes;
  // Written once, on the management node; the other nodes get them through Redis.
  acme = JSON.parse(await ctl('account', 'add', '--cid', 'acme', '--json'));
  await ctl('account', 'add', '--cid', 'other', '--json');
  supKey = await ctl('key', 'add', '--account', 'acme', '--origin', ORIGIN, '--supervise');
  // The key was written last: once every node takes it, every node has the accounts too.
  await waitUntil(async () => {
    for (const n of [n2, n3]) {
      try { (await connectUrl(`${wsUrl(n)}?api_key=${supKey}`, { origin: ORIGIN })).close(); } catch { return false; }
    }
    return true;
  }, { timeout: 3000 * SLOW, interval: 50, what: 'the API key synced to n2 and n3' });
  await c.waitConfig();
});
afterEach(() => {
  for (const s of live) s.close();
  live.clear();
});
after(async () => { await c?.stop(); });

test('an account, JWT and API key made on the management node start sessions on other nodes', T(40000), async () => {
  assert.ok(acme.jwt_secret, 'parleyctl account add --json gives the secret');
  const a = await connect(n2, await mint('agent-any'));
  const sid = await a.start();
  await a.pong();
  // Registered in Redis as held by n2, with n2's endpoint.
  const reg = await waitUntil(() => registration(sid), { what: 'pl:rtm registration' });
  assert.deepEqual(reg, { node: 'n2', cid: 'acme', endpoint: wsUrl(n2) });

  const k = await connectUrl(`${wsUrl(n3)}?api_key=${supKey}`, { origin: ORIGIN });
  await k.start({ client_id: 'agent-key' });
  await k.pong();

  // Real media: an agent reaches ACTIVE on n3 and a supervisor on the same node gets its
  // keyframe, both with JWTs minted on the management node.
  const probe = path.join(BIN_DIR, 'bench', 'supervisor_probe');
  assert.ok(existsSync(probe), `${probe} is built with the benchmarks`);
  const [agentJwt, supJwt] = [await mint('agent-media'), await mint('sup-media')];
  const r = await new Promise((resolve) => {
    execFile(probe, [String(n3.httpPort), agentJwt, supJwt], { timeout: 25000 * SLOW }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, `supervisor_probe on n3 failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /keyframe ok/);

  // A session that ends takes its registration with it.
  a.send('session_stop');
  await waitUntil(async () => (await registration(sid)) === null, { timeout: 3000 * SLOW, what: 'pl:rtm key deleted at the end' });
});

test('a reservation names its own node; session_start for it elsewhere is told where to go', T(30000), async () => {
  const jwt = await mint('agent-res');
  const r = await reserve(n1, jwt, { client_id: 'agent-res' });
  assert.equal(r.status, 201, r.text);
  const res = JSON.parse(r.text);
  assert.equal(res.ws_endpoint, wsUrl(n1), 'ws_endpoint is the reserving node (its --node-url), not the Host');
  // Answered only once Redis has it: no wait needed here.
  assert.deepEqual(await registration(res.session_id), { node: 'n1', cid: 'acme', endpoint: wsUrl(n1) });
  const pttl0 = await c.redis.command('PTTL', `pl:rtm:${res.session_id}`);
  assert.ok(pttl0 > 0 && pttl0 <= 8000, `expires (PTTL ${pttl0})`);

  // The client lands on n2 (a load balancer) and names the reservation.
  const wrong = await connect(n2, jwt);
  wrong.send('session_start', offer(), { session_id: res.session_id });
  wrong.send('ping'); // sent while n2 asks Redis: answered after, in order
  const e = await wrong.next('the redirect error');
  assert.equal(e.type, 'error', JSON.stringify(e));
  assert.equal(e.data.code, 'SESSION_ON_OTHER_NODE', JSON.stringify(e));
  assert.equal(e.data.ref_type, 'session_start');
  assert.equal(e.data.ws_endpoint, wsUrl(n1));
  assert.equal(e.data.node_id, 'n1');
  assert.match(e.data.message, new RegExp(`held by cluster node n1.*${wsUrl(n1).replace(/[/.]/g, '\\$&')}`));
  const p = await wrong.next('pong after the error');
  assert.equal(p.type, 'pong', JSON.stringify(p));
  assert.equal(p.session_id ?? null, null, 'nothing started on n2');

  // Another account naming that id on n2: taken, and nothing said about where.
  const foreign = await connect(n2, await mint('agent-res', 'other'));
  foreign.send('session_start', offer(), { session_id: res.session_id });
  const f = await foreign.next('INVALID_STATE');
  assert.deepEqual([f.type, f.data.code], ['error', 'INVALID_STATE'], JSON.stringify(f));
  assert.equal(f.data.ws_endpoint, undefined);

  // Following ws_endpoint works: the reservation is claimed on n1.
  const right = await connectUrl(`${e.data.ws_endpoint}?access_token=${jwt}`);
  assert.equal(await right.start({ session_id: res.session_id }), res.session_id);
  // Kept alive: after more than a refresh period the expiry was pushed back.
  await sleep(2600);
  const pttl = await c.redis.command('PTTL', `pl:rtm:${res.session_id}`);
  assert.ok(pttl > 8000 - 2600, `registration refreshed (PTTL ${pttl})`);
  await right.pong();

  // A client-chosen id nobody holds starts wherever the client is.
  const chosen = crypto.randomUUID();
  const own = await connect(n3, await mint('agent-chooses'));
  assert.equal(await own.start({ session_id: chosen }), chosen);
  assert.equal((await waitUntil(() => registration(chosen), { what: 'chosen id registered' })).node, 'n3');
});

test('a supervisor on the wrong node gets the right endpoint; on the right node it joins', T(30000), async () => {
  const agent = await connect(n1, await mint('agent-sup'));
  const sid = await agent.start();
  await waitUntil(() => registration(sid), { what: 'agent registered' });

  const sup = await connect(n3, await mint('sup-1'));
  sup.send('supervisor_join_session', { ...offer(), session_id_to_monitor: sid });
  const e = await sup.next('the redirect error');
  assert.deepEqual([e.type, e.data.code, e.data.ref_type], ['error', 'SESSION_ON_OTHER_NODE', 'supervisor_join_session'], JSON.stringify(e));
  assert.equal(e.data.ws_endpoint, wsUrl(n1));
  assert.equal(e.data.node_id, 'n1');
  await sup.pong(null); // the socket stays, with nothing on it

  // An API key with the supervise scope, made on the management node, follows the endpoint.
  const there = await connectUrl(`${e.data.ws_endpoint}?api_key=${supKey}`, { origin: ORIGIN });
  await there.start({ client_id: 'sup-key' }, { session_id_to_monitor: sid }, 'supervisor_join_session');
  await agent.pong();

  // Another account's supervisor learns nothing: NO_ACTIVE_AGENT, as on one node.
  const foreign = await connect(n3, await mint('sup-2', 'other'));
  foreign.send('supervisor_join_session', { ...offer(), session_id_to_monitor: sid });
  for (const state of ['SHUTDOWN', 'TERMINATED']) {
    const m = await foreign.next(`${state} NO_ACTIVE_AGENT`);
    assert.deepEqual([m.type, m.data], ['session_state', { state, termination_cause: 'NO_ACTIVE_AGENT' }], JSON.stringify(m));
  }
  // A session nobody holds: NO_ACTIVE_AGENT too.
  const lost = await connect(n2, await mint('sup-3'));
  lost.send('supervisor_join_session', { ...offer(), session_id_to_monitor: crypto.randomUUID() });
  const m = await lost.next('SHUTDOWN');
  assert.equal(m.data.termination_cause, 'NO_ACTIVE_AGENT', JSON.stringify(m));

  // The agent leaves: its supervisor ends, its registration goes.
  agent.close(1000);
  await waitUntil(async () => (await registration(sid)) === null, { timeout: 3000 * SLOW, what: 'registration deleted' });
});
