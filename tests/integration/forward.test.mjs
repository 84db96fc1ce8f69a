// forward.test.mjs — the conference router's video forwarding and NACK answers, with real
// ICE + DTLS + SRTP peers (tests/tools/forward_probe.c, built from Parley's rtc stack):
// every NACKed packet comes back as the receiver would have got it (its SSRC, its sequence
// number, timestamp and payload in step), also after the publisher has left the room (the
// publisher's packet cache lives on while receivers point into it), and a NACK for a number
// never sent gets nothing. Three rooms at once on a daemon with three media loops: a room's
// calls must share one loop (forwarding would fail otherwise), and the rooms spread out.
// A tile switched between simulcast layers again and again reads as one VP8 stream
// (tests/tools/simulcast_probe.c).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, BIN_DIR } from './helpers.mjs';

const PROBE = path.join(BIN_DIR, 'bench', 'forward_probe');
const ROOMS = ['forward-a', 'forward-b', 'forward-c'];
let d;
before(async () => {
  d = await startDaemon({ rooms: [...ROOMS, 'flips'], args: ['--media-loops', '3'] });
});
after(async () => { await d?.stop(); });

/* The last room's peers connect over ICE-TCP: the same forwarding and NACKs, framed. */
function probe(alias) {
  const transport = alias === ROOMS[2] ? 'tcp' : 'udp';
  return new Promise((resolve) => {
    execFile(PROBE, [String(d.port), alias, transport], { timeout: 60000 },
      (err, stdout, stderr) =>
        resolve({ alias, code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

test('NACKs are answered from the publisher\'s cache, in three rooms on three media loops (one over ICE-TCP)', async () => {
  assert.ok(existsSync(PROBE), `${PROBE} is built with the benchmarks`);
  const results = await Promise.all(ROOMS.map(probe));
  for (const r of results) {
    assert.equal(r.code, 0, `forward_probe in ${r.alias} failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /retransmissions checked: ok/);
  }
  // Each room's two receivers are still connected: two calls per room, never split.
  const text = (await d.get('/metrics')).text;
  const perLoop = [...text.matchAll(/^parley_media_loop_calls\{loop="(\d+)"\} (\d+)$/gm)]
    .map((m) => Number(m[2]));
  assert.equal(perLoop.length, 3, text);
  assert.equal(perLoop.reduce((a, b) => a + b, 0), 6, `calls per loop: ${perLoop}`);
  assert.ok(perLoop.every((n) => n % 2 === 0), `a room's calls were split: ${perLoop}`);
  assert.ok(perLoop.filter((n) => n > 0).length >= 2, `every room on one loop: ${perLoop}`);
  // The TCP room's three peers each had a connection (closed when the probe exited; the
  // calls wait for consent), and its media went through frames.
  const tcp = (name) => Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1]);
  assert.equal(tcp('parley_tcp_accepted_total'), 3, text);
  assert.ok(tcp('parley_tcp_frames_in_total') > 60, text);
  assert.ok(tcp('parley_tcp_frames_out_total') > 2 * 60, text);
});

/* Its l and m layers number pictures apart from its h layer, as Chromium's do: without
 * picture ids and TL0PICIDX carried on, the first switch jumps them by thousands. */
test('a simulcast tile switched between layers runs on in sequence numbers, timestamps, ' +
  'picture ids and TL0PICIDX', async () => {
  const probe = path.join(BIN_DIR, 'bench', 'simulcast_probe');
  const r = await new Promise((resolve) => execFile(probe, [String(d.port), 'flips'],
    { timeout: 60000 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr })));
  assert.equal(r.code, 0, `simulcast_probe failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /layer switches .*: ok/);
});
