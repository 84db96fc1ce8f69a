// Server-Sent Events (§C): initial burst and its order, ids on every event, JSON data, keep-alive
// comments, live roster events, several concurrent streams per participant, token checks.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startDaemon, T, sleep, SLOW, assertFailed, assertParticipantShape, assertJsonEnvelope, assertSchema, GENERIC_FAILED, rawRequest, API } from './helpers.mjs';

describe('SSE events', () => {
  let d;
  before(async () => {
    d = await startDaemon({ rooms: ['ev', 'ev-live', 'ev-multi', 'ev-ka', 'ev-ids', 'ev-many', 'meet@example.com'], args: ['--keepalive', '1'] });
  });
  after(async () => { await d?.stop(); });

  test('initial burst: sync bracket with every participant, then conference_update, layout, stage', T(), async () => {
    const a = await d.join('ev', { name: 'Alice' });
    const b = await d.join('ev', { name: 'Bob' });
    const s = await a.events();
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    assert.match(s.headers['cache-control'] ?? '', /no-cache/, 'SSE response should be no-cache');
    await s.waitFor('stage');
    const names = s.names();
    assert.equal(names[0], 'participant_sync_begin', `first event: ${names.join(',')}`);
    assert.equal(s.events[0].data, null, 'participant_sync_begin data is null');
    const end = names.indexOf('participant_sync_end');
    assert.ok(end > 0, 'participant_sync_end present');
    assert.equal(s.events[end].data, null, 'participant_sync_end data is null');
    const inside = s.events.slice(1, end);
    assert.ok(inside.every((e) => e.event === 'participant_create'), `only participant_create inside the bracket: ${names.join(',')}`);
    assert.deepEqual(inside.map((e) => e.data.uuid).sort(), [a.uuid, b.uuid].sort(), 'one create per participant, incl. self');
    for (const e of inside) assertParticipantShape(e.data, 'sync create: ');
    const byUuid = Object.fromEntries(inside.map((e) => [e.data.uuid, e.data]));
    assert.equal(byUuid[a.uuid].display_name, 'Alice');
    assert.equal(byUuid[b.uuid].display_name, 'Bob');
    const cu = names.indexOf('conference_update');
    const lay = names.indexOf('layout');
    const st = names.indexOf('stage');
    assert.ok(cu > end && lay > cu && st > lay, `after sync_end: conference_update, layout, stage in order; got ${names.join(',')}`);
    const conf = s.events[cu].data;
    for (const k of ['locked', 'guests_muted', 'started']) assert.equal(typeof conf[k], 'boolean', `conference_update.${k}`);
    assert.equal(conf.locked, false);
    assert.equal(conf.started, true);
    assert.equal(typeof s.events[lay].data.view, 'string', 'layout.view');
    assert.ok(Array.isArray(s.events[lay].data.participants), 'layout.participants array');
    assert.ok(Array.isArray(s.events[st].data), 'stage is an array');
    assert.ok(!s.find('presentation_start'), 'no presentation_start without a presentation');
    s.assertClean();
    // conference_status agrees with conference_update.
    const cs = await a.status();
    assert.equal(cs.locked, conf.locked);
    assert.equal(cs.guests_muted, conf.guests_muted);
    assert.equal(cs.started, conf.started);
  });

  test('a standard EventSource client (eventsource package) parses the stream', T(), async () => {
    const a = await d.join('ev', { name: 'Browser' });
    const es = new EventSource(`${d.base}/api/client/v2/conferences/ev/events?token=${a.token}`);
    const got = [];
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`EventSource did not see sync_end; got ${JSON.stringify(got)}`)), 5000);
        for (const name of ['participant_sync_begin', 'participant_create', 'participant_sync_end']) {
          es.addEventListener(name, (e) => {
            got.push({ name, data: e.data, id: e.lastEventId });
            if (name === 'participant_sync_end') { clearTimeout(timer); resolve(); }
          });
        }
        es.addEventListener('error', (e) => { clearTimeout(timer); reject(new Error(`EventSource error: ${e.message ?? e.type}`)); });
      });
    } finally {
      es.close();
    }
    assert.equal(got[0].name, 'participant_sync_begin');
    assert.equal(got[0].data, 'null');
    const me = got.find((g) => g.name === 'participant_create' && JSON.parse(g.data).uuid === a.uuid);
    assert.ok(me, 'own participant_create seen by EventSource');
    assert.ok(got.every((g) => g.id !== ''), 'lastEventId set on every event');
    await a.release();
  });

  test('SSE participant objects agree with GET participants', T(), async () => {
    const a = await d.join('ev', { name: 'Carol' });
    const s = await a.events();
    await s.synced();
    const list = await a.participants();
    for (const p of list) {
      const c = s.find('participant_create', (x) => x.uuid === p.uuid);
      assert.ok(c, `participant ${p.uuid} in the SSE roster`);
      for (const k of ['display_name', 'role', 'is_muted', 'is_video_muted', 'is_presenting', 'spotlight', 'buzz_time',
        'service_type', 'protocol', 'call_direction', 'local_alias', 'overlay_text', 'start_time']) {
        assert.deepEqual(c.data[k], p[k], `field ${k} of ${p.display_name}`);
      }
    }
    s.close();
  });

  test('every event has an id; ids are unique within a stream', T(), async () => {
    const a = await d.join('ev-ids', { name: 'I1' });
    const s = await a.events();
    await s.synced();
    const b = await d.join('ev-ids', { name: 'I2' });
    await b.do('message', { type: 'text/plain', payload: 'one' });
    await b.do('message', { type: 'application/json', payload: '{"x":1}' });
    await s.waitFor('message_received', (m) => m.payload === '{"x":1}');
    await b.release();
    await s.waitFor('participant_delete', (x) => x.uuid === b.uuid);
    s.assertClean();
    const ids = s.events.map((e) => e.id);
    assert.ok(ids.every((i) => typeof i === 'string' && i.length > 0), 'ids present');
    assert.equal(new Set(ids).size, ids.length, `ids must be unique: ${ids.join(',')}`);
    const json = s.find('message_received', (m) => m.type === 'application/json');
    assert.equal(json.data.payload, '{"x":1}', 'payload is carried as a string');
  });

  test('live roster: participant_create for joiners, participant_update, participant_delete for leavers', T(), async () => {
    const a = await d.join('ev-live', { name: 'Watcher' });
    const s = await a.events();
    await s.synced();
    const m = s.mark();
    const c = await d.join('ev-live', { name: 'Newcomer' });
    const cr = await s.waitFor('participant_create', (p) => p.uuid === c.uuid, { since: m });
    assertParticipantShape(cr.data, 'live create: ');
    assert.equal(cr.data.display_name, 'Newcomer');
    assert.ok(!s.find('participant_sync_begin', undefined, m), 'no second sync bracket for a live join');
    const m2 = s.mark();
    await c.doOn(c.uuid, 'client_mute');
    const up = await s.waitFor('participant_update', (p) => p.uuid === c.uuid, { since: m2 });
    assert.equal(up.data.is_client_muted, true);
    assertParticipantShape(up.data, 'update is a full object: ');
    const m3 = s.mark();
    await c.release();
    const del = await s.waitFor('participant_delete', (p) => p.uuid === c.uuid, { since: m3 });
    assert.deepEqual(del.data, { uuid: c.uuid });
    s.assertClean();
    s.close();
  });

  test('keep-alive comment lines arrive every --keepalive seconds', T(), async () => {
    const a = await d.join('ev-ka', { name: 'K' });
    const s = await a.events();
    await s.synced();
    // The snapshot ends with conference_update, layout and stage after participant_sync_end;
    // the roster part is written separately (shared between streams), so they may come in a
    // later read: count from the last of them.
    await s.waitFor('stage');
    const before = s.comments.length;
    const evBefore = s.events.length;
    await sleep(3500);
    const got = s.comments.length - before;
    assert.ok(got >= 2, `expected >= 2 keep-alive comments in 3.5 s with --keepalive 1, got ${got}`);
    assert.equal(s.events.length, evBefore, 'keep-alives must be comments, not events');
    s.assertClean();
    s.close();
  });

  test('several concurrent streams for one participant all receive events', T(), async () => {
    const a = await d.join('ev-multi', { name: 'Multi' });
    const b = await d.join('ev-multi', { name: 'Sender' });
    const streams = [await a.events(), await a.events(), await a.events({ via: 'header' })];
    for (const s of streams) await s.synced();
    for (const s of streams) {
      assert.ok(s.find('participant_create', (p) => p.uuid === a.uuid), 'each stream has its own full roster');
    }
    await b.do('message', { type: 'text/plain', payload: 'to all streams' });
    for (const s of streams) await s.waitFor('message_received', (m) => m.payload === 'to all streams');
    streams[0].close();
    await sleep(100);
    await b.do('message', { type: 'text/plain', payload: 'after close' });
    for (const s of streams.slice(1)) await s.waitFor('message_received', (m) => m.payload === 'after close');
    // The participant is still there after one of its streams closed.
    const list = await b.participants();
    assert.ok(list.some((p) => p.uuid === a.uuid), 'closing one stream does not remove the participant');
    for (const s of streams) s.assertClean();
  });

  test('reconnecting with Last-Event-ID still starts with the full roster', T(), async () => {
    const a = await d.join('ev-ids', { name: 'Reconnector' });
    const s1 = await a.events();
    await s1.synced();
    const lastId = s1.events[s1.events.length - 1].id;
    s1.close();
    const s2 = await a.events({ headers: { 'Last-Event-ID': lastId } });
    await s2.synced();
    assert.equal(s2.events[0].event, 'participant_sync_begin');
    assert.ok(s2.find('participant_create', (p) => p.uuid === a.uuid));
    s2.close();
    await a.release();
  });

  test('a roster of 40 participants arrives complete in the sync bracket', T(60000), async () => {
    const ps = [];
    for (let i = 0; i < 40; i++) ps.push(await d.join('ev-many', { name: `Many ${i}` }));
    const s = await ps[0].events();
    await s.synced();
    const end = s.find('participant_sync_end').index;
    const creates = s.filter('participant_create').filter((e) => e.index < end).map((e) => e.data.uuid);
    assert.equal(creates.length, 40);
    assert.deepEqual(new Set(creates), new Set(ps.map((p) => p.uuid)));
    s.close();
    await Promise.all(ps.map((p) => p.release()));
  });

  test('events with a missing or forged token -> 403 JSON Invalid token', T(), async () => {
    for (const p of [`${API}/ev/events`, `${API}/ev/events?token=forged.token.value`]) {
      const r = await rawRequest(d.port, 'GET', p, { headers: { Accept: 'text/event-stream' } });
      assert.equal(r.status, 403, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
      const body = assertJsonEnvelope(r, p);
      assertSchema(GENERIC_FAILED, body);
      assert.equal(body.result, 'Invalid token');
    }
  });

  test('events on an unknown room -> 404 JSON', T(), async () => {
    const a = await d.join('ev', { name: 'U' });
    const r = await rawRequest(d.port, 'GET', `${API}/nope-room/events?token=${a.token}`);
    assert.ok(r.status === 404 || r.status === 403, `unknown room events: ${r.status}`);
    const body = assertJsonEnvelope(r, 'unknown room events');
    assertSchema(GENERIC_FAILED, body);
  });

  test('events URL with a raw (not percent-encoded) alias works', T(), async () => {
    const a = await d.join('meet@example.com', { name: 'Raw' });
    const s = await d.sse('meet@example.com', a.token, { rawAlias: true });
    await s.synced();
    assert.ok(s.find('participant_create', (p) => p.uuid === a.uuid));
    s.close();
    const s2 = await d.sse('meet@example.com', a.token);
    await s2.synced();
    s2.close();
  });

  test('released participant: its open stream gets closed', T(), async () => {
    const a = await d.join('ev', { name: 'Closer' });
    const s = await a.events();
    await s.synced();
    await a.release();
    await s.waitClosed(3000);
    const r = await rawRequest(d.port, 'GET', `${API}/ev/events?token=${a.token}`);
    assertFailed({ ...r, body: assertJsonEnvelope(r, 'events after release') }, 403, 'Invalid token');
  });
});
