// datachannel.test.mjs — headless Chromium opens WebRTC data channels on a test-call
// (echo) room of a real parleyd: every message comes back on its channel (strings,
// binary, empty ones, 64 KiB ones), on reliable, unordered and partially reliable
// channels, bundled with audio and video or alone; our a=max-message-size is announced
// and honoured by the browser (test_sctp has a peer that ignores it); closing works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, metric, until, assertFlowing } from './helpers.mjs';

const OUR_MAX = 262144;

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => { await browser?.close(); });

async function openCall(d, opts, munge) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log('page:', m.text()); });
  await page.goto(`${d.base}/web/test/call.html`);
  const token = await page.evaluate(() => parley.join('echo', 'Chromium'));
  assert.equal(token.service_type, 'test_call');
  if (munge) await page.evaluate((m) => { parley.mungeAnswer = (sdp) => sdp.replace(m[0], m[1]); }, munge);
  await page.evaluate((o) => parley.call(o), opts);
  await page.evaluate(() => new Promise((resolve, reject) => {
    if (parley.dc.readyState === 'open') return resolve();
    parley.dc.onopen = resolve;
    parley.dc.onerror = (e) => reject(new Error(`data channel: ${e.error?.message}`));
    setTimeout(() => reject(new Error(`data channel still ${parley.dc.readyState}`)), 15000);
  }));
  return page;
}

// Installed in the page: echo(dc, msgs) sends each message and resolves with what came back
// (strings as strings, binary as arrays of bytes) once as many arrived or 5 s passed.
const ECHO_HELPERS = () => {
  window.echo = (dc, msgs, { want = msgs.length, ms = 5000 } = {}) => new Promise((resolve) => {
    const got = [];
    dc.binaryType = 'arraybuffer';
    const done = () => { dc.onmessage = null; resolve(got); };
    dc.onmessage = (e) => {
      got.push(typeof e.data === 'string' ? { s: e.data } : { b: Array.from(new Uint8Array(e.data)) });
      if (got.length >= want) done();
    };
    setTimeout(done, ms);
    for (const m of msgs) dc.send(m.s !== undefined ? m.s : new Uint8Array(m.b));
  });
  window.channel = (label, init) => new Promise((resolve, reject) => {
    const dc = parley.pc.createDataChannel(label, init);
    dc.onopen = () => resolve(dc);
    setTimeout(() => reject(new Error(`${label} still ${dc.readyState}`)), 10000);
  });
};

const bytes = (n, seed) => Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

