// network.test.mjs — a call across a real network path: parleyd in one network namespace
// listening on a wildcard with no --media-ip, Chromium in another, a veth pair between.
// The candidates must announce the namespace's own addresses (IPv4 and IPv6), never
// 127.0.0.1, and media must flow over each family.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, until } from './helpers.mjs';
import { canMakeNamespaces, makeNet, nft, chromiumIn, startDaemonIn } from './netns.mjs';

const skip = canMakeNamespaces() ? false : 'needs root for network namespaces';
let net, launcher;

before(() => {
  if (skip) return;
  net = makeNet();
  launcher = chromiumIn(net.b.ns);
});
after(() => {
  launcher?.cleanup();
  net?.close();
});

async function stop(d) {
  const exited = new Promise((r) => d.proc.on('exit', (code) => r(code)));
  d.proc.kill('SIGTERM');
  assert.equal(await exited, 0, d.log().slice(-2000));
  assert.doesNotMatch(d.log(), /AddressSanitizer|runtime error:|LeakSanitizer/);
}

/* Joins the echo room at base, calls, and waits for media in both directions. A page
 * from plain http:// on another host gets no camera (not a secure context): this test
 * is about the network path, so Chromium is told to treat this one origin as secure;
 * https.test.mjs covers TLS. */
async function echoCall(base) {
  const browser = await chromium.launch({ executablePath: launcher.path,
    args: [...CHROMIUM_FLAGS, `--unsafely-treat-insecure-origin-as-secure=${base}`] });
  try {
    return await callFrom(browser, base);
  } finally {
    await browser.close();
  }
}

async function callFrom(browser, base) {
  const page = await browser.newPage();
  await page.goto(`${base}/web/test/call.html`);
  await page.evaluate(() => parley.join('echo', 'Chromium'));
  await page.evaluate(() => parley.call());
  const a = await until(async () => {
    const s = await page.evaluate(() => parley.stats());
    return s.ice === 'connected' && s.framesDecoded > 5 && s.pair ? s : null;
  }, 'connected media', 30000);
  await page.waitForTimeout(1000);
  const b = await page.evaluate(() => parley.stats());
  assert.ok(b.audioBytes > a.audioBytes && b.videoBytes > a.videoBytes, 'media flows');
  const answer = await page.evaluate(() => parley.pc.remoteDescription.sdp);
  await page.close();
  return { stats: b, answer };
}

/* Drops UDP of one family to the media port in parleyd's namespace until the returned
 * function is called: media must then take the other family's candidate. */
function dropUdp(family, port) {
  const table = `parley_no_${family}_udp`;
  nft(net.a.ns, `table inet ${table} {
    chain input { type filter hook input priority 0; meta nfproto ${family} udp dport ${port} drop; }
  }`);
  return () => nft(net.a.ns, `delete table inet ${table}`);
}

const candidates = (sdp) => [...sdp.matchAll(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/g)]
  .map((m) => m[1]);

test('--http 0.0.0.0 with no --media-ip announces the host\'s addresses; IPv4 media flows',
  { skip }, async () => {
    const d = await startDaemonIn(net.a.ns, '0.0.0.0:0', [['echo', '--test-call']]);
    // Chromium prefers IPv6 when it may; without it, the dual-stack port must serve an
    // IPv4 peer (seen as ::ffff:10.x) and answer its checks with an IPv4 address.
    const allow = dropUdp('ipv6', d.udp);
    try {
      // Every address the namespace has but loopback (and link-local), in the log too.
      assert.match(d.log(), new RegExp(`\\(announced as ${net.a.addr}, ${net.a.addr6}\\)`));
      const { stats, answer } = await echoCall(`http://${net.a.addr}:${d.httpPort}`);
      assert.deepEqual(candidates(answer), [net.a.addr, net.a.addr6]);
      // (Chromium rewrites the o= line it shows; ours says 0.0.0.0.)
      assert.doesNotMatch(answer.replace(/^o=.*$/m, ''), /127\.0\.0\.1/);
      assert.equal(stats.pair.remote.address, net.a.addr, 'media goes to the veth address');
      assert.equal(stats.pair.local.address, net.b.addr);
    } finally {
      allow();
      await stop(d);
    }
  });

test('[::] listens on IPv6 too: with IPv4 UDP dropped, media flows over IPv6', { skip },
  async () => {
    const d = await startDaemonIn(net.a.ns, '[::]:0', [['echo', '--test-call']]);
    // Only IPv6 can carry media now; signalling goes over IPv6 as well.
    const allow = dropUdp('ipv4', d.udp);
    try {
      const { stats, answer } = await echoCall(`http://[${net.a.addr6}]:${d.httpPort}`);
      assert.deepEqual(candidates(answer), [net.a.addr, net.a.addr6]);
      assert.equal(stats.pair.remote.address, net.a.addr6);
    } finally {
      allow();
      await stop(d);
    }
  });

test('--media-ip names what is announced, as for a NAT', { skip }, async () => {
  const d = await startDaemonIn(net.a.ns, '0.0.0.0:0', [['echo', '--test-call']],
    ['--media-ip', `${net.a.addr6},${net.a.addr}`]);
  try {
    assert.match(d.log(), new RegExp(`\\(announced as ${net.a.addr6}, ${net.a.addr}\\)`));
    const { answer } = await echoCall(`http://${net.a.addr}:${d.httpPort}`);
    assert.deepEqual(candidates(answer), [net.a.addr6, net.a.addr]);
    assert.match(answer, new RegExp(`c=IN IP6 ${net.a.addr6}`));
  } finally {
    await stop(d);
  }
});
