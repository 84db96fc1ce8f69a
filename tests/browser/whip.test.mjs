// whip.test.mjs — WHIP ingest end to end (issue 15 §6): a Chromium page acting as a WHIP
// client (plain fetch + RTCPeerConnection, H.264 forced with setCodecPreferences, no
// trickle, as OBS does) publishes its fake camera of a distinct colour into a session; a
// page using the SDK (web/sdk/parley.js) subscribes to that feed and draws the colour; the
// WHIP client's DELETE ends the feed and the subscriber hears publisherLeft.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until, parleyctl, metric } from './helpers.mjs';
import { writeDevices, launchAs, meanColour, colourNear } from './fixtures.mjs';

const ENCODER = { name: 'Magenta', freq: 660, amp: 0.3, rgb: [210, 40, 200] };
let d, acme, dir;
const browsers = [];

const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function signJwt(secret, claims) {
  const unsigned = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(claims)}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
const jwt = (claims = {}) =>
  signJwt(acme.jwt_secret, { cid: 'acme', sid: '*', exp: Math.floor(Date.now() / 1000) + 600, ...claims });

before(async () => {
  d = await startDaemon([], ['--consent-timeout', '5']);
  acme = JSON.parse(parleyctl(d.dir, 'account', 'add', '--cid', 'acme', '--json'));
  dir = mkdtempSync(join(tmpdir(), 'parley-whip-'));
  writeDevices(dir, [ENCODER]);
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (d) await stopDaemon(d);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/* In the WHIP page: publish the fake camera and microphone as a WHIP client would, H.264
 * only, every candidate in the offer. Resolves to {status, location, etag, links, sdp,
 * text} of the POST. */
async function whipPublish(page, url, token) {
  return page.evaluate(async ({ url, token }) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.pc = pc;
    for (const track of stream.getTracks()) {
      const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      if (track.kind === 'video') {
        const h264 = RTCRtpSender.getCapabilities('video').codecs.filter((c) =>
          c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine || ''));
        tr.setCodecPreferences(h264);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      setTimeout(resolve, 3000);
    });
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
      body: pc.localDescription.sdp,
    });
    const text = await r.text();
    const out = {
      status: r.status, location: r.headers.get('location'), etag: r.headers.get('etag'),
      links: r.headers.get('link'), offer: pc.localDescription.sdp, text,
    };
    if (r.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: text });
    return out;
  }, { url, token });
}

/* The codec and packets the WHIP page's video sender reports. */
function sentVideo(page) {
  return page.evaluate(async () => {
    const stats = await pc.getStats();
    let out = null;
    stats.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        const c = stats.get(s.codecId);
        out = { codec: c && c.mimeType, packets: s.packetsSent, frames: s.framesEncoded };
      }
    });
    return out;
  });
}

