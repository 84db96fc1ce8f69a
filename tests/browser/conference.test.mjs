// conference.test.mjs — three headless Chromium participants, each with its own tone
// and colour as fake devices, in an ordinary room: each hears the other two tones and
// not its own; the video each receives follows the active speaker; a muted participant's
// tone leaves every mix; the stage events name the speaker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, stopDaemon, until } from './helpers.mjs';
import { PEOPLE as FOUR, writeDevices, launchAs } from './fixtures.mjs';

const work = mkdtempSync(join(tmpdir(), 'parley-conf-'));

// Red, Green and Blue of the shared four: 440, 880 and 1320 Hz, loudest first.
const PEOPLE = FOUR.slice(0, 3).map((p) => ({ ...p, colour: p.name.toLowerCase() }));

let daemon, base;
const browsers = [];

before(async () => {
  // Three media loops: each room's calls (main and presentation calls alike) must meet on
  // its room's loop, and the four rooms spread over the loops.
  daemon = await startDaemon([['conf'], ['present'], ['present2'],
    ['talk', '--lecture', '--pin', '1234', '--allow-guests']], ['--media-loops', '3']);
  base = daemon.base;
  writeDevices(work, PEOPLE);
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (daemon) await stopDaemon(daemon);
  rmSync(work, { recursive: true, force: true });
});

/* Heard: clearly above the floor of the other bins (dB from the analyser). */
const heard = (db) => db > -75;

/* Each person is its own Chromium (fake devices are per process). */
async function joinAll(alias, pins = [], callOptions = {}) {
  const pages = [];
  for (const [i, p] of PEOPLE.entries()) {
    if (!browsers[i])
      browsers[i] = await launchAs(work, p);
    const page = await browsers[i].newPage();
    await page.goto(`${base}/web/test/call.html`);
    p.uuid = (await page.evaluate(([a, n, pin]) => parley.join(a, n, pin), [alias, p.name, pins[i]])).participant_uuid;
    await page.evaluate((o) => parley.call(o), callOptions);
    pages.push(page);
  }
  return pages;
}

test('three participants: mix-minus, active-speaker video, mute, stage', async () => {
  const pages = await joinAll('conf');
  const freqs = PEOPLE.map((p) => p.freq);

  // Everyone hears the other two tones and not its own.
  for (let i = 0; i < 3; i++) {
    await until(async () => {
      const t = await pages[i].evaluate((f) => parley.tones(f), freqs);
      return PEOPLE.every((p, j) => heard(t[p.freq]) === (i !== j)) ? t : null;
    }, `${PEOPLE[i].name} to hear exactly the others`);
  }

  // Red is loudest: it becomes the speaker; Green and Blue see red; stage names Red.
  for (const i of [1, 2])
    await until(() => pages[i].evaluate(() => parley.colour()).then((c) => c === 'red'), `${PEOPLE[i].name} to see red`);
  const stage = await until(() => pages[1].evaluate(() =>
    parley.events.filter((e) => e.name === 'stage').slice(-1)[0]?.data), 'a stage event');
  assert.equal(stage[0].participant_uuid, PEOPLE[0].uuid);
  assert.equal(stage[0].vad, 100);

  // A host mutes Red: its tone leaves every mix, Green takes the stage, Blue sees green.
  await pages[1].evaluate((uuid) => parley.post(`/participants/${uuid}/mute`), PEOPLE[0].uuid);
  for (const i of [1, 2])
    await until(async () => {
      const t = await pages[i].evaluate((f) => parley.tones(f), freqs);
      return !heard(t[440]) ? t : null;
    }, `${PEOPLE[i].name} to stop hearing the muted tone`);
  await until(() => pages[2].evaluate(() => parley.colour()).then((c) => c === 'green'), 'Blue to see green');
  const stage2 = await until(() => pages[2].evaluate(() =>
    parley.events.filter((e) => e.name === 'stage').slice(-1)[0]?.data), 'a second stage event');
  assert.equal(stage2[0].participant_uuid, PEOPLE[1].uuid);

  // Spotlight pins Blue ahead of the speaker for everyone else.
  await pages[1].evaluate((uuid) => parley.post(`/participants/${uuid}/spotlighton`), PEOPLE[2].uuid);
  for (const i of [0, 1])
    await until(() => pages[i].evaluate(() => parley.colour()).then((c) => c === 'blue'), `${PEOPLE[i].name} to see the spotlighted blue`);
  await pages[1].evaluate((uuid) => parley.post(`/participants/${uuid}/spotlightoff`), PEOPLE[2].uuid);
  await until(() => pages[0].evaluate(() => parley.colour()).then((c) => c === 'green'), 'Red to see the speaker again');

  // The speaker (Green) turns its video off: Blue falls back to the previous speaker.
  await pages[1].evaluate((uuid) => parley.post(`/participants/${uuid}/video_muted`), PEOPLE[1].uuid);
  await until(() => pages[2].evaluate(() => parley.colour()).then((c) => c === 'red'), 'Blue to see red instead of video-muted green');

  // DTMF a participant sends on its call reaches the server and comes back as an event.
  await pages[2].evaluate(() => parley.sendDtmf('5*'));
  const digits = await until(async () => {
    const ev = await pages[2].evaluate(() => parley.events.filter((e) => e.name === 'dtmf_received'));
    return ev.length >= 2 ? ev.map((e) => e.data.digit).join('') : null;
  }, 'dtmf_received');
  assert.equal(digits, '5*');
  for (const page of pages) await page.close();
});

