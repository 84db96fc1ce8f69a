// Conference and participant control (§B.1, §B.2, §F): lock, mute, chat, spotlight, roles,
// hands, layout, presentation floor, host-only permission checks.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, sleep, assertFailed, HOST_PIN } from './helpers.mjs';

const ROOMS = 30;
let d;
let next = 0;

/** A fresh room with a host H and a guest G, both with an open, synced SSE stream. */
async function setup({ guests = 1 } = {}) {
  const alias = `ctl-${++next}`;
  assert.ok(next <= ROOMS, 'raise ROOMS');
  const H = await d.join(alias, { name: 'Hanna Host', pin: HOST_PIN });
  assert.equal(H.role, 'HOST');
  const gs = [];
  for (let i = 0; i < guests; i++) {
    const g = await d.join(alias, { name: `Gus Guest ${i + 1}`, pin: 'none' });
    assert.equal(g.role, 'GUEST');
    gs.push(g);
  }
  H.s = await H.events();
  await H.s.synced();
  for (const g of gs) {
    g.s = await g.events();
    await g.s.synced();
  }
  return { alias, H, G: gs[0], G2: gs[1], guests: gs };
}

/** Waits for a participant_update about `uuid` matching pred on stream s after mark m. */
const upd = (s, uuid, pred, since = 0) => s.waitFor('participant_update', (p) => p.uuid === uuid && pred(p), { since });
const confUpd = (s, pred, since = 0) => s.waitFor('conference_update', pred, { since });

before(async () => {
  const rooms = [];
  for (let i = 1; i <= ROOMS; i++) rooms.push({ alias: `ctl-${i}`, pin: HOST_PIN, allowGuests: true });
  rooms.push({ alias: 'no-guest-slides', pin: HOST_PIN, allowGuests: true, guestsCanPresent: false });
  rooms.push({ alias: 'guest-slides', pin: HOST_PIN, allowGuests: true, guestsCanPresent: true });
  d = await startDaemon({ rooms });
});
after(async () => { await d?.stop(); });

