// RTM protocol without a browser (docs: shared/protocol/rtm.md): a `ws` client speaks the JSON
// envelope at /api/rtm/v1/io with a real Chrome SDP offer that never gets ICE (sessions stay in
// SETUP), a node HTTP sink takes webhooks. Covers upgrade auth, envelope errors, the session life
// cycle and its termination causes, supervisors, timers, recording refusals, POST /session and
// SIGTERM. Media, recording and supervisors decoding video are in tests/browser/rtm.test.mjs.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Webhook } from 'standardwebhooks';
import { startDaemon, rawRequest, T, SLOW, sleep, withTimeout, waitUntil, TESTS_DIR, BIN_DIR } from './helpers.mjs';
import { startSink } from '../tools/http_sink.mjs';
import { Rtm, OFFER, IO, UUID, offer } from './rtm_client.mjs';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;


/** Opens a socket; resolves with an Rtm, or rejects with the refused upgrade's status. */
const live = new Set();
function connect(d, { jwt, query = jwt ? `?access_token=${jwt}` : '', ...opts } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}${IO}${query}`, opts);
    ws.on('open', () => { const c = new Rtm(ws); live.add(c); resolve(c); });
    ws.on('unexpected-response', (req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** A raw upgrade request: {status, headers, body} (body parsed when JSON). */
function upgrade(d, query = '', headers = {}, { isUpgrade = true } = {}) {
  const up = isUpgrade ? { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64') } : {};
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: d.port, path: IO + query, agent: false, headers: { ...up, ...headers } });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode }); });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let body;
        try { body = JSON.parse(text); } catch { body = text; }
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asserts a refused upgrade: status and a JSON body {status:"error", reason}. */
function assertRefused(r, status, reasonPattern, what) {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  assert.match(r.headers['content-type'], /^application\/json/, what);
  assert.deepEqual(Object.keys(r.body).sort(), ['reason', 'status'], what);
  assert.equal(r.body.status, 'error', what);
  if (reasonPattern) assert.match(r.body.reason, reasonPattern, what);
}

const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function signJwt(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
  const unsigned = `${b64u(header)}.${b64u(claims)}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

