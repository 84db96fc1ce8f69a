// turn.test.mjs — TURN and STUN servers in what clients get: the token result's `turn`,
// `stun` and `use_relay_candidates_only` (checked by @pexip/infinity-api's validators on
// every reply), credentials that expire after --turn-ttl and verify as coturn checks them
// (base64 HMAC-SHA1 of "<expiry>:<participant uuid>" with the shared secret), relay-only
// rooms set with parleyctl, RTM's ice_servers, and the start-up refusals of bad options.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, rawRequest, parleyctl, PARLEYD, SANITIZER_ENV, T, waitUntil } from './helpers.mjs';

const SECRET = 'turn-secret-for-tests-0123456789';
const TURN = ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:443?transport=tcp'];
const STUN = 'stun:stun.example.com:3478';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/* What coturn computes for use-auth-secret: base64(HMAC-SHA1(secret, username)). */
const coturnPassword = (secret, user) => crypto.createHmac('sha1', secret).update(user).digest('base64');

/* The one TURN entry for id: urls, a username expiring ttl seconds from now, a password
 * that verifies with SECRET. */
function assertTurn(turn, id, ttl) {
  assert.equal(turn.length, 1, JSON.stringify(turn));
  const [t] = turn;
  assert.deepEqual(Object.keys(t).sort(), ['credential', 'urls', 'username']);
  assert.deepEqual(t.urls, TURN);
  const [expiry, who, ...rest] = t.username.split(':');
  assert.deepEqual(rest, [], 'one ":" in the username');
  assert.equal(who, id);
  const left = Number(expiry) - Date.now() / 1000;
  assert.ok(left > ttl - 10 && left <= ttl + 1, `expires in ${left} s, want ${ttl}`);
  assert.equal(t.credential, coturnPassword(SECRET, t.username));
  assert.notEqual(t.credential, coturnPassword('some other secret', t.username));
}

/* Runs parleyd with args until it exits (it should, at once); {code, stderr}. */
function runParleyd(args) {
  return new Promise((resolve) => {
    execFile(PARLEYD, ['--http', '127.0.0.1:0', '--media-port', '0', ...args],
      { env: { ...process.env, ...SANITIZER_ENV }, timeout: 10000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
  });
}

describe('with --turn-url, --turn-secret and --stun-url', () => {
  let d;
  const ttl = 3600;
  before(async () => {
    d = await startDaemon({
      rooms: ['open', { alias: 'strict', relayOnly: true }],
      args: ['--turn-url', TURN.join(','), '--turn-secret', SECRET, '--turn-ttl', String(ttl),
        '--stun-url', STUN, '--log-level', 'debug'],
    });
  });
  after(async () => { await d?.stop(); });

  test('request_token carries turn and stun; relay-only follows the room', T(), async () => {
    const a = await d.join('open', { name: 'A' });
    assertTurn(a.result.turn, a.uuid, ttl);
    assert.deepEqual(a.result.stun, [{ url: STUN }]);
    assert.equal(a.result.use_relay_candidates_only, false);
    const b = await d.join('strict', { name: 'B' });
    assertTurn(b.result.turn, b.uuid, ttl);
    assert.equal(b.result.use_relay_candidates_only, true);
    assert.notEqual(a.result.turn[0].credential, b.result.turn[0].credential, 'one user each');
    // refresh_token's result has no turn (the schema allows none): the client keeps the
    // join's servers, which is why --turn-ttl must outlast a call.
    const r = await a.refresh();
    assert.deepEqual(Object.keys(r).sort(), ['expires', 'role', 'token']);
  });

  test('parleyctl room set --relay-only reaches the next join; list and show say so', T(), async () => {
    let r = await d.ctl('room', 'set', 'open', '--relay-only');
    assert.equal(r.code, 0, r.stderr);
    await waitUntil(async () => (await d.join('open')).result.use_relay_candidates_only === true,
      { timeout: 5000, what: 'relay-only after room set' });
    r = await d.ctl('room', 'show', 'open');
    assert.equal(JSON.parse(r.stdout).relay_only, true);
    r = await d.ctl('room', 'list');
    assert.match(r.stdout, /^open\s+open\s+relay-only$/m);
    assert.match(r.stdout, /^strict\s+strict\s+relay-only$/m);
    r = await d.ctl('room', 'set', 'open', '--no-relay-only');
    assert.equal(r.code, 0, r.stderr);
    r = await d.ctl('room', 'list', '--json');
    assert.deepEqual(JSON.parse(r.stdout).map((x) => [x.aliases[0], x.relay_only]),
      [['open', false], ['strict', true]]);
    await waitUntil(async () => (await d.join('open')).result.use_relay_candidates_only === false,
      { timeout: 5000, what: 'not relay-only after room set --no-relay-only' });
    for (const bad of [['set', 'nope', '--relay-only'], ['set', 'open'], ['set', 'open', '--bogus']]) {
      r = await d.ctl('room', ...bad);
      assert.notEqual(r.code, 0, bad.join(' '));
      assert.ok(r.stderr.length > 10, r.stderr);
    }
  });

  test('RTM POST /api/rtm/v1/session gives the same servers as RTCIceServers', T(), async () => {
    let r = await d.ctl('account', 'add', '--cid', 'acme', '--json');
    assert.equal(r.code, 0, r.stderr);
    r = await d.ctl('jwt', '--account', 'acme', '--client-id', 'agent');
    const jwt = r.stdout.trim();
    const res = await rawRequest(d.port, 'POST', '/api/rtm/v1/session', {
      headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'agent' }) });
    assert.equal(res.status, 201, res.text);
    const { session_id: sid, ice_servers: ice } = JSON.parse(res.text);
    assert.match(sid, UUID);
    assert.equal(ice.length, 2, res.text);
    assert.deepEqual(ice[0], { urls: [STUN] });
    assertTurn([ice[1]], sid, ttl);
  });

  test('neither the secret nor a credential is logged', T(), async () => {
    const p = await d.join('open', { name: 'Logged' });
    await p.release();
    assert.ok(d.stderr.length > 200, 'debug logging is on');
    assert.ok(!d.stderr.includes(SECRET), 'secret in the log');
    assert.ok(!d.stderr.includes(p.result.turn[0].credential), 'credential in the log');
  });
});