test('data channels on an echo call with audio and video: every kind of message comes back', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await openCall(d, { data: true });
    await page.evaluate(ECHO_HELPERS);
    const sdp = await page.evaluate(() => parley.pc.remoteDescription.sdp);
    assert.match(sdp, /m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
    assert.match(sdp, /a=sctp-port:5000/);
    assert.match(sdp, new RegExp(`a=max-message-size:${OUR_MAX}`));
    assert.equal(await page.evaluate(() => parley.pc.sctp.maxMessageSize), OUR_MAX);

    // The reliable, ordered channel the offer made: strings, binary, empty, 64 KiB, in order.
    const msgs = [{ s: 'hello' }, { s: 'héllo ✓' }, { b: bytes(1000, 1) }, { s: '' }, { b: [] },
      { b: bytes(65536, 7) }, { s: 'x'.repeat(100000) }];
    const back = await page.evaluate((m) => echo(parley.dc, m), msgs);
    assert.deepEqual(back, msgs);

    // 200 in a row on the reliable channel: all back, in order.
    const many = Array.from({ length: 200 }, (_, i) => ({ s: `m${i}` }));
    assert.deepEqual(await page.evaluate((m) => echo(parley.dc, m), many), many);

    // Channels the page opens after the call is up (DCEP OPEN/ACK with the server):
    // unordered and unreliable (no retransmissions), partially reliable by lifetime, and
    // a second reliable one. On loopback nothing is lost, so all come back.
    for (const [label, init] of [['fast', { ordered: false, maxRetransmits: 0 }],
      ['timed', { ordered: false, maxPacketLifeTime: 500 }], ['second', {}]]) {
      const out = Array.from({ length: 50 }, (_, i) => ({ b: bytes(1200, i) }));
      const got = await page.evaluate(async ([l, i, m]) => {
        const dc = await channel(l, i);
        const r = await echo(dc, m);
        return { r, ordered: dc.ordered, maxRetransmits: dc.maxRetransmits, id: dc.id };
      }, [label, init, out]);
      assert.equal(got.ordered, init.ordered !== false);
      // Unordered channels may reorder; compare as sets.
      const key = (m) => JSON.stringify(m);
      assert.deepEqual(got.r.map(key).sort(), out.map(key).sort(), `${label}: all echoed`);
      assert.equal(got.id % 2, 0, 'the DTLS client (the browser) uses even stream ids');
    }

    // Over our limit: the browser refuses to send it (it read a=max-message-size).
    const refused = await page.evaluate((n) => {
      try { parley.dc.send(new Uint8Array(n)); return null; } catch (e) { return e.name; }
    }, OUR_MAX + 1);
    assert.equal(refused, 'TypeError');
    // ... and a message of exactly the limit comes back.
    const big = await page.evaluate(async (n) => {
      const r = await echo(parley.dc, [{ b: Array.from({ length: n }, (_, i) => i & 255) }]);
      return r.length && r[0].b.length === n && r[0].b.every((v, i) => v === (i & 255));
    }, OUR_MAX);
    assert.ok(big, 'a message of exactly max-message-size echoed intact');

    await assertFlowing(page); // audio and video still come back beside the channels
    assert.equal(await page.evaluate(() => parley.dc.readyState), 'open');
    // /metrics counts them (a snapshot at most a second old): 7 + 200 + 3 x 50 + 1 each way.
    await until(async () => (await metric(d, 'parley_datachannel_messages_in_total')) >= 358,
      'data channel messages counted');
    assert.equal(await metric(d, 'parley_datachannel_messages_out_total'),
      await metric(d, 'parley_datachannel_messages_in_total'));
    assert.ok((await metric(d, 'parley_datachannel_bytes_in_total')) > OUR_MAX + 65536);
    assert.equal(await metric(d, 'parley_datachannel_too_big_total'), 0);
    await page.evaluate(() => parley.hangup());
    await until(async () => (await metric(d, 'parley_calls')) === 0, 'call freed');
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('a data channel alone (no audio or video) is answered and echoes', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await openCall(d, { audio: false, video: false, data: true });
    await page.evaluate(ECHO_HELPERS);
    const sdp = await page.evaluate(() => parley.pc.remoteDescription.sdp);
    assert.equal((sdp.match(/^m=/gm) || []).length, 1);
    const msgs = [{ s: 'alone' }, { b: bytes(5000, 3) }];
    assert.deepEqual(await page.evaluate((m) => echo(parley.dc, m), msgs), msgs);
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('a channel the page closes is closed on both sides; others go on, new ones open', async () => {
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await openCall(d, { data: true });
    await page.evaluate(ECHO_HELPERS);
    const r = await page.evaluate(async () => {
      const other = await channel('other', {});
      // RFC 8831 §6.7: closing resets our outgoing stream; "closed" needs the server to
      // reset its side in answer.
      const closed = new Promise((res) => { other.onclose = () => res(true); setTimeout(() => res(false), 10000); });
      other.close();
      const c = await closed;
      const again = await channel('again', { ordered: false });
      return { c, a: await echo(again, [{ s: 'new' }]), d: await echo(parley.dc, [{ s: 'old' }]) };
    });
    assert.equal(r.c, true, 'closed on both sides');
    assert.deepEqual(r.a, [{ s: 'new' }]);
    assert.deepEqual(r.d, [{ s: 'old' }]);
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});

test('a burst larger than our 1 MiB send buffer comes back whole and in order', async () => {
  // 6 MiB in 96 messages of 64 KiB, sent at once on the reliable channel: the echo finds
  // our send buffer full (counted in send_full), holds the message and stops reading the
  // association until the browser has acknowledged enough; nothing is dropped.
  const d = await startDaemon([['echo', '--test-call']]);
  try {
    const page = await openCall(d, { audio: false, video: false, data: true });
    const N = 96, SIZE = 65536;
    const r = await page.evaluate(([n, size]) => new Promise((resolve) => {
      const dc = parley.dc;
      dc.binaryType = 'arraybuffer';
      const got = [];
      let bad = 0;
      const done = () => { dc.onmessage = null; resolve({ got: got.length, bad, order: got }); };
      dc.onmessage = (e) => {
        const b = new Uint8Array(e.data);
        const k = b[0] | (b[1] << 8);
        if (b.length !== size || b[size - 1] !== ((k * 7) & 255) || b[size >> 1] !== (k & 255)) bad++;
        got.push(k);
        if (got.length >= n) done();
      };
      setTimeout(done, 30000);
      for (let k = 0; k < n; k++) {
        const b = new Uint8Array(size);
        b.fill(k & 255);
        b[0] = k & 255; b[1] = k >> 8; b[size - 1] = (k * 7) & 255;
        dc.send(b);
      }
    }), [N, SIZE]);
    assert.equal(r.got, N, `${r.got} of ${N} echoes came back`);
    assert.equal(r.bad, 0, 'every echo intact');
    assert.deepEqual(r.order, Array.from({ length: N }, (_, k) => k), 'in order');
    await until(async () => (await metric(d, 'parley_datachannel_messages_out_total')) >= N,
      'echoes counted');
    assert.ok((await metric(d, 'parley_datachannel_send_full_total')) > 0,
      'the send buffer was full at least once (the held-echo path was taken)');
    assert.equal(await page.evaluate(() => parley.dc.readyState), 'open');
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});