async function ctl(d, ...args) {
  const r = await d.ctl(...args);
  assert.equal(r.code, 0, `parleyctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
const addAccount = async (d, cid) => JSON.parse(await ctl(d, 'account', 'add', '--cid', cid, '--json'));
const mint = (d, cid, client, ...extra) => ctl(d, 'jwt', '--account', cid, '--client-id', client, ...extra);
/** A socket authenticated as `client` of account `cid`. */
const as = async (d, client, cid = 'acme', ...extra) => connect(d, { jwt: await mint(d, cid, client, ...extra) });

function closeAll() {
  for (const c of live) c.close();
  live.clear();
}

let sink;
before(async () => { sink = await startSink(); });
after(async () => { await sink?.close(); });

describe('RTM with default timers', () => {
  let d, acme;
  before(async () => {
    d = await startDaemon();
    acme = await addAccount(d, 'acme');
    await addAccount(d, 'other');
  });
  afterEach(closeAll);
  after(async () => { closeAll(); await d?.stop(); });

  test('upgrade: JWT, API key bound to origins, and every refusal with a JSON reason', T(), async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { cid: 'acme', client_id: 'auth-1', exp: now + 600 };
    assert.equal((await upgrade(d, `?access_token=${signJwt(acme.jwt_secret, claims)}`)).status, 101, 'own signature is right');
    assert.equal((await upgrade(d, '', { Authorization: `Bearer ${await mint(d, 'acme', 'auth-1')}` })).status, 101);
    assertRefused(await upgrade(d), 401, /missing credentials/, 'no credentials');
    assertRefused(await upgrade(d, '?access_token=not.a.jwt'), 401, null, 'malformed JWT');
    assertRefused(await upgrade(d, `?access_token=${signJwt('wrong-secret', claims)}`), 401, null, 'wrong signature');
    assertRefused(await upgrade(d, `?access_token=${signJwt(acme.jwt_secret, { ...claims, exp: now - 60 })}`), 401, null, 'expired');
    // A refused JWT does not tell whether its account exists: the same answer, byte for byte.
    const noAccount = await upgrade(d, `?access_token=${signJwt(acme.jwt_secret, { ...claims, cid: 'nobody' })}`);
    assertRefused(noAccount, 401, null, 'unknown account');
    const wrongSig = await upgrade(d, `?access_token=${signJwt('wrong-secret', claims)}`);
    assert.deepEqual(noAccount.body, wrongSig.body, 'unknown account and wrong signature look the same');
    assert.doesNotMatch(noAccount.body.reason, /nobody|account/, 'the reason names no account');
    assertRefused(await upgrade(d, `?access_token=${signJwt(acme.jwt_secret, { cid: 'acme', exp: now + 600 })}`), 401, /client_id/, 'no client_id');
    assertRefused(await upgrade(d, `?access_token=${signJwt(acme.jwt_secret, claims, { alg: 'none', typ: 'JWT' })}`), 401, null, 'alg none');

    const key = await ctl(d, 'key', 'add', '--account', 'acme', '--origin', 'https://app.example.com');
    assert.match(key, /^pk_/);
    assert.equal((await upgrade(d, `?api_key=${key}`, { Origin: 'https://app.example.com' })).status, 101);
    assertRefused(await upgrade(d, `?api_key=${key}`, { Origin: 'https://evil.example.com' }), 403, /origin/, 'other origin');
    assertRefused(await upgrade(d, `?api_key=${key}`), 403, /Origin/, 'no Origin');
    // Too long to be an origin: refused as such, not taken for a missing one.
    assertRefused(await upgrade(d, `?api_key=${key}`, { Origin: `https://${'a'.repeat(600)}.example.com` }),
      400, /Origin header is over 511 bytes/, 'an Origin too long');
    const unknown = `pk_${crypto.randomBytes(32).toString('base64url').slice(0, key.length - 3)}`;
    assertRefused(await upgrade(d, `?api_key=${unknown}`, { Origin: 'https://app.example.com' }), 401, /unknown API key/, 'unknown key');
    const both = `?api_key=${key}&access_token=${signJwt(acme.jwt_secret, claims)}`;
    assertRefused(await upgrade(d, both, { Origin: 'https://app.example.com' }), 401, /not both/, 'key and JWT');

    const plain = await upgrade(d, `?access_token=${signJwt(acme.jwt_secret, claims)}`, {}, { isUpgrade: false });
    assertRefused(plain, 426, /WebSocket/, 'plain GET');
  });

  test('a client_id with control characters cannot forge a log line', T(), async () => {
    const forged = 'error rtm: FORGED-BY-CLIENT';
    const client = `evil\n2026-01-01T00:00:00.000Z ${forged}\r\u001b[2K`;
    const c = await connect(d, { jwt: signJwt(acme.jwt_secret, { cid: 'acme', client_id: client, exp: Math.floor(Date.now() / 1000) + 600 }) });
    await c.start({ client_id: client });
    await waitUntil(() => d.stderr.includes('client=evil\\x0a'), { what: 'the session line in the log' });
    const lines = d.stderr.split('\n');
    assert.ok(!lines.some((l) => l.includes(forged) && !l.includes('client=evil\\x0a')),
      `the client_id started a line of its own:\n${lines.filter((l) => l.includes(forged)).join('\n')}`);
    assert.ok(lines.some((l) => l.includes(`client=evil\\x0a2026-01-01T00:00:00.000Z ${forged}\\x0d\\x1b[2K`)), 'escaped as \\xNN');
    assert.ok(!d.stderr.includes('\r') && !d.stderr.includes('\u001b'), 'no raw CR or ESC in the log');
  });

  test('envelope errors keep the socket and the session; binary and oversized frames too', T(), async () => {
    const c = await as(d, 'agent-env');
    const sid = await c.start();
    await c.refused('{not json', 'INVALID_JSON', '');
    await c.refused('[1, 2]', 'INVALID_MESSAGE', '');
    await c.refused({ client_id: 'agent-env', data: {} }, 'INVALID_MESSAGE', '');
    await c.refused({ type: 7 }, 'INVALID_MESSAGE', '');
    await c.refused({ type: 'no_such_type' }, 'UNKNOWN_TYPE', 'no_such_type');
    await c.refused({ type: 'recording_start', data: 'x' }, 'INVALID_MESSAGE', 'recording_start');
    await c.refused({ type: 'session_start', data: {} }, 'INVALID_MESSAGE', 'session_start');
    await c.refused({ type: 'session_start', data: { sdp: { type: 'answer', sdp: OFFER } } }, 'INVALID_MESSAGE', 'session_start');
    await c.refused({ type: 'session_start', data: offer() }, 'INVALID_STATE', 'session_start');
    await c.refused({ type: 'sdp_update', data: { sdp: { type: 'answer', sdp: OFFER } } }, 'INVALID_STATE', 'sdp_update');
    await c.refused({ type: 'sdp_update', data: offer('v=0\r\nnot an offer\r\n') }, 'INVALID_SDP', 'sdp_update');
    await c.refused({ type: 'candidate', data: { candidate: { candidate: 'bogus' } } }, 'INVALID_MESSAGE', 'candidate');
    await c.refused(Buffer.from([0x7b, 0x7d]), 'INVALID_MESSAGE', '', { binary: true });
    const padded = (kib) => JSON.stringify({ type: 'ping', data: { pad: 'x'.repeat(kib * 1024) } });
    await c.refused(padded(300), 'MESSAGE_TOO_LARGE', '');
    c.ws.send(padded(200)); // under the 256 KiB limit: an ordinary ping
    assert.equal((await c.next('pong')).type, 'pong');
    // Past the 1 MiB the WebSocket layer buffers: discarded as it streams in, still an
    // error and an open socket, whether one frame or fragments.
    await c.refused(padded(3 * 1024), 'MESSAGE_TOO_LARGE', '');
    const big = padded(1536);
    c.ws.send(big.slice(0, 600 * 1024), { fin: false });
    c.ws.send(big.slice(600 * 1024, 1200 * 1024), { fin: false });
    await c.refused(big.slice(1200 * 1024), 'MESSAGE_TOO_LARGE', '', { fin: true });
    await c.pong(sid);
    c.send('candidate', { candidate: { candidate: 'candidate:1 1 udp 2122194687 192.0.2.9 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
    c.send('candidate', { candidate: { candidate: '', sdpMid: '0' } }); // end of candidates
    await c.pong(sid); // no error came for the two good candidates, and the session is still there
    c.send('sdp_update', offer()); // renegotiation: a new answer, same session
    const again = await c.next('sdp_update');
    assert.deepEqual([again.type, again.session_id, again.data.sdp.type], ['sdp_update', sid, 'answer']);
    assert.deepEqual(c.msgs.filter((m) => m.type === 'session_state').map((m) => m.data.state), ['SETUP']);
    assert.equal(c.closeCode, undefined, 'socket still open');
  });

  test('one live session per client: TWO_TIMER for the second, allowed after the first ends', T(), async () => {
    const first = await as(d, 'agent-two');
    const sid = await first.start();
    assert.equal(first.msgs[0].client_id, 'agent-two');
    const second = await as(d, 'agent-two');
    second.send('session_start', offer());
    const term = await second.ended('TWO_TIMER');
    assert.match(term.session_id, UUID);
    assert.notEqual(term.session_id, sid);
    assert.equal(second.msgs.length, 2, 'no SETUP, no answer for the refused session');
    await first.pong(sid);
    await second.pong(null); // the socket stays, without a session
    first.send('session_stop');
    await first.ended('TERM_BY_CLIENT');
    await first.pong(null);
    const sid2 = await second.start();
    assert.notEqual(sid2, sid);
    const bad = await as(d, 'agent-sdp'); // an unusable offer ends with SDP_ERROR
    bad.send('session_start', offer('v=0\r\nhello\r\n'));
    assert.equal((await bad.next()).data.state, 'SETUP');
    await bad.ended('SDP_ERROR');
  });

  test('ids: the JWT fixes client_id; a foreign client_id or session_id is ID_MISMATCH', T(), async () => {
    const c = await as(d, 'agent-id');
    await c.refused({ type: 'session_start', client_id: 'someone-else', data: offer() }, 'ID_MISMATCH', 'session_start');
    const sid = await c.start(); // nothing was created by the refused start
    assert.equal(c.msgs.at(-1).client_id, 'agent-id');
    await c.refused({ type: 'ping', session_id: crypto.randomUUID() }, 'ID_MISMATCH', 'ping');
    await c.refused({ type: 'recording_stop', session_id: crypto.randomUUID() }, 'ID_MISMATCH', 'recording_stop');
    await c.refused({ type: 'session_stop', client_id: 'agent-x', session_id: sid }, 'ID_MISMATCH', 'session_stop');
    c.send('ping', undefined, { client_id: 'agent-id', session_id: sid });
    assert.equal((await c.next()).type, 'pong');

    // An API key names no client: the first message does, and later ones must agree.
    const key = await ctl(d, 'key', 'add', '--account', 'acme', '--origin', 'https://app.example.com');
    const k = await connect(d, { query: `?api_key=${key}`, origin: 'https://app.example.com' });
    await k.refused({ type: 'session_start', data: offer() }, 'INVALID_MESSAGE', 'session_start');
    await k.start({ client_id: 'agent-key' });
    assert.equal(k.msgs.at(-1).client_id, 'agent-key');
    await k.refused({ type: 'ping', client_id: 'agent-key2' }, 'ID_MISMATCH', 'ping');
    await k.refused({ type: 'session_start', client_id: 'agent-bad', data: offer() }, 'ID_MISMATCH', 'session_start');
    const u = await as(d, 'agent-uuid');
    await u.refused({ type: 'session_start', session_id: 'not-a-uuid', data: offer() }, 'INVALID_MESSAGE', 'session_start');
  });

  // tests/tools/supervisor_probe.c: real ICE + DTLS + SRTP peers. The supervisor's DTLS
  // comes 1.5 s after its join and it never sends a PLI; the agent sends a keyframe only
  // when asked. The keyframe asked for at the join goes out while the supervisor cannot
  // receive it, so the server must keep asking until one has actually been sent to it.
  test('a supervisor whose DTLS comes late still gets a keyframe without asking', T(30000), async () => {
    const probe = path.join(BIN_DIR, 'bench', 'supervisor_probe');
    assert.ok(existsSync(probe), `${probe} is built with the benchmarks`);
    const [agentJwt, supJwt] = [await mint(d, 'acme', 'agent-late'), await mint(d, 'acme', 'sup-late')];
    const r = await new Promise((resolve) => {
      execFile(probe, [String(d.port), agentJwt, supJwt], { timeout: 25000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
    });
    assert.equal(r.code, 0, `supervisor_probe failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /keyframe ok/);
  });

  test('a JWT that expires during a session ends it: AUTH_EXPIRED, session_finished, socket closed', T(20000), async () => {
    // exp is whole seconds: --ttl 3 expires 2 to 3 s from now.
    const [c, idle] = await Promise.all([as(d, 'agent-exp', 'acme', '--ttl', '3'), as(d, 'agent-exp-idle', 'acme', '--ttl', '3')]);
    const t0 = Date.now();
    const sid = await c.start({}, { webhook_url: `${sink.url}/hooks/agent-exp` });
    await c.ended('AUTH_EXPIRED', 8000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1000, `ended after ${elapsed} ms, before the JWT expired`);
    assert.equal(await withTimeout(c.closed, 5000 * SLOW, 'open'), 1008, 'the socket of an expired JWT is closed');
    const e = await waitUntil(() => sink.log.find((x) => x.url === '/hooks/agent-exp'), { what: 'session_finished webhook' });
    const body = JSON.parse(e.body);
    assert.deepEqual([body.status, body.session_id, body.state, body.termination_cause],
      ['session_finished', sid, 'TERMINATED', 'AUTH_EXPIRED']);
    // A socket opened with the JWT while it was good starts nothing once it has expired.
    const m = await idle.refused({ type: 'session_start', data: offer() }, 'NOT_ALLOWED', 'session_start');
    assert.match(m.data.message, /expired/);
  });

  test('API key scopes: no supervising unless granted, client ids only under the key\'s prefix', T(), async () => {
    // Node is not a browser: it sends whatever Origin it likes. The key's scopes are what holds.
    const origin = 'https://app.example.com';
    const agent = await as(d, 'scope-agent');
    await agent.start();
    const plain = await ctl(d, 'key', 'add', '--account', 'acme', '--origin', origin);
    const p = await connect(d, { query: `?api_key=${plain}`, origin });
    const m = await p.refused({ type: 'supervisor_join_session', client_id: 'spy', data: { ...offer(), session_id_to_monitor: agent.sid } },
      'NOT_ALLOWED', 'supervisor_join_session');
    assert.match(m.data.message, /supervise/);
    await p.start({ client_id: 'spy' }); // its own session is fine

    const scoped = await ctl(d, 'key', 'add', '--account', 'acme', '--origin', origin, '--supervise', '--client-prefix', 'web-');
    const list = await ctl(d, 'key', 'list', '--account', 'acme');
    assert.match(list, new RegExp(`^${scoped.slice(0, 8)}\\.\\.\\. +acme +recording supervise client-prefix=web- ${origin}$`, 'm'), list);
    assert.match(list, new RegExp(`^${plain.slice(0, 8)}\\.\\.\\. +acme +recording no-supervise any-client-id ${origin}$`, 'm'), list);
    const s = await connect(d, { query: `?api_key=${scoped}`, origin });
    // scope-agent is another client's id: taking it over (TWO_TIMER for one of them) is refused
    await s.refused({ type: 'session_start', client_id: 'scope-agent', data: offer() }, 'NOT_ALLOWED', 'session_start');
    await s.refused({ type: 'supervisor_join_session', client_id: 'boss', data: { ...offer(), session_id_to_monitor: agent.sid } },
      'NOT_ALLOWED', 'supervisor_join_session');
    await s.start({ client_id: 'web-sup' }, { session_id_to_monitor: agent.sid }, 'supervisor_join_session');
    await agent.pong(); // the agent's session lives on
    const reserve = (client_id) => rawRequest(d.port, 'POST', `/api/rtm/v1/session?api_key=${scoped}`, {
      headers: { 'Content-Type': 'application/json', Origin: origin }, body: JSON.stringify({ client_id }) });
    assert.equal((await reserve('scope-agent')).status, 403);
    assert.equal((await reserve('web-2')).status, 201);
  });

  test('supervisors: unknown session, three at most, other accounts, AGENT_SESSION_TERM', T(30000), async () => {
    const lost = await as(d, 'sup-lost');
    lost.send('supervisor_join_session', { ...offer(), session_id_to_monitor: crypto.randomUUID() });
    await lost.ended('NO_ACTIVE_AGENT');

    const agent = await as(d, 'agent-sup');
    const sid = await agent.start();
    const sups = [];
    for (let i = 1; i <= 3; i++) {
      const s = await as(d, `sup-${i}`);
      const hook = i === 1 ? { webhook_url: `${sink.url}/hooks/sup-1` } : {};
      await s.start({}, { session_id_to_monitor: sid, ...hook }, 'supervisor_join_session');
      assert.notEqual(s.sid, sid);
      sups.push(s);
    }
    await sups[0].refused({ type: 'recording_start', data: { upload_url: `${sink.url}/up/sup` } }, 'NOT_ALLOWED', 'recording_start');
    const fourth = await as(d, 'sup-4');
    fourth.send('supervisor_join_session', { ...offer(), session_id_to_monitor: sid });
    await fourth.ended('MAX_SUPERVISORS_PER_AGENT');
    const foreign = await as(d, 'sup-foreign', 'other');
    foreign.send('supervisor_join_session', { ...offer(), session_id_to_monitor: sid });
    await foreign.ended('NO_ACTIVE_AGENT');
    const ofSup = await as(d, 'sup-of-sup');
    ofSup.send('supervisor_join_session', { ...offer(), session_id_to_monitor: sups[1].sid });
    await ofSup.ended('NO_ACTIVE_AGENT');

    sups[2].close(1000); // a supervisor leaving frees its place
    await sups[2].closed;
    const fifth = await as(d, 'sup-5');
    await fifth.start({}, { session_id_to_monitor: sid }, 'supervisor_join_session');

    agent.send('session_stop');
    await agent.ended('TERM_BY_CLIENT');
    for (const s of [sups[0], sups[1], fifth]) await s.ended('AGENT_SESSION_TERM');
    const hook = await waitUntil(() => sink.log.find((e) => e.url === '/hooks/sup-1'), { what: 'supervisor webhook' });
    const body = JSON.parse(hook.body);
    assert.deepEqual([body.status, body.session_id, body.client_id, body.termination_cause],
      ['supervisor_session_finished', sups[0].sid, 'sup-1', 'AGENT_SESSION_TERM']);
  });

  test('clean close, going-away close and a lost socket: session_finished webhooks, signed', T(30000), async () => {
    sink.setSecret(acme.webhook_secret);
    const cases = [['wh-clean', (c) => c.close(1000), 'TERM_BY_CLIENT'], ['wh-away', (c) => c.close(1001), 'TERM_BY_CLIENT'],
      ['wh-lost', (c) => c.ws.terminate(), 'CONN_ERROR']];
    for (const [client, end, cause] of cases) {
      const c = await as(d, client);
      const t0 = Date.now();
      const sid = await c.start({}, { webhook_url: `${sink.url}/hooks/${client}` });
      end(c);
      await c.closed;
      const t1 = Date.now();
      const e = await waitUntil(() => sink.log.find((x) => x.url === `/hooks/${client}`), { what: `webhook for ${client}` });
      assert.equal(e.method, 'POST');
      assert.match(e.headers['content-type'], /^application\/json/);
      assert.ok(e.headers['webhook-id'] && /^\d+$/.test(e.headers['webhook-timestamp']), 'webhook-id and -timestamp');
      assert.equal(e.signature_ok, true, `signature of ${client}'s webhook`);
      // A receiver with the stock Standard Webhooks library and the secret parleyctl printed.
      assert.match(acme.webhook_secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      const verified = new Webhook(acme.webhook_secret).verify(e.body, e.headers);
      assert.equal(verified.session_id, sid, 'standardwebhooks verified and parsed the body');
      assert.throws(() => new Webhook(acme.webhook_secret).verify(`${e.body} `, e.headers), /signature/i);
      const body = JSON.parse(e.body);
      assert.deepEqual(Object.keys(body).sort(),
        ['client_id', 'session_id', 'started_at', 'state', 'status', 'stopped_at', 'termination_cause']);
      assert.deepEqual([body.status, body.session_id, body.client_id, body.state, body.termination_cause],
        ['session_finished', sid, client, 'TERMINATED', cause]);
      assert.match(body.started_at, ISO);
      assert.match(body.stopped_at, ISO);
      const [started, stopped] = [Date.parse(body.started_at), Date.parse(body.stopped_at)];
      assert.ok(started >= t0 - 1000 && started <= stopped && stopped <= Date.now() + 1000, `${body.started_at}..${body.stopped_at}`);
      assert.ok(stopped >= t1 - 1000, 'stopped when the socket went');
    }
  });

  test('session_start checks its webhook_url like recording_start does', T(), async () => {
    const c = await as(d, 'agent-badhook');
    await c.refused({ type: 'session_start', data: { ...offer(), webhook_url: 'file:///etc/passwd' } }, 'INVALID_URL', 'session_start');
    await c.refused({ type: 'session_start', data: { ...offer(), webhook_url: `http://127.0.0.1:${d.port}/x` } }, 'INVALID_URL', 'session_start');
    // parleyd's own listener spelled as IPv4-mapped IPv6 (checked as an address, not as text)
    for (const host of ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:127.0.0.1]']) {
      await c.refused({ type: 'session_start', data: { ...offer(), webhook_url: `http://${host}:${d.port}/x` } }, 'INVALID_URL', 'session_start');
    }
  });

  test('a webhook_url too long to keep is refused or used whole, never cut short', T(), async () => {
    const c = await as(d, 'agent-longhook');
    const url = `${sink.url}/hooks/long-${'a'.repeat(2100)}`;
    c.send('session_start', { ...offer(), webhook_url: url });
    const m = await c.next();
    if (m.type === 'error') return assert.equal(m.data.code, 'INVALID_URL');
    assert.equal((await c.next()).type, 'sdp_update');
    c.send('session_stop');
    await c.ended('TERM_BY_CLIENT');
    const e = await waitUntil(() => sink.log.find((x) => x.url.startsWith('/hooks/long-')), { what: 'the webhook' });
    const want = url.slice(sink.url.length);
    assert.ok(e.url === want, `webhook POSTed to a path of ${e.url.length} characters, not the ${want.length} given`);
    return undefined;
  });

  test('recording refusals: permission, URLs, one at a time, stop without one', T(), async () => {
    const denied = await as(d, 'rec-denied', 'acme', '--no-recording');
    await denied.start();
    await denied.refused({ type: 'recording_start', data: { upload_url: `${sink.url}/up/x` } }, 'NOT_ALLOWED', 'recording_start');
    const keyNoRec = await ctl(d, 'key', 'add', '--account', 'acme', '--origin', 'https://app.example.com', '--no-recording');
    const k = await connect(d, { query: `?api_key=${keyNoRec}`, origin: 'https://app.example.com' });
    await k.start({ client_id: 'rec-key' });
    await k.refused({ type: 'recording_start', data: { upload_url: `${sink.url}/up/x` } }, 'NOT_ALLOWED', 'recording_start');

    const c = await as(d, 'rec-ok');
    await c.refused({ type: 'recording_start', data: { upload_url: `${sink.url}/up/x` } }, 'INVALID_STATE', 'recording_start');
    await c.start();
    const start = (upload_url, extra = {}) => ({ type: 'recording_start', data: { upload_url, ...extra } });
    await c.refused(start('file:///etc/passwd'), 'INVALID_URL', 'recording_start');
    await c.refused(start(`http://127.0.0.1:${d.port}/api/rtm/v1/session`), 'INVALID_URL', 'recording_start');
    await c.refused(start(`http://localhost:${d.port}/x`), 'INVALID_URL', 'recording_start');
    await c.refused(start(`http://[::ffff:127.0.0.1]:${d.port}/x`), 'INVALID_URL', 'recording_start');
    await c.refused(start(`http://[::ffff:7f00:1]:${d.port}/x`), 'INVALID_URL', 'recording_start');
    await c.refused(start(`http://user:pw@127.0.0.1:${sink.port}/x`), 'INVALID_URL', 'recording_start');
    await c.refused(start(`${sink.url}/up/x`, { webhook_url: 'ftp://127.0.0.1/hook' }), 'INVALID_URL', 'recording_start');
    await c.refused({ type: 'recording_stop' }, 'INVALID_STATE', 'recording_stop');
    c.send('recording_start', { upload_url: `${sink.url}/up/rec-ok.webm` }); // accepted in SETUP: waits for media
    await c.pong();
    await c.refused(start(`${sink.url}/up/again.webm`), 'INVALID_STATE', 'recording_start');
    c.send('recording_stop'); // no media ever came: the recording fails, the session lives on
    const failed = await c.next('recording_state');
    assert.equal(failed.type, 'recording_state');
    assert.equal(failed.data.state, 'FAILED');
    assert.match(failed.data.recording_id, UUID);
    assert.ok(failed.data.reason, 'FAILED has a reason');
    await c.refused({ type: 'recording_stop' }, 'INVALID_STATE', 'recording_stop');
    await c.pong();
  });

  test('POST /api/rtm/v1/session reserves an id that only its client can claim', T(), async () => {
    const jwt = await mint(d, 'acme', 'agent-rest');
    const post = (body, headers = { Authorization: `Bearer ${jwt}` }) => rawRequest(d.port, 'POST', '/api/rtm/v1/session',
      { headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const r = await post({ client_id: 'agent-rest' });
    assert.equal(r.status, 201, r.text);
    assert.match(r.headers['content-type'], /^application\/json/);
    const res = JSON.parse(r.text);
    assert.deepEqual(Object.keys(res).sort(), ['ice_servers', 'session_id', 'ws_endpoint']);
    assert.match(res.session_id, UUID);
    assert.deepEqual(res.ice_servers, []);
    assert.equal(res.ws_endpoint, `ws://127.0.0.1:${d.port}${IO}`);
    const r2 = JSON.parse((await post({})).text); // the JWT's client_id is the default
    assert.notEqual(r2.session_id, res.session_id);

    const none = await post({ client_id: 'agent-rest' }, {});
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.text).status, 'error');
    assert.equal((await post({ client_id: 'someone-else' })).status, 403);
    assert.equal((await rawRequest(d.port, 'GET', '/api/rtm/v1/session')).status, 405);

    const sup = await as(d, 'sup-rest'); // a reservation is not a live agent
    sup.send('supervisor_join_session', { ...offer(), session_id_to_monitor: res.session_id });
    await sup.ended('NO_ACTIVE_AGENT');
    const intruder = await as(d, 'agent-intruder');
    await intruder.refused({ type: 'session_start', session_id: res.session_id, data: offer() }, 'INVALID_STATE', 'session_start');
    const foreign = await as(d, 'agent-rest', 'other');
    await foreign.refused({ type: 'session_start', session_id: res.session_id, data: offer() }, 'INVALID_STATE', 'session_start');
    const owner = await connect(d, { jwt });
    assert.equal(await owner.start({ session_id: res.session_id }), res.session_id);
    await owner.pong(res.session_id);
    const chosen = crypto.randomUUID(); // a client may also choose its own id
    const own = await as(d, 'agent-chooses');
    assert.equal(await own.start({ session_id: chosen }), chosen);
  });
});

describe('RTM reservations are bounded', () => {
  const reserve = (d, jwt) => rawRequest(d.port, 'POST', '/api/rtm/v1/session', {
    headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' }, body: '{}' })
    .then((r) => ({ ...r, body: JSON.parse(r.text) }));
  afterEach(closeAll);

  test('a burst of POST /session from one client gets 4 reservations, then 429', T(), async () => {
    const d = await startDaemon(); // the default --rtm-max-reservations-client 4
    try {
      await addAccount(d, 'acme');
      const jwt = await mint(d, 'acme', 'agent-burst');
      const all = await Promise.all(Array.from({ length: 200 }, () => reserve(d, jwt)));
      const ok = all.filter((r) => r.status === 201);
      assert.equal(ok.length, 4, `reservations granted: ${ok.length}`);
      for (const r of all.filter((x) => x.status !== 201)) {
        assertRefused(r, 429, /client already holds 4 unclaimed session reservations/, 'burst');
      }
    } finally {
      await d.stop();
    }
  });

  test('per client and per account limits; a claimed reservation frees its place', T(), async () => {
    const d = await startDaemon({ args: ['--rtm-max-reservations-client', '2', '--rtm-max-reservations-account', '3'] });
    try {
      await addAccount(d, 'acme');
      await addAccount(d, 'other');
      const a = await mint(d, 'acme', 'agent-a');
      const b = await mint(d, 'acme', 'agent-b');
      const first = await reserve(d, a);
      assert.equal(first.status, 201, first.text);
      assert.equal((await reserve(d, a)).status, 201);
      assertRefused(await reserve(d, a), 429, /client already holds 2/, 'client limit');
      assert.equal((await reserve(d, b)).status, 201);
      assertRefused(await reserve(d, b), 429, /account already holds 3/, 'account limit');
      assert.equal((await reserve(d, await mint(d, 'other', 'agent-a'))).status, 201, 'another account is not held back');
      const owner = await connect(d, { jwt: a });
      assert.equal(await owner.start({ session_id: first.body.session_id }), first.body.session_id);
      assert.equal((await reserve(d, a)).status, 201, 'claiming a reservation frees its place');
    } finally {
      closeAll();
      await d.stop();
    }
  });
});

describe('RTM timers', () => {
  let d;
  before(async () => {
    d = await startDaemon({ args: ['--rtm-ping-timeout', '2', '--rtm-setup-timeout', '5'] });
    await addAccount(d, 'acme');
  });
  afterEach(closeAll);
  after(async () => { closeAll(); await d?.stop(); });

  test('no ping: CONN_ERROR, and the server closes the socket after TERMINATED', T(), async () => {
    const quiet = await as(d, 'agent-quiet');
    const t0 = Date.now();
    await quiet.start();
    assert.equal(await withTimeout(quiet.closed, 6000 * SLOW, 'open'), 1001, 'server closes the socket (going away)');
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1900, `closed after ${elapsed} ms, not before the 2 s ping timeout`);
    await quiet.ended('CONN_ERROR'); // both states arrived before the close
  });

  test('SETUP that never connects: PEERCONN_FAILED; the socket stays', T(), async () => {
    const c = await as(d, 'agent-pinging');
    const t0 = Date.now();
    await c.start();
    const timer = setInterval(() => c.send('ping'), 500);
    try {
      const shut = await c.untilState('SHUTDOWN', 10000);
      assert.equal(shut.data.termination_cause, 'PEERCONN_FAILED');
      assert.ok(Date.now() - t0 >= 4900, 'not before the 5 s setup timeout');
      assert.equal((await c.untilState('TERMINATED')).data.termination_cause, 'PEERCONN_FAILED');
    } finally {
      clearInterval(timer);
    }
    await sleep(200);
    assert.equal(c.closeCode, undefined, 'the socket outlives a failed peer connection');
  });
});

describe('RTM --rtm-max-duration', () => {
  let d;
  before(async () => {
    d = await startDaemon({ args: ['--rtm-max-duration', '2'] });
    await addAccount(d, 'acme');
  });
  afterEach(closeAll);
  after(async () => { closeAll(); await d?.stop(); });

  test('a session ends with MAX_DURATION after the configured time', T(), async () => {
    const c = await as(d, 'agent-long');
    const t0 = Date.now();
    await c.start();
    const timer = setInterval(() => c.send('ping'), 500);
    try {
      assert.equal((await c.untilState('SHUTDOWN', 8000)).data.termination_cause, 'MAX_DURATION');
      assert.ok(Date.now() - t0 >= 1900, 'not before 2 s');
    } finally {
      clearInterval(timer);
    }
  });
});

describe('RTM --upload-allow', () => {
  let d;
  before(async () => {
    d = await startDaemon({ args: ['--upload-allow', 'example.org,localhost'] });
    await addAccount(d, 'acme');
  });
  afterEach(closeAll);
  after(async () => { closeAll(); await d?.stop(); });

  test('an upload host off the list is INVALID_URL; one on it is accepted', T(), async () => {
    const c = await as(d, 'agent-allow');
    await c.start();
    const m = await c.refused({ type: 'recording_start', data: { upload_url: `${sink.url}/up/x` } }, 'INVALID_URL', 'recording_start');
    assert.match(m.data.message, /allow-list/);
    await c.refused({ type: 'recording_start', data: { upload_url: 'http://sub.example.org/x' } }, 'INVALID_URL', 'recording_start');
    c.send('recording_start', { upload_url: `http://localhost:${sink.port}/up/allowed.webm` });
    await c.pong(); // no error in between
  });
});

/**
 * Traces fsync and fdatasync in every thread of the daemon while fn runs; returns
 * [calls on the control loop's thread (its tid is the pid), calls on other threads].
 */
async function fsyncsDuring(d, fn) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-strace-'));
  const out = path.join(dir, 'trace');
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', out, '-p', String(d.pid)]);
  const exited = new Promise((r) => strace.on('exit', r));
  try {
    // Attached once the kernel names a tracer for the daemon's main thread.
    await waitUntil(() => /TracerPid:\s*[1-9]/.test(readFileSync(`/proc/${d.pid}/status`, 'utf8')),
      { what: 'strace attached', timeout: 5000 * SLOW });
    await fn();
  } finally {
    strace.kill('SIGINT');
    await exited;
  }
  const calls = readFileSync(out, 'utf8').split('\n').filter((l) => /^\d+\s+f(data)?sync\(/.test(l));
  rmSync(dir, { recursive: true, force: true });
  const main = calls.filter((l) => Number(l.split(/\s/)[0]) === d.pid);
  return [main.length, calls.length - main.length];
}

describe('RTM journal writes and --store-sync', () => {
  /* A session whose webhook is journaled, sent and deleted: three commits. */
  async function webhookRoundTrip(d, client) {
    const c = await as(d, client);
    await c.start({}, { webhook_url: `${sink.url}/hooks/${client}` });
    c.close(1000);
    await c.closed;
    await waitUntil(() => sink.log.find((x) => x.url === `/hooks/${client}`), { what: `webhook for ${client}` });
  }

  test('by default no commit fsyncs on the control loop; a checkpoint on the threadpool does', T(30000), async () => {
    const d = await startDaemon({ args: ['--store-sync', '300'] });
    try {
      await addAccount(d, 'acme');
      const [onLoop, elsewhere] = await fsyncsDuring(d, async () => {
        // Twice: the second round's commits go into the log the first checkpoint
        // restarted, so a restart left to the control loop would show.
        for (const client of ['journal-bg-1', 'journal-bg-2']) {
          const before = (await d.metrics()).parley_store_checkpoints_total;
          await webhookRoundTrip(d, client);
          await waitUntil(async () => (await d.metrics()).parley_store_checkpoints_total > before,
            { what: 'a background checkpoint', timeout: 5000 * SLOW });
          await sleep(700);
        }
      });
      assert.equal(onLoop, 0, 'fsyncs on the control loop');
      assert.ok(elsewhere >= 1, `the checkpoint syncs the log (${elsewhere} fsyncs off the loop)`);
      assert.equal((await d.metrics()).parley_store_checkpoint_failures_total, 0);
    } finally {
      closeAll();
      await d.stop();
    }
  });

  test('--store-sync 0: every commit fsyncs on the control loop, as SQLite does alone', T(30000), async () => {
    const d = await startDaemon({ args: ['--store-sync', '0'] });
    try {
      await addAccount(d, 'acme');
      const [onLoop] = await fsyncsDuring(d, () => webhookRoundTrip(d, 'journal-fg'));
      assert.ok(onLoop >= 1, `commits fsync on the loop (${onLoop})`);
    } finally {
      closeAll();
      await d.stop();
    }
  });
});

describe('RTM destinations by default (--allow-private-destinations 0)', () => {
  let d;
  before(async () => {
    d = await startDaemon({ args: ['--allow-private-destinations', '0'] });
    await addAccount(d, 'acme');
  });
  afterEach(closeAll);
  after(async () => { closeAll(); await d?.stop(); });

  test('private addresses are INVALID_URL; a name resolving to loopback is refused when sent', T(20000), async () => {
    const c = await as(d, 'agent-private');
    const cases = [[`http://127.0.0.1:${sink.port}/x`, /127\.0\.0\.1 is a loopback address/],
      ['http://[::1]:9/x', /loopback/], ['http://0.0.0.0:9/x', /unspecified/],
      ['http://10.1.2.3/x', /private/], ['http://172.20.0.1/x', /private/], ['http://192.168.1.1/x', /private/],
      ['http://100.64.0.1/x', /CGNAT/], ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://[fe80::1]/x', /link-local/], ['http://[fd00::1]/x', /unique-local/],
      ['http://[::ffff:10.1.2.3]/x', /private/], ['http://[::ffff:127.0.0.1]:9/x', /loopback/]];
    for (const [url, why] of cases) {
      const m = await c.refused({ type: 'session_start', data: { ...offer(), webhook_url: url } }, 'INVALID_URL', 'session_start');
      assert.match(m.data.message, why, url);
      assert.match(m.data.message, /allow-private-destinations/, url);
    }
    // "localhost" is a name: accepted here (no DNS on the event loop), refused when curl has
    // resolved it and is about to connect, for good and with the reason in the log.
    await c.start({}, { webhook_url: `http://localhost:${sink.port}/hooks/by-name` });
    const m = await c.refused({ type: 'recording_start', data: { upload_url: `${sink.url}/up/x` } }, 'INVALID_URL', 'recording_start');
    assert.match(m.data.message, /upload_url: 127\.0\.0\.1 is a loopback address/);
    c.send('session_stop');
    await c.ended('TERM_BY_CLIENT');
    await waitUntil(() => /webhook \S+ to http:\/\/localhost:\d+\/hooks\/by-name failed for good: (127\.0\.0\.1|::1) is a loopback address, refused/.test(d.stderr),
      { what: 'the refused webhook in the log' });
    assert.equal(sink.log.find((x) => x.url === '/hooks/by-name'), undefined, 'nothing reached the sink');
  });
});

describe('RTM on SIGTERM', () => {
  test('live sessions end with SERVICE_SHUTDOWN and parleyd exits 0', T(30000), async () => {
    const d = await startDaemon();
    await addAccount(d, 'acme');
    const agents = [await as(d, 'agent-s1'), await as(d, 'agent-s2')];
    for (const a of agents) await a.start();
    const sup = await as(d, 'sup-s');
    await sup.start({}, { session_id_to_monitor: agents[0].sid }, 'supervisor_join_session');
    const reserved = await rawRequest(d.port, 'POST', '/api/rtm/v1/session', {
      headers: { Authorization: `Bearer ${await mint(d, 'acme', 'agent-s3')}`, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(reserved.status, 201);
    await d.stop(); // asserts exit code 0 and no sanitizer report
    for (const a of agents) {
      await withTimeout(a.closed, 5000 * SLOW);
      await a.ended('SERVICE_SHUTDOWN');
    }
    await withTimeout(sup.closed, 5000 * SLOW);
    const causes = sup.msgs.slice(2).map((m) => [m.data.state, m.data.termination_cause]);
    // The agent may be ended first (AGENT_SESSION_TERM for its supervisor) or the supervisor first.
    assert.ok(['SERVICE_SHUTDOWN', 'AGENT_SESSION_TERM'].includes(causes[0]?.[1]), JSON.stringify(causes));
    assert.deepEqual(causes, [['SHUTDOWN', causes[0][1]], ['TERMINATED', causes[0][1]]]);
    live.clear();
  });
});
