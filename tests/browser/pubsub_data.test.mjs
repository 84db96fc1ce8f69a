// pubsub_data.test.mjs — data channels in publish/subscribe sessions (issue 15 §3,
// docs/PUBSUB.md "Data channels"): three SDK pages that publish (so their publish connection
// carries SCTP) send binary to one peer over the reliable channel and JSON to all over the
// unordered, never retransmitted one; refusals (an unknown uid, an oversized message) come
// back as errors; a page that does not publish has no channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until, parleyctl } from './helpers.mjs';

let d, key, browser;

before(async () => {
  d = await startDaemon([]);
  parleyctl(d.dir, 'account', 'add', '--cid', 'acme', '--json');
  key = parleyctl(d.dir, 'key', 'add', '--account', 'acme', '--origin', d.base).trim();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (d) await stopDaemon(d);
});

/* An SDK page joined as uid; with publish, its fake microphone is published (which opens
 * the data channels). window.log has every event, data payloads made printable. */
async function member(uid, { publish = true } = {}) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log(`${uid} page error: ${e.message}`));
  await page.goto(`${d.base}/web/examples/pubsub.html`);
  await page.evaluate(async ({ uid, key, publish }) => {
    window.P = (await import('/web/sdk/parley.js')).default;
    window.log = [];
    window.s = await P.connect(location.origin, { sid: 'dc', uid, key });
    for (const ev of Object.values(P.events))
      s.on(ev, (x) => log.push({ ev, data: x instanceof Error ? { code: x.code, message: x.message }
        : x && x.payload instanceof ArrayBuffer ? { ...x, payload: [...new Uint8Array(x.payload)] } : x }));
    if (publish) {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      await s.publish(mic, { type: 'audio' });
    }
  }, { uid, key, publish });
  return page;
}
const logOf = (page, ev) => page.evaluate((e) => log.filter((x) => x.ev === e).map((x) => x.data), ev);
const channelsOpen = (page) => page.evaluate(() =>
  !!s.channels && s.channels.reliable.readyState === 'open' && s.channels.lossy.readyState === 'open');

test('data channels: binary to one, JSON to all unreliably, refusals as errors', async () => {
  const [a, b, c] = [await member('a'), await member('b'), await member('c')];
  for (const p of [a, b, c]) await until(() => channelsOpen(p), 'data channels open');

  // Binary to one participant, reliable and ordered: 20 messages in order.
  await a.evaluate(async () => {
    for (let i = 0; i < 20; i++) await s.send(new Uint8Array([i, 1, 2, 250]), { to: 'b' });
  });
  await until(async () => (await logOf(b, 'data')).length === 20, 'b gets 20 binary messages');
  const got = await logOf(b, 'data');
  assert.deepEqual(got[0], { from: 'a', payload: [0, 1, 2, 250], binary: true, reliable: true, channel: true });
  assert.deepEqual(got.map((m) => m.payload[0]), [...Array(20).keys()], 'in order');
  assert.deepEqual(await logOf(c, 'data'), [], 'c got none of it');

  // JSON to everyone on the lossy channel (loopback loses nothing).
  await a.evaluate(() => s.send({ hello: 'all' }, { reliable: false }));
  for (const p of [b, c])
    await until(async () => (await logOf(p, 'data')).some((m) => m.payload?.hello === 'all'), 'the broadcast');
  assert.deepEqual((await logOf(c, 'data'))[0],
    { from: 'a', payload: { hello: 'all' }, binary: false, reliable: false, channel: true });
  assert.deepEqual(await logOf(a, 'data'), [], 'the sender gets nothing back');

  // Refusals come back as error events: an unknown uid, and a message over 64 KiB sent
  // past the SDK's own check.
  await a.evaluate(() => s.send('x', { to: 'nobody', reliable: true }));
  await until(async () => (await logOf(a, 'error')).length === 1, 'NOT_FOUND comes back');
  assert.equal((await logOf(a, 'error'))[0].code, 'NOT_FOUND');
  await a.evaluate(() => s.channels.reliable.send(new Uint8Array(2 + 65 * 1024)));
  await until(async () => (await logOf(a, 'error')).length === 2, 'LIMIT comes back');
  assert.equal((await logOf(a, 'error'))[1].code, 'LIMIT');
  const sdkRefusal = await a.evaluate(() => s.send(new Uint8Array(70000)).then(() => 'sent', (e) => e.code));
  assert.equal(sdkRefusal, 'LIMIT');

  // JSON without `reliable` still goes over the WebSocket, to everyone.
  await b.evaluate(() => s.send({ via: 'ws' }));
  await until(async () => (await logOf(c, 'data')).some((m) => m.payload?.via === 'ws' && !m.channel), 'WebSocket data');

  // A participant that does not publish has no channel: binary is refused in the SDK.
  const quiet = await member('quiet', { publish: false });
  assert.equal(await quiet.evaluate(() => s.send(new Uint8Array([1])).then(() => 'sent', (e) => e.code)), 'NETWORK');
  for (const p of [a, b, c, quiet]) await p.evaluate(() => s.leave());
});
