// rtm.test.mjs — RTM recording end to end: headless Chromium is the agent (and a second
// page the supervisor), speaking RTM over a real WebSocket from the page; a real node
// HTTP server takes the uploads and webhooks; ffprobe reads what was recorded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until, parleyctl } from './helpers.mjs';
import { startSink } from '../tools/http_sink.mjs';

let browser, sink;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  sink = await startSink();
});
after(async () => {
  await browser?.close();
  await sink?.close();
});

/* An account and a JWT for client; the sink checks webhook signatures with its secret. */
const secrets = new Map(); // data dir -> the account's webhook secret
function credentials(d, client, extra = []) {
  if (!secrets.has(d.dir))
    secrets.set(d.dir, JSON.parse(parleyctl(d.dir, 'account', 'add', '--cid', 'acme', '--json')).webhook_secret);
  const secret = secrets.get(d.dir);
  const jwt = parleyctl(d.dir, 'jwt', '--account', 'acme', '--client-id', client, ...extra).trim();
  return { jwt, secret };
}

async function agentPage(d, client, opts = {}) {
  const { jwt, secret } = credentials(d, client);
  const page = await browser.newPage();
  await page.goto(`${d.base}/web/test/rtm.html`);
  await page.evaluate((q) => rtm.connect(q), `access_token=${jwt}`);
  await page.evaluate(([c, o]) => rtm.start(c, o), [client, { webhookUrl: `${sink.url}/hooks`, ...opts }]);
  await page.evaluate(() => rtm.startPinging(2000));
  return { page, secret };
}

const states = (page) => page.evaluate(() => rtm.states());
const lastOf = (page, type) => page.evaluate((t) => rtm.last(t), type);
const recordingStates = (page) =>
  page.evaluate(() => rtm.all('recording_state').map((m) => m.data.state));

function ffprobe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries',
    'format=duration,format_name:stream=codec_name,codec_type', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out);
  return { duration: Number(j.format.duration), codecs: j.streams.map((s) => s.codec_name).sort() };
}

const uploads = () => sink.log.filter((e) => e.method === 'PUT');
const hooks = (status) => sink.log.filter((e) => e.method === 'POST' && e.body && JSON.parse(e.body).status === status);