describe('conference control', () => {
  test('lock / unlock: conference_update and conference_status', T(), async () => {
    const { H, G } = await setup();
    const m = H.s.mark();
    const mg = G.s.mark();
    assert.equal(await H.do('lock'), true);
    await confUpd(H.s, (c) => c.locked === true, m);
    await confUpd(G.s, (c) => c.locked === true, mg);
    assert.equal((await H.status()).locked, true);
    assert.equal(await H.do('unlock'), true);
    await confUpd(H.s, (c) => c.locked === false, m);
    assert.equal((await G.status()).locked, false);
    H.s.assertClean();
  });

  test('muteguests / unmuteguests mute guests only, guests_muted flag', T(), async () => {
    const { H, G, G2 } = await setup({ guests: 2 });
    const m = H.s.mark();
    assert.equal(await H.do('muteguests'), true);
    await upd(H.s, G.uuid, (p) => p.is_muted === 'YES', m);
    await upd(H.s, G2.uuid, (p) => p.is_muted === 'YES', m);
    await confUpd(G.s, (c) => c.guests_muted === true);
    const list = await H.participants();
    assert.equal(list.find((p) => p.uuid === G.uuid).is_muted, 'YES');
    assert.equal(list.find((p) => p.uuid === G2.uuid).is_muted, 'YES');
    assert.equal(list.find((p) => p.uuid === H.uuid).is_muted, 'NO', 'hosts are not muted by muteguests');
    assert.equal((await H.status()).guests_muted, true);
    const m2 = H.s.mark();
    assert.equal(await H.do('unmuteguests'), true);
    await upd(H.s, G.uuid, (p) => p.is_muted === 'NO', m2);
    await confUpd(H.s, (c) => c.guests_muted === false, m2);
    assert.equal((await H.me()).is_muted, 'NO');
    assert.equal((await H.status()).guests_muted, false);
  });

  test('set_guests_can_unmute false: a guest muted by a host cannot unmute itself', T(), async () => {
    const { H, G } = await setup();
    const m = G.s.mark();
    assert.equal(await H.do('set_guests_can_unmute', { setting: false }), true);
    await confUpd(G.s, (c) => c.guests_can_unmute === false, m);
    assert.equal((await H.status()).guests_can_unmute, false);
    assert.equal(await H.doOn(G.uuid, 'mute'), true);
    await upd(G.s, G.uuid, (p) => p.is_muted === 'YES', m);
    const r = await G.act(G.uuid, 'unmute');
    assert.equal(r.status, 403, `guest self-unmute while guests_can_unmute=false: ${r.status} ${r.text}`);
    assert.equal((await H.participants()).find((p) => p.uuid === G.uuid).is_muted, 'YES', 'still muted');
    // client_mute is a separate indicator and stays allowed.
    assert.equal(await G.doOn(G.uuid, 'client_mute'), true);
    // The host may still unmute the guest.
    const m2 = G.s.mark();
    assert.equal(await H.do('set_guests_can_unmute', { setting: true }), true);
    await confUpd(G.s, (c) => c.guests_can_unmute === true, m2);
    assert.equal(await G.doOn(G.uuid, 'unmute'), true, 'guest may unmute itself again');
    await upd(G.s, G.uuid, (p) => p.is_muted === 'NO', m2);
  });

  test('disconnect (all): every participant gets disconnect and its stream closes', T(), async () => {
    const { H, G, G2, alias } = await setup({ guests: 2 });
    const extra = await H.events();
    await extra.synced();
    assert.equal(await H.do('disconnect'), true);
    for (const s of [H.s, G.s, G2.s, extra]) {
      const ev = await s.waitFor('disconnect');
      assert.equal(typeof ev.data.reason, 'string');
      assert.ok(ev.data.reason.length > 0);
      await s.waitClosed();
      s.assertClean();
    }
    for (const p of [H, G, G2]) {
      assertFailed(await d.api('GET', alias, 'conference_status', { token: p.token }), 403, 'Invalid token');
    }
    const late = await d.join(alias, { name: 'Late', pin: HOST_PIN });
    const list = await late.participants();
    assert.deepEqual(list.map((p) => p.uuid), [late.uuid], 'room is empty apart from the newcomer');
  });

  test('message: others receive message_received, the sender does not', T(), async () => {
    const { H, G, G2 } = await setup({ guests: 2 });
    const mh = H.s.mark();
    assert.equal(await H.do('message', { type: 'text/plain', payload: 'hello all' }), true);
    for (const g of [G, G2]) {
      const ev = await g.s.waitFor('message_received', (x) => x.payload === 'hello all');
      assert.deepEqual(ev.data, { origin: 'Hanna Host', uuid: H.uuid, type: 'text/plain', payload: 'hello all', direct: false });
    }
    // Barrier: a later message from G reaches H; H's own message must not have come before it.
    assert.equal(await G.do('message', { type: 'text/plain', payload: 'guest says hi' }), true, 'guests may chat');
    const back = await H.s.waitFor('message_received', (x) => x.payload === 'guest says hi', { since: mh });
    assert.equal(back.data.uuid, G.uuid);
    assert.equal(back.data.origin, 'Gus Guest 1');
    assert.ok(!H.s.find('message_received', (x) => x.payload === 'hello all'), 'sender must not receive its own message');
    assert.ok(!G.s.find('message_received', (x) => x.payload === 'guest says hi'), 'sender must not receive its own message');
  });

  test('direct message: only the target receives it, with direct:true', T(), async () => {
    const { H, G, G2 } = await setup({ guests: 2 });
    assert.equal(await H.doOn(G.uuid, 'message', { type: 'text/plain', payload: 'psst' }), true);
    const ev = await G.s.waitFor('message_received', (x) => x.payload === 'psst');
    assert.deepEqual(ev.data, { origin: 'Hanna Host', uuid: H.uuid, type: 'text/plain', payload: 'psst', direct: true });
    // Barrier for G2 and H: a broadcast after the direct message.
    await G.do('message', { type: 'text/plain', payload: 'barrier' });
    await G2.s.waitFor('message_received', (x) => x.payload === 'barrier');
    await H.s.waitFor('message_received', (x) => x.payload === 'barrier');
    assert.ok(!G2.s.find('message_received', (x) => x.payload === 'psst'), 'non-target must not get the direct message');
    assert.ok(!H.s.find('message_received', (x) => x.payload === 'psst'), 'sender must not get its direct message');
  });

  test('chat is rate-limited per participant: a burst of 10, then 429 until the bucket refills', T(), async () => {
    const { H, G } = await setup();
    const say = (who, payload) => who.post('message', { type: 'text/plain', payload });
    // All at once: the bucket refills 5 a second, so on a slow machine one by one would
    // let refills in; what may pass is the burst plus what refilled meanwhile.
    const t0 = Date.now();
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => say(G, `burst ${i}`)));
    const refills = Math.ceil(((Date.now() - t0) / 1000) * 5);
    const passed = burst.filter((r) => r.status === 200).length;
    assert.ok(passed >= 10 && passed <= 10 + refills, `${passed} of 20 passed; the burst is 10, ${refills} refilled`);
    const refused = burst.filter((r) => r.status !== 200);
    assert.ok(refused.length > 0);
    for (const r of refused) assertFailed(r, 429, undefined, 'past the burst: ');
    assert.ok(Number(refused[0].headers['retry-after']) >= 1, `Retry-After: ${refused[0].headers['retry-after']}`);
    const directs = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      G.act(H.uuid, 'message', { type: 'text/plain', payload: `direct ${i}` })));
    assert.ok(directs.some((r) => r.status === 429), 'direct messages share the bucket');
    assert.equal((await say(H, 'the host is not limited by the guest')).status, 200);
    const passedPayloads = burst.map((r, i) => (r.status === 200 ? `burst ${i}` : null)).filter(Boolean);
    for (const p of passedPayloads) await H.s.waitFor('message_received', (x) => x.payload === p);
    const refusedPayloads = new Set(burst.map((r, i) => (r.status === 200 ? null : `burst ${i}`)));
    assert.ok(!H.s.find('message_received', (x) => refusedPayloads.has(x.payload)), 'a refused message is not delivered');
    await sleep(1100); // 5 messages a second refill
    for (let i = 0; i < 4; i++) assert.equal((await say(G, `again ${i}`)).status, 200, `refilled message ${i}`);
  });

  test('participant mute / unmute by host', T(), async () => {
    const { H, G } = await setup();
    const m = H.s.mark();
    assert.equal(await H.doOn(G.uuid, 'mute'), true);
    await upd(H.s, G.uuid, (p) => p.is_muted === 'YES', m);
    await upd(G.s, G.uuid, (p) => p.is_muted === 'YES');
    assert.equal((await H.participants()).find((p) => p.uuid === G.uuid).is_muted, 'YES');
    assert.equal(await H.doOn(G.uuid, 'unmute'), true);
    await upd(H.s, G.uuid, (p) => p.is_muted === 'NO', m);
    assert.equal((await G.me()).is_muted, 'NO');
    // Self mute is allowed for everyone.
    assert.equal(await G.doOn(G.uuid, 'mute'), true);
    assert.equal((await G.me()).is_muted, 'YES');
    assert.equal(await G.doOn(G.uuid, 'unmute'), true, 'a guest that muted itself may unmute itself');
    assert.equal((await G.me()).is_muted, 'NO');
  });

  test('client_mute / client_unmute set is_client_muted', T(), async () => {
    const { H, G } = await setup();
    const m = H.s.mark();
    assert.equal(await G.doOn(G.uuid, 'client_mute'), true);
    await upd(H.s, G.uuid, (p) => p.is_client_muted === true, m);
    assert.equal((await G.me()).is_client_muted, true);
    assert.equal((await G.me()).is_muted, 'NO', 'client mute is not a server mute');
    assert.equal(await G.doOn(G.uuid, 'client_unmute'), true);
    await upd(H.s, G.uuid, (p) => p.is_client_muted === false, m);
    assert.equal((await G.me()).is_client_muted, false);
  });

  test('video_muted / video_unmuted set is_video_muted', T(), async () => {
    const { H, G } = await setup();
    const m = G.s.mark();
    assert.equal(await G.doOn(G.uuid, 'video_muted'), true);
    await upd(G.s, G.uuid, (p) => p.is_video_muted === true, m);
    assert.equal((await H.participants()).find((p) => p.uuid === G.uuid).is_video_muted, true);
    assert.equal(await H.doOn(G.uuid, 'video_unmuted'), true);
    await upd(G.s, G.uuid, (p) => p.is_video_muted === false, m);
  });

  test('spotlighton / spotlightoff: epoch seconds then 0', T(), async () => {
    const { H, G } = await setup();
    const m = G.s.mark();
    const now = Date.now() / 1000;
    assert.equal(await H.doOn(G.uuid, 'spotlighton'), true);
    const ev = await upd(G.s, G.uuid, (p) => p.spotlight > 0, m);
    assert.ok(Math.abs(ev.data.spotlight - now) < 60, `spotlight should be an epoch time in seconds, got ${ev.data.spotlight}`);
    assert.ok((await H.participants()).find((p) => p.uuid === G.uuid).spotlight > 0);
    assert.equal(await H.doOn(G.uuid, 'spotlightoff'), true);
    await upd(G.s, G.uuid, (p) => p.spotlight === 0, m);
    assert.equal((await G.me()).spotlight, 0);
  });

  test('role: promote a guest to chair and back; refresh_token reports it', T(), async () => {
    const { H, G } = await setup();
    const m = H.s.mark();
    assert.equal(await H.doOn(G.uuid, 'role', { role: 'chair' }), true);
    await upd(H.s, G.uuid, (p) => p.role === 'chair', m);
    await upd(G.s, G.uuid, (p) => p.role === 'chair');
    const rr = await G.refresh();
    assert.equal(rr.role, 'HOST', 'refresh_token reports the new role');
    assert.equal(await G.do('lock'), true, 'a promoted guest can use host actions');
    assert.equal(await G.do('unlock'), true);
    const m2 = H.s.mark();
    assert.equal(await H.doOn(G.uuid, 'role', { role: 'guest' }), true);
    await upd(H.s, G.uuid, (p) => p.role === 'guest', m2);
    assert.equal((await G.refresh()).role, 'GUEST');
    assertFailed(await G.post('lock'), 403, undefined, 'demoted guest locking: ');
    assert.equal((await H.status()).locked, false);
  });

  test('disconnect a participant: its stream gets disconnect, others get participant_delete', T(), async () => {
    const { H, G, alias } = await setup();
    const m = H.s.mark();
    const r = await H.act(G.uuid, 'disconnect');
    assert.equal(r.status, 200);
    assert.ok(r.body.result === true || r.body.result === null);
    const ev = await G.s.waitFor('disconnect');
    assert.equal(typeof ev.data.reason, 'string');
    await G.s.waitClosed();
    await H.s.waitFor('participant_delete', (x) => x.uuid === G.uuid, { since: m });
    assertFailed(await d.api('GET', alias, 'participants', { token: G.token }), 403, 'Invalid token');
    assert.ok(!(await H.participants()).some((p) => p.uuid === G.uuid));
  });

  test('buzz / clearbuzz / clearallbuzz', T(), async () => {
    const { H, G, G2 } = await setup({ guests: 2 });
    const m = H.s.mark();
    const now = Date.now() / 1000;
    assert.equal(await G.doOn(G.uuid, 'buzz'), true);
    const ev = await upd(H.s, G.uuid, (p) => p.buzz_time > 0, m);
    assert.ok(Math.abs(ev.data.buzz_time - now) < 60, `buzz_time epoch seconds, got ${ev.data.buzz_time}`);
    assert.equal(await G.doOn(G.uuid, 'clearbuzz'), true);
    await upd(H.s, G.uuid, (p) => p.buzz_time === 0, m);
    const m2 = H.s.mark();
    assert.equal(await G.doOn(G.uuid, 'buzz'), true);
    assert.equal(await G2.doOn(G2.uuid, 'buzz'), true);
    await upd(H.s, G2.uuid, (p) => p.buzz_time > 0, m2);
    const m3 = H.s.mark();
    assert.equal(await H.do('clearallbuzz'), true);
    await upd(H.s, G.uuid, (p) => p.buzz_time === 0, m3);
    await upd(H.s, G2.uuid, (p) => p.buzz_time === 0, m3);
    const list = await H.participants();
    assert.ok(list.every((p) => p.buzz_time === 0));
    // A host may lower someone else's hand.
    assert.equal(await G.doOn(G.uuid, 'buzz'), true);
    assert.equal(await H.doOn(G.uuid, 'clearbuzz'), true);
    assert.equal((await G.me()).buzz_time, 0);
  });

  test('overlaytext sets overlay_text', T(), async () => {
    const { H, G } = await setup();
    const m = H.s.mark();
    assert.equal(await H.doOn(G.uuid, 'overlaytext', { text: 'Speaker: Gus' }), true);
    await upd(H.s, G.uuid, (p) => p.overlay_text === 'Speaker: Gus', m);
    assert.equal((await G.me()).overlay_text, 'Speaker: Gus');
  });

  test('dtmf to a participant -> true', T(), async () => {
    const { H, G } = await setup();
    assert.equal(await H.doOn(G.uuid, 'dtmf', { digits: '1234#' }), true);
  });

  test('transform_layout -> layout event; available_layouts lists it', T(), async () => {
    const { H, G } = await setup();
    const layouts = await H.ok('GET', 'available_layouts');
    assert.ok(Array.isArray(layouts) && layouts.length > 0, 'available_layouts non-empty');
    const names = layouts.map((l) => (typeof l === 'string' ? l : l.name));
    assert.ok(names.includes('1:0'), `available_layouts should include 1:0: ${names}`);
    const annotated = await H.ok('GET', 'available_layouts', { query: 'annotate=true' });
    assert.ok(Array.isArray(annotated) && annotated.length > 0);
    const m = G.s.mark();
    assert.equal(await H.do('transform_layout', { transforms: { layout: '1:0' } }), true);
    const ev = await G.s.waitFor('layout', (l) => l.view === '1:0', { since: m });
    assert.ok(Array.isArray(ev.data.participants));
    // A new stream starts with the current layout.
    const s2 = await G.events();
    await s2.waitFor('layout');
    assert.equal(s2.find('layout').data.view, '1:0');
    s2.close();
  });

  test('theme/ -> 204 empty', T(), async () => {
    const { G } = await setup();
    const r = await G.get('theme/');
    assert.equal(r.status, 204, `theme/: ${r.status} ${r.text}`);
  });

  test('avatar.jpg -> 404 No image available', T(), async () => {
    const { H, G } = await setup();
    const r = await H.get(`participants/${G.uuid}/avatar.jpg`);
    assertFailed(r, 404, 'No image available');
  });

  test('take_floor / release_floor: presentation_start to others only, is_presenting, presentation_stop', T(), async () => {
    const { H, G, alias } = await setup();
    const mh = H.s.mark();
    const mg = G.s.mark();
    const r = await H.act(H.uuid, 'take_floor');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result, null);
    const ps = await G.s.waitFor('presentation_start', undefined, { since: mg });
    assert.equal(ps.data.presenter_uuid, H.uuid);
    assert.equal(ps.data.presenter_name, 'Hanna Host');
    assert.equal(typeof ps.data.presenter_uri, 'string');
    await upd(H.s, H.uuid, (p) => p.is_presenting === 'YES', mh);
    await upd(G.s, H.uuid, (p) => p.is_presenting === 'YES', mg);
    assert.equal((await G.participants()).find((p) => p.uuid === H.uuid).is_presenting, 'YES');
    // A stream opened during the presentation gets presentation_start after the roster.
    const late = await d.join(alias, { name: 'Late Viewer', pin: 'none' });
    const ls = await late.events();
    const lps = await ls.waitFor('presentation_start');
    assert.equal(lps.data.presenter_uuid, H.uuid);
    assert.ok(lps.index > ls.find('participant_sync_end').index, 'presentation_start after the sync bracket');
    const mg2 = G.s.mark();
    const rel = await H.act(H.uuid, 'release_floor');
    assert.equal(rel.status, 200, rel.text);
    assert.equal(rel.body.result, null);
    await G.s.waitFor('presentation_stop', (x) => x === null, { since: mg2 });
    await ls.waitFor('presentation_stop');
    await upd(H.s, H.uuid, (p) => p.is_presenting === 'NO', mh);
    // The presenter itself never got presentation_start / presentation_stop.
    assert.ok(!H.s.find('presentation_start', undefined, mh), 'presenter must not receive its own presentation_start');
    ls.close();
  });

  test('taking the floor from another presenter: the previous presenter gets presentation_start', T(), async () => {
    const { H, G } = await setup();
    assert.equal((await H.act(H.uuid, 'take_floor')).status, 200);
    await upd(G.s, H.uuid, (p) => p.is_presenting === 'YES');
    const mh = H.s.mark();
    const r = await G.act(G.uuid, 'take_floor');
    assert.equal(r.status, 200, `guest take_floor (guests_can_present defaults to true): ${r.text}`);
    const ev = await H.s.waitFor('presentation_start', undefined, { since: mh });
    assert.equal(ev.data.presenter_uuid, G.uuid);
    await upd(H.s, H.uuid, (p) => p.is_presenting === 'NO', mh);
    await upd(H.s, G.uuid, (p) => p.is_presenting === 'YES', mh);
  });

  test('a room without --guests-can-present: request_token says so, a guest taking the floor gets 403', T(), async () => {
    const H = await d.join('no-guest-slides', { name: 'Host', pin: HOST_PIN });
    const G = await d.join('no-guest-slides', { name: 'Guest', pin: 'none' });
    assert.equal(G.result.guests_can_present, false, 'request_token guests_can_present');
    assert.equal(H.result.guests_can_present, false);
    assert.equal((await G.status()).guests_can_present, false, 'conference_status guests_can_present');
    assertFailed(await G.act(G.uuid, 'take_floor'), 403, 'Guests cannot present in this conference');
    assert.equal((await G.me()).is_presenting, 'NO');
    assert.equal((await H.act(H.uuid, 'take_floor')).status, 200, 'a host still presents');
    const G2 = await d.join('guest-slides', { name: 'Guest', pin: 'none' });
    assert.equal(G2.result.guests_can_present, true, '--guests-can-present');
    assert.equal((await G2.act(G2.uuid, 'take_floor')).status, 200);
    for (const p of [G, H, G2]) await p.release();
  });

  test('a guest cannot use host-only actions (403 JSON failed) and nothing changes', T(), async () => {
    const { H, G } = await setup();
    const conf = ['lock', 'unlock', 'start_conference', 'muteguests', 'unmuteguests', 'disconnect', 'clearallbuzz'];
    for (const a of conf) assertFailed(await G.post(a), 403, undefined, `guest ${a}: `);
    assertFailed(await G.post('set_guests_can_unmute', { setting: false }), 403, undefined, 'guest set_guests_can_unmute: ');
    assertFailed(await G.post('transform_layout', { transforms: { layout: '1:0' } }), 403, undefined, 'guest transform_layout: ');
    const onHost = [['mute'], ['unmute'], ['video_muted'], ['spotlighton'], ['spotlightoff'], ['role', { role: 'guest' }],
      ['disconnect'], ['overlaytext', { text: 'x' }], ['clearbuzz'], ['unlock'], ['client_mute'], ['take_floor'],
      ['message', undefined]];
    for (const [a, body] of onHost) {
      if (a === 'message') continue; // direct chat to a host is allowed; checked elsewhere
      assertFailed(await G.act(H.uuid, a, body), 403, undefined, `guest ${a} on host: `);
    }
    const st = await H.status();
    assert.equal(st.locked, false);
    assert.equal(st.guests_muted, false);
    const me = await H.me();
    assert.equal(me.is_muted, 'NO');
    assert.equal(me.role, 'chair');
    assert.equal(me.spotlight, 0);
    assert.ok(!H.s.find('disconnect'), 'host not disconnected');
  });

  test('a guest cannot mute / spotlight another guest', T(), async () => {
    const { G, G2 } = await setup({ guests: 2 });
    assertFailed(await G.act(G2.uuid, 'mute'), 403, undefined, 'guest mutes guest: ');
    assertFailed(await G.act(G2.uuid, 'spotlighton'), 403, undefined, 'guest spotlights guest: ');
    assertFailed(await G.act(G2.uuid, 'role', { role: 'chair' }), 403, undefined, 'guest promotes guest: ');
    assertFailed(await G.act(G.uuid, 'role', { role: 'chair' }), 403, undefined, 'guest promotes itself: ');
    assert.equal((await G2.me()).is_muted, 'NO');
  });

  test('invalid bodies for control actions -> 400', T(), async () => {
    const { H, G } = await setup();
    assertFailed(await H.post('set_guests_can_unmute', { setting: 'nope' }), 400, undefined, 'setting must be a bool: ');
    assertFailed(await H.post('set_guests_can_unmute', {}), 400, undefined, 'setting missing: ');
    assertFailed(await H.act(G.uuid, 'role', { role: 'emperor' }), 400, undefined, 'bad role: ');
    assertFailed(await H.post('transform_layout', { transforms: { layout: 'no-such-layout' } }), 400, undefined, 'unknown layout: ');
    assertFailed(await H.post('message', { type: 'text/plain', payload: 42 }), 400, undefined, 'payload must be a string: ');
    assertFailed(await H.act(G.uuid, 'overlaytext', { text: 7 }), 400, undefined, 'overlay text must be a string: ');
    assertFailed(await H.act(G.uuid, 'dtmf', {}), 400, undefined, 'dtmf without digits: ');
    const me = await G.me();
    assert.equal(me.role, 'guest');
    assert.equal((await H.status()).guests_can_unmute ?? true, true);
  });

  test('acting on a participant of another room -> 404', T(), async () => {
    const one = await setup();
    const two = await setup();
    assertFailed(await one.H.act(two.G.uuid, 'mute'), 404, undefined, 'mute across rooms: ');
    assertFailed(await one.H.act(two.G.uuid, 'disconnect'), 404, undefined, 'disconnect across rooms: ');
    assert.equal((await two.G.me()).is_muted, 'NO');
    assert.ok(!two.G.s.find('disconnect'));
  });

  test('every control endpoint accepts the token as ?token= as well', T(), async () => {
    const { H, G } = await setup();
    const q = { tokenIn: 'query' };
    const conf = [['lock'], ['unlock'], ['start_conference'], ['muteguests'], ['unmuteguests'], ['clearallbuzz'],
      ['set_guests_can_unmute', { setting: true }], ['transform_layout', { transforms: { layout: '1:7' } }],
      ['message', { type: 'text/plain', payload: 'q' }]];
    for (const [a, body] of conf) {
      const r = await H.post(a, body, q);
      assert.equal(r.status, 200, `${a} with ?token=: ${r.status} ${r.text}`);
    }
    for (const a of ['client_mute', 'client_unmute', 'buzz', 'clearbuzz']) {
      const r = await G.act(G.uuid, a, undefined, q);
      assert.equal(r.status, 200, `self ${a} with ?token=: ${r.status} ${r.text}`);
    }
    const part = [['mute'], ['unmute'], ['video_muted'], ['video_unmuted'],
      ['spotlighton'], ['spotlightoff'], ['overlaytext', { text: 'q' }], ['dtmf', { digits: '1' }],
      ['message', { type: 'text/plain', payload: 'q' }], ['role', { role: 'guest' }]];
    for (const [a, body] of part) {
      const r = await H.act(G.uuid, a, body, q);
      assert.equal(r.status, 200, `participants/<g>/${a} with ?token=: ${r.status} ${r.text}`);
    }
    for (const a of ['take_floor', 'release_floor']) {
      const r = await H.act(H.uuid, a, undefined, q);
      assert.equal(r.status, 200, `${a} with ?token=: ${r.status} ${r.text}`);
    }
    for (const [rel, status] of [['conference_status', 200], ['participants', 200], ['available_layouts', 200], ['theme/', 204],
      [`participants/${G.uuid}/avatar.jpg`, 404]]) {
      const r = await H.get(rel, q);
      assert.equal(r.status, status, `GET ${rel} with ?token=: ${r.status} ${r.text}`);
    }
  });

  test('when the last participant leaves, the conference ends and its state resets', T(), async () => {
    const { H, G, alias } = await setup();
    assert.equal(await H.do('lock'), true);
    assert.equal(await H.do('muteguests'), true);
    assert.equal(await H.do('transform_layout', { transforms: { layout: '1:0' } }), true);
    await G.release();
    await H.release();
    const H2 = await d.join(alias, { name: 'Next meeting', pin: HOST_PIN });
    const st = await H2.status();
    assert.equal(st.locked, false, 'lock does not outlive the conference');
    assert.equal(st.guests_muted, false, 'guests_muted does not outlive the conference');
    const G2 = await d.join(alias, { name: 'Next guest', pin: 'none' });
    assert.equal(G2.result.current_service_type, 'conference', 'new guests are not held by an old lock');
  });

  test('start_conference by a host -> true', T(), async () => {
    const { H } = await setup();
    assert.equal(await H.do('start_conference'), true);
    assert.equal((await H.status()).started, true);
  });

  test('media endpoints answer a JSON error (not implemented yet), never HTML', T(), async () => {
    const { H } = await setup();
    const r = await H.req('POST', `participants/${H.uuid}/calls`, {
      body: { call_type: 'WEBRTC', sdp: 'v=0\r\n', media_type: 'video' }, noCheck: true,
    });
    if (r.status !== 200) {
      assert.ok(r.status >= 400 && r.status < 600, `calls: ${r.status}`);
      assert.match(r.headers['content-type'] ?? '', /^application\/json/, `calls error content-type: ${r.text.slice(0, 200)}`);
      assert.equal(r.body?.status, 'failed', `calls error envelope: ${r.text.slice(0, 200)}`);
    }
    const c = await H.req('POST', `participants/${H.uuid}/calls/00000000-0000-0000-0000-000000000000/ack`, { body: {}, noCheck: true });
    assert.ok(c.status >= 400, `ack on an unknown call: ${c.status}`);
    assert.match(c.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(c.body?.status, 'failed');
  });
});
