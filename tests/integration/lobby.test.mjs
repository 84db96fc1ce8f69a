// Locked conferences, waiting room, admission and lecture (hosted) conferences (§F).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, sleep, SLOW, HOST_PIN, assertFailed } from './helpers.mjs';

let d;
before(async () => {
  d = await startDaemon({
    rooms: [
      { alias: 'locked-1', pin: HOST_PIN, allowGuests: true, locked: true },
      { alias: 'locked-2', pin: HOST_PIN, allowGuests: true, locked: true },
      { alias: 'locked-3', pin: HOST_PIN, allowGuests: true, locked: true },
      { alias: 'lockme', pin: HOST_PIN, allowGuests: true },
      { alias: 'lecture-1', pin: HOST_PIN, allowGuests: true, lecture: true },
      { alias: 'lecture-2', pin: HOST_PIN, allowGuests: true, lecture: true },
      { alias: 'lecture-3', pin: HOST_PIN, allowGuests: true, lecture: true },
      { alias: 'vmr', pin: HOST_PIN, allowGuests: true },
    ],
    args: ['--guests-only-timeout', '1'],
  });
});
after(async () => { await d?.stop(); });

const upd = (s, uuid, pred, since = 0) => s.waitFor('participant_update', (p) => p.uuid === uuid && pred(p), { since });

describe('locked conference', () => {
  test('--locked: guests wait, host PIN bypasses, host admits one, unlock admits the rest', T(30000), async () => {
    const G = await d.join('locked-1', { name: 'Waiting Guest', pin: 'none' });
    assert.equal(G.role, 'GUEST');
    assert.equal(G.result.current_service_type, 'waiting_room');
    const gs = await G.events();
    await gs.synced();
    const selfCreate = gs.find('participant_create', (p) => p.uuid === G.uuid);
    assert.ok(selfCreate, 'a waiting participant gets its own SSE roster');
    assert.equal(selfCreate.data.service_type, 'waiting_room');
    const cu = await gs.waitFor('conference_update');
    assert.equal(cu.data.locked, true);

    const H = await d.join('locked-1', { name: 'Host', pin: HOST_PIN });
    assert.equal(H.result.current_service_type, 'conference', 'host PIN bypasses the lock');
    const hs = await H.events();
    await hs.synced();
    const seen = hs.find('participant_create', (p) => p.uuid === G.uuid);
    assert.ok(seen, 'host sees the waiting guest');
    assert.equal(seen.data.service_type, 'waiting_room');
    assert.equal(hs.find('participant_create', (p) => p.uuid === H.uuid).data.service_type, 'conference');
    const list = await H.participants();
    assert.equal(list.find((p) => p.uuid === G.uuid).service_type, 'waiting_room');

    const G2 = await d.join('locked-1', { name: 'Second Guest', pin: 'none' });
    assert.equal(G2.result.current_service_type, 'waiting_room');
    await hs.waitFor('participant_create', (p) => p.uuid === G2.uuid && p.service_type === 'waiting_room');

    // Admit G only.
    const m = hs.mark();
    const mg = gs.mark();
    assert.equal(await H.doOn(G.uuid, 'unlock'), true);
    await upd(hs, G.uuid, (p) => p.service_type === 'conference', m);
    await upd(gs, G.uuid, (p) => p.service_type === 'conference', mg);
    const after1 = await H.participants();
    assert.equal(after1.find((p) => p.uuid === G.uuid).service_type, 'conference');
    assert.equal(after1.find((p) => p.uuid === G2.uuid).service_type, 'waiting_room', 'the other guest still waits');
    assert.equal((await H.status()).locked, true, 'admitting one does not unlock the room');

    // Unlock admits everybody.
    const m2 = hs.mark();
    assert.equal(await H.do('unlock'), true);
    await upd(hs, G2.uuid, (p) => p.service_type === 'conference', m2);
    await hs.waitFor('conference_update', (c) => c.locked === false, { since: m2 });
    const G3 = await d.join('locked-1', { name: 'After Unlock', pin: 'none' });
    assert.equal(G3.result.current_service_type, 'conference');
    hs.assertClean();
    gs.assertClean();
  });

  test('lock by a host: later guests wait, earlier ones stay, host PIN bypasses', T(), async () => {
    const H = await d.join('lockme', { name: 'Host', pin: HOST_PIN });
    const early = await d.join('lockme', { name: 'Early', pin: 'none' });
    assert.equal(early.result.current_service_type, 'conference');
    const hs = await H.events();
    await hs.synced();
    assert.equal(await H.do('lock'), true);
    await hs.waitFor('conference_update', (c) => c.locked === true);
    const late = await d.join('lockme', { name: 'Late', pin: 'none' });
    assert.equal(late.result.current_service_type, 'waiting_room');
    const c = await hs.waitFor('participant_create', (p) => p.uuid === late.uuid);
    assert.equal(c.data.service_type, 'waiting_room');
    assert.equal((await H.participants()).find((p) => p.uuid === early.uuid).service_type, 'conference', 'earlier guest unaffected');
    const H2 = await d.join('lockme', { name: 'Host 2', pin: HOST_PIN });
    assert.equal(H2.result.current_service_type, 'conference');
    assert.equal(await H.do('unlock'), true);
    await upd(hs, late.uuid, (p) => p.service_type === 'conference');
  });

  test('a waiting guest can refresh its token and read its own state', T(), async () => {
    const G = await d.join('locked-2', { name: 'Patient', pin: 'none' });
    assert.equal(G.result.current_service_type, 'waiting_room');
    const r = await G.refresh();
    assert.equal(r.role, 'GUEST');
    const me = await G.me();
    assert.ok(me, 'waiting participant listed');
    assert.equal(me.service_type, 'waiting_room');
    await G.release();
  });
});

