// Token lifecycle (§A): request_token, token passing (header / query), refresh_token,
// release_token, expiry of unrefreshed participants, validity of the previous token.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, sleep, SLOW, waitUntil, assertFailed } from './helpers.mjs';

describe('tokens (default lifetime)', () => {
  let d;
  before(async () => {
    d = await startDaemon({ rooms: ['tok', 'tok-other', { alias: 'tok-named', name: 'Named Room' }] });
  });
  after(async () => { await d?.stop(); });

  test('request_token returns a complete 200 result', T(), async () => {
    const r = await d.api('POST', 'tok', 'request_token', {
      body: { display_name: 'Alice', call_tag: 'tag-42', client_id: 'PexRTC', direct_media: true, supports_direct_chat: true },
    });
    assert.equal(r.status, 200);
    const res = r.body.result;
    assert.equal(r.body.status, 'success');
    assert.equal(typeof res.token, 'string');
    assert.ok(res.token.length >= 16, `token too short: ${res.token}`);
    assert.equal(res.expires, '120', 'default lifetime is the string "120"');
    assert.equal(res.role, 'HOST', 'room without PINs makes everyone HOST');
    assert.equal(res.display_name, 'Alice');
    assert.equal(res.current_service_type, 'conference');
    assert.equal(typeof res.participant_uuid, 'string');
    assert.ok(res.participant_uuid.length > 0);
    assert.equal(typeof res.version, 'object');
    assert.equal(res.call_tag, 'tag-42', 'call_tag is echoed');
    const list = await d.api('GET', 'tok', 'participants', { token: res.token });
    const me = list.body.result.find((p) => p.uuid === res.participant_uuid);
    assert.ok(me, 'new participant is listed');
    assert.equal(me.display_name, 'Alice');
    assert.equal(me.role, 'chair');
    assert.equal(me.call_tag, 'tag-42');
    assert.equal(me.local_alias, 'tok', 'local_alias is the dialled alias');
    assert.equal(me.call_direction, 'in');
    assert.ok(Math.abs(me.start_time - Date.now() / 1000) < 60, `start_time is epoch seconds: ${me.start_time}`);
    assert.equal(me.is_muted, 'NO');
    assert.equal(me.is_presenting, 'NO');
    assert.equal(me.spotlight, 0);
    assert.equal(me.buzz_time, 0);
  });

  test('conference_name reflects the room name', T(), async () => {
    const a = await d.join('tok-named', { name: 'N' });
    if (a.result.conference_name !== undefined) assert.equal(a.result.conference_name, 'Named Room');
    if (a.result.service_name !== undefined) assert.equal(typeof a.result.service_name, 'string');
    await a.release();
  });

  test('each request_token creates a distinct participant and token', T(), async () => {
    const a = await d.join('tok', { name: 'A1' });
    const b = await d.join('tok', { name: 'A1' });
    assert.notEqual(a.uuid, b.uuid);
    assert.notEqual(a.token, b.token);
    const list = await a.participants();
    assert.ok(list.some((p) => p.uuid === a.uuid) && list.some((p) => p.uuid === b.uuid));
    await a.release();
    await b.release();
  });

  test('token is accepted in the header and in the ?token= query on every kind of endpoint', T(), async () => {
    const a = await d.join('tok', { name: 'Q' });
    for (const tokenIn of ['header', 'query']) {
      const st = await d.api('GET', 'tok', 'conference_status', { token: a.token, tokenIn });
      assert.equal(st.status, 200, `conference_status via ${tokenIn}`);
      assert.equal(typeof st.body.result.locked, 'boolean');
      const ps = await d.api('GET', 'tok', 'participants', { token: a.token, tokenIn });
      assert.equal(ps.status, 200, `participants via ${tokenIn}`);
      assert.ok(ps.body.result.some((p) => p.uuid === a.uuid));
      const cm = await d.api('POST', 'tok', `participants/${a.uuid}/client_mute`, { token: a.token, tokenIn });
      assert.equal(cm.status, 200, `client_mute via ${tokenIn}`);
      assert.equal(cm.body.result, true);
      const msg = await d.api('POST', 'tok', 'message', { token: a.token, tokenIn, body: { type: 'text/plain', payload: 'hi' } });
      assert.equal(msg.status, 200, `message via ${tokenIn}`);
      const layouts = await d.api('GET', 'tok', 'available_layouts', { token: a.token, tokenIn });
      assert.equal(layouts.status, 200, `available_layouts via ${tokenIn}`);
    }
    // events: query (browser EventSource) and header (Android)
    const s1 = await d.sse('tok', a.token, { via: 'query' });
    await s1.synced();
    const s2 = await d.sse('tok', a.token, { via: 'header' });
    await s2.synced();
    s1.assertClean();
    s2.assertClean();
    s1.close();
    s2.close();
    // refresh via query
    const rq = await d.api('POST', 'tok', 'refresh_token', { token: a.token, tokenIn: 'query' });
    assert.equal(rq.status, 200);
    // release via query with a JSON body (sendBeacon variant)
    const rel = await d.api('POST', 'tok', 'release_token', { token: rq.body.result.token, tokenIn: 'query', body: { reason: 'Browser closed' } });
    assert.equal(rel.status, 200);
    assert.equal(rel.body.result, true);
    const after = await d.api('GET', 'tok', 'conference_status', { token: rq.body.result.token });
    assert.equal(after.status, 403, 'released token no longer works');
  });

  test('refresh_token returns a new token; both old and new work', T(), async () => {
    const a = await d.join('tok', { name: 'R' });
    const old = a.token;
    const r = await d.api('POST', 'tok', 'refresh_token', { token: old });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'success');
    const res = r.body.result;
    assert.equal(typeof res.token, 'string');
    assert.notEqual(res.token, old, 'refresh must issue a new token');
    assert.equal(res.expires, '120');
    assert.equal(res.role, 'HOST');
    for (const t of [res.token, old]) {
      const st = await d.api('GET', 'tok', 'conference_status', { token: t });
      assert.equal(st.status, 200, `token ${t === old ? 'old' : 'new'} after refresh`);
    }
    // refreshing with the new token works too and the participant is unchanged
    const r2 = await d.api('POST', 'tok', 'refresh_token', { token: res.token });
    assert.equal(r2.status, 200);
    a.token = r2.body.result.token;
    const me = await a.me();
    assert.ok(me, 'participant still present after refreshes');
    assert.equal(me.uuid, a.uuid);
    await a.release();
  });

  test('refresh_token on an empty body POST (Android) and with an empty JSON body both work', T(), async () => {
    const a = await d.join('tok', { name: 'R2' });
    const r1 = await d.api('POST', 'tok', 'refresh_token', { token: a.token, rawBody: '', contentType: 'application/json' });
    assert.equal(r1.status, 200);
    const r2 = await d.api('POST', 'tok', 'refresh_token', { token: r1.body.result.token, body: {} });
    assert.equal(r2.status, 200);
    a.token = r2.body.result.token;
    await a.release();
  });

  test('release_token removes the participant; others get participant_delete', T(), async () => {
    const a = await d.join('tok', { name: 'Leaver' });
    const b = await d.join('tok', { name: 'Watcher' });
    const sb = await b.events();
    await sb.synced();
    assert.ok(sb.find('participant_create', (p) => p.uuid === a.uuid), 'watcher saw leaver in the roster');
    const sa = await a.events();
    await sa.synced();
    const m = sb.mark();
    const r = await d.api('POST', 'tok', 'release_token', { token: a.token, body: { reason: 'User initiated disconnect' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, true);
    const del = await sb.waitFor('participant_delete', (x) => x.uuid === a.uuid, { since: m });
    assert.deepEqual(Object.keys(del.data), ['uuid']);
    // The leaver's own stream ends.
    await sa.waitClosed();
    const list = await b.participants();
    assert.ok(!list.some((p) => p.uuid === a.uuid), 'released participant is gone from GET participants');
    const again = await d.api('POST', 'tok', 'refresh_token', { token: a.token });
    assertFailed(again, 403, 'Invalid token');
    sb.assertClean();
    await b.release();
  });

  test('release_token with no body (Android) works', T(), async () => {
    const a = await d.join('tok', { name: 'NoBody' });
    const r = await d.api('POST', 'tok', 'release_token', { token: a.token });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, true);
  });

  test('a token is bound to its room', T(), async () => {
    const a = await d.join('tok', { name: 'Bound' });
    const r = await d.api('GET', 'tok-other', 'conference_status', { token: a.token });
    assertFailed(r, 403, 'Invalid token');
    await a.release();
  });
});

