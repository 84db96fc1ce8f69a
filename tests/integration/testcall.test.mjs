// testcall.test.mjs — test-call rooms (parleyctl room add --test-call) are private, as Pexip's
// test call service is: every caller is alone in it, and no caller sees another in its roster
// (SSE participant_create/_delete, GET participants) or in the conference's state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T } from './helpers.mjs';

let d;
before(async () => { d = await startDaemon({ rooms: [{ alias: 'echo', testCall: true }] }); });
after(async () => { await d?.stop(); });

test('two callers to a test-call room never see each other', T(), async () => {
  const A = await d.join('echo', { name: 'Caller A' });
  assert.equal(A.result.current_service_type, 'test_call');
  const as = await A.events();
  await as.synced();
  const B = await d.join('echo', { name: 'Caller B' });
  const bs = await B.events();
  await bs.synced();
  assert.deepEqual(as.filter('participant_create').map((e) => e.data.uuid), [A.uuid], 'A is alone');
  assert.deepEqual(bs.filter('participant_create').map((e) => e.data.uuid), [B.uuid], 'B is alone');
  assert.deepEqual((await A.participants()).map((p) => p.uuid), [A.uuid]);
  assert.deepEqual((await B.participants()).map((p) => p.uuid), [B.uuid]);

  // A mutes itself: its conference is all muted, since nobody else is in it.
  const m = as.mark();
  const mb = bs.mark();
  assert.equal(await A.doOn(A.uuid, 'mute'), true);
  const cu = await as.waitFor('conference_update', () => true, { since: m });
  assert.equal(cu.data.all_muted, true, 'A is the only one in its test call');
  assert.equal((await B.status()).all_muted, false, 'B is not muted');
  assert.equal(await B.doOn(B.uuid, 'client_mute'), true);
  await bs.waitFor('participant_update', (p) => p.uuid === B.uuid, { since: mb });
  assert.ok(!bs.find('participant_update', (p) => p.uuid === A.uuid, mb), `B saw A: ${bs.summary(mb)}`);
  assert.ok(!bs.find('conference_update', () => true, mb), `B got A's conference state: ${bs.summary(mb)}`);

  // Acting on the other caller finds nobody.
  const r = await B.act(A.uuid, 'mute');
  assert.equal(r.status, 404, r.text);
  await B.release();
  assert.equal(await A.doOn(A.uuid, 'unmute'), true);
  await as.waitFor('conference_update', (c) => c.all_muted === false, { since: m });
  assert.ok(!as.find('participant_delete', () => true, m), `A saw B leave: ${as.summary(m)}`);
  as.assertClean();
  bs.assertClean();
  await A.release();
});
