// calls.test.mjs — client API calls cannot pile up: a call whose media never connects ends
// after --call-setup-timeout (the client hears call_disconnected), and a participant holds
// at most --max-calls calls at once (main, presentation send and receive, one spare).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, T, TESTS_DIR } from './helpers.mjs';

// A real Chrome offer; nobody answers its ICE checks, so its call never connects.
const OFFER = readFileSync(path.join(TESTS_DIR, 'fixtures/sdp/chrome156_offer.sdp'), 'utf8');
const SETUP_S = 2;

let d;
before(async () => {
  d = await startDaemon({ rooms: ['calls'], args: ['--call-setup-timeout', String(SETUP_S)] });
});
after(async () => { await d?.stop(); });

const call = (p, present) =>
  p.post(`participants/${p.uuid}/calls`, { call_type: 'WEBRTC', sdp: OFFER, ...(present ? { present } : {}) });

test('a call whose media never connects ends after --call-setup-timeout', T(), async () => {
  const A = await d.join('calls', { name: 'Never ICE' });
  const s = await A.events();
  await s.synced();
  const m = s.mark();
  const r = await call(A);
  assert.equal(r.status, 200, r.text);
  const id = r.body.result.call_uuid;
  const started = Date.now();
  const ev = await s.waitFor('call_disconnected', (e) => e.call_uuid === id, { since: m, timeout: (SETUP_S + 6) * 1000 });
  assert.match(ev.data.reason, /setup timed out/i);
  assert.ok(Date.now() - started >= (SETUP_S - 1) * 1000, 'not before the timeout');
  const again = await A.post(`participants/${A.uuid}/calls/${id}/ack`, {}, { noCheck: true });
  assert.equal(again.status, 404, `the call is gone: ${again.text}`);
  const me = await A.me();
  assert.equal(me.has_media, false, 'no call left');
  s.assertClean();
  await A.release();
});

test('a participant holds at most --max-calls calls; a new main call replaces the old', T(), async () => {
  const B = await d.join('calls', { name: 'Call hoarder' });
  for (const present of [undefined, 'receive', 'receive', 'receive']) {
    const r = await call(B, present);
    assert.equal(r.status, 200, `call ${present ?? 'main'}: ${r.text}`);
  }
  const refused = await call(B, 'receive');
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.status, 'failed');
  assert.match(refused.body.result, /Too many calls.*at most 4/);
  const main = await call(B);
  assert.equal(main.status, 200, `a main call replaces the old one at the limit: ${main.text}`);
  await B.release();
});