describe('tokens (short lifetime)', () => {
  let d;
  before(async () => {
    d = await startDaemon({ rooms: ['short'], args: ['--token-lifetime', '2'] });
  });
  after(async () => { await d?.stop(); });

  test('expires reflects --token-lifetime', T(), async () => {
    const a = await d.join('short', { name: 'E' });
    assert.equal(a.result.expires, '2');
    const r = await a.refresh();
    assert.equal(r.expires, '2');
    await a.release();
  });

  test('a participant that never refreshes is removed; a refreshing one stays', T(30000), async () => {
    const stay = await d.join('short', { name: 'Stayer' });
    const ka = stay.keepAlive(500);
    try {
      const lapse = await d.join('short', { name: 'Lapser' });
      const t0 = Date.now();
      const sStay = await stay.events();
      const sLapse = await lapse.events();
      await sStay.synced();
      await sLapse.synced();
      const disc = await sLapse.waitFor('disconnect', undefined, { timeout: 8000 });
      const elapsed = Date.now() - t0;
      assert.equal(disc.data.reason, 'Timer expired awaiting token refresh');
      assert.ok(elapsed >= 1500, `removed too early (${elapsed} ms after join with a 2 s lifetime)`);
      await sLapse.waitClosed();
      await sStay.waitFor('participant_delete', (x) => x.uuid === lapse.uuid, { timeout: 3000 });
      const r = await d.api('GET', 'short', 'conference_status', { token: lapse.token });
      assertFailed(r, 403, 'Invalid token');
      // The refreshing participant is still there well past 2 s.
      await sleep(1000);
      const list = await stay.participants();
      assert.ok(list.some((p) => p.uuid === stay.uuid), 'refreshing participant must stay');
      assert.ok(!list.some((p) => p.uuid === lapse.uuid), 'lapsed participant must be gone');
      assert.ok(!sStay.find('disconnect'), 'refreshing participant must not be disconnected');
      sStay.assertClean();
      sLapse.assertClean();
    } finally {
      await ka.stop();
    }
    assert.deepEqual(ka.errors.map(String), [], 'refreshes must all succeed');
    await stay.release();
  });

  test('the previous token stays valid until its own expiry, then fails', T(30000), async () => {
    const a = await d.join('short', { name: 'Old' });
    const t1 = a.token;
    const issued = Date.now();
    await a.refresh();
    assert.notEqual(a.token, t1);
    const st = await d.api('GET', 'short', 'conference_status', { token: t1 });
    assert.equal(st.status, 200, 'old token valid right after refresh');
    const ka = a.keepAlive(500);
    try {
      // Well past t1's own 2 s lifetime (with slack for a 1 s sweep), t1 must be rejected.
      const wait = issued + 3500 * SLOW - Date.now();
      if (wait > 0) await sleep(wait);
      const r = await d.api('GET', 'short', 'conference_status', { token: t1 });
      assertFailed(r, 403, 'Invalid token');
      const cur = await d.api('GET', 'short', 'conference_status', { token: a.token });
      assert.equal(cur.status, 200, 'current token still valid');
    } finally {
      await ka.stop();
    }
    await a.release();
  });

  test('an SSE stream opened with a since-refreshed token outlives that token', T(30000), async () => {
    const a = await d.join('short', { name: 'Streamer' });
    const b = await d.join('short', { name: 'Talker' });
    const kb = b.keepAlive(500);
    const s = await a.events(); // opened with the first token
    await s.synced();
    const ka = a.keepAlive(500);
    try {
      await sleep(3500 * SLOW); // the first token has expired by now
      assert.equal(s.ended, false, `stream must stay open while the participant refreshes: ${s.summary()}`);
      await b.do('message', { type: 'text/plain', payload: 'still there' });
      await s.waitFor('message_received', (m) => m.payload === 'still there');
      assert.ok(!s.find('disconnect'));
    } finally {
      await ka.stop();
      await kb.stop();
    }
    await a.release();
    await b.release();
  });

  test('refresh_token with an expired token is rejected', T(20000), async () => {
    const a = await d.join('short', { name: 'Late' });
    await waitUntil(async () => {
      const r = await d.api('GET', 'short', 'conference_status', { token: a.token });
      return r.status === 403;
    }, { timeout: 8000, what: 'token expiry' });
    const r = await d.api('POST', 'short', 'refresh_token', { token: a.token });
    assertFailed(r, 403, 'Invalid token');
  });
});
