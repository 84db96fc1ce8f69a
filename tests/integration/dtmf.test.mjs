// dtmf.test.mjs — the DTMF parleyd sends a participant (RFC 4733), with a real ICE + DTLS
// + SRTP peer (tests/tools/dtmf_probe.c, built from Parley's rtc stack) that offers
// telephone-event at 8000 (as Firefox does) or 48000 (as Chrome does): a 100 ms digit
// must last 100 ms in the clock agreed (800 or 4800 units), not in Opus's 48 kHz.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, BIN_DIR } from './helpers.mjs';

const PROBE = path.join(BIN_DIR, 'bench', 'dtmf_probe');
let d;
before(async () => { d = await startDaemon({ rooms: ['dtmf-8000', 'dtmf-48000'] }); });
after(async () => { await d?.stop(); });

for (const rate of [8000, 48000]) {
  test(`a digit sent at telephone-event/${rate} lasts 100 ms in that clock`, async () => {
    assert.ok(existsSync(PROBE), `${PROBE} is built with the benchmarks`);
    const r = await new Promise((resolve) => {
      execFile(PROBE, [String(d.port), `dtmf-${rate}`, String(rate)], { timeout: 30000 },
        (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
    });
    assert.equal(r.code, 0, `dtmf_probe failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /: ok$/m);
  });
}