function slideForm(bytes) {
  return Buffer.concat([
    Buffer.from('--PaRlEy\r\nContent-Disposition: form-data; name="frame"; filename="slide"\r\n' +
                'Content-Type: image/jpeg\r\n\r\n'),
    bytes,
    Buffer.from('\r\n--PaRlEy--\r\n'),
  ]);
}

describe('the waiting room does not see the conference', () => {
  test('a waiting guest gets no roster, chat or slides until admitted, and content requests get 403', T(30000), async () => {
    const H = await d.join('locked-3', { name: 'Host', pin: HOST_PIN });
    const A = await d.join('locked-3', { name: 'Admitted Guest', pin: HOST_PIN });
    const hs = await H.events();
    await hs.synced();
    const postSlide = (bytes) => d.api('POST', 'locked-3', 'presentation', {
      token: H.token, rawBody: slideForm(bytes),
      contentType: 'multipart/form-data; boundary=PaRlEy', noCheck: true });
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(1000, 3), Buffer.from([0xff, 0xd9])]);
    await H.doOn(H.uuid, 'take_floor', { jpegs: true });
    assert.equal((await postSlide(jpeg)).status, 200);

    const G = await d.join('locked-3', { name: 'Waiting Guest', pin: 'none' });
    assert.equal(G.result.current_service_type, 'waiting_room');
    const gs = await G.events();
    await gs.synced();
    await gs.waitFor('conference_update');
    const roster = gs.filter('participant_create').map((e) => e.data.uuid);
    assert.deepEqual(roster, [G.uuid], 'a waiting guest sees only itself in its roster');
    assert.ok(!gs.find('presentation_start'), 'no presentation_start while waiting');

    // The conference goes on: chat, a new slide, someone joining and leaving.
    const m = gs.mark();
    assert.equal(await H.do('message', { type: 'text/plain', payload: 'secret agenda' }), true);
    assert.equal((await postSlide(jpeg)).status, 200);
    const late = await d.join('locked-3', { name: 'Late Host', pin: HOST_PIN });
    await late.release();
    await hs.waitFor('participant_delete', (x) => x.uuid === late.uuid);
    // Its own state still reaches it; events arrive in order, so this is also a barrier.
    assert.equal(await H.doOn(G.uuid, 'mute'), true);
    await upd(gs, G.uuid, (p) => p.is_muted === 'YES', m);
    const leaked = gs.names(m).filter((n) => n !== 'participant_update' && n !== 'conference_update');
    assert.deepEqual(leaked, [], `a waiting guest got conference events: ${gs.summary(m)}`);
    assert.ok(gs.filter('participant_update', () => true, m).every((e) => e.data.uuid === G.uuid),
      'only its own participant updates');

    // Content requests are refused.
    const img = await d.api('GET', 'locked-3', 'presentation.jpeg', { token: G.token, tokenIn: 'query' });
    assertFailed(img, 403, 'Not admitted to the conference yet', 'presentation.jpeg: ');
    const chat = await G.post('message', { type: 'text/plain', payload: 'hello?' });
    assertFailed(chat, 403, undefined, 'message: ');
    const list = await G.participants();
    assert.deepEqual(list.map((p) => p.uuid), [G.uuid], 'GET participants shows a waiting guest only itself');

    // Admitted: the roster, the presentation and chat arrive.
    const m2 = gs.mark();
    assert.equal(await H.doOn(G.uuid, 'unlock'), true);
    await upd(gs, G.uuid, (p) => p.service_type === 'conference', m2);
    await gs.waitFor('participant_create', (p) => p.uuid === H.uuid, { since: m2 });
    await gs.waitFor('participant_create', (p) => p.uuid === A.uuid, { since: m2 });
    await gs.waitFor('presentation_start', (p) => p.presenter_uuid === H.uuid, { since: m2 });
    assert.equal(await H.do('message', { type: 'text/plain', payload: 'welcome' }), true);
    await gs.waitFor('message_received', (x) => x.payload === 'welcome', { since: m2 });
    const ok = await d.api('GET', 'locked-3', 'presentation.jpeg', { token: G.token, tokenIn: 'query', noCheck: true });
    assert.equal(ok.status, 200);
    gs.assertClean();
    hs.assertClean();
    await G.release();
    await A.release();
    await H.release();
  });
});

