// helpers.mjs — what the browser tests share: Chromium's flags, a parleyd on free
// loopback ports with the rooms a test asks for, its metrics, and polling with a deadline.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.PARLEY_BIN_DIR || join(ROOT, 'build');
// The web app parleyd serves under /web/ (PARLEY_WEB_DIR: another tree's, to try it).
const WEB = process.env.PARLEY_WEB_DIR || join(ROOT, 'web');

// The flags DEVELOPERS.md names, plus autoplay so pages can play remote audio.
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required'];

export const parleyctl = (dir, ...args) =>
  execFileSync(join(BIN, 'parleyctl'), ['--data-dir', dir, ...args], { encoding: 'utf8' });

/* rooms: parleyctl "room add" argument lists, e.g. [['echo', '--test-call']]. dir: the
 * data directory of an earlier daemon to start again on; port: the HTTP port to listen on
 * (an earlier daemon's, so that its pages find the new one), else a free one. */
export async function startDaemon(rooms, extra = [], { dir, port = 0 } = {}) {
  dir = dir || mkdtempSync(join(tmpdir(), 'parley-browser-'));
  for (const room of rooms)
    execFileSync(join(BIN, 'parleyctl'), ['--data-dir', dir, 'room', 'add', ...room]);
  // --allow-private-destinations: uploads and webhooks go to a sink on loopback.
  const proc = spawn(join(BIN, 'parleyd'), ['--data-dir', dir, '--http', `127.0.0.1:${port}`,
    '--media-port', '0', '--web-dir', WEB, '--allow-private-destinations', '1',
    ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const ready = /listening on (https?):\/\/127\.0\.0\.1:(\d+) media udp 127\.0\.0\.1:(\d+)/;
  const deadline = Date.now() + 10000;
  while (!ready.test(log) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const m = log.match(ready);
  assert.ok(m, `parleyd did not start:\n${log}`);
  return { proc, dir, base: `${m[1]}://127.0.0.1:${m[2]}`, udp: Number(m[3]), log: () => log };
}

/* SIGTERM: it must exit 0 and without a sanitizer report. keep: leave its data directory
 * for a daemon started again on it. */
export async function stopDaemon(d, { keep = false } = {}) {
  const exited = new Promise((r) => d.proc.on('exit', (code) => r(code)));
  d.proc.kill('SIGTERM');
  const code = await exited;
  if (!keep) rmSync(d.dir, { recursive: true, force: true });
  assert.equal(code, 0, `parleyd exited ${code}\n${d.log().slice(-2000)}`);
  assert.doesNotMatch(d.log(), /AddressSanitizer|runtime error:|LeakSanitizer/);
}

export async function metric(d, name) {
  const text = await (await fetch(`${d.base}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}

/* Polls fn until it returns something truthy, which is returned. */
export async function until(fn, what, ms = 20000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/* Media flows when bytes grow between two samples and frames keep decoding; ms is how
 * long connecting may take. Returns the second sample (parley.stats()). */
export async function assertFlowing(page, { ms = 20000, what = 'connected media' } = {}) {
  const a = await until(async () => {
    const s = await page.evaluate(() => parley.stats());
    return s.ice === 'connected' && s.dtls === 'connected' && s.framesDecoded > 5 ? s : null;
  }, what, ms);
  await page.waitForTimeout(1000);
  const b = await page.evaluate(() => parley.stats());
  assert.ok(b.audioBytes > a.audioBytes, `audio bytes grow: ${a.audioBytes} -> ${b.audioBytes}`);
  assert.ok(b.videoBytes > a.videoBytes, `video bytes grow: ${a.videoBytes} -> ${b.videoBytes}`);
  assert.ok(b.framesDecoded > a.framesDecoded, 'frames keep decoding');
  return b;
}

/* Firefox ESR (Debian's firefox-esr), headless over WebDriver BiDi with puppeteer-core:
 * fake camera and microphone without a prompt. Firefox gathers only its default-route
 * address unless the page may capture (the camera and microphone permissions, not just
 * no prompt), and no loopback address without ice.loopback: both, or it never tries
 * parleyd's 127.0.0.1 candidate. */
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
};
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({ browser: 'firefox', executablePath: '/usr/bin/firefox-esr',
    headless: true, protocol: 'webDriverBiDi', extraPrefsFirefox: FIREFOX_PREFS });
}

/* Sends digits from the page's call and returns what came back as dtmf_received events
 * (a test-call room echoes them), once as many have arrived. */
export async function dtmfRoundTrip(page, digits) {
  await page.evaluate((d) => parley.sendDtmf(d), digits);
  return until(async () => {
    const ev = await page.evaluate(() => parley.events.filter((e) => e.name === 'dtmf_received'));
    return ev.length >= digits.length ? ev.map((e) => e.data.digit).join('') : null;
  }, 'dtmf_received');
}
