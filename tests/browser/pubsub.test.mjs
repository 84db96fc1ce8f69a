// pubsub.test.mjs — publish/subscribe sessions through the SDK (issue 15), in Chromium pages
// of the server's origin that load web/sdk/parley.js: data to one participant and to all
// (and its limits); the server's side of the WebSockets torn down (ss -K) and each SDK
// resuming by itself while the others see nothing; a key from a foreign origin refused, and a
// JWT of one account seeing nothing of another's session of the same name. Media: four pages,
// each its own colour as a fake camera, run the example app in one session: each draws the
// other three in their colours under their names, a screen share comes and goes, messages
// typed in the app reach one person and then everyone, the loudest is shown speaking, and after
// ss -K the same elements show moving video again within 3 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until, parleyctl } from './helpers.mjs';
import { PEOPLE, wav, y4m, rgbToYuv, launchAs, meanColour, colourNear, framesShown, FAKE_SCREEN } from './fixtures.mjs';

const work = mkdtempSync(join(tmpdir(), 'parley-pubsub-'));
let d, acme, globex, key, foreignKey;
const browsers = [];

const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function signJwt(secret, claims) {
  const unsigned = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(claims)}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
const jwtFor = (account, claims) =>
  signJwt(account.jwt_secret, { cid: account.cid, exp: Math.floor(Date.now() / 1000) + 600, ...claims });

before(async () => {
  // 320x180: big enough for a colour through any simulcast layer Chromium sends.
  for (const p of PEOPLE) {
    wav(join(work, `${p.name}.wav`), p.freq, p.amp);
    y4m(join(work, `${p.name}.y4m`), rgbToYuv(p.rgb), { w: 320, h: 180 });
  }
  d = await startDaemon([]);
  acme = JSON.parse(parleyctl(d.dir, 'account', 'add', '--cid', 'acme', '--json'));
  globex = JSON.parse(parleyctl(d.dir, 'account', 'add', '--cid', 'globex', '--json'));
  // The pages' origin is the daemon's own (http://127.0.0.1:<port>).
  key = parleyctl(d.dir, 'key', 'add', '--account', 'acme', '--origin', d.base).trim();
  foreignKey = parleyctl(d.dir, 'key', 'add', '--account', 'acme', '--origin', 'https://app.example.com').trim();
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (d) await stopDaemon(d);
  rmSync(work, { recursive: true, force: true });
});

const examplePage = (sid, name, cred) =>
  `${d.base}/web/examples/pubsub.html?sid=${sid}&name=${name}&key=${encodeURIComponent(cred)}&autojoin=1`;

/* The selector of the tile video showing uid's feed of that type. */
const tileVideo = (uid, type = 'video') => `.tile.${type}[data-uid="${uid}"] video`;

/* Until page draws every other person's colour in that person's tile, under their name. */
async function seesOthers(page, me, people) {
  for (const p of people) {
    if (p === me) continue;
    await until(async () => {
      const label = await page.$eval(`.tile.video[data-uid="${p.uid}"] .name`, (e) => e.textContent).catch(() => null);
      return label === p.name && colourNear(await meanColour(page, tileVideo(p.uid)), p.rgb);
    }, `${me.name} to see ${p.name}'s colour under its name`, 30000);
  }
}

/* Every tile video of page shows new frames within ms: the frames of each now and later. */
async function allMoving(page, uids, ms) {
  const first = {};
  for (const u of uids) first[u] = await framesShown(page, tileVideo(u));
  return until(async () => {
    for (const u of uids) if (!((await framesShown(page, tileVideo(u))) > first[u] + 3)) return null;
    return true;
  }, 'frames on every tile', ms);
}

