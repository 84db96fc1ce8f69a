// amplification.test.mjs — a room's roster snapshot is built once and shared by every stream that
// opens on it, so readers that never read cost a reference each, not a copy of the room; and
// all streams' unsent bytes together are bounded (--sse-total-bytes): past it, a stalled reader
// is cut while a reader that keeps up gets everything.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, waitUntil, sleep, API, IS_SANITIZED, stalledStream } from './helpers.mjs';

let daemons = [];
after(async () => { for (const d of daemons) await d.stop(); });

/** n participants with long names (~1 KB each in the snapshot), joined a few at a time. */
async function crowd(d, alias, n) {
  const ps = [];
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 10); j++) batch.push(d.join(alias, { name: `${j} ${'n'.repeat(240)}` }));
    ps.push(...await Promise.all(batch));
  }
  return ps;
}

test('500 participants and 50 streams that never read: RSS grows by one snapshot, not 50', T(90000), async () => {
  const d = await startDaemon({ rooms: ['amp'] });
  daemons.push(d);
  const ps = await crowd(d, 'amp', 500);
  const probe = await ps[0].events();
  await probe.synced(20000);
  const snapshot = probe.events.filter((e) => e.event === 'participant_create').reduce((a, e) => a + e.raw.length + 40, 0);
  probe.close();
  const m0 = await d.metrics();
  const rss0 = d.rssKiB();
  const socks = [];
  for (let i = 1; i <= 50; i++) socks.push(await stalledStream(d.port, 'amp', ps[i].token));
  await waitUntil(async () => (await d.metrics()).parley_sse_streams >= m0.parley_sse_streams + 50,
    { timeout: 20000, what: '50 stalled streams counted' });
  await sleep(500);
  const grown = d.rssKiB() - rss0;
  // One shared snapshot (~0.6 MB here) plus per-stream state (a few KB each) and allocator
  // slack; 50 copies would be ~30 MB. 8 MiB leaves room for ASan's and malloc's noise.
  const bound = 8 * 1024;
  assert.ok(snapshot > 400 * 1024, `the snapshot is large enough to tell copies from sharing: ${snapshot} B`);
  assert.ok(grown < bound, `RSS grew by ${grown} KiB with 50 stalled streams (bound ${bound} KiB, snapshot ${Math.round(snapshot / 1024)} KiB)`);
  for (const s of socks) s.destroy();
});

test('past --sse-total-bytes stalled readers are cut; a reader that keeps up gets every event', T(90000), async () => {
  // Per stream the bound is high (8 MiB soft, 64 MiB hard), so only the total bound (2 MiB)
  // can cut these readers before they hold tens of MiB.
  const TOTAL = 2 << 20;
  const d = await startDaemon({ rooms: ['tot'], args: ['--sse-total-bytes', String(TOTAL), '--sse-queue-bytes', String(8 << 20), '--keepalive', '60', '--chat-rate', '0'] });
  daemons.push(d);
  const ps = await crowd(d, 'tot', 10);
  const reader = await ps[0].events();
  await reader.synced();
  const closed = [];
  const socks = [];
  for (let i = 1; i <= 8; i++) {
    const s = await stalledStream(d.port, 'tot', ps[i].token);
    const c = { closed: false };
    s.on('close', () => { c.closed = true; });
    socks.push(s);
    closed.push(c);
  }
  await waitUntil(async () => (await d.metrics()).parley_sse_streams === 9, { what: '9 streams counted' });
  // 32 KiB messages shared by all nine streams: the stalled ones' queues grow past what the
  // kernel takes for them, then past the total bound; they must be cut within a second or so
  // of that, long before 800 messages (25 MiB) are sent.
  const payload = (i) => `${String(i).padStart(4, '0')}:${'x'.repeat(32 * 1024 - 5)}`;
  let sent = 0;
  const streams = async () => (await d.metrics()).parley_sse_streams;
  while (sent < 800 && await streams() > 1) {
    await Promise.all(Array.from({ length: 8 }, (_, j) => ps[9].do('message', { type: 'text/plain', payload: payload(sent + j) })));
    sent += 8;
    if (sent % 64 === 0) await sleep(1200); // stalled writes now stuck for over a second
  }
  await waitUntil(async () => await streams() === 1, { timeout: 10000, what: `every stalled stream closed (after ${sent} messages)` });
  // The server really closed them: draining each socket reaches EOF.
  for (const s of socks) { s.on('data', () => {}); s.resume(); }
  await waitUntil(() => closed.every((c) => c.closed), { timeout: 15000, what: 'the stalled sockets to reach EOF once read' });
  const last = payload(sent - 1).slice(0, 4);
  await reader.waitFor('message_received', (m) => m.payload.startsWith(last), { timeout: 20000 });
  assert.equal(reader.filter('message_received').length, sent, 'the reader got every message');
  assert.equal(reader.ended, false, 'the reader that keeps up is not cut');
  const m = await d.metrics();
  assert.ok(m.parley_sse_overflows_total >= 8, `overflows counted: ${m.parley_sse_overflows_total}`);
  assert.ok(m.parley_sse_queued_bytes <= TOTAL, `unsent bytes within the bound: ${m.parley_sse_queued_bytes}`);
  // Before a stream's own bound (8 MiB, 256 messages) could have cut it.
  assert.ok(sent * 32 * 1024 < 8 << 20, `cut after ${sent} messages`);
  for (const s of socks) s.destroy();
  reader.close();
});
