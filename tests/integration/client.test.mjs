// The official client library: drives parleyd through the request functions of
// @pexip/infinity-api@20.0.0 exactly as @pexip/infinity does (fetch, withPin/withToken, the
// package's own status handling, Content-Type checks and schema validation). Any status the
// library does not expect, a non-JSON body or a schema violation makes these calls throw.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, pexip, HOST_PIN } from './helpers.mjs';

let d;
let host;
before(async () => {
  d = await startDaemon({ rooms: [{ alias: 'lib room@example.com', pin: HOST_PIN, allowGuests: true }] });
  host = d.base;
});
after(async () => { await d?.stop(); });

const conferenceAlias = 'lib room@example.com';

/** Calls a library function with a token-injecting fetcher. */
const call = (fn, token, params = {}, body) =>
  fn({ fetcher: pexip.withToken(fetch, token), host, params: { conferenceAlias, ...params }, ...(body === undefined ? {} : { body }) });

describe('@pexip/infinity-api client functions', () => {
  test('join flow: PIN prompt, host and guest tokens, theme, status, roster', T(), async () => {
    const prompt = await pexip.requestToken({ fetcher: fetch, host, params: { conferenceAlias }, body: { display_name: 'Lib Host' } });
    assert.equal(prompt.status, 403);
    assert.equal(prompt.data.result.pin, 'required');
    assert.equal(prompt.data.result.guest_pin, 'none');

    const h = await pexip.requestToken({ fetcher: pexip.withPin(fetch, HOST_PIN), host, params: { conferenceAlias },
      body: { display_name: 'Lib Host', chosen_idp: 'none', sso_token: 'none', direct_media: true, client_id: 'test' } });
    assert.equal(h.status, 200);
    assert.equal(h.data.result.role, 'HOST');
    const g = await pexip.requestToken({ fetcher: pexip.withPin(fetch, 'none'), host, params: { conferenceAlias }, body: { display_name: 'Lib Guest' } });
    assert.equal(g.data.result.role, 'GUEST');
    const H = h.data.result;
    const G = g.data.result;

    const theme = await call(pexip.theme, H.token);
    assert.ok(theme.status === 204 || theme.status === 200);
    const st = await call(pexip.conferenceStatus, H.token);
    assert.equal(st.data.result.locked, false);
    const ps = await call(pexip.participants, H.token);
    assert.deepEqual(ps.data.result.map((p) => p.uuid).sort(), [H.participant_uuid, G.participant_uuid].sort());
    const layouts = await call(pexip.availableLayouts, H.token, { annotate: true });
    assert.ok(layouts.data.result.length > 0);

    // conference control
    for (const fn of [pexip.lock, pexip.unlock, pexip.muteguests, pexip.unmuteguests, pexip.clearAllBuzz, pexip.startConference]) {
      const r = await call(fn, H.token);
      assert.equal(r.data.result, true, fn.name);
    }
    assert.equal((await call(pexip.setGuestsCanUnmute, H.token, {}, { setting: true })).data.result, true);
    assert.equal((await call(pexip.messageConference, H.token, {}, { type: 'text/plain', payload: 'lib' })).data.result, true);
    assert.equal((await call(pexip.transformLayout, H.token, {}, { transforms: { layout: '1:0' } })).data.result, true);

    // participant control
    const onG = { participantUuid: G.participant_uuid };
    const onH = { participantUuid: H.participant_uuid };
    for (const fn of [pexip.muteParticipant, pexip.unmuteParticipant, pexip.videoMuteParticipant, pexip.videoUnmuteParticipant,
      pexip.spotlightonParticipant, pexip.spotlightoffParticipant]) {
      const r = await call(fn, H.token, onG);
      assert.equal(r.status, 200, fn.name);
      assert.equal(r.data.result, true, fn.name);
    }
    assert.equal((await call(pexip.overlaytextParticipant, H.token, onG, { text: 'lib' })).data.result, true);
    assert.equal((await call(pexip.dtmfParticipant, H.token, onG, { digits: '12#' })).data.result, true);
    assert.equal((await call(pexip.messageParticipant, H.token, onG, { type: 'text/plain', payload: 'dm' })).data.result, true);
    assert.equal((await call(pexip.roleParticipant, H.token, onG, { role: 'chair' })).data.result, true);
    assert.equal((await call(pexip.roleParticipant, H.token, onG, { role: 'guest' })).data.result, true);
    for (const fn of [pexip.clientMuteParticipant, pexip.clientUnmuteParticipant, pexip.buzzParticipant, pexip.clearbuzzParticipant]) {
      const r = await call(fn, G.token, onG);
      assert.equal(r.data.result, true, fn.name);
    }
    assert.equal((await call(pexip.takeFloor, H.token, onH)).data.result, null);
    assert.equal((await call(pexip.releaseFloor, H.token, onH)).data.result, null);
    const avatar = await call(pexip.avatarJpgParticipant, H.token, onG);
    assert.equal(avatar.status, 404);

    // guest permission failure as the library sees it (participant endpoints model 403)
    const denied = await call(pexip.muteParticipant, G.token, onH);
    assert.equal(denied.status, 403);

    // token lifecycle
    const rf = await call(pexip.refreshToken, H.token);
    assert.equal(rf.status, 200);
    assert.notEqual(rf.data.result.token, H.token);
    const relG = await call(pexip.releaseToken, G.token, {}, { reason: 'User initiated disconnect' });
    assert.equal(relG.data.result, true);
    const relH = await call(pexip.releaseToken, rf.data.result.token, {}, {});
    assert.equal(relH.data.result, true);
    const gone = await call(pexip.refreshToken, rf.data.result.token);
    assert.equal(gone.status, 403);
  });

  test('error statuses the library models: 404 unknown room, 403 Invalid PIN', T(), async () => {
    const nf = await pexip.requestToken({ fetcher: fetch, host, params: { conferenceAlias: 'nope' }, body: { display_name: 'x' } });
    assert.equal(nf.status, 404);
    assert.equal(nf.data.result, 'Neither conference nor gateway found');
    const bad = await pexip.requestToken({ fetcher: pexip.withPin(fetch, '0000'), host, params: { conferenceAlias }, body: { display_name: 'x' } });
    assert.equal(bad.status, 403);
    assert.equal(bad.data.result, 'Invalid PIN');
    assert.equal(pexip.getErrorCode(bad.data.result), '#pex101');
  });
});
