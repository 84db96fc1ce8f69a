// multistream.test.mjs — four headless Chromium participants, each with its own colour
// as a fake camera, on multistream calls (issue 13 §1, §2: a simulcast camera plus three
// receive-only video m-lines): each sees the other three, each colour on the mid the
// parley_streams mapping names for its participant; a participant who leaves is gone
// from the mapping and its tile stops within 2 s; a small tile hint gets a lower
// simulcast layer and a large one the top layer; a tile flipped between the two, again
// and again, never freezes for over a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until } from './helpers.mjs';

const work = mkdtempSync(join(tmpdir(), 'parley-multi-'));

/* A Y4M clip of one solid colour (Y, U, V). 960x540: Chrome sends all three simulcast
 * layers (240x135, 480x270, 960x540) from that size up. */
const W = 960, H = 540;
/* noisy: a 320x180 block of changing noise in the middle of the picture. A flat picture
 * compresses to almost nothing, so Chromium's own estimate (transport-cc, fed by us)
 * stays near 1 Mbit/s, application-limited, and it leaves its top layer off; a camera
 * that fills what it is given lets it climb, as a real one in a real room does. */
function y4m(path, [y, u, v], noisy = false) {
  const frames = noisy ? 8 : 3;
  const parts = [Buffer.from(`YUV4MPEG2 W${W} H${H} F${noisy ? 15 : 30}:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) {
    const luma = Buffer.alloc(W * H, y);
    if (noisy)
      for (let row = 0; row < 180; row++)
        randomBytes(320).copy(luma, (180 + row) * W + 320);
    parts.push(Buffer.from('FRAME\n'));
    parts.push(luma, Buffer.alloc(W * H / 4, u), Buffer.alloc(W * H / 4, v));
  }
  writeFileSync(path, Buffer.concat(parts));
}

const PEOPLE = [
  { name: 'Red', colour: 'red', yuv: [76, 85, 255] },
  { name: 'Green', colour: 'green', yuv: [150, 44, 21] },
  { name: 'Blue', colour: 'blue', yuv: [29, 255, 107] },
  { name: 'Yellow', colour: 'yellow', yuv: [226, 1, 149] },
];

let daemon, base;
const browsers = [];

before(async () => {
  daemon = await startDaemon([['grid'], ['flips']]);
  base = daemon.base;
  // Green's layers are the ones checked: its camera has noise (see y4m).
  for (const p of PEOPLE) y4m(join(work, `${p.name}.y4m`), p.yuv, p.name === 'Green');
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (daemon) await stopDaemon(daemon);
  rmSync(work, { recursive: true, force: true });
});

async function joinAll(alias) {
  const pages = [];
  for (const [i, p] of PEOPLE.entries()) {
    browsers[i] = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_FLAGS,
      `--use-file-for-fake-video-capture=${join(work, `${p.name}.y4m`)}`] });
    const page = await browsers[i].newPage();
    await page.goto(`${base}/web/test/multistream.html`);
    p.uuid = (await page.evaluate(([a, n]) => parley.join(a, n), [alias, p.name])).participant_uuid;
    await page.evaluate(() => parley.call({ tiles: 3 }));
    pages.push(page);
  }
  return pages;
}

/* until, for conditions worth explaining: fn returns [ok, what was seen]. */
async function untilSeen(fn, what, ms) {
  let seen;
  try {
    return await until(async () => {
      const [ok, info] = await fn();
      seen = info;
      return ok ? info || true : null;
    }, what, ms);
  } catch (e) {
    throw new Error(`${e.message}; saw ${JSON.stringify(seen)}`);
  }
}

/* The server's downlink estimate toward a page's call, bit/s (its /metrics gauge): what
 * limits the layers a page is given, so a failed layer check says it. */
async function estimateOf(page) {
  const uuid = await page.evaluate(() => parley.callUuid);
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(new RegExp(`parley_call_send_estimate_bps\\{call="${uuid}"\\} (\\d+)`));
  return m ? Number(m[1]) : null;
}

const colourOf = (uuid) => PEOPLE.find((p) => p.uuid === uuid)?.colour;

/* The page's mapping once every other participant in `present` is on a tile showing
 * its colour: {mid: uuid}. */
function seesOthers(page, i, present) {
  const others = present.filter((j) => j !== i).map((j) => PEOPLE[j].uuid).sort();
  return until(async () => {
    const m = await page.evaluate(() => parley.mapping());
    if (!m) return null;
    const shown = Object.values(m).filter(Boolean).sort();
    if (JSON.stringify(shown) !== JSON.stringify(others)) return null;
    for (const [mid, uuid] of Object.entries(m)) {
      if (!uuid) continue;
      const c = await page.evaluate((x) => parley.colour(x), mid);
      if (c !== colourOf(uuid)) return null;
    }
    return m;
  }, `${PEOPLE[i].name} to see ${others.length} others in their colours`, 30000);
}

test('four multistream participants: last-N tiles, mapping, leave, layers by tile size', async () => {
  const pages = await joinAll('grid');

  // The answer made the extra m-lines tiles we send on.
  const answer = await pages[0].evaluate(() => parley.answer);
  assert.equal((answer.match(/a=msid:parley-(\d+) parley-\1/g) || []).length, 3);
  assert.match(answer, /a=simulcast:recv l;m;h/);

  // Every page sees the other three, each colour under the participant the mapping names.
  const maps = [];
  for (let i = 0; i < 4; i++) maps[i] = await seesOthers(pages[i], i, [0, 1, 2, 3]);
  const ev = await pages[0].evaluate(() => parley.streams);
  assert.equal(ev.streams.length, 4); // the camera's m-line is the first slot
  assert.deepEqual(ev.streams.map((s) => s.mid), ['1', '2', '3', '4']);
  // A slot's layer is l, m or h, or null while it is paused (no room in the estimate:
  // a busy machine's delays can dip it for a moment).
  for (const s of ev.streams) if (s.participant_uuid && s.layer !== null) assert.match(s.layer, /^[lmh]$/);

  // A renegotiation keeps the tiles and their sources.
  const again = await pages[2].evaluate(() => parley.renegotiate());
  assert.equal((again.match(/a=msid:parley-(\d+) parley-\1/g) || []).length, 3);
  await seesOthers(pages[2], 2, [0, 1, 2, 3]);

  // Bad hints are refused with a reason.
  let r = await pages[0].evaluate(() => parley.raw(`/participants/${parley.self}/calls/${parley.callUuid}/streams`, { streams: 'x' }));
  assert.equal(r.status, 400);
  r = await pages[0].evaluate(() => parley.raw(`/participants/${parley.self}/calls/${parley.callUuid}/streams`,
    { streams: [{ mid: '0', width: 10, height: 10 }] }));
  assert.equal(r.status, 400);
  assert.match(r.body.result, /mid "0"/);

  // Layers: Red hints Green's tile small, then large. Green's own top layer is the size
  // a large tile must get.
  const greenMid = Object.entries(maps[0]).find(([, u]) => u === PEOPLE[1].uuid)[0];
  const top = await until(async () => {
    const o = await pages[1].evaluate(() => parley.outbound());
    return o.h && o.h.height === H && o.l && o.l.height ? o : null;
  }, 'Green to send all three layers', 30000);
  const all = (size) => Object.keys(maps[0]).map((mid) => ({ mid, width: 640, height: 360, ...(mid === greenMid ? size : {}) }));
  await pages[0].evaluate((h) => parley.hint(h), all({ width: 160, height: 90 }));
  await untilSeen(async () => {
    const s = (await pages[0].evaluate(() => parley.inbound()))[greenMid];
    return [s && s.height && s.height <= top.l.height, s];
  }, `Red to decode Green's lowest layer (${top.l.height} tall)`, 20000);
  await until(async () => {
    const m = await pages[0].evaluate(() => parley.streams.streams);
    return m.find((s) => s.mid === greenMid).layer === 'l';
  }, 'the mapping to say layer l');
  assert.equal(await pages[0].evaluate((x) => parley.colour(x), greenMid), 'green');
  // The top layer: whatever size Green's encoder gives its h layer now (a busy machine
  // makes Chrome scale it down).
  await pages[0].evaluate((h) => parley.hint(h), all({ width: 1280, height: 720 }));
  await untilSeen(async () => {
    const s = (await pages[0].evaluate(() => parley.inbound()))[greenMid];
    const o = await pages[1].evaluate(() => parley.outbound());
    const m = (await pages[0].evaluate(() => parley.streams.streams)).find((x) => x.mid === greenMid);
    // The tallest layer Green sends now (its rid names the rank: l, m, h by scale):
    // Chromium turns h off when its own estimate on a busy machine cannot carry it.
    const [rid, tall] = Object.entries(o).filter(([, x]) => x.height)
      .sort((a, b) => b[1].height - a[1].height)[0] || [];
    return [s && tall && s.height === tall.height && s.height > top.l.height && m.layer === rid,
            { inbound: s, outbound: o, mapping: m, estimate: await estimateOf(pages[0]) }];
  }, "Red to decode the tallest layer Green sends", 20000);

  // Yellow leaves: within 2 s it is gone from every mapping and its tile stops.
  const yellowMids = maps.slice(0, 3).map((m) => Object.entries(m).find(([, u]) => u === PEOPLE[3].uuid)[0]);
  const left = Date.now();
  await pages[3].evaluate(() => parley.leave());
  for (let i = 0; i < 3; i++) {
    // When the page got the mapping without Yellow (its own clock is the same wall clock).
    const at = await until(() => pages[i].evaluate(([uuid, since]) => parley.events.find((e) =>
      e.name === 'parley_streams' && e.wall >= since && e.data.call_uuid === parley.callUuid &&
      !e.data.streams.some((s) => s.participant_uuid === uuid))?.wall, [PEOPLE[3].uuid, left]),
    `${PEOPLE[i].name}'s mapping to drop Yellow`, 5000);
    assert.ok(at - left < 2000, `${PEOPLE[i].name}'s mapping dropped Yellow after ${at - left} ms`);
  }
  // What was sent before the leave may still be in a busy receiver's buffers: the tile
  // must be still from 2 s after the leave on.
  await new Promise((res) => setTimeout(res, Math.max(0, left + 2000 - Date.now())));
  // Bytes, not decoded frames: a starved decoder may still be working through its buffer.
  const before = await Promise.all(pages.slice(0, 3).map((p, i) => p.evaluate((x) => parley.inbound().then((s) => s[x]?.bytes), yellowMids[i])));
  await new Promise((res) => setTimeout(res, 1000));
  for (let i = 0; i < 3; i++) {
    const after = await pages[i].evaluate((x) => parley.inbound().then((s) => s[x]?.bytes), yellowMids[i]);
    assert.equal(after, before[i], `${PEOPLE[i].name}'s Yellow tile (mid ${yellowMids[i]}) stopped`);
    await seesOthers(pages[i], i, [0, 1, 2]);
  }

  // Yellow comes back on a single-video call (as an unmodified client would offer, but
  // still simulcast): no mapping, the top layer of whom it sees, and the three
  // multistream pages see it again.
  const single = await browsers[3].newPage();
  await single.goto(`${base}/web/test/multistream.html`);
  PEOPLE[3].uuid = (await single.evaluate(() => parley.join('grid', 'Yellow'))).participant_uuid;
  const singleAnswer = (await single.evaluate(() => parley.call({ tiles: 0 }))).sdp;
  assert.doesNotMatch(singleAnswer, /parley-\d/);
  assert.match(singleAnswer, /a=simulcast:recv l;m;h/);
  for (let i = 0; i < 3; i++) await seesOthers(pages[i], i, [0, 1, 2, 3]);
  await untilSeen(async () => {
    const c = await single.evaluate(() => parley.colour('1'));
    const s = (await single.evaluate(() => parley.inbound()))['1'];
    const who = PEOPLE.findIndex((p) => p.colour === c);
    const o = who >= 0 && who < 3 ? await pages[who].evaluate(() => parley.outbound()) : null;
    // The tallest layer it sends now: Chromium turns its top layer off when its estimate
    // (application-limited, for a flat picture) cannot carry it.
    const top = o ? Math.max(...Object.values(o).map((x) => x.height || 0)) : 0;
    return [s && o && top && s.height === top && s.height > o.l.height, { c, s, o }];
  }, 'single-video Yellow to see a participant at the top layer it sends', 20000);
  assert.equal(await single.evaluate(() => parley.events.length), 0);

  // Yellow's camera stops without a leave (a killed browser, a lost network: it stays a
  // participant until consent expires, 30 s): within 2 s no one shows it; it comes back
  // when its video does.
  const stopped = Date.now();
  await single.evaluate(() => Promise.all(parley.pc.getSenders()
    .filter((s) => s.track?.kind === 'video').map((s) => s.replaceTrack(null))));
  for (let i = 0; i < 3; i++) {
    const at = await until(() => pages[i].evaluate(([uuid, since]) => parley.events.find((e) =>
      e.wall >= since && e.data.call_uuid === parley.callUuid &&
      !e.data.streams.some((s) => s.participant_uuid === uuid))?.wall, [PEOPLE[3].uuid, stopped]),
    `${PEOPLE[i].name}'s mapping to drop Yellow's stopped camera`, 5000);
    assert.ok(at - stopped < 2000, `${PEOPLE[i].name} dropped the stopped camera after ${at - stopped} ms`);
  }
  await single.evaluate(() => Promise.all(parley.pc.getTransceivers()
    .filter((t) => t.receiver.track.kind === 'video' && t.direction === 'sendrecv')
    .map((t) => t.sender.replaceTrack(parley.stream.getVideoTracks()[0]))));
  for (let i = 0; i < 3; i++) await seesOthers(pages[i], i, [0, 1, 2, 3]);
  await single.close();
  for (const page of pages) await page.close();
});

/* Each layer switch starts the new layer's own picture ids and TL0PICIDX (Chromium 156
 * numbers its layers apart: 18145 beside 24498), so forwarding must carry them on, or
 * the decoder waits for the frames it thinks it lost: before rtc/rtp_renumber, 3 of 16
 * switches down froze for 1.15-1.55 s. 12 flips, 2 s apart; a gap is a time without a
 * newly decoded frame. */
test('a tile flipped between small and large switches layers without a freeze over 1 s',
  async () => {
  const [red, green] = [PEOPLE[0], PEOPLE[1]];
  const pages = [];
  for (const [i, p] of [red, green].entries()) {
    const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_FLAGS,
      `--use-file-for-fake-video-capture=${join(work, `${p.name}.y4m`)}`] });
    browsers.push(b);
    pages[i] = await b.newPage();
    await pages[i].goto(`${base}/web/test/multistream.html`);
    p.uuid = (await pages[i].evaluate(([a, n]) => parley.join(a, n), ['flips', p.name])).participant_uuid;
    await pages[i].evaluate(() => parley.call({ tiles: 1 }));
  }
  const [sub, pub] = pages;
  const seen = await seesOthers(sub, 0, [0, 1]);
  const mid = Object.entries(seen).find(([, u]) => u === green.uuid)[0];
  const hint = (width, height) => sub.evaluate(([m, w, h]) => parley.hint(parley.streams.streams
    .filter((s) => s.participant_uuid).map((s) => ({ mid: s.mid, ...(s.mid === m ? { width: w, height: h }
      : { width: 320, height: 180 }) }))), [mid, width, height]);
  await until(async () => {
    const o = await pub.evaluate(() => parley.outbound());
    return o.h?.height && o.l?.height ? o : null;
  }, 'Green to send all three layers', 30000);
  await hint(1280, 720);
  await untilSeen(async () => {
    const l = (await sub.evaluate(() => parley.streams.streams)).find((x) => x.mid === mid).layer;
    return [l === 'h' || l === 'm', l];
  }, 'a large tile to get an upper layer', 20000);
  await sub.evaluate((m) => parley.watchFrames(m), mid);
  await new Promise((r) => setTimeout(r, 2000));
  await sub.evaluate(() => parley.resetFreezes());
  const start = Date.now();
  for (let k = 0; k < 12; k++) {
    await (k % 2 === 0 ? hint(160, 90) : hint(1280, 720));
    await new Promise((r) => setTimeout(r, 2000));
  }
  const f = await sub.evaluate(() => parley.freezes());
  const layers = await sub.evaluate(([m, since]) => parley.events.filter((e) => e.wall >= since &&
    e.name === 'parley_streams' && e.data.call_uuid === parley.callUuid)
    .map((e) => e.data.streams.find((s) => s.mid === m)?.layer), [mid, start]);
  const switches = layers.filter((l, i) => l && i > 0 && layers[i - 1] && l !== layers[i - 1]).length;
  const rx = await sub.evaluate(async (m) => {
    let out = '';
    (await parley.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.mid === m)
        out = `nack ${r.nackCount} pli ${r.pliCount} lost ${r.packetsLost} keyframes ` +
          `${r.keyFramesDecoded} dropped ${r.framesDropped} freezes ${r.freezeCount}`;
    });
    return out;
  }, mid);
  console.log(`layer flips: ${switches} switches (${layers.join('')}), longest gap ` +
    `${Math.round(f.longest)} ms over ${f.frames} frames; gaps over 300 ms: ` +
    `${(f.gaps || []).map((g) => `${g.split(':')[0] - start}:${g.split(':')[1]}`).join(' ')}; ${rx}`);
  assert.ok(switches >= 8, `only ${switches} layer switches for 12 flips: ${layers.join(' ')}`);
  assert.ok(f.longest <= 1000, `the tile froze for ${Math.round(f.longest)} ms: ${(f.gaps || []).join(' ')}`);
  for (const page of pages) await page.close();
});