test('four SDK participants see each other; screen, data, a dropped WebSocket', async () => {
  const pages = [];
  for (const [i, p] of PEOPLE.entries()) {
    browsers[i] = await launchAs(work, p);
    const page = await browsers[i].newPage();
    page.on('pageerror', (e) => console.log(`${p.name} page error: ${e.message}`));
    await page.goto(examplePage('room1', p.name, key));
    await page.waitForSelector('body[data-state="in-call"]', { timeout: 15000 });
    p.uid = await page.evaluate(() => pubsubApp.session.uid);
    pages.push(page);
  }
  for (const [i, page] of pages.entries()) await seesOthers(page, PEOPLE[i], PEOPLE);

  // The loudest microphone (Red's) is the speaker on the others' pages (RFC 6464 levels).
  for (const page of pages.slice(1))
    await until(() => page.$(`.tile.video.speaking[data-uid="${PEOPLE[0].uid}"]`), 'Red shown speaking', 10000);

  // The camera went out in three simulcast layers and the server took them.
  const sdp = await pages[0].evaluate(() => ({
    offer: pubsubApp.session.pub.localDescription.sdp, answer: pubsubApp.session.pub.remoteDescription.sdp }));
  assert.match(sdp.offer, /a=simulcast:send l;m;h/);
  assert.match(sdp.answer, /a=simulcast:recv l;m;h/);
  // The own camera is the preview.
  assert.ok(colourNear(await meanColour(pages[0], '#local'), PEOPLE[0].rgb), 'local preview');

  // A screen share appears on the others' pages in its own tile, and goes when it stops.
  await pages[0].click('#share');
  for (const page of pages.slice(1))
    await until(async () => colourNear(await meanColour(page, tileVideo(PEOPLE[0].uid, 'screen')), FAKE_SCREEN, 50),
      'the screen tile', 20000);
  await pages[0].click('#share');
  for (const page of pages.slice(1))
    await until(async () => !(await page.$(`.tile.screen[data-uid="${PEOPLE[0].uid}"]`)), 'the screen tile gone', 5000);
  // The cameras go on.
  await seesOthers(pages[1], PEOPLE[1], PEOPLE);

  // A message typed in the example app to one person, then to everyone.
  const say = async (page, to, text) => {
    await page.selectOption('#to', to ? to.uid : '');
    await page.fill('#msg', text);
    await page.click('#send');
  };
  const got = (page) => page.evaluate(() => pubsubApp.messages);
  await say(pages[1], PEOPLE[2], 'just for Blue');
  await until(async () => (await got(pages[2])).some((m) => m.from === 'Green' && m.text === 'just for Blue'), 'Blue gets it');
  await say(pages[1], null, 'for everyone');
  for (const i of [0, 2, 3])
    await until(async () => (await got(pages[i])).some((m) => m.from === 'Green' && m.text === 'for everyone'), `${PEOPLE[i].name} gets the broadcast`);
  for (const i of [0, 3])
    assert.ok(!(await got(pages[i])).some((m) => m.text === 'just for Blue'), `${PEOPLE[i].name} did not get Blue's message`);

  // The server's end of every WebSocket is destroyed. Each SDK resumes and the same video
  // elements move again in the same colours within 3 s. Each page notes the times itself
  // (when `reconnected` came, and when every other person's tile had shown 4 new frames
  // since), so the test's own polling of four busy pages is not counted.
  for (const [i, page] of pages.entries())
    await page.evaluate((sels) => {
      window.seen = [];
      window.back = null;
      for (const ev of ['reconnecting', 'reconnected', 'disconnected'])
        pubsubApp.session.on(ev, (data) => window.seen.push({ ev, data, at: Date.now() }));
      for (const v of document.querySelectorAll('.tile video')) v.dataset.before = '1';
      const frames = (sel) => document.querySelector(sel)?.getVideoPlaybackQuality().totalVideoFrames ?? -1;
      pubsubApp.session.on('reconnected', () => {
        const first = sels.map(frames);
        const poll = setInterval(() => {
          if (sels.every((sel, k) => frames(sel) > first[k] + 3)) {
            window.back = Date.now();
            clearInterval(poll);
          }
        }, 20);
      });
    }, PEOPLE.filter((p) => p !== PEOPLE[i]).map((p) => tileVideo(p.uid)));
  const port = new URL(d.base).port;
  execFileSync('ss', ['-K', 'src', '127.0.0.1', 'sport', '=', `:${port}`], { stdio: 'ignore' });
  const cutAt = Date.now(); // ss cuts as it ends (starting it on a busy machine is not counted)
  for (const [i, page] of pages.entries()) {
    const back = await until(() => page.evaluate(() => window.back), `${PEOPLE[i].name}'s media back`, 15000);
    const again = (await page.evaluate(() => window.seen)).find((e) => e.ev === 'reconnected');
    assert.ok(again.at - cutAt <= 3000, `${PEOPLE[i].name} reconnected in ${again.at - cutAt} ms`);
    assert.ok(back - cutAt <= 3000, `${PEOPLE[i].name}'s media back in ${back - cutAt} ms`);
  }
  for (const [i, page] of pages.entries()) {
    const seen = await page.evaluate(() => window.seen);
    assert.equal(seen[0].ev, 'reconnecting', `${PEOPLE[i].name}: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen.find((e) => e.ev === 'reconnected').data, { resumed: true, feeds: {} });
    // Same elements, still in their colours.
    assert.equal(await page.$$eval('.tile video:not([data-before])', (v) => v.length), 0, 'no new elements');
    for (const p of PEOPLE) if (p !== PEOPLE[i])
      assert.ok(colourNear(await meanColour(page, tileVideo(p.uid)), p.rgb), `${PEOPLE[i].name} sees ${p.name}`);
  }

  // An ICE restart of both of Green's connections (what the SDK does when a path fails):
  // its tiles and Green's camera elsewhere go on moving in their colours.
  await pages[1].evaluate(() => Promise.all([pubsubApp.session.iceRestart('pub'), pubsubApp.session.iceRestart('sub')]));
  await allMoving(pages[1], PEOPLE.filter((p) => p !== PEOPLE[1]).map((p) => p.uid), 10000);
  await allMoving(pages[0], [PEOPLE[1].uid], 10000);
  await seesOthers(pages[1], PEOPLE[1], PEOPLE);

  // Yellow unpublishes its last feed (the camera: its publish connection keeps only its data
  // channels), its tiles go elsewhere; it publishes the same camera again and is seen again.
  const republished = await pages[3].evaluate(async () => {
    const s = pubsubApp.session;
    const [id, pub] = [...s.publications].find(([, p]) => p.type === 'video');
    await s.unpublish(id);
    window.cameraAgain = () => s.publish(pub.stream, { type: 'video' });
    return s.publications.size;
  });
  assert.equal(republished, 0, 'Yellow publishes nothing');
  for (const page of pages.slice(0, 3))
    await until(async () => !(await page.$(`.tile.video[data-uid="${PEOPLE[3].uid}"]`)), 'the unpublished camera gone', 5000);
  await pages[3].evaluate(() => window.cameraAgain());
  await seesOthers(pages[0], PEOPLE[0], PEOPLE);

  // Leave: the others' tiles of that person go.
  await pages[3].click('#leave');
  for (const page of pages.slice(0, 3))
    await until(async () => !(await page.$(`.tile[data-uid="${PEOPLE[3].uid}"]`)), 'the tile of who left gone', 5000);
});

/* A page of the server's origin with the SDK loaded as window.P and a log of every event of
 * the sessions it opens (window.log). */
let plain;
async function sdkPage() {
  if (!plain) {
    plain = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    browsers.push(plain);
  }
  const page = await plain.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(`${d.base}/web/examples/pubsub.html`);
  await page.evaluate(async () => {
    window.P = (await import('/web/sdk/parley.js')).default;
    window.log = [];
  });
  return page;
}

/* Parley.connect in page; resolves to 'joined <uid>' (the session is window.s), or the
 * error's code. */
function tryConnect(page, opts) {
  return page.evaluate(async (o) => {
    try {
      const s = await P.connect(location.origin, o);
      window.s = s;
      for (const ev of Object.values(P.events)) s.on(ev, (data) => log.push({ ev, data, at: Date.now() }));
      return `joined ${s.uid}`;
    } catch (e) {
      return e instanceof P.ParleyError ? e.code : `not a ParleyError: ${e}`;
    }
  }, opts);
}
const logOf = (page, ev) => page.evaluate((e) => log.filter((x) => x.ev === e).map((x) => x.data), ev);

test('data: to one participant, then to all; limits answer LIMIT', async () => {
  const pages = [];
  for (let i = 0; i < 4; i++) {
    pages.push(await sdkPage());
    assert.equal(await tryConnect(pages[i], { sid: 'chat', uid: `u${i}`, name: `N${i}`, key }), `joined u${i}`);
  }
  assert.deepEqual((await pages[0].evaluate(() => s.participants.map((p) => p.uid))).sort(), ['u1', 'u2', 'u3']);
  await pages[1].evaluate(() => s.send({ text: 'one' }, { to: 'u2' }));
  await until(async () => (await logOf(pages[2], 'data')).length === 1, 'u2 gets it');
  assert.deepEqual(await logOf(pages[2], 'data'), [{ from: 'u1', payload: { text: 'one' } }]);
  await pages[1].evaluate(() => s.send([1, 'all']));
  for (const i of [0, 2, 3])
    await until(async () => (await logOf(pages[i], 'data')).some((m) => m.payload[1] === 'all'), `u${i} gets the broadcast`);
  for (const i of [0, 3]) assert.equal((await logOf(pages[i], 'data')).length, 1, `u${i} got only the broadcast`);
  assert.equal((await logOf(pages[1], 'data')).length, 0, 'the sender gets nothing back');
  const errs = await pages[1].evaluate(async () => {
    const code = (p) => p.then(() => 'ok', (e) => e.code);
    return [await code(s.send('x'.repeat(17 * 1024))), await code(s.send(1, { to: 'nobody' }))];
  });
  assert.deepEqual(errs, ['LIMIT', 'NOT_FOUND']);
  for (const p of pages.slice(0, 3)) await p.evaluate(() => s.leave());
  await until(async () => (await logOf(pages[3], 'participantLeft')).length === 3, 'the others left');
  assert.deepEqual((await logOf(pages[3], 'participantLeft')).map((x) => x.uid), ['u0', 'u1', 'u2']);
  assert.deepEqual(await pages[3].evaluate(() => s.participants), []);
  await pages[3].evaluate(() => s.leave());
  for (const p of pages) await p.close();
});

test('a dropped WebSocket resumes; others see nothing of it', async () => {
  const [a, b] = [await sdkPage(), await sdkPage()];
  assert.equal(await tryConnect(a, { sid: 'drop', uid: 'a', key }), 'joined a');
  assert.equal(await tryConnect(b, { sid: 'drop', uid: 'b', key }), 'joined b');
  const port = new URL(d.base).port;
  execFileSync('ss', ['-K', 'src', '127.0.0.1', 'sport', '=', `:${port}`], { stdio: 'ignore' });
  for (const p of [a, b]) await until(async () => (await logOf(p, 'reconnected')).length === 1, 'reconnected', 5000);
  for (const p of [a, b]) {
    assert.deepEqual(await logOf(p, 'reconnected'), [{ resumed: true, feeds: {} }]);
    assert.equal((await logOf(p, 'reconnecting'))[0].timeout, 250, 'the first attempt after 0.25 s');
    assert.deepEqual(await logOf(p, 'participantLeft'), [], 'nobody left');
  }
  // The resumed sessions work: a message goes through.
  await a.evaluate(() => s.send('after', { to: 'b' }));
  await until(async () => (await logOf(b, 'data')).length === 1, 'data after resume');
  await a.evaluate(() => s.leave());
  assert.deepEqual(await logOf(a, 'disconnected'), [{ reason: 'left' }]);
  await until(async () => (await logOf(b, 'participantLeft')).length === 1, 'a left');
  await b.evaluate(() => s.leave());
  await a.close();
  await b.close();
});

test('after a server restart the SDK joins afresh with the same uid', async () => {
  const [a, b] = [await sdkPage(), await sdkPage()];
  assert.equal(await tryConnect(a, { sid: 'restart', uid: 'a', name: 'A', key }), 'joined a');
  assert.equal(await tryConnect(b, { sid: 'restart', uid: 'b', name: 'B', key }), 'joined b');
  const port = Number(new URL(d.base).port);
  await stopDaemon(d, { keep: true });
  d = await startDaemon([], [], { dir: d.dir, port });
  // Resume finds nothing on the new process (NOT_FOUND): a fresh join, same uid and name.
  for (const p of [a, b]) await until(async () => (await logOf(p, 'reconnected')).length === 1, 'reconnected', 15000);
  for (const p of [a, b]) assert.deepEqual(await logOf(p, 'reconnected'), [{ resumed: false, feeds: {} }]);
  assert.deepEqual(await logOf(a, 'disconnected'), []);
  // Whoever came back second found the other in the join; the first saw it join.
  await until(async () => (await a.evaluate(() => s.participants.map((p) => `${p.uid}:${p.name}`))).join() === 'b:B', 'a sees b');
  await until(async () => (await b.evaluate(() => s.participants.map((p) => `${p.uid}:${p.name}`))).join() === 'a:A', 'b sees a');
  await b.evaluate(() => s.send('hello again', { to: 'a' }));
  await until(async () => (await logOf(a, 'data')).some((m) => m.from === 'b' && m.payload === 'hello again'), 'data after the restart');
  for (const p of [a, b]) await p.evaluate(() => s.leave());
  for (const p of [a, b]) await p.close();
});

test('a key from a foreign origin is refused; a JWT of another account sees nothing of it', async () => {
  const page = await sdkPage();
  assert.equal(await tryConnect(page, { sid: 'k', key: foreignKey }), 'FORBIDDEN');
  assert.match(await tryConnect(page, { sid: 'k', key }), /^joined /, 'the same page with its own key joins');
  await page.evaluate(() => s.leave());
  // The example app shows the refusal.
  const ex = await sdkPage();
  await ex.goto(examplePage('k', 'Mallory', foreignKey));
  await until(async () => /FORBIDDEN/.test(await ex.textContent('#error')), 'the refusal shown');
  assert.equal(await ex.getAttribute('body', 'data-state'), 'prejoin');
  await ex.close();

  // Globex has a session "shared" with g1 in it.
  const g = await sdkPage();
  assert.equal(await tryConnect(g, { sid: 'shared', uid: 'g1', name: 'G', jwt: jwtFor(globex, { sid: 'shared' }) }), 'joined g1');
  // A token signed by acme claiming globex's cid is refused; acme's "shared" is another session.
  assert.equal(await tryConnect(page, { sid: 'shared', jwt: signJwt(acme.jwt_secret, {
    cid: 'globex', sid: 'shared', exp: Math.floor(Date.now() / 1000) + 600 }) }), 'UNAUTHORIZED');
  assert.equal(await tryConnect(page, { sid: 'shared', uid: 'a1', jwt: jwtFor(acme, { sid: 'shared' }) }), 'joined a1');
  assert.deepEqual(await page.evaluate(() => [s.cid, s.participants, s.feeds]), ['acme', [], []], 'acme sees nobody of globex');
  assert.equal(await page.evaluate(() => s.send(1, { to: 'g1' }).then(() => 'ok', (e) => e.code)), 'NOT_FOUND');
  // acme can take the uid g1 in its own "shared": it is another session.
  const a2 = await sdkPage();
  assert.equal(await tryConnect(a2, { sid: 'shared', uid: 'g1', jwt: jwtFor(acme, { sid: '*' }) }), 'joined g1');
  // A JWT for another sid, or bound to another uid, is refused.
  assert.equal(await tryConnect(page, { sid: 'other', jwt: jwtFor(acme, { sid: 'shared' }) }), 'FORBIDDEN');
  assert.equal(await tryConnect(page, { sid: 'shared', uid: 'x', jwt: jwtFor(acme, { sid: 'shared', uid: 'y' }) }), 'FORBIDDEN');
  // Globex's participant saw nothing of acme's.
  await page.waitForTimeout(300);
  assert.deepEqual(await g.evaluate(() => [s.participants, log]), [[], []]);
  for (const p of [page, g, a2]) await p.evaluate(() => s.leave());
  for (const p of [page, g, a2]) await p.close();
});
