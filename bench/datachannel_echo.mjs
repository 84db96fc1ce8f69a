// datachannel_echo.mjs — data channel throughput between a Chromium page and parleyd's
// echo router on loopback: one reliable ordered channel, the page keeps up to 1 MiB
// buffered and counts what comes back (each message crosses the association twice, so
// the server receives and sends every byte). Prints messages/s and MB/s echoed, and
// parleyd's CPU per echoed message (utime + stime from /proc over the measured window).
// Usage: PARLEY_BIN_DIR=/tmp/b node bench/datachannel_echo.mjs [SIZE=1024] [SECONDS=5]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon } from '../tests/browser/helpers.mjs';

// playwright-core lives in tests/node_modules.
const { chromium } = createRequire(new URL('../tests/package.json', import.meta.url))('playwright-core');
const SIZE = Number(process.argv[2] || 1024);
const SECONDS = Number(process.argv[3] || 5);
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks of 10 ms
};

const d = await startDaemon([['echo', '--test-call']], ['--log-level', 'warn']);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
try {
  const page = await browser.newPage();
  await page.goto(`${d.base}/web/test/call.html`);
  await page.evaluate(() => parley.join('echo', 'bench'));
  await page.evaluate(() => parley.call({ audio: false, video: false, data: true }));
  await page.waitForFunction(() => parley.dc.readyState === 'open');
  // Warm up for 1 s, then count for SECONDS.
  const run = (ms) => page.evaluate(([size, ms]) => new Promise((resolve) => {
    const dc = parley.dc, msg = new Uint8Array(size);
    let got = 0, bytes = 0, stop = false;
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (e) => { got++; bytes += e.data.byteLength; };
    dc.bufferedAmountLowThreshold = 512 * 1024;
    const fill = () => { while (!stop && dc.bufferedAmount < 1024 * 1024) dc.send(msg); };
    dc.onbufferedamountlow = fill;
    fill();
    setTimeout(() => { stop = true; resolve({ got, bytes }); }, ms);
  }), [SIZE, ms]);
  await run(1000);
  await page.waitForTimeout(500);
  const c0 = cpu(d.proc.pid), t0 = Date.now();
  const r = await run(SECONDS * 1000);
  const dt = (Date.now() - t0) / 1000, dc = cpu(d.proc.pid) - c0;
  console.log(`${SIZE}-byte messages echoed: ${(r.got / dt).toFixed(0)} msg/s, ` +
    `${(r.bytes / dt / 1e6).toFixed(1)} MB/s back (as much again in); parleyd CPU ` +
    `${(100 * dc / dt).toFixed(0)} % of a core, ${(dc * 1e6 / r.got).toFixed(1)} us per echoed message`);
} finally {
  await browser.close();
  await stopDaemon(d);
}
