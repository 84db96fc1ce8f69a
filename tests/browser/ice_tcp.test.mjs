// ice_tcp.test.mjs — ICE over TCP on a real network path: parleyd in one namespace with
// UDP to its media port dropped by nftables, Chromium in another. The call connects over
// TCP (the selected candidate pair says so) and media flows; with --ice-tcp 0 the same
// call cannot connect, which proves the UDP drop is real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { until, assertFlowing } from './helpers.mjs';
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

/* parleyd on the server side's address, UDP to its media port dropped there. */
async function startBlocked(extra) {
  const d = await startDaemonIn(net.a.ns, `${net.a.addr}:0`, [['echo', '--test-call']], extra);
  nft(net.a.ns, `table inet parley_udp_block
delete table inet parley_udp_block
table inet parley_udp_block {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport ${d.udp} counter drop
  }
}
`);
  d.base = `http://${net.a.addr}:${d.httpPort}`;
  d.browser = await launchChromiumIn(launcher, d.base);
  return d;
}

async function stop(d) {
  await d.browser.close();
  await stopDaemonIn(d);
}

async function openCall(d) {
  const page = await d.browser.newPage();
  await page.goto(`${d.base}/web/test/call.html`);
  await page.evaluate(() => parley.join('echo', 'Chromium'));
  await page.evaluate(() => parley.call());
  return page;
}

/* The protocols of the selected candidate pair's two ends. */
const selectedPair = (page) => page.evaluate(async () => {
  const stats = [...(await parley.pc.getStats()).values()];
  const byId = new Map(stats.map((s) => [s.id, s]));
  const t = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
  const pair = t && byId.get(t.selectedCandidatePairId);
  if (!pair) return null;
  const local = byId.get(pair.localCandidateId), remote = byId.get(pair.remoteCandidateId);
  return { local: local.protocol, remote: remote.protocol, tcpType: remote.tcpType ?? null,
    remotePort: remote.port };
});

/* /metrics from the page: parleyd is in another namespace than this process. */
const metrics = (page) => page.evaluate(async () => {
  const text = await (await fetch('/metrics')).text();
  const out = {};
  for (const m of text.matchAll(/^(parley_tcp_\S+?)(\{reason="(\w+)"\})? (\d+)$/gm))
    out[m[3] ? `${m[1]}_${m[3]}` : m[1]] = Number(m[4]);
  return out;
});

test('with UDP blocked, a call connects over ICE-TCP and media flows', { skip }, async () => {
  const d = await startBlocked([]);
  try {
    const page = await openCall(d);
    const sdp = await page.evaluate(() => parley.pc.remoteDescription.sdp);
    assert.match(sdp, new RegExp(`a=candidate:2 1 tcp \\d+ ${net.a.addr.replace(/\./g, '\\.')} ${d.udp} typ host tcptype passive`));
    // Chromium tries TCP only after its UDP checks go unanswered: seconds, more on a
    // loaded machine under ASan.
    await assertFlowing(page, { ms: 45000, what: 'connected media over TCP' });
    const pair = await selectedPair(page);
    assert.deepEqual(pair, { local: 'tcp', remote: 'tcp', tcpType: 'passive', remotePort: d.udp });
    // A second of echoed audio and video is ~100 frames each way: wait for more rather
    // than count on how long connecting took.
    const m = await until(async () => {
      const now = await metrics(page);
      return now.parley_tcp_frames_in_total > 100 && now.parley_tcp_frames_out_total > 100
        ? now : null;
    }, 'over 100 TCP frames each way');
    assert.ok(m.parley_tcp_connections >= 1, JSON.stringify(m));
    assert.equal(m.parley_tcp_refused_total_first_frame, 0);
    assert.equal(m.parley_tcp_refused_total_oversize, 0);
    // Hanging up frees the call and closes its connection.
    await page.evaluate(() => parley.hangup());
    await until(async () => (await metrics(page)).parley_tcp_connections === 0, 'tcp closed');
    await page.close();
  } finally {
    await stop(d);
  }
});

test('with UDP blocked and --ice-tcp 0, the call cannot connect', { skip }, async () => {
  const d = await startBlocked(['--ice-tcp', '0']);
  try {
    const page = await openCall(d);
    const sdp = await page.evaluate(() => parley.pc.remoteDescription.sdp);
    assert.doesNotMatch(sdp, / tcp /);
    // Chromium gives a pair up after ~7 s of unanswered checks: 8 s without media is
    // a failed call.
    await page.waitForTimeout(8000);
    const s = await page.evaluate(() => parley.stats());
    assert.notEqual(s.ice, 'connected', JSON.stringify(s));
    assert.notEqual(s.ice, 'completed', JSON.stringify(s));
    assert.equal(s.audioBytes, 0);
    await page.close();
  } finally {
    await stop(d);
  }
});
