// webapp_smoke.test.mjs — the web app at /web/ in headless Chromium: two people join
// `meet` through the pre-join screen (one with the host PIN prompt), each sees the other's
// tile under the right name with decoding video, a double click on Join makes one
// participant, a chat message arrives, and the tile of the one who leaves goes at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until } from './helpers.mjs';

let browser, d;
before(async () => {
  d = await startDaemon([['meet', '--name', 'Meet', '--pin', '1234', '--allow-guests']]);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
  if (d) await stopDaemon(d);
});

async function open(query) {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${d.base}/web/?${query}`);
  page.errors = errors;
  return page;
}

const state = (page) => page.evaluate(() => document.body.dataset.state);

/* The remote tiles: name, whether its video decodes (size and time moving). */
async function remoteTiles(page) {
  return page.evaluate(() => [...document.querySelectorAll('#grid .tile:not(.self)')].map((t) => {
    const v = t.querySelector('video');
    return { uuid: t.dataset.participantUuid, name: t.dataset.name, label: t.querySelector('.name').textContent,
             width: v.videoWidth, time: v.currentTime, noVideo: t.classList.contains('no-video') };
  }));
}

async function seesVideoOf(page, name) {
  const first = await until(async () => {
    const t = (await remoteTiles(page)).find((x) => x.name === name);
    return t && t.width > 0 && !t.noVideo ? t : null;
  }, `a decoding tile named ${name}`, 20000);
  await page.waitForTimeout(700);
  const later = (await remoteTiles(page)).find((x) => x.name === name);
  assert.ok(later && later.time > first.time, `${name}'s video plays on (${first.time} -> ${later?.time})`);
  assert.equal(later.label, name);
  return later;
}

test('two people join through the app, see and chat with each other, one leaves', async () => {
  // Alice: the PIN prompt, answered with the host PIN.
  const alice = await open('room=meet&name=Alice');
  await until(() => alice.evaluate(() => document.querySelector('select#microphone').options.length > 0), 'devices listed');
  await alice.click('#join');
  await until(async () => (await state(alice)) === 'pin', 'the PIN prompt');
  await alice.fill('#pin', '1234');
  await alice.click('#pin-submit');
  await until(async () => (await state(alice)) === 'in-call', 'Alice in the call');
  assert.equal(await alice.evaluate(() => document.querySelectorAll('#grid .tile.self').length), 1, 'a self view');

  // Bob: a guest (no PIN); a double click on Join still makes one participant.
  const bob = await open('room=meet&name=Bob&pin=none');
  await until(() => bob.evaluate(() => document.querySelector('select#camera').options.length > 0), 'devices listed');
  await bob.dblclick('#join');
  if ((await until(async () => ['pin', 'in-call'].includes(await state(bob)) && await state(bob), 'Bob past joining')) === 'pin')
    await bob.click('#pin-submit'); // guests may leave the PIN empty
  await until(async () => (await state(bob)) === 'in-call', 'Bob in the call');

  const bobTile = await seesVideoOf(alice, 'Bob');
  const aliceTile = await seesVideoOf(bob, 'Alice');
  const ids = await alice.evaluate(() => ({ self: parleyApp.selfUuid, people: [...parleyApp.participants.values()].map((p) => p.display_name).sort() }));
  assert.deepEqual(ids.people, ['Alice', 'Bob'], 'exactly one Bob after the double click');
  assert.equal(aliceTile.uuid, ids.self);
  assert.equal(bobTile.uuid, await bob.evaluate(() => parleyApp.selfUuid));

  // Chat: Alice to everyone, Bob reads it in his log.
  await alice.click('#chat-toggle');
  await alice.fill('#chat-input', 'Hello Bob, can you hear me?');
  await alice.click('#chat-send');
  await until(() => bob.evaluate(() => [...document.querySelectorAll('#chat-log li')].some((li) =>
    li.querySelector('.from').textContent === 'Alice' && li.querySelector('.text').textContent === 'Hello Bob, can you hear me?')),
  'the message in Bob\'s chat log');
  assert.equal(await alice.evaluate(() => document.querySelector('#chat-input').value), '', 'the input is cleared');

  // Bob leaves: his tile goes from Alice's grid within 2 s.
  await bob.click('#leave');
  const left = Date.now();
  await until(async () => !(await remoteTiles(alice)).some((t) => t.name === 'Bob'), 'Bob\'s tile gone', 2000);
  assert.ok(Date.now() - left < 2000);
  assert.equal(await state(bob), 'ended');
  assert.deepEqual([...alice.errors, ...bob.errors], [], 'no uncaught page errors');
});
