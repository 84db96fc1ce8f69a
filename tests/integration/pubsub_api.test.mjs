// Publish/subscribe WebSocket API without media (docs/PUBSUB.md): join with a key bound to
// origins or an account's JWT, tenants kept apart, events, data to one and to all with its
// limits, resume within the grace and not after, leave, ping and the idle close, metrics.
// Media (publish, subscribe) is in tests/browser/pubsub.test.mjs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, sleep, SLOW } from './helpers.mjs';
import { RtcClient, signJwt } from './pubsub_client.mjs';

const ORIGIN = 'https://app.example.com';
const IDLE_S = 5 * SLOW; // --rtc-idle-timeout: longer on the ASan build, whose joins are slower
const live = new Set();
async function open(d, opts) {
  const c = await RtcClient.open(d.port, opts);
  live.add(c);
  return c;
}

describe('pub/sub API', () => {
  let d, acme, other, key;
  const jwt = (acc, claims = {}) => signJwt(acc.jwt_secret,
    { cid: acc.cid, sid: '*', exp: Math.floor(Date.now() / 1000) + 600, ...claims });

  before(async () => {
    d = await startDaemon({ args: ['--rtc-resume-timeout', '2', '--rtc-idle-timeout', String(IDLE_S)] });
    const add = async (cid) => {
      const r = await d.ctl('account', 'add', '--cid', cid, '--json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    acme = await add('acme');
    other = await add('other');
    const r = await d.ctl('key', 'add', '--account', 'acme', '--origin', ORIGIN);
    assert.equal(r.code, 0, r.stderr);
    key = r.stdout.trim();
  });
  after(async () => {
    for (const c of live) c.close();
    await d?.stop();
  });

  test('a key joins from its origin only; a JWT is checked', async () => {
    const good = await open(d, { origin: ORIGIN });
    const j = await good.ok('join', { sid: 'k1', key, name: 'Ann' });
    assert.equal(j.cid, 'acme');
    assert.equal(j.sid, 'k1');
    assert.match(j.uid, /^u-/);
    assert.ok(j.session_token.length >= 40);
    assert.deepEqual(j.participants, []);
    assert.deepEqual(j.feeds, []);
    assert.ok(Array.isArray(j.ice_servers));
    await good.fails('join', { sid: 'k1', key }, 'ALREADY_JOINED');

    const foreign = await open(d, { origin: 'https://evil.example.org' });
    await foreign.fails('join', { sid: 'k1', key }, 'FORBIDDEN');
    const none = await open(d);
    await none.fails('join', { sid: 'k1', key }, 'FORBIDDEN');
    // An Origin too long to be one is refused at the upgrade, not taken for none.
    await assert.rejects(open(d, { origin: `https://${'a'.repeat(600)}.example.com` }),
      /upgrade refused: 400/);
    await none.fails('join', { sid: 'k1', key: 'pk_nope' }, 'UNAUTHORIZED');
    await none.fails('data', { payload: 1 }, 'NOT_JOINED');
    await none.fails('join', { sid: 'k1' }, 'UNAUTHORIZED');
    // Forged: acme's claims signed with other's secret.
    await none.fails('join', { sid: 'k1', jwt: signJwt(other.jwt_secret,
      { cid: 'acme', sid: '*', exp: Math.floor(Date.now() / 1000) + 60 }) }, 'UNAUTHORIZED');
    await none.fails('join', { sid: 'k1', jwt: jwt(acme, { exp: 1000 }) }, 'UNAUTHORIZED');
    await none.fails('join', { sid: 'k1', jwt: jwt(acme, { sid: 'k2' }) }, 'FORBIDDEN');
    await none.fails('join', { sid: 'k1', uid: 'bob', jwt: jwt(acme, { uid: 'carl' }) }, 'FORBIDDEN');
    const carl = await none.ok('join', { sid: 'k1', jwt: jwt(acme, { uid: 'carl' }) });
    assert.equal(carl.uid, 'carl', 'the uid claim is used');
    assert.deepEqual(carl.participants, [{ uid: j.uid, name: 'Ann', meta: null }]);
    assert.deepEqual(await good.expect('participant_joined'), { uid: 'carl', name: null, meta: null });
    // What a JWT allows: can_publish false refuses publish, can_subscribe false subscribe.
    const ro = await open(d);
    await ro.ok('join', { sid: 'k1', jwt: jwt(acme, { can_publish: false, can_subscribe: false }) });
    await ro.fails('publish', { sdp: 'v=0', type: 'video', mids: ['0'] }, 'FORBIDDEN');
    await ro.fails('subscribe', { feed_ids: ['f1'] }, 'FORBIDDEN');
    await ro.ok('trickle', { pc: 'pub', candidate: '' });
    good.close();
    none.close();
    ro.close();
  });

  test('account B cannot join or see account A\'s session', async () => {
    const a = await open(d);
    await a.ok('join', { sid: 'shared', uid: 'alice', jwt: jwt(acme) });
    const b = await open(d);
    const jb = await b.ok('join', { sid: 'shared', uid: 'alice', jwt: jwt(other) });
    assert.equal(jb.cid, 'other');
    assert.deepEqual(jb.participants, [], 'other\'s "shared" is another session');
    await b.fails('data', { to: 'alice', payload: 'x' }, 'NOT_FOUND');
    await b.ok('data', { payload: 'to all of other' });
    await a.quiet();
    a.close();
    b.close();
  });

  test('events, data to one and to all, limits', async () => {
    const [a, b, c] = [await open(d), await open(d), await open(d)];
    await a.ok('join', { sid: 'ev', uid: 'a', name: 'A', meta: { role: 'host' }, jwt: jwt(acme) });
    const jb = await b.ok('join', { sid: 'ev', uid: 'b', jwt: jwt(acme) });
    assert.deepEqual(jb.participants, [{ uid: 'a', name: 'A', meta: { role: 'host' } }]);
    assert.deepEqual(await a.expect('participant_joined'), { uid: 'b', name: null, meta: null });
    await c.ok('join', { sid: 'ev', uid: 'c', jwt: jwt(acme) });
    await a.expect('participant_joined');
    await b.expect('participant_joined');
    await c.fails('join', { sid: 'ev', uid: 'c', jwt: jwt(acme) }, 'ALREADY_JOINED');
    const dup = await open(d);
    await dup.fails('join', { sid: 'ev', uid: 'a', jwt: jwt(acme) }, 'ALREADY_JOINED');

    await a.ok('data', { to: 'b', payload: { n: 1, s: 'hi' } });
    assert.deepEqual(await b.expect('data'), { from: 'a', payload: { n: 1, s: 'hi' } });
    await c.quiet(200);
    await b.ok('data', { payload: [1, 2] });
    assert.deepEqual(await a.expect('data'), { from: 'b', payload: [1, 2] });
    assert.deepEqual(await c.expect('data'), { from: 'b', payload: [1, 2] });
    await b.quiet(100);
    await a.fails('data', { to: 'nobody', payload: 1 }, 'NOT_FOUND');
    await a.fails('data', { payload: 'x'.repeat(16 * 1024) }, 'LIMIT');
    await a.fails('publish', { sdp: 'v=0', type: 'tv', mids: ['0'] }, 'BAD_REQUEST');

    // 50 a second: of 60 sent at once, 50 go and 10 are refused.
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => c.raw('data', { to: 'a', payload: i })));
    const refused = replies.filter((r) => !r.ok);
    assert.equal(refused.length, 10, JSON.stringify(refused[0]));
    assert.ok(refused.every((r) => r.err.code === 'LIMIT'));
    for (let i = 0; i < 50; i++) assert.deepEqual(await a.expect('data'), { from: 'c', payload: i });
    await sleep(1100);
    await c.ok('data', { to: 'a', payload: 'again' });
    await a.expect('data');

    // A frame over 64 KiB closes the socket with 1009.
    c.ws.send(JSON.stringify({ id: 99, op: 'data', payload: 'y'.repeat(70 * 1024) }));
    assert.equal(await c.closed, 1009);

    await b.ok('leave');
    assert.equal(await b.closed, 1000);
    assert.deepEqual(await a.expect('participant_left'), { uid: 'b' });
    // c's socket went without a leave: kept for 2 s, then others hear it left.
    assert.deepEqual(await a.expect('participant_left', 6000), { uid: 'c' });
    a.close();
    dup.close();
  });

  test('resume within the grace keeps the participant; past it, NOT_FOUND', async () => {
    const a = await open(d);
    const b = await open(d);
    const ja = await a.ok('join', { sid: 'rs', uid: 'a', jwt: jwt(acme) });
    await b.ok('join', { sid: 'rs', uid: 'b', jwt: jwt(acme) });
    await a.expect('participant_joined');
    a.close();
    await a.closed;
    await sleep(300);
    const a2 = await open(d);
    await a2.fails('resume', { sid: 'rs', uid: 'a', session_token: 'wrong' }, 'NOT_FOUND');
    await a2.fails('resume', { sid: 'other', uid: 'a', session_token: ja.session_token }, 'NOT_FOUND');
    const r = await a2.ok('resume', { sid: 'rs', uid: 'a', session_token: ja.session_token });
    assert.equal(r.uid, 'a');
    assert.deepEqual(r.participants.map((p) => p.uid), ['b']);
    await b.ok('data', { to: 'a', payload: 'welcome back' });
    assert.deepEqual(await a2.expect('data'), { from: 'b', payload: 'welcome back' });
    await sleep(2500);
    await b.ok('ping');
    await b.quiet(10); // resumed: nobody was told anything

    // Resuming while the old socket still looks alive: the old one is closed (1008).
    const a3 = await open(d);
    await a3.ok('resume', { sid: 'rs', uid: 'a', session_token: ja.session_token });
    assert.equal(await a2.closed, 1008);
    a3.close();
    await a3.closed;
    assert.deepEqual(await b.expect('participant_left', 6000), { uid: 'a' });
    const late = await open(d);
    await late.fails('resume', { sid: 'rs', uid: 'a', session_token: ja.session_token }, 'NOT_FOUND');
    b.close();
    late.close();
  });

  test('ping keeps a socket; silence closes it with 1001', async () => {
    const a = await open(d);
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(await a.ok('ping'), {});
      await sleep(1000);
    }
    assert.equal(a.closeCode, undefined, 'pinged every second: still open after 6 s');
    assert.equal(await a.closed, 1001);
    const quiet = Date.now() - t0 - 6000;
    assert.ok(quiet >= IDLE_S * 1000 - 2000, `closed after ${quiet} ms of silence (${IDLE_S} s timeout)`);
  });

  test('a session holds 100 participants', async () => {
    const socks = await Promise.all(Array.from({ length: 100 }, () => open(d)));
    await Promise.all(socks.map((c, i) => c.ok('join', { sid: 'full', uid: `p${i}`, jwt: jwt(acme) })));
    const late = await open(d);
    await late.fails('join', { sid: 'full', uid: 'late', jwt: jwt(acme) }, 'LIMIT');
    await socks[0].ok('leave');
    await late.ok('join', { sid: 'full', uid: 'late', jwt: jwt(acme) });
    await Promise.all(socks.slice(1).map((c) => c.ok('leave')));
    await late.ok('leave');
  });

  test('sessions end when empty; metrics count them', async () => {
    const a = await open(d);
    await a.ok('join', { sid: 'm1', uid: 'a', jwt: jwt(acme) });
    let m = await d.metrics();
    assert.ok(m.parley_pubsub_sessions >= 1, JSON.stringify(m.parley_pubsub_sessions));
    const before = m.parley_pubsub_sessions;
    await a.ok('leave');
    await a.closed;
    m = await d.metrics();
    assert.equal(m.parley_pubsub_sessions, before - 1);
    assert.ok(m.parley_pubsub_joins_total >= 10);
    assert.ok(m.parley_pubsub_data_limited_total >= 10);
  });
});

describe('pub/sub shutdown', () => {
  test('SIGTERM closes joined sockets with 1001 and frees kept participants', async () => {
    const d = await startDaemon();
    const r = await d.ctl('account', 'add', '--cid', 'acme', '--json');
    assert.equal(r.code, 0, r.stderr);
    const acc = JSON.parse(r.stdout);
    const jwt = signJwt(acc.jwt_secret, { cid: 'acme', sid: '*', exp: Math.floor(Date.now() / 1000) + 600 });
    const a = await open(d);
    await a.ok('join', { sid: 'x', uid: 'a', jwt });
    const kept = await open(d);
    await kept.ok('join', { sid: 'x', uid: 'k', jwt });
    kept.close(); // dropped: kept for a resume when the signal comes
    await kept.closed;
    const idle = await open(d); // never joined
    await idle.ok('ping');
    const stopping = d.stop(); // asserts exit 0 and no sanitizer report
    assert.equal(await a.closed, 1001);
    await stopping;
    await idle.closed;
  });
});
