// PINs, roles and Virtual Reception (§A.1, §F): the 403 PIN prompt, pin header handling,
// HOST/GUEST assignment, PIN retry limits, and the conference_extension two-stage dial.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, sleep, SLOW, assertFailed, HOST_PIN, GUEST_PIN } from './helpers.mjs';

const rt = (d, alias, { pin, body = {}, name = 'P', from } = {}) =>
  d.api('POST', alias, 'request_token', { body: { display_name: name, ...body }, headers: pin === undefined ? {} : { pin }, localAddress: from });

function assertPinPrompt(r, pin, guestPin) {
  assert.equal(r.status, 403, `expected the 403 PIN prompt, got ${r.status} ${r.text}`);
  assert.equal(r.body.status, 'success', 'prompts use status "success" (PexRTC only treats those as prompts)');
  const res = r.body.result;
  assert.equal(typeof res, 'object', `prompt result must be an object: ${r.text}`);
  assert.equal(res.pin, pin, 'pin');
  assert.equal(res.guest_pin, guestPin, 'guest_pin');
  assert.equal(typeof res.version, 'object', 'version object present');
  assert.ok(!('conference_extension_type' in res));
}

async function roleInList(d, alias, p) {
  const r = await d.api('GET', alias, 'participants', { token: p.token });
  assert.equal(r.status, 200);
  return r.body.result.find((x) => x.uuid === p.uuid)?.role;
}

