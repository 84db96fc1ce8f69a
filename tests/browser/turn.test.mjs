// turn.test.mjs — Chromium behind "relay only" reaches parleyd through a real coturn:
// the test starts turnserver on loopback with use-auth-secret, parleyd hands out TURN REST
// API credentials for it, and a relay-only room's call must connect over a relay
// candidate with media flowing, which coturn's log confirms for that participant's user.
// With a secret coturn does not share, coturn answers 401 and the call never connects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until } from './helpers.mjs';

const SECRET = 'coturn-and-parleyd-share-this';

/* A port free for both TCP and UDP on 127.0.0.1 (coturn listens on both). */
async function freePort() {
  for (;;) {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const sock = dgram.createSocket('udp4');
    const ok = await new Promise((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise((r) => sock.close(r));
    if (ok) return port;
  }
}

/* turnserver on loopback: the docs/DEPLOYMENT.md recipe plus what loopback needs
 * (relay-ip and allow-loopback-peers: parleyd's candidate is 127.0.0.1). */
async function startCoturn() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-coturn-'));
  const port = await freePort();
  const logFile = join(dir, 'turn.log');
  writeFileSync(join(dir, 'turnserver.conf'), [
    `listening-port=${port}`, 'listening-ip=127.0.0.1', 'relay-ip=127.0.0.1',
    'use-auth-secret', `static-auth-secret=${SECRET}`, 'realm=parley.test',
    'allow-loopback-peers', 'no-cli', 'no-tls', 'no-dtls', 'no-rfc5780',
    'fingerprint', 'verbose', `log-file=${logFile}`, 'simple-log',
    `pidfile=${join(dir, 'turn.pid')}`, `userdb=${join(dir, 'turndb')}`, ''].join('\n'));
  const proc = spawn('/usr/bin/turnserver', ['-c', join(dir, 'turnserver.conf')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const log = () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } };
  await until(() => /UDP listener opened on\s*:\s*127\.0\.0\.1:\d+/.test(log()),
    `turnserver listening (stderr: ${stderr})`, 10000);
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`, log,
    async stop() {
      const exited = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let browser, coturn;
before(async () => {
  coturn = await startCoturn();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
  await coturn?.stop();
});

/* The selected candidate pair's local and remote candidate types and addresses. */
const selectedPair = (page) => page.evaluate(async () => {
  const report = await parley.pc.getStats();
  let out;
  report.forEach((s) => {
    const pair = s.type === 'transport' && report.get(s.selectedCandidatePairId);
    const side = (id) => {
      const c = report.get(id);
      return { type: c.candidateType, address: c.address, port: c.port, url: c.url };
    };
    if (pair) out = { local: side(pair.localCandidateId), remote: side(pair.remoteCandidateId) };
  });
  return out;
});

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/* Joins the relay-only room and calls; returns the page and the token result. */
async function relayOnlyCall(d) {
  const page = await browser.newPage();
  await page.goto(`${d.base}/web/test/call.html`);
  const token = await page.evaluate(() => parley.join('strict', 'Behind a firewall'));
  assert.equal(token.use_relay_candidates_only, true);
  assert.deepEqual(token.turn[0].urls, [coturn.url]);
  await page.evaluate(() => parley.call());
  assert.equal(await page.evaluate(() => parley.pc.getConfiguration().iceTransportPolicy), 'relay');
  return { page, token };
}

test('a relay-only room connects through coturn and media flows', async () => {
  const d = await startDaemon([['strict', '--test-call', '--relay-only']],
    ['--turn-url', coturn.url, '--turn-secret', SECRET]);
  try {
    const { page, token } = await relayOnlyCall(d);
    const user = token.turn[0].username;
    const a = await until(async () => {
      const s = await page.evaluate(() => parley.stats());
      return s.ice === 'connected' && s.dtls === 'connected' && s.framesDecoded > 5 ? s : null;
    }, 'connected media over the relay');
    const pair = await selectedPair(page);
    assert.equal(pair.local.type, 'relay', JSON.stringify(pair));
    assert.equal(pair.local.url, coturn.url, JSON.stringify(pair));
    assert.deepEqual([pair.remote.address, pair.remote.port], ['127.0.0.1', d.udp]);
    await page.waitForTimeout(1000);
    const b = await page.evaluate(() => parley.stats());
    assert.equal((await selectedPair(page)).local.type, 'relay');
    assert.ok(b.audioBytes > a.audioBytes, `audio bytes grow: ${a.audioBytes} -> ${b.audioBytes}`);
    assert.ok(b.videoBytes > a.videoBytes, `video bytes grow: ${a.videoBytes} -> ${b.videoBytes}`);
    // coturn's side: this participant's user allocated a relay and sent to parleyd's port.
    const log = coturn.log();
    assert.match(log, new RegExp(`user <${escape(user)}>: incoming packet ALLOCATE processed, success`));
    assert.match(log, new RegExp(`user <${escape(user)}>: incoming packet CREATE_PERMISSION processed, success`));
    assert.match(log, new RegExp(`user <${escape(user)}>: incoming packet CHANNEL_BIND processed, success`));
    await page.evaluate(() => parley.hangup());
    await page.close();
    // Closing the allocation logs what was relayed: packets and bytes both ways.
    const usage = await until(() => coturn.log().match(new RegExp(
      `usage: realm=<parley\\.test>, username=<${escape(user)}>, rp=(\\d+), rb=(\\d+), sp=(\\d+), sb=(\\d+)`)),
      'coturn\'s usage line for the user', 15000);
    assert.ok(Number(usage[2]) > 10000 && Number(usage[4]) > 10000, usage[0]);
  } finally {
    await stopDaemon(d);
  }
});

test('credentials coturn refuses: 401, and the call never connects', async () => {
  const d = await startDaemon([['strict', '--test-call', '--relay-only']],
    ['--turn-url', coturn.url, '--turn-secret', 'not-the-secret-coturn-has']);
  try {
    const { page, token } = await relayOnlyCall(d);
    const user = token.turn[0].username;
    await until(() => new RegExp(`user <${escape(user)}>: incoming packet message processed, error 401: Unauthorized`).test(coturn.log()),
      'coturn refusing the allocation with 401', 10000);
    await page.waitForTimeout(3000);
    const s = await page.evaluate(() => parley.stats());
    assert.notEqual(s.ice, 'connected');
    assert.equal(await selectedPair(page), undefined);
    assert.equal(s.audioBytes + s.videoBytes, 0);
    const relays = await page.evaluate(async () => {
      const out = [];
      (await parley.pc.getStats()).forEach((x) => { if (x.type === 'local-candidate') out.push(x.candidateType); });
      return out;
    });
    assert.deepEqual(relays, [], 'no candidate at all: relay-only and no allocation');
    assert.doesNotMatch(coturn.log(), new RegExp(`user <${escape(user)}>: incoming packet ALLOCATE processed, success`));
    await page.close();
  } finally {
    await stopDaemon(d);
  }
});
