// firefox.test.mjs — headless Firefox ESR (WebDriver BiDi) against a real parleyd. Its
// max-bundle offers give every m-line after the first port 0 and a=bundle-only: the
// echo room sends Firefox its own audio and video back, DTMF (telephone-event/8000)
// arrives, and in a conference Firefox and Chromium each decode the other's video and
// Firefox's presentation reaches Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, launchFirefox, startDaemon, stopDaemon, metric, until, dtmfRoundTrip } from './helpers.mjs';

let firefox;
before(async () => { firefox = await launchFirefox(); });
after(async () => { await firefox?.close(); });

/* Joins alias as name in a new tab of browser b (Playwright or Puppeteer) and calls. */
async function joinAndCall(b, d, alias, name, options = {}) {
  const page = await b.newPage();
  await page.goto(`${d.base}/web/test/call.html`);
  // Puppeteer's BiDi goto can return before the new document's script has run.
  await page.waitForFunction(() => typeof window.parley === 'object');
  await page.evaluate(([a, n]) => parley.join(a, n), [alias, name]);
  await page.evaluate((o) => parley.call(o), options);
  return page;
}

/* Connected, and video frames decode and keep decoding; audio bytes grow. */
async function assertVideoFlowing(page, who) {
  const stats = () => page.evaluate(() => parley.stats());
  const a = await until(async () => {
    const s = await stats();
    return s.connection === 'connected' && s.framesDecoded > 5 ? s : null;
  }, `${who} to decode video`);
  await new Promise((r) => setTimeout(r, 1000));
  const b = await stats();
  assert.ok(b.framesDecoded > a.framesDecoded, `${who}: frames keep decoding`);
  assert.ok(b.audioBytes > a.audioBytes, `${who}: audio bytes grow: ${a.audioBytes} -> ${b.audioBytes}`);
  return b;
}

test('Firefox echo call: bundle-only m-lines accepted, its audio and video come back, DTMF', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await joinAndCall(firefox, d, 'echo', 'Firefox', { slides: true });
    const offer = await page.evaluate(() => parley.pc.localDescription.sdp);
    assert.match(offer, /m=video 0 [^\r]*\r\n(?:[^m][^\r]*\r\n)*a=bundle-only/, 'Firefox offers bundle-only');
    const answer = await page.evaluate(() => parley.pc.remoteDescription.sdp);
    const ports = [...answer.matchAll(/^m=\w+ (\d+) /gm)].map((m) => Number(m[1]));
    assert.equal(ports.length, 3);
    assert.ok(ports.every((p) => p === d.udp), `every m-line accepted on our port: ${ports}`);
    assert.match(answer, /a=group:BUNDLE 0 1 2\r\n/);
    await assertVideoFlowing(page, 'Firefox');

    assert.equal(await dtmfRoundTrip(page, '1#'), '1#');
    assert.equal(await metric(d, 'parley_srtp_failures_total'), 0);
    await page.evaluate(() => parley.hangup());
    await until(async () => (await metric(d, 'parley_calls')) === 0, 'call freed');
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('Firefox and Chromium in a conference: each decodes the other\'s video and Firefox presents', async () => {
  const work = mkdtempSync(join(tmpdir(), 'parley-ff-'));
  // Chromium's camera: a solid red 160x120 clip (Y4M), so Firefox can tell it apart.
  const w = 160, h = 120, frame = Buffer.concat([Buffer.from('FRAME\n'),
    Buffer.alloc(w * h, 76), Buffer.alloc(w * h / 4, 85), Buffer.alloc(w * h / 4, 255)]);
  writeFileSync(join(work, 'red.y4m'), Buffer.concat([
    Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\n`), ...Array(10).fill(frame)]));
  const d = await startDaemon([['conf']]);
  const chrome = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_FLAGS,
    `--use-file-for-fake-video-capture=${join(work, 'red.y4m')}`] });
  try {
    const ff = await joinAndCall(firefox, d, 'conf', 'Firefox', { slides: true });
    const cr = await joinAndCall(chrome, d, 'conf', 'Chromium', { slides: true });
    await assertVideoFlowing(ff, 'Firefox');
    await assertVideoFlowing(cr, 'Chromium');
    // Each sees the other: Firefox sees Chromium's red; Chromium sees Firefox's camera.
    await until(() => ff.evaluate(() => parley.colour()).then((c) => c === 'red'), 'Firefox to see red');
    const seen = await until(() => cr.evaluate(() => parley.colour()), 'Chromium to see a picture');
    assert.notEqual(seen, 'red', 'Chromium sees Firefox, not itself');

    // Firefox presents on its slides m-line (a renegotiation: Firefox's second offer);
    // Chromium watches and sees Firefox's picture there.
    await ff.evaluate(() => parley.present());
    await until(() => cr.evaluate(() => parley.events.some((e) => e.name === 'presentation_start')),
      'Chromium to get presentation_start');
    await cr.evaluate(() => parley.watch());
    await until(() => cr.evaluate(() => parley.colour('slides')).then((c) => c && c !== 'red'),
      'Chromium to see Firefox\'s presentation');
    await ff.close();
    await cr.close();
  } finally {
    await chrome.close();
    await stopDaemon(d);
    rmSync(work, { recursive: true, force: true });
  }
});