describe('PINs and roles', () => {
  let d;
  before(async () => {
    d = await startDaemon({
      rooms: [
        'open',
        { alias: 'hostpin', pin: HOST_PIN, allowGuests: true },
        { alias: 'twopin', pin: HOST_PIN, guestPin: GUEST_PIN, allowGuests: true },
        { alias: 'hostonly', pin: HOST_PIN },
        { alias: 'retry', pin: HOST_PIN, allowGuests: true },
        { alias: 'retry2', pin: HOST_PIN, allowGuests: true },
        { alias: 'retry3', pin: HOST_PIN, allowGuests: true },
        { alias: 'storm', pin: HOST_PIN, allowGuests: true },
      ],
      args: ['--pin-attempts', '3', '--pin-window', '3'],
    });
  });
  after(async () => { await d?.stop(); });

  test('room without PINs: everyone HOST, no prompt, pin header ignored', T(), async () => {
    const r = await rt(d, 'open');
    assert.equal(r.status, 200);
    assert.equal(r.body.result.role, 'HOST');
    const p = await d.join('open', { name: 'X' });
    assert.equal(await roleInList(d, 'open', p), 'chair');
    const withNone = await rt(d, 'open', { pin: 'none' });
    assert.equal(withNone.status, 200);
    assert.equal(withNone.body.result.role, 'HOST');
  });

  test('host PIN + allow guests: prompt pin required, guest_pin none', T(), async () => {
    assertPinPrompt(await rt(d, 'hostpin'), 'required', 'none');
  });

  test('host PIN + allow guests: "none" -> GUEST, host PIN -> HOST, wrong -> Invalid PIN', T(), async () => {
    const g = await rt(d, 'hostpin', { pin: 'none', name: 'Guest' });
    assert.equal(g.status, 200);
    assert.equal(g.body.result.role, 'GUEST');
    const h = await rt(d, 'hostpin', { pin: HOST_PIN, name: 'Host' });
    assert.equal(h.status, 200);
    assert.equal(h.body.result.role, 'HOST');
    assert.equal(await roleInList(d, 'hostpin', { token: h.body.result.token, uuid: g.body.result.participant_uuid }), 'guest');
    assert.equal(await roleInList(d, 'hostpin', { token: h.body.result.token, uuid: h.body.result.participant_uuid }), 'chair');
    assertFailed(await rt(d, 'hostpin', { pin: '9999' }), 403, 'Invalid PIN');
    // refresh_token reports the role
    const rr = await d.api('POST', 'hostpin', 'refresh_token', { token: g.body.result.token });
    assert.equal(rr.status, 200);
    assert.equal(rr.body.result.role, 'GUEST');
    const rh = await d.api('POST', 'hostpin', 'refresh_token', { token: h.body.result.token });
    assert.equal(rh.body.result.role, 'HOST');
  });

  test('host + guest PIN: prompt guest_pin required; each PIN gives its role', T(), async () => {
    assertPinPrompt(await rt(d, 'twopin'), 'required', 'required');
    const g = await rt(d, 'twopin', { pin: GUEST_PIN });
    assert.equal(g.status, 200);
    assert.equal(g.body.result.role, 'GUEST');
    const h = await rt(d, 'twopin', { pin: HOST_PIN });
    assert.equal(h.status, 200);
    assert.equal(h.body.result.role, 'HOST');
  });

  test('host + guest PIN: "none" does not let anyone in', T(), async () => {
    const r = await rt(d, 'twopin', { pin: 'none' });
    assert.equal(r.status, 403, `pin none on a room whose guest PIN is required: ${r.status} ${r.text}`);
    assert.ok(r.body.result === 'Invalid PIN' || r.body.result?.pin === 'required',
      `expected "Invalid PIN" (or the prompt again), got ${r.text}`);
  });

  test('host PIN without guests: prompt pin+guest_pin required; only the host PIN works', T(), async () => {
    assertPinPrompt(await rt(d, 'hostonly'), 'required', 'required');
    assertFailed(await rt(d, 'hostonly', { pin: GUEST_PIN }), 403, 'Invalid PIN');
    const h = await rt(d, 'hostonly', { pin: HOST_PIN });
    assert.equal(h.status, 200);
    assert.equal(h.body.result.role, 'HOST');
  });

  test('PIN entry retries: locked out after --pin-attempts failures, even with the right PIN; per room', T(30000), async () => {
    for (let i = 0; i < 3; i++) {
      const r = await rt(d, 'retry', { pin: `00${i}` });
      assert.equal(r.status, 403, `wrong PIN #${i + 1}`);
      assert.ok(['Invalid PIN', 'Participant exceeded PIN entry retries'].includes(r.body.result),
        `wrong PIN #${i + 1}: ${r.text}`);
      if (i < 2) assert.equal(r.body.result, 'Invalid PIN');
    }
    const locked = await rt(d, 'retry', { pin: HOST_PIN });
    assertFailed(locked, 403, 'Participant exceeded PIN entry retries');
    const lockedGuest = await rt(d, 'retry', { pin: 'none' });
    assert.equal(lockedGuest.status, 403, 'guest entry is also refused while locked out');
    // Another room from the same address is unaffected.
    const other = await rt(d, 'retry2', { pin: HOST_PIN });
    assert.equal(other.status, 200, 'lockout is per room');
    // After the window (3 s) the right PIN works again.
    const t0 = Date.now();
    let ok;
    while (Date.now() - t0 < 8000 * SLOW) {
      await sleep(250);
      ok = await rt(d, 'retry', { pin: HOST_PIN });
      if (ok.status === 200) break;
    }
    assert.equal(ok.status, 200, `right PIN still refused ${Date.now() - t0} ms after lockout: ${ok.text}`);
    assert.equal(ok.body.result.role, 'HOST');
  });

  test('a storm of wrong PINs from many sources does not lock a fresh source with the right PIN out', T(30000), async () => {
    // 12 sources x --pin-attempts (3) wrong PINs: past ten times the per-source limit room-wide.
    const storm = [];
    for (let s = 2; s < 14; s++) {
      for (let i = 0; i < 3; i++) storm.push(rt(d, 'storm', { pin: `9${s}${i}`, from: `127.0.0.${s}` }));
    }
    const answers = await Promise.all(storm);
    assert.ok(answers.every((r) => r.status === 403 || r.status === 429), 'no wrong PIN gets in');
    assert.ok(answers.filter((r) => r.body.result === 'Invalid PIN').length >= 30, 'the storm was evaluated');
    // A guesser that goes on is refused without its guess being looked at.
    const again = await rt(d, 'storm', { pin: HOST_PIN, from: '127.0.0.2' });
    assert.ok(again.status === 403 || again.status === 429, `a guessing source stays throttled: ${again.status} ${again.text}`);
    // The right PIN from a source that has not been guessing gets in at once.
    const t0 = Date.now();
    const ok = await rt(d, 'storm', { pin: HOST_PIN, from: '127.0.0.50' });
    assert.equal(ok.status, 200, `right PIN from a fresh source after the storm: ${ok.status} ${ok.text}`);
    assert.equal(ok.body.result.role, 'HOST');
    assert.ok(Date.now() - t0 < 1000 * SLOW, 'promptly');
    const guest = await rt(d, 'storm', { pin: 'none', from: '127.0.0.51' });
    assert.equal(guest.status, 200, `a guest from a fresh source: ${guest.text}`);
    // Guessing stays expensive while the room is under pressure: a new source's second wrong
    // PIN is not even looked at before its wait is over (429 with Retry-After).
    assertFailed(await rt(d, 'storm', { pin: '0000', from: '127.0.0.60' }), 403, 'Invalid PIN');
    const wait = await rt(d, 'storm', { pin: '0001', from: '127.0.0.60' });
    assert.equal(wait.status, 429, `second guess under pressure: ${wait.status} ${wait.text}`);
    assert.ok(Number(wait.headers['retry-after']) >= 1, `Retry-After ${wait.headers['retry-after']}`);
  });

  test('PIN failures below the limit do not lock out', T(), async () => {
    assertFailed(await rt(d, 'retry3', { pin: '1' }), 403, 'Invalid PIN');
    assertFailed(await rt(d, 'retry3', { pin: '2' }), 403, 'Invalid PIN');
    const ok = await rt(d, 'retry3', { pin: HOST_PIN });
    assert.equal(ok.status, 200);
  });
});

