// join_time.mjs — how long a Chromium page takes from request_token to the first decoded
// frame of the room's video, on loopback: one publisher already sends video into a room,
// then N joins one after another (each a fresh page in one Chromium; its getUserMedia
// resolves before the clock starts), each timed in the page with performance.now().
// Usage: PARLEY_BIN_DIR=/tmp/b node bench/join_time.mjs [N=30]
// JOIN_TIME_PREVIEW_MS waits that long between getUserMedia and request_token: default 1000,
// the web app's pre-join screen, whose preview runs the camera before Join is clicked;
// JOIN_TIME_PREVIEW_MS=0 is a cold join where the camera starts with it (the figures up
// to 2026-12-03 were taken that way).
// Prints each phase's p50 / p95 / max (ms from request_token), then the per-join steps
// between them (p50 / p95 of each join's difference), the two POSTs split by Resource
// Timing, the three slowest joins step by step, the PLIs the joiners sent and the DTLS
// flights parleyd resent. Phases:
//   token      request_token answered
//   offer      the offer made (createOffer + setLocalDescription)
//   answer     POST .../calls answered with the SDP answer
//   srd        setRemoteDescription done (the answer applied, ICE checks may start)
//   ack        POST .../ack answered
//   checking   iceConnectionState "checking"
//   ice        iceConnectionState "connected"
//   dtls       connectionState "connected" (DTLS done, SRTP keys in place)
//   rtp        the remote video track unmuted (its first RTP packets arrived)
//   firstPacket  getStats (polled every 5 ms) counts the first video packet
//   received   getStats counts the first whole frame received (framesReceived > 0)
//   decoded    getStats counts the first decoded frame (framesDecoded > 0)
//   frame      the first video frame decoded and shown (requestVideoFrameCallback)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, stopDaemon, metric } from '../tests/browser/helpers.mjs';
import { PEOPLE, writeDevices, launchAs } from '../tests/browser/fixtures.mjs';

const N = Number(process.argv[2] || 30);
const PREVIEW_MS = Number(process.env.JOIN_TIME_PREVIEW_MS ?? 1000);
const work = mkdtempSync(join(tmpdir(), 'parley-join-'));
writeDevices(work, PEOPLE.slice(0, 2));
const daemon = await startDaemon([['bench']], ['--log-level', 'warn']);
const url = `${daemon.base}/web/test/call.html`;

// The publisher: its camera's video is what every joiner receives (the room's speaker).
const pubBrowser = await launchAs(work, PEOPLE[0]);
const pub = await pubBrowser.newPage();
await pub.goto(url);
await pub.evaluate(() => parley.join('bench', 'Publisher'));
await pub.evaluate(() => parley.call());
await pub.waitForFunction(() => parley.pc.connectionState === 'connected');
await pub.waitForTimeout(1000);

const joiner = await launchAs(work, PEOPLE[1]);

