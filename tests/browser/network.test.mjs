// network.test.mjs — a call across a real network path: parleyd in one network namespace
// listening on a wildcard with no --media-ip, Chromium in another, a veth pair between.
// The candidates must announce the namespace's own addresses (IPv4 and IPv6), never
// 127.0.0.1, and media must flow over each family.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertFlowing } from './helpers.mjs';
import { canMakeNamespaces, makeNet, nft, chromiumIn, startDaemonIn, stopDaemonIn,
  launchChromiumIn } from './netns.mjs';

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

const stop = stopDaemonIn;

/* Joins the echo room at base, calls, and waits for media in both directions. */
async function echoCall(base) {
  const browser = await launchChromiumIn(launcher, base);
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
  const b = await assertFlowing(page, { ms: 30000 });
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
