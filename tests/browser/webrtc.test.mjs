// webrtc.test.mjs — headless Chromium calls a test-call (echo) room of a real parleyd:
// ICE and DTLS connect, audio and video come back and decode, with each SRTP profile;
// an ICE restart keeps media flowing; DTMF arrives; hang-up and garbage are handled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, metric, until, dtmfRoundTrip, assertFlowing } from './helpers.mjs';

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => { await browser?.close(); });

async function openCall(d) {
  const page = await browser.newPage();
  await page.goto(`${d.base}/web/test/call.html`);
  const token = await page.evaluate(() => parley.join('echo', 'Chromium'));
  assert.equal(token.service_type, 'test_call');
  await page.evaluate(() => parley.call());
  return page;
}

for (const [label, profiles, cipher] of [
  ['AEAD_AES_128_GCM', 'SRTP_AEAD_AES_128_GCM', '^SRTP_AEAD_AES_128_GCM$'],
  ['AES_CM_128_HMAC_SHA1_80', 'SRTP_AES128_CM_SHA1_80', '^SRTP_AES128_CM_HMAC_SHA1_80$'],
]) {
  test(`echo call with ${label}: connect, ICE restart, DTMF, hang up`, async () => {
    const d = await startDaemon([['echo', '--test-call']], ['--srtp-profiles', profiles]);
    try {
      const page = await openCall(d);
      const s = await assertFlowing(page);
      assert.match(s.srtpCipher, new RegExp(cipher));

      const before = await page.evaluate(() => parley.pc.remoteDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1]);
      const answer = await page.evaluate(() => parley.iceRestart());
      assert.notEqual(answer.match(/a=ice-ufrag:(\S+)/)[1], before, 'new server credentials');
      await assertFlowing(page);

      assert.equal(await dtmfRoundTrip(page, '1#'), '1#');

      assert.equal(await metric(d, 'parley_calls'), 1);
      await page.evaluate(() => parley.hangup());
      await until(async () => (await metric(d, 'parley_calls')) === 0, 'call freed');
      await page.evaluate(() => parley.leave());
      await until(async () => (await metric(d, 'parley_participants')) === 0, 'participant freed');
      assert.equal(await metric(d, 'parley_srtp_failures_total'), 0);
      await page.close();
    } finally {
      await stopDaemon(d);
    }
  });
}

test('garbage on the media port is dropped and counted while a call goes on', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await openCall(d);
    await assertFlowing(page);
    const sock = dgram.createSocket('udp4');
    const send = (buf) => new Promise((r) => sock.send(buf, d.udp, '127.0.0.1', r));
    for (let i = 0; i < 500; i++) await send(randomBytes(1 + (i % 1200)));
    const stunBadLength = Buffer.concat([Buffer.from('000100082112a442', 'hex'), randomBytes(16)]);
    await send(stunBadLength);
    await send(Buffer.concat([Buffer.from([0x80, 0x60]), randomBytes(200)])); // RTP from a stranger
    sock.close();
    await until(async () => (await metric(d, 'parley_udp_dropped_garbage_total')) +
      (await metric(d, 'parley_udp_dropped_unknown_total')) >= 500, 'garbage counted');
    await assertFlowing(page);
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('a new main call replaces the old one, which hears call_disconnected', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await openCall(d);
    await assertFlowing(page);
    const first = await page.evaluate(() => parley.callUuid);
    await page.evaluate(() => parley.call());
    const ev = await until(() => page.evaluate(() =>
      parley.events.find((e) => e.name === 'call_disconnected')), 'call_disconnected');
    assert.equal(ev.data.call_uuid, first);
    await assertFlowing(page);
    await until(async () => (await metric(d, 'parley_calls')) === 1, 'one call left');
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('unusable SDP is refused with a JSON reason', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const r = await fetch(`${d.base}/api/client/v2/conferences/echo/request_token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'x' }) });
    const { result } = await r.json();
    const call = (sdp) => fetch(`${d.base}/api/client/v2/conferences/echo/participants/${result.participant_uuid}/calls`, {
      method: 'POST', headers: { 'content-type': 'application/json', token: result.token },
      body: JSON.stringify({ call_type: 'WEBRTC', sdp }) });
    for (const sdp of ['garbage', 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n']) {
      const res = await call(sdp);
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      const body = await res.json();
      assert.equal(body.status, 'failed');
      assert.ok(body.result.length > 5, body.result);
    }
  } finally {
    await stopDaemon(d);
  }
});
