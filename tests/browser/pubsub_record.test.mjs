// pubsub_record.test.mjs — recording per key in publish/subscribe sessions (issue 15 §4):
// two Chromium pages with the fake camera publish through the SDK; a JWT with can_record
// records both feeds, each into its own file, which a real HTTP server receives (PUT) with
// one signed webhook per file, and ffprobe reads; a JWT without can_record is refused; an
// unpublished feed stops its recording.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until, parleyctl, metric } from './helpers.mjs';
import { startSink } from '../tools/http_sink.mjs';

let d, acme, browser, sink;

const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwtFor(account, claims) {
  const unsigned = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({
    cid: account.cid, exp: Math.floor(Date.now() / 1000) + 600, ...claims })}`;
  return `${unsigned}.${crypto.createHmac('sha256', account.jwt_secret).update(unsigned).digest('base64url')}`;
}

before(async () => {
  sink = await startSink();
  d = await startDaemon([]);
  acme = JSON.parse(parleyctl(d.dir, 'account', 'add', '--cid', 'acme', '--json'));
  sink.setSecret(acme.webhook_secret);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (d) await stopDaemon(d);
  await sink?.close();
});

/* A page of the server's origin, joined to session sid with the SDK as window.s, its events
 * logged in window.log, and its fake camera and microphone published as one feed. */
async function participant(uid, claims, daemon = d, account = acme) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log(`${uid} page error: ${e.message}`));
  await page.goto(`${daemon.base}/web/examples/pubsub.html`);
  const feed = await page.evaluate(async ([jwt, uid]) => {
    const P = (await import('/web/sdk/parley.js')).default;
    window.P = P;
    window.log = [];
    const s = await P.connect(location.origin, { sid: 'rec', uid, jwt });
    window.s = s;
    for (const ev of Object.values(P.events)) s.on(ev, (data) => log.push({ ev, data }));
    const cam = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    return s.publish(cam, { type: 'video' });
  }, [jwtFor(account, { sid: 'rec', uid, ...claims }), uid]);
  return { page, feed, uid };
}

const logOf = (page, ev) => page.evaluate((e) => log.filter((x) => x.ev === e).map((x) => x.data), ev);

/* Calls s[method](...args) in page: its result, or the ParleyError's code. */
const attempt = (page, method, ...args) => page.evaluate(async ([m, a]) => {
  try {
    return await s[m](...a);
  } catch (e) {
    return e instanceof P.ParleyError ? e.code : `not a ParleyError: ${e}`;
  }
}, [method, args]);

function ffprobe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries',
    'format=duration,format_name:stream=codec_name,codec_type,width,height', '-of', 'json', file],
  { encoding: 'utf8' });
  const j = JSON.parse(out);
  return { duration: Number(j.format.duration), format: j.format.format_name,
    codecs: j.streams.map((s) => s.codec_name).sort(), video: j.streams.find((s) => s.codec_type === 'video') };
}

const uploads = () => sink.log.filter((e) => e.method === 'PUT');
const readyHooks = () => sink.log.filter((e) => e.method === 'POST' && e.body &&
  JSON.parse(e.body).status === 'upload_ready').map((e) => ({ ...JSON.parse(e.body), signature_ok: e.signature_ok }));

test('two feeds recorded, each uploaded with one signed webhook; no can_record: FORBIDDEN', async () => {
  const ann = await participant('ann', { can_record: true });
  const bob = await participant('bob', {}); // can_record defaults to false
  const upload = `${sink.url}/up/{feed_id}.webm`;
  const hooks = `${sink.url}/hooks`;

  // Bob's token may not record, nor stop Ann's recordings.
  assert.equal(await attempt(bob.page, 'startRecording', null, { uploadUrl: upload }), 'FORBIDDEN');
  // One URL for several files is refused: each file needs its own.
  assert.equal(await attempt(ann.page, 'startRecording', null, { uploadUrl: `${sink.url}/up/one.webm` }), 'BAD_REQUEST');
  assert.equal(await attempt(ann.page, 'startRecording', ['nope'], { uploadUrl: upload }), 'NOT_FOUND');

  const startedAt = Date.now();
  const recs = await attempt(ann.page, 'startRecording', null, { uploadUrl: upload, webhookUrl: hooks });
  assert.ok(Array.isArray(recs), `startRecording: ${JSON.stringify(recs)}`);
  assert.deepEqual(recs.map((r) => r.feed_id).sort(), [ann.feed, bob.feed].sort());
  assert.equal(await attempt(bob.page, 'stopRecording', recs.map((r) => r.rec_id)), 'FORBIDDEN');
  // Everyone in the session hears that both are recorded once their first frame is written.
  for (const p of [ann, bob])
    await until(async () => (await logOf(p.page, 'recordingStarted')).length === 2, `${p.uid} hears recordingStarted twice`);
  // Asked again, a feed being recorded answers its running recording.
  assert.deepEqual(await attempt(ann.page, 'startRecording', [bob.feed], { uploadUrl: upload }),
    recs.filter((r) => r.feed_id === bob.feed));
  await new Promise((r) => setTimeout(r, 4000));
  // The widest simulcast layer each camera sends (Chrome leaves the top one off for a
  // 640x480 camera): what its file must hold.
  const widest = {};
  for (const p of [ann, bob])
    widest[p.feed] = await p.page.evaluate(async () => {
      let w = 0;
      (await s.pub.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.frameWidth) w = Math.max(w, r.frameWidth);
      });
      return w;
    });
  const stoppedAt = Date.now();
  assert.equal(await attempt(ann.page, 'stopRecording'), undefined);
  await until(async () => (await logOf(ann.page, 'recordingStopped')).length === 2, 'recordingStopped twice');
  const stopped = await logOf(ann.page, 'recordingStopped');
  for (const s of stopped) assert.ok(s.ok && s.bytes > 10000, JSON.stringify(s));

  // One upload and one webhook per file.
  await until(() => readyHooks().length === 2, 'two upload_ready webhooks', 30000);
  const puts = uploads();
  assert.equal(puts.length, 2);
  assert.deepEqual(puts.map((p) => p.url).sort(), [`/up/${ann.feed}.webm`, `/up/${bob.feed}.webm`].sort());
  for (const hook of readyHooks()) {
    const rec = recs.find((r) => r.rec_id === hook.rec_id);
    assert.ok(rec, `webhook for a recording we made: ${hook.rec_id}`);
    assert.equal(hook.signature_ok, true, 'webhook signature verifies');
    assert.equal(hook.session_id, 'rec');
    assert.equal(hook.client_id, rec.feed_id === ann.feed ? 'ann' : 'bob');
    const put = puts.find((p) => p.url === `/up/${rec.feed_id}.webm`);
    assert.equal(hook.recording_file_size_bytes, put.length);
    const probe = ffprobe(put.file);
    if (process.env.DEBUG_REC) console.log(d.log().split('\n').filter((l) => /record|layer|keyframe/.test(l)).join('\n'));
    assert.deepEqual(probe.codecs, ['opus', 'vp8'], `${rec.feed_id}: ${JSON.stringify(probe)}`);
    assert.match(probe.format, /webm/);
    // The highest simulcast layer sent.
    assert.ok(widest[rec.feed_id] >= 320, `widest layer ${widest[rec.feed_id]}`);
    // A layer the camera sends: the widest when the recording caught its keyframe in the
    // 5 s it ran (release, always so far); under ASan one run in CI stayed on the 160-wide
    // layer it started on (moving up waits for that layer's keyframe: see the session note).
    assert.ok([widest[rec.feed_id], widest[rec.feed_id] / 2].includes(probe.video.width), JSON.stringify(probe.video));
    const sentMs = stoppedAt - startedAt;
    assert.ok(probe.duration * 1000 <= sentMs + 500 && probe.duration * 1000 >= sentMs - 2500,
      `duration ${probe.duration}s vs ${sentMs}ms between start and stop`);
    assert.ok(Math.abs(hook.recording_file_duration_ms - probe.duration * 1000) < 200);
  }
  assert.equal(await metric(d, 'parley_pubsub_recordings_total'), 2);

  // A feed that is unpublished stops its recording: its file is delivered too.
  const again = await attempt(ann.page, 'startRecording', [bob.feed], { uploadUrl: upload, webhookUrl: hooks });
  assert.equal(again.length, 1);
  await until(async () => (await logOf(ann.page, 'recordingStarted')).length === 3, 'the third recording started');
  await new Promise((r) => setTimeout(r, 1500));
  // (The op itself: the SDK's renegotiation after its last feed goes is not what is tested.)
  await bob.page.evaluate((f) => s.call('unpublish', { feed_id: f }), bob.feed);
  await until(async () => (await logOf(ann.page, 'recordingStopped')).some((x) => x.rec_id === again[0].rec_id),
    'recordingStopped after unpublish');
  await until(() => readyHooks().some((h) => h.rec_id === again[0].rec_id), 'its upload_ready', 30000);
  assert.equal(uploads().length, 3);
  assert.ok(ffprobe(uploads()[2].file).duration > 0.5);
  assert.equal(await metric(d, 'parley_pubsub_recordings_open'), 0);
  for (const p of [ann, bob]) await p.page.close();
});

test('kill -9 mid-recording: recovered and delivered at restart; SIGTERM finalises', async () => {
  sink.reset();
  const first = await startDaemon([]);
  const account = JSON.parse(parleyctl(first.dir, 'account', 'add', '--cid', 'acme', '--json'));
  sink.setSecret(account.webhook_secret);
  const opts = { uploadUrl: `${sink.url}/crash/{rec_id}.webm`, webhookUrl: `${sink.url}/hooks` };
  const a = await participant('ann', { can_record: true }, first, account);
  const [crashed] = await a.page.evaluate(([f, o]) => s.startRecording([f], o), [a.feed, opts]);
  await until(async () => (await logOf(a.page, 'recordingStarted')).length === 1, 'recording started');
  await new Promise((r) => setTimeout(r, 4000));
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.on('exit', r));
  await a.page.close();
  const second = await startDaemon([], [], { dir: first.dir });
  let live = second;
  try {
    await until(() => readyHooks().some((h) => h.rec_id === crashed.rec_id), 'upload_ready after the restart', 30000);
    const probe = ffprobe(uploads().find((u) => u.url === `/crash/${crashed.rec_id}.webm`).file);
    assert.deepEqual(probe.codecs, ['opus', 'vp8']);
    assert.ok(probe.duration >= 2.5 && probe.duration < 7, `what was recorded survived: ${probe.duration}s`);

    // SIGTERM while recording: the file is closed and journaled before the daemon exits.
    const b = await participant('bob', { can_record: true }, second, account);
    const [closing] = await b.page.evaluate(([f, o]) => s.startRecording([f], o), [b.feed, opts]);
    await until(async () => (await logOf(b.page, 'recordingStarted')).length === 1, 'recording started');
    await new Promise((r) => setTimeout(r, 2000));
    live = null;
    await stopDaemon(second, { keep: true });
    await b.page.close();
    assert.match(second.log(), new RegExp(`recording ${closing.rec_id} closed`), 'finalised at shutdown');
    live = await startDaemon([], [], { dir: first.dir });
    await until(() => readyHooks().some((h) => h.rec_id === closing.rec_id), 'its upload_ready', 30000);
    const probe2 = ffprobe(uploads().find((u) => u.url === `/crash/${closing.rec_id}.webm`).file);
    assert.deepEqual(probe2.codecs, ['opus', 'vp8']);
    assert.ok(probe2.duration >= 1, `${probe2.duration}s`);
  } finally {
    if (live) await stopDaemon(live);
  }
});
