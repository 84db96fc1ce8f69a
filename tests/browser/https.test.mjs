// https.test.mjs — parleyd serving HTTPS (--tls-cert/--tls-key from parleyctl tls
// self-signed), with headless Chromium trusting the certificate by its SPKI pin alone
// (--ignore-certificate-errors-spki-list, not --ignore-certificate-errors): the web app
// loads over HTTP/2, a test call joins with fetch and EventSource and its media flows, and
// an RTM session runs over wss:// until ACTIVE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, startDaemon, stopDaemon, until, parleyctl, assertFlowing } from './helpers.mjs';

const work = mkdtempSync(join(tmpdir(), 'parley-https-'));
const cert = join(work, 'cert.pem'), key = join(work, 'key.pem');
let browser, d;

before(async () => {
  const out = parleyctl(work, 'tls', 'self-signed', '--name', '127.0.0.1', '--out-cert', cert, '--out-key', key);
  const pin = /^spki-sha256: (\S+)$/m.exec(out)[1];
  d = await startDaemon([['echo', '--test-call']], ['--tls-cert', cert, '--tls-key', key]);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, `--ignore-certificate-errors-spki-list=${pin}`] });
});
after(async () => {
  await browser?.close();
  if (d) await stopDaemon(d);
  rmSync(work, { recursive: true, force: true });
});

test('over https: the web app on HTTP/2, a test call with media, RTM over wss', async () => {
  assert.match(d.base, /^https:/);
  const page = await browser.newPage();
  const res = await page.goto(`${d.base}/web/test/call.html`);
  assert.equal(res.status(), 200);
  assert.equal((await res.securityDetails())?.protocol, 'TLS 1.3');
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol), 'h2');
  assert.equal(await page.evaluate(() => window.isSecureContext && location.protocol), 'https:');

  // Join (fetch) with its event stream (EventSource), both over the HTTP/2 connection.
  const token = await page.evaluate(() => parley.join('echo', 'Chromium'));
  assert.equal(token.service_type, 'test_call');
  await page.evaluate(() => parley.call());
  await assertFlowing(page);
  const protocols = await page.evaluate(() => [...new Set(performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/client/v2/')).map((e) => e.nextHopProtocol))]);
  assert.deepEqual(protocols, ['h2'], 'the API calls went over HTTP/2');
  assert.ok(await page.evaluate(() => parley.events.some((e) => e.name === 'participant_create' &&
    e.data.display_name === 'Chromium')), 'the event stream delivered the snapshot');
  await page.evaluate(() => parley.hangup());
  await page.evaluate(() => parley.leave());
  await page.close();

  // RTM: the page's WebSocket goes to wss:// (on a connection of its own, ALPN http/1.1).
  parleyctl(d.dir, 'account', 'add', '--cid', 'acme');
  const jwt = parleyctl(d.dir, 'jwt', '--account', 'acme', '--client-id', 'agent-tls').trim();
  const agent = await browser.newPage();
  await agent.goto(`${d.base}/web/test/rtm.html`);
  await agent.evaluate((q) => rtm.connect(q), `access_token=${jwt}`);
  assert.match(await agent.evaluate(() => rtm.ws.url), /^wss:\/\/127\.0\.0\.1:\d+\/api\/rtm\/v1\/io/);
  await agent.evaluate(() => rtm.start('agent-tls'));
  await agent.evaluate(() => rtm.startPinging(2000));
  await until(async () => (await agent.evaluate(() => rtm.states())).includes('ACTIVE'), 'RTM session ACTIVE');
  const endpoint = await agent.evaluate(async (t) => (await (await fetch('/api/rtm/v1/session', {
    method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: '{}' })).json()).ws_endpoint, jwt);
  assert.match(endpoint, /^wss:\/\/127\.0\.0\.1:\d+\/api\/rtm\/v1\/io$/);
  await agent.close();
});
