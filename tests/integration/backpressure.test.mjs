// SSE back-pressure: a stream whose reader stops reading must be closed by the server once its
// queue exceeds --sse-queue-bytes, server memory and gauges stay bounded, and every other stream
// (including another stream of the same participant) keeps receiving everything.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, IS_SANITIZED, waitUntil, API, stalledStream } from './helpers.mjs';

const QUEUE = 512 * 1024; // comfortably above one batch (8 x 32 KiB), far below the flood
const PAYLOAD = 32 * 1024;
const MESSAGES = 1200; // ~38 MiB of chat fan-out to the stalled stream
const BATCH = 8;

let d;
before(async () => {
  // --chat-rate 0: these floods are the point here, not what the chat limit refuses; nor is
  // --max-streams (one participant opens 20 raw streams below).
  d = await startDaemon({ rooms: ['bp'], args: ['--sse-queue-bytes', String(QUEUE), '--keepalive', '2', '--chat-rate', '0', '--max-streams', '32'] });
});
after(async () => { await d?.stop(); });

describe('SSE back-pressure', () => {
  test('healthy readers survive bursts of max-size chat messages with the default queue size', T(60000), async () => {
    const dd = await startDaemon({ rooms: ['burst'], args: ['--chat-rate', '0'] }); // default --sse-queue-bytes
    try {
      const sender = await dd.join('burst', { name: 'Burster' });
      const reader = await dd.join('burst', { name: 'Reader' });
      const s = await reader.events();
      await s.synced();
      const N = 10;
      const ROUNDS = 5;
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(Array.from({ length: N }, (_, j) =>
          sender.do('message', { type: 'text/plain', payload: `${round}-${j}:${'b'.repeat(60 * 1024)}` })));
      }
      await s.waitFor('message_received', () => s.filter('message_received').length >= N * ROUNDS, { timeout: 20000 })
        .catch((e) => { e.message += `; got ${s.filter('message_received').length} messages, disconnect: ${JSON.stringify(s.find('disconnect')?.data)}, ended: ${s.ended}`; throw e; });
      assert.ok(!s.find('disconnect'), 'a reader that keeps up must not be disconnected');
      assert.equal(s.ended, false, 'stream still open');
      s.assertClean();
    } finally {
      await dd.stop();
    }
  });

  test('a stalled reader is disconnected; memory stays bounded; other streams get every message', T(180000), async () => {
    const sender = await d.join('bp', { name: 'Flooder' });
    const victim = await d.join('bp', { name: 'Stalled' });
    const watcher = await d.join('bp', { name: 'Watcher' });
    const watchStream = await watcher.events();
    const victimGood = await victim.events();
    await watchStream.synced();
    await victimGood.synced();
    const m0 = await d.metrics();
    const sock = await stalledStream(d.port, 'bp', victim.token);
    let sockClosed = false;
    sock.on('close', () => { sockClosed = true; });
    sock.on('error', () => {});
    await waitUntil(async () => (await d.metrics()).parley_sse_streams === m0.parley_sse_streams + 1,
      { what: 'the stalled stream to be counted' });
    const rss0 = d.rssKiB();

    const payload = (i) => `${String(i).padStart(6, '0')}:${'x'.repeat(PAYLOAD - 7)}`;
    let closedAfter;
    let peakStreams = 0;
    for (let i = 0; i < MESSAGES; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(i + BATCH, MESSAGES); j++) {
        batch.push(sender.do('message', { type: 'text/plain', payload: payload(j) }));
      }
      await Promise.all(batch);
      if (i % 80 === 0) {
        const m = await d.metrics();
        peakStreams = Math.max(peakStreams, m.parley_sse_streams);
        if (closedAfter === undefined && m.parley_sse_streams === m0.parley_sse_streams) closedAfter = i;
      }
    }
    // The stalled stream must have been closed by the server.
    let seen;
    await waitUntil(async () => (seen = (await d.metrics()).parley_sse_streams) === m0.parley_sse_streams,
      { timeout: 10000, what: `the stalled stream to be closed (parley_sse_streams back to ${m0.parley_sse_streams}, is ${seen})` })
      .catch((e) => { e.message += `; parley_sse_streams=${seen}; closedAfter=${closedAfter}; watcher events=${watchStream.events.length} ended=${watchStream.ended}; victim 2nd stream ended=${victimGood.ended}`; throw e; });
    const rss1 = d.rssKiB();

    // Healthy streams got every message, in order.
    const last = payload(MESSAGES - 1).slice(0, 7);
    for (const [name, s] of [['watcher', watchStream], ['victim second stream', victimGood]]) {
      await s.waitFor('message_received', (x) => x.payload.startsWith(last), { timeout: 60000 });
      const got = s.filter('message_received', (x) => x.uuid === sender.uuid).map((e) => Number(e.data.payload.slice(0, 6)));
      assert.equal(got.length, MESSAGES, `${name} received every message`);
      assert.equal(new Set(got).size, MESSAGES, `${name}: no duplicates or gaps`);
      assert.ok(!s.find('disconnect'), `${name} must not be disconnected`);
      s.assertClean();
    }

    // The server really closed the connection: draining the socket reaches EOF.
    sock.resume();
    sock.on('data', () => {});
    await waitUntil(() => sockClosed, { timeout: 15000, what: 'the stalled socket to reach EOF once read' });

    // Memory: the stalled stream's backlog was not kept (~38 MiB went to it).
    if (!IS_SANITIZED) {
      const growthMiB = (rss1 - rss0) / 1024;
      assert.ok(growthMiB < 24, `parleyd RSS grew by ${growthMiB.toFixed(1)} MiB during the flood (queue limit ${QUEUE / 1024} KiB)`);
    }

    // The participant itself is still there and its remaining stream still works.
    const mark = victimGood.mark();
    await watcher.do('message', { type: 'text/plain', payload: 'still alive?' });
    await victimGood.waitFor('message_received', (x) => x.payload === 'still alive?', { since: mark });
    const list = await watcher.participants();
    assert.ok(list.some((p) => p.uuid === victim.uuid), 'a closed stream does not remove its participant');
    const mEnd = await d.metrics();
    assert.equal(mEnd.parley_sse_streams, m0.parley_sse_streams, 'stream gauge back to baseline');
    assert.ok(peakStreams <= m0.parley_sse_streams + 1, 'no stream leak during the flood');
  });

  test('a client that disconnects abruptly mid-stream is cleaned up', T(60000), async () => {
    const a = await d.join('bp', { name: 'Abrupt' });
    const m0 = await d.metrics();
    const socks = [];
    for (let i = 0; i < 20; i++) socks.push(await stalledStream(d.port, 'bp', a.token));
    await waitUntil(async () => (await d.metrics()).parley_sse_streams === m0.parley_sse_streams + 20, { what: '20 raw streams counted' });
    for (const s of socks) s.destroy();
    await waitUntil(async () => (await d.metrics()).parley_sse_streams === m0.parley_sse_streams,
      { timeout: 20000, what: 'abruptly closed streams to be reaped (keep-alive or write error)' });
    const h = await d.get('/healthz');
    assert.equal(h.status, 200);
    await a.release();
  });
});
