// rtm_record.mjs — the whole RTM recording path under load: N headless Chromium agents
// (fake camera and microphone) each record over RTM into a real parleyd for S seconds;
// reports parleyd's own CPU (user + system from /proc) per recorded stream, the streams'
// bit rate (from the uploaded files) and what that makes per core.
// Usage: node bench/rtm_record.mjs [N=4] [SECONDS=20]   (needs build/ and tests/node_modules)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.BUILD_DIR || join(ROOT, 'build');
const { chromium } = await import(join(ROOT, 'tests/node_modules/playwright-core/index.mjs'));
const { startSink } = await import(join(ROOT, 'tests/tools/http_sink.mjs'));
const { CHROMIUM_FLAGS } = await import(join(ROOT, 'tests/browser/helpers.mjs'));
const N = Number(process.argv[2] || 4), SECONDS = Number(process.argv[3] || 20);
const RECORD = process.env.RECORD !== '0'; // RECORD=0: the same sessions, not recorded (baseline)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ctl = (dir, ...a) => execFileSync(join(BIN, 'parleyctl'), ['--data-dir', dir, ...a], { encoding: 'utf8' });

/* utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

async function waitFor(fn, what, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await fn()) return; await sleep(200); }
  throw new Error(`timed out: ${what}`);
}

const dir = mkdtempSync(join(tmpdir(), 'parley-rtm-bench-'));
ctl(dir, 'account', 'add', '--cid', 'bench');
const proc = spawn(join(BIN, 'parleyd'), ['--data-dir', dir, '--http', '127.0.0.1:0', '--media-port', '0',
  '--web-dir', join(ROOT, 'web'), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
proc.stderr.on('data', (d) => { log += d; });
await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(log), 'parleyd');
const base = `http://127.0.0.1:${log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)[1]}`;
const sink = await startSink();
// The daemon's own idle cost (its 20 ms media tick, timers) is measured first and taken
// out, so the figure is what each recorded stream adds.
const i0 = cpuSeconds(proc.pid), it0 = Date.now();
await sleep(5000);
const idleRate = (cpuSeconds(proc.pid) - i0) / ((Date.now() - it0) / 1000);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
try {
  const pages = [];
  for (let i = 0; i < N; i++) {
    const page = await browser.newPage();
    const jwt = ctl(dir, 'jwt', '--account', 'bench', '--client-id', `agent-${i}`).trim();
    await page.goto(`${base}/web/test/rtm.html`);
    await page.evaluate((q) => rtm.connect(q), `access_token=${jwt}`);
    await page.evaluate(([c, w]) => rtm.start(c, { webhookUrl: w }), [`agent-${i}`, `${sink.url}/hooks`]);
    await page.evaluate(() => rtm.startPinging(5000));
    pages.push(page);
  }
  for (const [i, page] of pages.entries()) {
    await waitFor(() => page.evaluate(() => rtm.states().includes('ACTIVE')), 'ACTIVE');
    if (RECORD)
      await page.evaluate((u) => rtm.send('recording_start', { upload_url: u }), `${sink.url}/rec-${i}.webm`);
  }
  for (const page of pages)
    if (RECORD) await waitFor(() => page.evaluate(() => rtm.all('recording_state').length > 0), 'STARTED');
  await sleep(5000); // let the encoders ramp up to their steady bit rate
  const c0 = cpuSeconds(proc.pid), t0 = Date.now();
  await sleep(SECONDS * 1000);
  const cpu = cpuSeconds(proc.pid) - c0, wall = (Date.now() - t0) / 1000;
  const rtpIn = await fetch(`${base}/metrics`).then((r) => r.text()).then((t) => Number(t.match(/^parley_rtp_in_total (\d+)$/m)[1]));
  console.log(`RTP packets received in all: ${rtpIn} (${(rtpIn / (wall + 5 + 3) / N).toFixed(0)}/s per stream, roughly)`);
  if (!RECORD) {
    console.log(`idle parleyd: ${(idleRate * 100).toFixed(2)} % of a core`);
    console.log(`not recording: each session adds ${((cpu / wall - idleRate) / N * 100).toFixed(3)} % of a core`);
    process.exit(0);
  }
  for (const page of pages) await page.evaluate(() => rtm.send('recording_stop'));
  await waitFor(() => sink.log.filter((e) => e.method === 'POST' && /upload_ready/.test(e.body || '')).length === N,
    'every upload_ready', 60000).catch((e) => { console.log(sink.log.map((x) => [x.method, x.url, x.status, (x.body || '').slice(0, 200)])); console.log(log.slice(-3000)); throw e; });
  let bits = 0, secs = 0;
  for (const e of sink.log.filter((x) => x.method === 'POST' && /upload_ready/.test(x.body || ''))) {
    const b = JSON.parse(e.body);
    bits += b.recording_file_size_bytes * 8;
    secs += b.recording_file_duration_ms / 1000;
  }
  const share = (cpu / wall - idleRate) / N;
  console.log(`idle parleyd: ${(idleRate * 100).toFixed(2)} % of a core (taken out below)`);
  console.log(`machine: ${cpus()[0].model}, ${cpus().length} cores (Chromium shares them)`);
  console.log(`command: node bench/rtm_record.mjs ${N} ${SECONDS}`);
  console.log(`streams: ${N}, measured for ${wall.toFixed(1)} s; parleyd CPU ${cpu.toFixed(2)} s`);
  console.log(`mean recorded bit rate: ${(bits / secs / 1e6).toFixed(2)} Mbit/s per stream (from the files)`);
  console.log(`parleyd CPU per recorded stream: ${(share * 100).toFixed(3)} % of a core`);
  console.log(`=> ${Math.floor(1 / share)} such streams per core (CPU-bound estimate; full path: UDP, SRTP, RTCP, recording, disk)`);
} finally {
  await browser.close();
  await sink.close();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