test('record 10 s, upload, signed upload_ready; a supervisor sees video; errors keep the session', async () => {
  sink.reset();
  // Several media loops: a supervisor must land on its agent's loop.
  const d = await startDaemon([], ['--media-loops', '4']);
  try {
    const { page, secret } = await agentPage(d, 'agent-1');
    sink.setSecret(secret);
    await until(async () => (await states(page)).includes('ACTIVE'), 'ACTIVE');
    assert.deepEqual((await states(page)).slice(0, 2), ['SETUP', 'ACTIVE']);
    assert.equal((await lastOf(page, 'sdp_update')).data.sdp.type, 'answer');

    // Bad frames get an error each and change nothing.
    await page.evaluate(() => { rtm.sendRaw('{not json'); rtm.send('no_such_type'); rtm.sendRaw('x'.repeat(300 * 1024)); });
    const errors = await until(async () => {
      const e = await page.evaluate(() => rtm.all('error').map((m) => m.data.code));
      return e.length >= 3 ? e : null;
    }, 'three errors');
    assert.deepEqual(errors, ['INVALID_JSON', 'UNKNOWN_TYPE', 'MESSAGE_TOO_LARGE']);

    const sessionId = await page.evaluate(() => rtm.sessionId);
    const startedAt = Date.now();
    await page.evaluate((u) => rtm.send('recording_start', { upload_url: u }), `${sink.url}/up/rec1.webm`);
    await until(async () => (await recordingStates(page)).includes('STARTED'), 'recording STARTED');

    // A supervisor joins and decodes the agent's video.
    const sup = await browser.newPage();
    const supJwt = credentials(d, 'supervisor-1').jwt;
    await sup.goto(`${d.base}/web/test/rtm.html`);
    await sup.evaluate((q) => rtm.connect(q), `access_token=${supJwt}`);
    await sup.evaluate(([c, s, h]) => rtm.supervise(c, s, { webhookUrl: h }),
      ['supervisor-1', sessionId, `${sink.url}/hooks`]);
    await sup.evaluate(() => rtm.startPinging(2000));
    const seen = await until(async () => {
      const s = await sup.evaluate(() => rtm.videoStats());
      return s.framesDecoded > 20 && s.width > 0 && s.audioBytes > 1000 ? s : null;
    }, 'supervisor decodes frames');
    assert.ok(seen.framesDecoded > 20);

    await page.waitForTimeout(Math.max(0, 10000 - (Date.now() - startedAt)));
    const sentMs = Date.now() - startedAt;
    // Our receiver reports and REMB let Chrome's estimate grow past its 300 kbit/s start.
    const { availableOutgoingBitrate } = await page.evaluate(() => rtm.sendStats());
    assert.ok(availableOutgoingBitrate > 450000, `estimate ${availableOutgoingBitrate} bit/s`);
    await page.evaluate(() => rtm.send('recording_stop'));
    await until(async () => (await recordingStates(page)).includes('STOPPED'), 'recording STOPPED');
    assert.deepEqual(await recordingStates(page), ['STARTED', 'STOPPED']);

    const ready = await until(() => hooks('upload_ready')[0], 'upload_ready webhook');
    assert.equal(ready.signature_ok, true, 'webhook signature verifies');
    const body = JSON.parse(ready.body);
    assert.equal(body.session_id, sessionId);
    assert.equal(body.client_id, 'agent-1');
    for (const k of ['recording_started_at', 'recording_first_frame_written_at', 'recording_stopped_at'])
      assert.match(body[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, k);
    const put = uploads()[0];
    assert.equal(put.url, '/up/rec1.webm');
    assert.equal(put.content_length, put.length, 'Content-Length matches the bytes');
    assert.equal(body.recording_file_size_bytes, put.length);
    const probe = ffprobe(put.file);
    assert.deepEqual(probe.codecs, ['opus', 'vp8']);
    // The file runs from the first keyframe to the stop: the media sent in between.
    const between = Date.parse(body.recording_stopped_at) - Date.parse(body.recording_first_frame_written_at);
    assert.ok(Math.abs(probe.duration * 1000 - between) < 500,
      `duration ${probe.duration}s vs ${between}ms between first frame and stop`);
    assert.ok(probe.duration * 1000 <= sentMs + 300 && probe.duration * 1000 > sentMs - 1500,
      `duration ${probe.duration}s vs ${sentMs}ms from recording_start to recording_stop`);
    assert.ok(Math.abs(body.recording_file_duration_ms - probe.duration * 1000) < 200);

    // The session goes on: ping, then a clean stop; the supervisor is told why it ended.
    await page.evaluate(() => rtm.send('session_stop'));
    await until(async () => (await states(page)).includes('TERMINATED'), 'TERMINATED');
    assert.equal((await lastOf(page, 'session_state')).data.termination_cause, 'TERM_BY_CLIENT');
    await until(async () => (await sup.evaluate(() => rtm.last('session_state')))?.data?.termination_cause === 'AGENT_SESSION_TERM',
      'supervisor AGENT_SESSION_TERM');
    await until(() => hooks('session_finished')[0] && hooks('supervisor_session_finished')[0], 'session webhooks');
    assert.equal(JSON.parse(hooks('session_finished')[0].body).termination_cause, 'TERM_BY_CLIENT');
    await page.close();
    await sup.close();
  } finally {
    await stopDaemon(d);
  }
});

/* An ACTIVE agent that has recorded for ms; returns its page. */
async function recordFor(d, client, ms, uploadPath) {
  const a = await agentPage(d, client);
  await until(async () => (await states(a.page)).includes('ACTIVE'), 'ACTIVE');
  await a.page.evaluate((u) => rtm.send('recording_start', { upload_url: u }), `${sink.url}${uploadPath}`);
  await until(async () => (await recordingStates(a.page)).includes('STARTED'), 'recording STARTED');
  await a.page.waitForTimeout(ms);
  return a;
}

test('upload answered 500 twice, then 201: retried with backoff, one upload_ready', async () => {
  sink.reset();
  const d = await startDaemon([]);
  try {
    const { page, secret } = await recordFor(d, 'agent-retry', 2000, '/up/retry.webm');
    sink.setSecret(secret);
    sink.fail(500, 2);
    await page.evaluate(() => rtm.send('recording_stop'));
    const ready = await until(() => hooks('upload_ready')[0], 'upload_ready after retries', 30000);
    const puts = uploads();
    assert.deepEqual(puts.map((p) => p.status), [500, 500, 201]);
    assert.ok(puts[2].at_ms - puts[1].at_ms >= 500, 'backoff between attempts');
    assert.equal(hooks('upload_ready').length, 1);
    assert.equal(ready.signature_ok, true);
    assert.equal(ffprobe(puts[2].file).codecs.length, 2);
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('upload server down for a while, then back: delivered', async () => {
  sink.reset();
  const d = await startDaemon([]);
  try {
    const { page } = await recordFor(d, 'agent-down', 2000, '/up/down.webm');
    sink.down(4000);
    const downAt = Date.now();
    await page.evaluate(() => rtm.send('recording_stop'));
    await until(() => hooks('upload_ready')[0], 'upload_ready after the outage', 40000);
    const put = uploads()[0];
    assert.ok(put.at_ms - downAt >= 3500, 'delivered once the server was back');
    assert.equal(put.content_length, put.length);
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('kill -9 five seconds into a recording: finalised and uploaded on restart', async () => {
  sink.reset();
  const d = await startDaemon([]);
  const { page } = await recordFor(d, 'agent-crash', 5000, '/up/crash.webm');
  d.proc.kill('SIGKILL');
  await new Promise((r) => d.proc.on('exit', r));
  await page.close();
  const again = await startDaemon([], [], { dir: d.dir });
  try {
    await until(() => hooks('upload_ready')[0], 'upload_ready after the restart', 30000).catch((e) => { console.log(again.log()); throw e; });
    const probe = ffprobe(uploads()[0].file);
    assert.deepEqual(probe.codecs, ['opus', 'vp8']);
    assert.ok(probe.duration >= 4, `at least the first 4 s survived: ${probe.duration}s`);
    assert.ok(probe.duration < 7, `no more than was sent: ${probe.duration}s`);
  } finally {
    await stopDaemon(again);
  }
});

test('no RTP while ACTIVE: NO_PACKET_RECEIVED; SIGTERM mid-recording: SERVICE_SHUTDOWN, file kept', async () => {
  sink.reset();
  const d = await startDaemon([], ['--rtm-no-packet-timeout', '3']);
  try {
    const a = await agentPage(d, 'agent-quiet');
    await until(async () => (await states(a.page)).includes('ACTIVE'), 'ACTIVE');
    await a.page.evaluate(() => rtm.stopMedia());
    await until(async () => (await lastOf(a.page, 'session_state'))?.data?.state === 'TERMINATED', 'TERMINATED', 15000);
    assert.equal((await lastOf(a.page, 'session_state')).data.termination_cause, 'NO_PACKET_RECEIVED');
    await a.page.close();

    const b = await recordFor(d, 'agent-term', 2000, '/up/term.webm');
    const exited = new Promise((r) => d.proc.on('exit', r));
    d.proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    const last = await until(async () => (await b.page.evaluate(() => rtm.all('session_state').map((m) => m.data))).find((m) => m.state === 'TERMINATED'), 'TERMINATED');
    assert.equal(last.termination_cause, 'SERVICE_SHUTDOWN');
    assert.deepEqual(await recordingStates(b.page), ['STARTED', 'STOPPED'], 'finalised before exit');
    await b.page.close();
    const again = await startDaemon([], [], { dir: d.dir });
    await until(() => hooks('upload_ready')[0], 'upload_ready (after the restart at the latest)', 30000);
    assert.ok(ffprobe(uploads().at(-1).file).duration >= 1.5);
    await stopDaemon(again);
  } finally {
    if (d.proc.exitCode === null) await stopDaemon(d);
  }
});

for (const [codec, container, want] of [['VP9', '.webm', ['opus', 'vp9']], ['H264', '.mkv', ['h264', 'opus']]]) {
  test(`a ${codec} camera is recorded as ${want.join(' + ')} (${container}); its supervisor decodes ${codec}`, async () => {
    sink.reset();
    const d = await startDaemon([], ['--media-loops', '4']);
    try {
      const { page } = await agentPage(d, `agent-${codec}`, { codec });
      await until(async () => (await states(page)).includes('ACTIVE'), 'ACTIVE');
      const askedAt = Date.now();
      await page.evaluate((u) => rtm.send('recording_start', { upload_url: u }), `${sink.url}/up/${codec}`);
      await until(async () => (await recordingStates(page)).includes('STARTED'), 'recording STARTED');
      // The supervisor's answer takes the agent's codec, so forwarded video decodes.
      const sup = await browser.newPage();
      await sup.goto(`${d.base}/web/test/rtm.html`);
      await sup.evaluate((q) => rtm.connect(q), `access_token=${credentials(d, `sup-${codec}`).jwt}`);
      await sup.evaluate(([c, s]) => rtm.supervise(c, s), [`sup-${codec}`, await page.evaluate(() => rtm.sessionId)]);
      await until(async () => (await sup.evaluate(() => rtm.videoStats())).framesDecoded > 10, `supervisor decodes ${codec}`);
      const answer = (await sup.evaluate(() => rtm.last('sdp_update'))).data.sdp.sdp;
      assert.match(answer, new RegExp(`a=rtpmap:\\d+ ${codec}/90000`), 'supervisor answered with the agent codec');
      await sup.close();
      await page.waitForTimeout(2000);
      const stoppedAt = Date.now();
      await page.evaluate(() => rtm.send('recording_stop'));
      const ready = await until(() => hooks('upload_ready')[0], 'upload_ready');
      const probe = ffprobe(uploads()[0].file);
      assert.deepEqual(probe.codecs, want);
      const body = JSON.parse(ready.body);
      assert.ok(Math.abs(probe.duration * 1000 - body.recording_file_duration_ms) < 200);
      // The file covers the time between start and stop (media flows before the start, so
      // the first frame follows it at once; a second of slack for a slow, sanitized run).
      // A fixed 3.5 s once failed at 3.46 s when the supervisor decoded quickly.
      const asked = (stoppedAt - askedAt) / 1000;
      assert.ok(probe.duration > asked - 1 && probe.duration > 2.5,
        `${probe.duration}s recorded of ${asked}s asked`);
      await page.close();
    } finally {
      await stopDaemon(d);
    }
  });
}
