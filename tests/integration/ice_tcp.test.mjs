// ice_tcp.test.mjs — the ICE-TCP listener refuses what is not a call's: a first frame that
// is not a binding request for a known ufrag, a frame length over the limit, and silence
// past the bind timeout each close the connection and are counted by reason; empty
// frames bind nothing. With --ice-tcp 0 nothing listens on the media port's number. A
// peer that stops reading gets whole packets dropped past the per-connection cap, and
// connections past 256 waiting to bind are closed at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startDaemon, T, waitUntil, BIN_DIR } from './helpers.mjs';

const ECHO_LOAD = path.join(BIN_DIR, 'bench', 'echo_load');

let daemons = [];
after(async () => { for (const d of daemons) await d.stop(); });

const mediaPort = (d) => Number(/media udp 127\.0\.0\.1:(\d+)/.exec(d.stderr)[1]);
const frame = (b) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);

/* A binding request whose USERNAME names a ufrag no call has. */
function stunFor(username) {
  const u = Buffer.from(username);
  const pad = (4 - (u.length % 4)) % 4;
  const attr = Buffer.concat([Buffer.from([0x00, 0x06, 0, u.length]), u, Buffer.alloc(pad)]);
  const head = Buffer.concat([Buffer.from([0x00, 0x01, attr.length >> 8, attr.length & 255]),
    Buffer.from('2112a442', 'hex'), randomBytes(12)]);
  return Buffer.concat([head, attr]);
}

/* Connects, writes bytes, and resolves with how long the server took to close. */
function closedAfter(port, bytes) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1', () => { if (bytes.length) s.write(bytes); });
    s.on('data', () => {});
    s.on('error', () => {}); // a reset is a close too
    const timer = setTimeout(() => { s.destroy(); reject(new Error('the server kept the connection')); }, 15000);
    s.on('close', () => { clearTimeout(timer); resolve(Date.now() - t0); });
  });
}

function tcpMetrics(text) {
  const get = (re) => Number(re.exec(text)?.[1]);
  return {
    open: get(/^parley_tcp_connections (\d+)$/m),
    accepted: get(/^parley_tcp_accepted_total (\d+)$/m),
    closed: get(/^parley_tcp_closed_total (\d+)$/m),
    firstFrame: get(/^parley_tcp_refused_total\{reason="first_frame"\} (\d+)$/m),
    timeout: get(/^parley_tcp_refused_total\{reason="timeout"\} (\d+)$/m),
    oversize: get(/^parley_tcp_refused_total\{reason="oversize"\} (\d+)$/m),
  };
}

test('connections that are no call\'s are closed and counted by reason', T(30000), async () => {
  const d = await startDaemon({ rooms: ['tcp'] });
  daemons.push(d);
  const port = mediaPort(d);
  const rtp = frame(Buffer.concat([Buffer.from([0x80, 0x60]), randomBytes(100)]));
  const [garbage, stranger, oversize, silent, emptyOnly] = await Promise.all([
    closedAfter(port, rtp),
    closedAfter(port, frame(stunFor('nosuchuf:theirs'))),
    closedAfter(port, Buffer.from([0xff, 0xff, 1, 2, 3])),
    closedAfter(port, Buffer.alloc(0)),
    closedAfter(port, Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.alloc(0))])),
  ]);
  for (const [what, ms] of [['garbage', garbage], ['stranger', stranger], ['oversize', oversize]])
    assert.ok(ms < 3000, `${what} closed at once, not after ${ms} ms`);
  // 5 s to bind, checked every second.
  for (const [what, ms] of [['silent', silent], ['empty frames', emptyOnly]])
    assert.ok(ms >= 4500 && ms < 8000, `${what} closed by the bind timeout, after ${ms} ms`);
  let m;
  await waitUntil(async () => {
    m = tcpMetrics((await d.get('/metrics')).text);
    return m.closed === 5;
  }, { timeout: 5000, what: 'five closes counted' });
  assert.deepEqual(m, { open: 0, accepted: 5, closed: 5, firstFrame: 2, timeout: 2, oversize: 1 });
});