test('a WHIP client in H.264 publishes; an SDK subscriber draws its colour; DELETE ends it', async () => {
  // The subscriber first: it hears the WHIP publisher arrive.
  const plain = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  browsers.push(plain);
  const sub = await plain.newPage();
  sub.on('pageerror', (e) => console.log(`subscriber page error: ${e.message}`));
  await sub.goto(`${d.base}/web/examples/pubsub.html`);
  await sub.evaluate(async (token) => {
    // Every remote description the SDK applies, and its connections, for the checks below.
    window.remote = [];
    window.pcs = new Set();
    const srd = RTCPeerConnection.prototype.setRemoteDescription;
    RTCPeerConnection.prototype.setRemoteDescription = function (d) {
      window.remote.push(d && d.sdp);
      window.pcs.add(this);
      return srd.apply(this, arguments);
    };
    window.P = (await import('/web/sdk/parley.js')).default;
    window.log = [];
    window.s = await P.connect(location.origin, { sid: 'show', uid: 'viewer', jwt: token });
    for (const ev of Object.values(P.events)) s.on(ev, (data) => log.push({ ev, data }));
    const v = document.createElement('video');
    v.id = 'whip-video';
    v.autoplay = true;
    v.muted = true;
    v.playsInline = true;
    v.style.width = '320px';
    v.style.height = '240px';
    document.body.prepend(v);
  }, jwt({ uid: 'viewer' }));

  const enc = await launchAs(dir, ENCODER);
  browsers.push(enc);
  const whipPage = await enc.newPage();
  whipPage.on('pageerror', (e) => console.log(`WHIP page error: ${e.message}`));
  await whipPage.goto(`${d.base}/web/examples/pubsub.html`);
  const r = await whipPublish(whipPage, `${d.base}/api/rtc/v1/whip/show?name=Encoder`, jwt());
  assert.equal(r.status, 201, r.text);
  assert.match(r.location, /^\/api\/rtc\/v1\/whip\/show\/[A-Za-z0-9_-]+$/);
  assert.match(r.etag, /^"/);
  assert.doesNotMatch(r.offer, /VP8/, 'the offer is H.264 only');
  assert.match(r.text, /a=rtpmap:\d+ H264\/90000/);
  await until(async () => (await whipPage.evaluate(() => pc.connectionState)) === 'connected',
    'the WHIP connection is up');
  await until(async () => ((await sentVideo(whipPage))?.packets ?? 0) > 50, 'H.264 is sent');
  assert.equal((await sentVideo(whipPage)).codec, 'video/H264');

  // The SDK page sees the feed and draws it.
  await until(async () => (await sub.evaluate(() => log.filter((x) => x.ev === 'publisher').length)) === 1,
    'publisher event');
  const feed = await sub.evaluate(() => log.find((x) => x.ev === 'publisher').data);
  assert.equal(feed.type, 'video');
  await sub.evaluate((id) => s.subscribe(id, document.getElementById('whip-video')), feed.feed_id);
  await until(async () => colourNear(await meanColour(sub, '#whip-video'), ENCODER.rgb),
    `the subscriber draws ${ENCODER.name}`, 20000);
  // The subscribe offer carried H.264 (the server forwards, never transcodes), and H.264
  // is what the subscriber decodes.
  const offers = await sub.evaluate(() => remote.filter((x) => /a=sendonly/.test(x || '')));
  assert.ok(offers.length >= 1);
  const video = offers.at(-1).split(/^m=/m).find((m) => m.startsWith('video'));
  assert.match(video, /a=rtpmap:102 H264\/90000/);
  assert.doesNotMatch(video, /VP8/);
  const inbound = await sub.evaluate(async () => {
    for (const pc of pcs) {
      const stats = await pc.getStats();
      for (const st of stats.values())
        if (st.type === 'inbound-rtp' && st.kind === 'video' && st.framesDecoded > 0)
          return { codec: stats.get(st.codecId)?.mimeType, frames: st.framesDecoded };
    }
    return null;
  });
  assert.equal(inbound?.codec, 'video/H264', JSON.stringify(inbound));

  // DELETE (what OBS does on Stop Streaming): the feed ends for the subscriber.
  const del = await whipPage.evaluate(async (u) => (await fetch(u, { method: 'DELETE' })).status, r.location);
  assert.equal(del, 200);
  await until(async () => (await sub.evaluate(() => log.filter((x) => x.ev === 'publisherLeft').length)) === 1,
    'publisherLeft');
  assert.deepEqual(await sub.evaluate(() => log.find((x) => x.ev === 'publisherLeft').data),
    { uid: feed.uid, feed_id: feed.feed_id });
  assert.equal(await metric(d, 'parley_whip_resources'), 0);

  // An encoder that vanishes without DELETE (crash, network gone): its media ends on the
  // server (DTLS close or ICE consent, --consent-timeout 5) and so does the participant.
  await whipPage.evaluate(() => pc.close());
  const again = await whipPublish(whipPage, `${d.base}/api/rtc/v1/whip/show?uid=enc2`, jwt());
  assert.equal(again.status, 201, again.text);
  await until(async () => (await whipPage.evaluate(() => pc.connectionState)) === 'connected',
    'the second WHIP connection is up');
  await until(async () => (await sub.evaluate(() => log.filter((x) => x.ev === 'publisher').length)) === 2,
    'the second publisher');
  await whipPage.close();
  await until(async () => (await sub.evaluate(() =>
    log.some((x) => x.ev === 'participantLeft' && x.data.uid === 'enc2'))), 'the vanished encoder left', 20000);
  assert.equal(await metric(d, 'parley_whip_resources'), 0);
  assert.equal(await metric(d, 'parley_whip_ended_total'), 1);
  const gone = await fetch(`${d.base}${again.location}`, { method: 'DELETE' });
  assert.equal(gone.status, 404);
  await sub.evaluate(() => s.leave());
});