test('lecture: guests hear and see the host only; the host hears and sees the guests', async () => {
  const pages = await joinAll('talk', ['1234', 'none', 'none']); // Red hosts, Green and Blue are guests
  const freqs = PEOPLE.map((p) => p.freq);
  const hearsOnly = (i, expected) => until(async () => {
    const t = await pages[i].evaluate((f) => parley.tones(f), freqs);
    return PEOPLE.every((p) => heard(t[p.freq]) === expected.includes(p.freq)) ? t : null;
  }, `${PEOPLE[i].name} to hear exactly ${expected}`);
  await hearsOnly(1, [440]);
  await hearsOnly(2, [440]);
  await hearsOnly(0, [880, 1320]);
  for (const i of [1, 2])
    await until(() => pages[i].evaluate(() => parley.colour()).then((c) => c === 'red'), `guest ${PEOPLE[i].name} to see the host`);
  const hostSees = await until(() => pages[0].evaluate(() => parley.colour()), 'the host to see a guest');
  assert.ok(['green', 'blue'].includes(hostSees), hostSees);
  for (const page of pages) await page.close();
});

test('presentation on the slides m-line: the floor holder reaches everyone else, a new presenter takes over', async () => {
  const pages = await joinAll('present', [], { slides: true });
  const lastEvent = (page, name) => page.evaluate((n) =>
    parley.events.filter((e) => e.name === n).slice(-1)[0]?.data, name);

  await pages[0].evaluate(() => parley.present()); // Red presents
  for (const i of [1, 2]) {
    const start = await until(() => lastEvent(pages[i], 'presentation_start'), `${PEOPLE[i].name} to get presentation_start`);
    assert.equal(start.presenter_uuid, PEOPLE[0].uuid);
    await pages[i].evaluate(() => parley.watch());
  }
  assert.equal(await lastEvent(pages[0], 'presentation_start'), undefined, 'not sent to the presenter');
  for (const i of [1, 2])
    await until(() => pages[i].evaluate(() => parley.colour('slides')).then((c) => c === 'red'), `${PEOPLE[i].name} to see Red's slides`);

  await pages[2].evaluate(() => parley.present()); // Blue takes the floor from Red
  const stolen = await until(() => lastEvent(pages[0], 'presentation_start'), 'Red to learn it lost the floor');
  assert.equal(stolen.presenter_uuid, PEOPLE[2].uuid);
  await pages[0].evaluate(() => parley.watch());
  for (const i of [0, 1])
    await until(() => pages[i].evaluate(() => parley.colour('slides')).then((c) => c === 'blue'), `${PEOPLE[i].name} to see Blue's slides`);

  await pages[2].evaluate(() => parley.stopPresenting());
  await until(() => pages[1].evaluate(() => parley.events.some((e) => e.name === 'presentation_stop')), 'presentation_stop');
  for (const page of pages) await page.close();
});

test('presentation calls: present:send reaches slides m-lines and receive calls, and loses the floor to a new presenter', async () => {
  const pages = await joinAll('present2', [], { slides: true });
  const lastEvent = (page, name) => page.evaluate((n) =>
    parley.events.filter((e) => e.name === n).slice(-1)[0]?.data, name);

  const sendCall = await pages[2].evaluate(() => parley.presentCall('send')); // Blue shares
  for (const i of [0, 1]) {
    const start = await until(() => lastEvent(pages[i], 'presentation_start'), `${PEOPLE[i].name} to get presentation_start`);
    assert.equal(start.presenter_uuid, PEOPLE[2].uuid);
    await pages[i].evaluate(() => parley.watch());
  }
  for (const i of [0, 1])
    await until(() => pages[i].evaluate(() => parley.colour('slides')).then((c) => c === 'blue'), `${PEOPLE[i].name} to see Blue's presentation`);

  // Green also opens a separate receive call (present: "receive"); its slides element
  // now shows that call's video, which carries Blue's presentation.
  await pages[1].evaluate(() => parley.presentCall('receive'));
  await until(() => pages[1].evaluate(() => parley.colour('slides')).then((c) => c === 'blue'), "Green's receive call to show Blue's presentation");

  await pages[0].evaluate(() => parley.present()); // Red takes the floor on its slides m-line
  const ended = await until(() => pages[2].evaluate(() =>
    parley.events.find((e) => e.name === 'call_disconnected')), "Blue's presentation call to end");
  assert.equal(ended.data.call_uuid, sendCall);
  await until(() => lastEvent(pages[1], 'presentation_start').then((d) =>
    d?.presenter_uuid === PEOPLE[0].uuid ? d : null), 'Green to hear Red took over');
  await until(() => pages[1].evaluate(() => parley.colour('slides')).then((c) => c === 'red'), "Green's receive call to switch to Red's slides");
  for (const page of pages) await page.close();
});