test('without TURN: no turn or stun keys; a relay-only room warns', T(), async () => {
  const d = await startDaemon({ rooms: ['open', { alias: 'strict', relayOnly: true }] });
  try {
    const a = await d.join('open');
    assert.equal('turn' in a.result || 'stun' in a.result, false);
    assert.equal(a.result.use_relay_candidates_only, false);
    const b = await d.join('strict');
    assert.equal(b.result.use_relay_candidates_only, true);
    await waitUntil(() => /room strict is relay-only but parleyd has no --turn-url/.test(d.stderr),
      { what: 'the relay-only warning' });
  } finally {
    await d.stop();
  }
});

test('--turn-secret-file: the secret from a file, out of ps', T(), async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-it-turn-'));
  const file = path.join(dir, 'secret');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
  const d = await startDaemon({ rooms: ['open'], args: ['--turn-url', TURN[0], '--turn-url', TURN[1], '--turn-secret-file', file] });
  try {
    const a = await d.join('open');
    assertTurn(a.result.turn, a.uuid, 86400); // the default ttl
    assert.equal('stun' in a.result, false);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad TURN options stop parleyd at start with a clear error', T(), async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-it-turn-'));
  try {
    for (const [args, why] of [
      [['--turn-url', TURN[0]], /--turn-url needs --turn-secret or --turn-secret-file/],
      [['--turn-url', 'http://turn.example.com', '--turn-secret', 's'], /--turn-url: "http:\/\/turn.example.com" is not a turn URL: the scheme must be turn: or turns:/],
      [['--turn-url', 'turn:t.example.com?transport=sctp', '--turn-secret', 's'], /only \?transport=udp or \?transport=tcp/],
      [['--stun-url', 'turn:t.example.com'], /--stun-url: .* the scheme must be stun: or stuns:/],
      [['--turn-secret', 's'], /--turn-secret is set but no --turn-url/],
      [['--turn-url', TURN[0], '--turn-secret-file', path.join(dir, 'missing')], /--turn-secret-file: cannot open/],
    ]) {
      const r = await runParleyd(['--data-dir', dir, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} must fail`);
      assert.match(r.stderr, why);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
