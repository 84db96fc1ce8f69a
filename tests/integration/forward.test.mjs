// forward.test.mjs — the conference router's video forwarding and NACK answers, with real
// ICE + DTLS + SRTP peers (tests/tools/forward_probe.c, built from Parley's rtc stack):
// every NACKed packet comes back as the receiver would have got it (its SSRC, its sequence
// number, timestamp and payload in step), also after the publisher has left the room (the
// publisher's packet cache lives on while receivers point into it), and a NACK for a number
// never sent gets nothing. Run against the release and the ASan+UBSan daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, BIN_DIR } from './helpers.mjs';

const PROBE = path.join(BIN_DIR, 'bench', 'forward_probe');
let d;
before(async () => { d = await startDaemon({ rooms: ['forward'] }); });
after(async () => { await d?.stop(); });

test('NACKs are answered from the publisher\'s cache, as each receiver was sent', async () => {
  assert.ok(existsSync(PROBE), `${PROBE} is built with the benchmarks`);
  const r = await new Promise((resolve) => {
    execFile(PROBE, [String(d.port), 'forward'], { timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, `forward_probe failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /retransmissions checked: ok/);
});