describe('lecture (hosted) conference', () => {
  test('guests wait for a host; started:false; host joining starts it', T(), async () => {
    const G = await d.join('lecture-1', { name: 'Early Guest', pin: 'none' });
    assert.equal(G.role, 'GUEST');
    assert.equal(G.result.current_service_type, 'waiting_room');
    const gs = await G.events();
    await gs.synced();
    const cu = await gs.waitFor('conference_update');
    assert.equal(cu.data.started, false);
    assert.equal((await G.status()).started, false);
    assert.equal(gs.find('participant_create', (p) => p.uuid === G.uuid).data.service_type, 'waiting_room');
    const m = gs.mark();
    const H = await d.join('lecture-1', { name: 'Lecturer', pin: HOST_PIN });
    assert.equal(H.role, 'HOST');
    assert.ok(['conference', 'lecture'].includes(H.result.current_service_type), `host current_service_type ${H.result.current_service_type}`);
    await gs.waitFor('conference_update', (c) => c.started === true, { since: m });
    await upd(gs, G.uuid, (p) => p.service_type !== 'waiting_room', m);
    assert.equal((await G.status()).started, true);
    const late = await d.join('lecture-1', { name: 'Late Guest', pin: 'none' });
    assert.ok(['conference', 'lecture'].includes(late.result.current_service_type), 'guests joining a started lecture go straight in');
    gs.assertClean();
    await late.release();
    await G.release();
    await H.release();
  });

  test('last host leaving disconnects guests after --guests-only-timeout', T(30000), async () => {
    const H = await d.join('lecture-2', { name: 'Lecturer', pin: HOST_PIN });
    const G = await d.join('lecture-2', { name: 'Listener', pin: 'none' });
    const G2 = await d.join('lecture-2', { name: 'Listener 2', pin: 'none' });
    const gs = await G.events();
    const gs2 = await G2.events();
    await gs.synced();
    await gs2.synced();
    const t0 = Date.now();
    await H.release();
    const ev = await gs.waitFor('disconnect', undefined, { timeout: 6000 });
    const elapsed = Date.now() - t0;
    assert.equal(ev.data.reason, 'All conference hosts departed hosted conference');
    assert.ok(elapsed >= 700, `guests disconnected too early (${elapsed} ms, timeout is 1 s)`);
    const ev2 = await gs2.waitFor('disconnect');
    assert.equal(ev2.data.reason, 'All conference hosts departed hosted conference');
    await gs.waitClosed();
    const r = await d.api('GET', 'lecture-2', 'conference_status', { token: G.token });
    assert.equal(r.status, 403);
  });

  test('an ordinary (non-lecture) room keeps its guests after the last host leaves', T(30000), async () => {
    const H = await d.join('vmr', { name: 'Host', pin: HOST_PIN });
    const G = await d.join('vmr', { name: 'Guest', pin: 'none' });
    assert.equal(G.result.current_service_type, 'conference');
    const gs = await G.events();
    await gs.synced();
    await H.release();
    await gs.waitFor('participant_delete', (x) => x.uuid === H.uuid);
    await sleep(2000 * SLOW);
    assert.ok(!gs.find('disconnect'), `guest must stay in a VMR: ${gs.summary()}`);
    assert.ok((await G.participants()).some((p) => p.uuid === G.uuid));
    await G.release();
  });

  test('a host rejoining within the timeout keeps guests connected', T(30000), async () => {
    const H = await d.join('lecture-3', { name: 'Lecturer', pin: HOST_PIN });
    const G = await d.join('lecture-3', { name: 'Listener', pin: 'none' });
    const gs = await G.events();
    await gs.synced();
    await H.release();
    await sleep(200);
    const H2 = await d.join('lecture-3', { name: 'Lecturer again', pin: HOST_PIN });
    await sleep(2000 * SLOW);
    assert.ok(!gs.find('disconnect'), `guest must stay when a host is back: ${gs.summary()}`);
    const list = await H2.participants();
    assert.ok(list.some((p) => p.uuid === G.uuid));
    await G.release();
    await H2.release();
  });
});