describe('Virtual Reception (conference_extension)', () => {
  let d;
  before(async () => {
    d = await startDaemon({
      rooms: [
        { alias: 'lobby', reception: true },
        'target',
        { alias: 'pinned', pin: HOST_PIN, allowGuests: true },
      ],
    });
  });
  after(async () => { await d?.stop(); });

  test('request_token on a reception asks for the extension', T(), async () => {
    const r = await rt(d, 'lobby');
    assert.equal(r.status, 403);
    assert.equal(r.body.status, 'success');
    assert.deepEqual(r.body.result, { conference_extension: 'required', conference_extension_type: 'standard' });
  });

  test('re-POST with conference_extension joins the target room', T(), async () => {
    const r = await rt(d, 'lobby', { body: { conference_extension: 'target' }, name: 'Via Lobby' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result.role, 'HOST');
    assert.equal(r.body.result.current_service_type, 'conference');
    const token = r.body.result.token;
    const uuid = r.body.result.participant_uuid;
    // A direct participant of "target" sees the reception joiner.
    const direct = await d.join('target', { name: 'Direct' });
    const list = await direct.participants();
    assert.ok(list.some((p) => p.uuid === uuid && p.display_name === 'Via Lobby'), 'joiner is in the target room');
    const st = await d.api('GET', 'target', 'conference_status', { token });
    assert.equal(st.status, 200, 'token works on the target alias');
  });

  test('the JS client keeps the reception alias in later URLs: the token works there too', T(), async () => {
    const r = await rt(d, 'lobby', { body: { conference_extension: 'target' }, name: 'JS' });
    assert.equal(r.status, 200);
    const token = r.body.result.token;
    const ps = await d.api('GET', 'lobby', 'participants', { token });
    assert.equal(ps.status, 200, `GET lobby/participants with a reception-issued token: ${ps.status} ${ps.text}`);
    assert.ok(ps.body.result.some((p) => p.uuid === r.body.result.participant_uuid));
    const s = await d.sse('lobby', token);
    await s.synced();
    assert.ok(s.find('participant_create', (p) => p.uuid === r.body.result.participant_uuid));
    s.close();
  });

  test('extension to a PIN room gives the PIN prompt, then the PIN works', T(), async () => {
    const p = await rt(d, 'lobby', { body: { conference_extension: 'pinned' } });
    assertPinPrompt(p, 'required', 'none');
    const h = await rt(d, 'lobby', { body: { conference_extension: 'pinned' }, pin: HOST_PIN });
    assert.equal(h.status, 200, h.text);
    assert.equal(h.body.result.role, 'HOST');
    const g = await rt(d, 'lobby', { body: { conference_extension: 'pinned' }, pin: 'none' });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.body.result.role, 'GUEST');
    assertFailed(await rt(d, 'lobby', { body: { conference_extension: 'pinned' }, pin: '4321' }), 403, 'Invalid PIN');
  });

  test('unknown extension target -> 404 Neither conference nor gateway found', T(), async () => {
    assertFailed(await rt(d, 'lobby', { body: { conference_extension: 'no-such-room' } }), 404, 'Neither conference nor gateway found');
  });

  test('a reception cannot be the extension target of itself', T(), async () => {
    const r = await rt(d, 'lobby', { body: { conference_extension: 'lobby' } });
    assert.notEqual(r.status, 200, `joining the reception through itself must not yield a token: ${r.text}`);
  });
});