/* One join, in the page: everything after t0 is what a user waits for. */
async function timedJoin(page) {
  return page.evaluate(async (previewMs) => {
    const api = '/api/client/v2/conferences/bench';
    const post = async (path, body, token) => {
      const res = await fetch(api + path, { method: 'POST', body: JSON.stringify(body ?? {}),
        headers: { 'content-type': 'application/json', ...(token ? { token } : {}) } });
      const json = await res.json();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      return json.result;
    };
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    await new Promise((r) => setTimeout(r, previewMs)); // the pre-join screen's preview
    const t = {};
    const t0 = performance.now();
    const mark = (k) => { if (t[k] === undefined) t[k] = performance.now() - t0; };

    const tok = await post('/request_token', { display_name: 'Joiner' });
    mark('token');
    const es = new EventSource(`${api}/events?token=${tok.token}`); // as clients do, not awaited
    const self = tok.participant_uuid;
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    document.body.append(video);
    const frame = new Promise((resolve) => {
      pc.ontrack = (e) => {
        if (e.track.kind !== 'video') return;
        e.track.onunmute = () => mark('rtp');
        video.srcObject = new MediaStream([e.track]);
        video.requestVideoFrameCallback(() => { mark('frame'); resolve(); });
      };
    });
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === 'checking') mark('checking');
      if (pc.iceConnectionState === 'connected') mark('ice');
    };
    pc.onconnectionstatechange = () => { if (pc.connectionState === 'connected') mark('dtls'); };
    let callUuid = null;
    const pending = [];
    pc.onicecandidate = (e) => {
      const body = { candidate: e.candidate ? e.candidate.candidate : '', mid: e.candidate ? e.candidate.sdpMid : '0' };
      if (callUuid) post(`/participants/${self}/calls/${callUuid}/new_candidate`, body, tok.token).catch(() => {});
      else pending.push(body);
    };
    await pc.setLocalDescription(await pc.createOffer());
    mark('offer');
    const r = await post(`/participants/${self}/calls`, { call_type: 'WEBRTC', sdp: pc.localDescription.sdp }, tok.token);
    mark('answer');
    callUuid = r.call_uuid;
    await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
    mark('srd');
    await post(`/participants/${self}/calls/${callUuid}/ack`, {}, tok.token);
    mark('ack');
    for (const body of pending) post(`/participants/${self}/calls/${callUuid}/new_candidate`, body, tok.token).catch(() => {});
    // getStats beside the frame callback: when the first frame was decoded, and what the
    // receiver had to ask for (PLI / FIR) and how many packets came before it.
    const inbound = async () => {
      let v = null;
      (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') v = s; });
      return v;
    };
    let decodedNow;
    const decoded = new Promise((resolve) => { decodedNow = resolve; });
    const poll = setInterval(async () => {
      const v = await inbound();
      if (v && v.packetsReceived > 0) mark('firstPacket');
      if (v && v.framesReceived > 0) mark('received');
      if (v && v.framesDecoded > 0) { mark('decoded'); decodedNow(); }
    }, 5);
    await Promise.race([Promise.all([frame, decoded]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no frame in 10 s')), 10000))]);
    clearInterval(poll);
    // Resource Timing of the two POSTs on the path: fetch() to the request leaving (the
    // browser's queue and connection), request to response (parleyd and loopback), and
    // the response's end to the await returning in the page (the renderer).
    for (const [name, suffix, end] of [['tok', '/request_token', 'token'], ['calls', '/calls', 'answer']]) {
      const e = performance.getEntriesByType('resource').find((x) => x.name.endsWith(suffix) && x.startTime >= t0);
      if (!e) continue;
      t[`${name}Queue`] = e.requestStart - e.startTime;
      t[`${name}Wire`] = e.responseStart - e.requestStart;
      t[`${name}Page`] = t[end] - (e.responseEnd - t0);
    }
    const v = await inbound();
    t.pli = v?.pliCount;
    t.fir = v?.firCount;
    es.close();
    await post('/release_token', {}, tok.token).catch(() => {});
    pc.close();
    stream.getTracks().forEach((s) => s.stop());
    return t;
  }, PREVIEW_MS);
}

const runs = [];
for (let i = 0; i < N; i++) {
  const page = await joiner.newPage();
  await page.goto(url);
  try {
    runs.push(await timedJoin(page));
  } catch (e) {
    console.error(`join ${i + 1}: ${e.message}`);
  }
  await page.close();
  await new Promise((r) => setTimeout(r, 300));
}

// A lost handshake datagram shows here (parleyd resends its flight after 100 ms).
const dtlsResent = await metric(daemon, 'parley_dtls_resent_total');
await joiner.close();
await pubBrowser.close();
await stopDaemon(daemon);
rmSync(work, { recursive: true, force: true });

const pct = (xs, q) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
console.log(`${runs.length} of ${N} joins reached a decoded frame; ms after request_token was sent:`);
console.log('phase    p50     p95     max');
for (const k of ['token', 'offer', 'answer', 'srd', 'ack', 'checking', 'ice', 'dtls', 'rtp', 'firstPacket', 'received', 'decoded', 'frame']) {
  const xs = runs.map((r) => r[k]).filter((x) => x !== undefined).sort((a, b) => a - b);
  if (!xs.length) continue;
  console.log(`${k.padEnd(7)} ${pct(xs, 0.5).toFixed(1).padStart(6)}  ${pct(xs, 0.95).toFixed(1).padStart(6)}  ${xs.at(-1).toFixed(1).padStart(6)}${xs.length < runs.length ? `  (${xs.length} runs)` : ''}`);
}
// The same joins as steps, each a per-join difference: what each stage added.
console.log('step (per join)       p50     p95');
const steps = [['request_token', null, 'token'], ['createOffer + SLD', 'token', 'offer'],
  ['POST calls', 'offer', 'answer'], ['answer -> SRD', 'answer', 'srd'], ['SRD -> ICE', 'srd', 'ice'],
  ['answer -> ICE', 'answer', 'ice'], ['ICE -> DTLS', 'ice', 'dtls'],
  ['DTLS -> first RTP', 'dtls', 'rtp'], ['first RTP -> frame', 'rtp', 'frame'], ['DTLS -> frame', 'dtls', 'frame']];
for (const [name, a, b] of steps) {
  const xs = runs.filter((r) => r[b] !== undefined && (a === null || r[a] !== undefined))
    .map((r) => r[b] - (a === null ? 0 : r[a])).sort((x, y) => x - y);
  if (xs.length) console.log(`${name.padEnd(20)} ${pct(xs, 0.5).toFixed(1).padStart(6)}  ${pct(xs, 0.95).toFixed(1).padStart(6)}`);
}
console.log('POST as the page sees it  p50     p95  (Resource Timing)');
for (const [k, what] of [['tokQueue', 'request_token: fetch -> request'], ['tokWire', 'request_token: request -> response'],
  ['tokPage', 'request_token: response -> page'], ['callsQueue', 'calls: fetch -> request'],
  ['callsWire', 'calls: request -> response'], ['callsPage', 'calls: response -> page']]) {
  const xs = runs.map((r) => r[k]).filter((x) => x !== undefined).sort((a, b) => a - b);
  if (xs.length) console.log(`${what.padEnd(36)} ${pct(xs, 0.5).toFixed(1).padStart(6)}  ${pct(xs, 0.95).toFixed(1).padStart(6)}`);
}
// The tail: the slowest joins, each as its steps, to see which step made it slow.
const slow = runs.filter((r) => r.frame !== undefined).sort((a, b) => b.frame - a.frame).slice(0, 3);
for (const r of slow) {
  const at = ['token', 'offer', 'answer', 'srd', 'ice', 'dtls', 'rtp', 'frame'].filter((k) => r[k] !== undefined);
  console.log(`slow join ${r.frame.toFixed(0)} ms: ${at.map((k, i) => `${k} +${(r[k] - (i ? r[at[i - 1]] : 0)).toFixed(0)}`).join(', ')}`);
}
const sum = (k) => runs.reduce((a, r) => a + (r[k] || 0), 0);
console.log(`the joiners sent ${sum('pli')} PLI and ${sum('fir')} FIR in all before their first frame`);
console.log(`parleyd resent ${dtlsResent} DTLS handshake flights (parley_dtls_resent_total)`);