test('past 256 connections waiting to bind, more are closed at once', T(20000), async () => {
  const d = await startDaemon({ rooms: ['tcp'] });
  daemons.push(d);
  const port = mediaPort(d);
  const socks = [];
  let closedEarly = 0;
  await Promise.all(Array.from({ length: 300 }, () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', resolve);
    s.on('error', () => {});
    s.on('close', () => { closedEarly++; });
    socks.push(s);
  })));
  await waitUntil(() => closedEarly >= 44, { timeout: 3000, what: '44 connections closed' });
  let limit;
  await waitUntil(async () => {
    limit = Number(/^parley_tcp_refused_total\{reason="limit"\} (\d+)$/m
      .exec((await d.get('/metrics')).text)?.[1]);
    return limit === 44;
  }, { timeout: 3000, what: `44 limit refusals counted (last ${limit})` });
  assert.equal(closedEarly, 44, 'the 44 past the limit, and only those, closed at once');
  for (const s of socks) s.destroy();
});

test('--ice-tcp 0: nothing listens on the media port number', T(15000), async () => {
  const d = await startDaemon({ rooms: ['tcp'], args: ['--ice-tcp', '0'] });
  daemons.push(d);
  const err = await new Promise((resolve) => {
    const s = net.connect(mediaPort(d), '127.0.0.1', () => { s.destroy(); resolve(null); });
    s.on('error', resolve);
  });
  assert.equal(err?.code, 'ECONNREFUSED');
  assert.doesNotMatch((await d.get('/metrics')).text, /^parley_tcp_accepted_total [1-9]/m);
});

test('a peer that stops reading: whole packets are dropped past the cap, the call stays', T(40000), async () => {
  const d = await startDaemon({ rooms: [{ alias: 'echo', testCall: true }] });
  daemons.push(d);
  // One call over ICE-TCP sends 1,200-byte packets at 4,000/s for 4 s and never reads
  // the echo: once the kernel's buffers are full, parleyd's 256 KiB must hold the rest.
  const r = await new Promise((resolve) => execFile(ECHO_LOAD,
    [String(d.port), '1', '4', '4000', String(d.child.pid), 'tcp-stalled'],
    // A load client keeps its peers to the end: its leaks are not the server's.
    { timeout: 30000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } },
    (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr })));
  assert.equal(r.code, 0, `echo_load failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /ICE-TCP/);
  const sent = Number(/sent (\d+) packets/.exec(r.stdout)[1]);
  // Every echo was either queued (the kernel's buffers, some MB on loopback, then
  // 256 KiB) or dropped whole; thousands had to be dropped. (The counters are a
  // snapshot, at most a second old.)
  let text, dropped, out;
  await waitUntil(async () => {
    text = (await d.get('/metrics')).text;
    dropped = Number(/^parley_tcp_dropped_backpressure_total (\d+)$/m.exec(text)[1]);
    out = Number(/^parley_tcp_frames_out_total (\d+)$/m.exec(text)[1]);
    return out + dropped >= sent;
  }, { timeout: 5000, what: 'every echo queued or dropped' });
  assert.ok(dropped > 1000, `packets dropped on backpressure: ${dropped}\n${r.stdout}`);
  assert.match(text, /^parley_calls 1$/m);
});

test('a closed connection is no path: consent freshness ends its call', T(30000), async () => {
  const d = await startDaemon({ rooms: [{ alias: 'echo', testCall: true }],
    args: ['--consent-timeout', '5'] });
  daemons.push(d);
  const r = await new Promise((resolve) => execFile(ECHO_LOAD,
    [String(d.port), '1', '1', '200', String(d.child.pid), 'tcp'],
    { timeout: 20000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } },
    (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr })));
  assert.equal(r.code, 0, `echo_load failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /echoed back \d+ \(100\.0%\)/);
  // echo_load has exited: its connection is closed, the call lingers without a path
  // (its RTCP reports have nowhere to go) until consent runs out.
  const t0 = Date.now();
  await waitUntil(async () => (await d.metrics()).parley_tcp_connections === 0,
    { timeout: 3000, what: 'the connection closed' });
  await waitUntil(async () => (await d.metrics()).parley_calls === 0,
    { timeout: 10000, what: 'the call ended by consent' });
  assert.ok(Date.now() - t0 > 2000, 'the call outlived its connection until consent ran out');
});
