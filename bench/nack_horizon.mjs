// nack_horizon.mjs — what the NACK horizon costs in repaired losses: parleyd and a publishing
// Chromium in one network namespace, a subscribing Chromium in another behind a veth whose
// server side drops LOSS_PCT of the UDP it sends there (nftables numgen; this kernel has no
// netem, so no added delay: the RTT is the veth's, ~1 ms, and the horizon its 250 ms floor);
// then, over the window, the subscriber's video losses (packetsLost: sent but never
// received, retransmissions counted as received), the NACKs it sent, what parleyd resent,
// its freezes and frames. Run it against two builds to compare their horizons.
// Usage (root): PARLEY_BIN_DIR=build node bench/nack_horizon.mjs [LOSS_PCT SECONDS]
import { makeNet, chromiumIn, launchChromiumIn, startDaemonIn, stopDaemonIn, nft }
  from '../tests/browser/netns.mjs';

const [loss = 5, seconds = 30] = process.argv.slice(2).map(Number);
const net = makeNet();
const pubSide = chromiumIn(net.a.ns), subSide = chromiumIn(net.b.ns);
const d = await startDaemonIn(net.a.ns, '0.0.0.0:0', [['meet']]);
const base = `http://${net.a.addr}:${d.httpPort}`;
const pubBrowser = await launchChromiumIn(pubSide, base);
const subBrowser = await launchChromiumIn(subSide, base);
let shaped = false;

/* The subscriber's inbound video and parleyd's resend counter, summed. */
async function sample(page) {
  return page.evaluate(async () => {
    const v = { lost: 0, received: 0, nacks: 0, frames: 0, freezes: 0, freezeS: 0 };
    (await parley.pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      v.lost += s.packetsLost ?? 0;
      v.received += s.packetsReceived ?? 0;
      v.nacks += s.nackCount ?? 0;
      v.frames += s.framesDecoded ?? 0;
      v.freezes += s.freezeCount ?? 0;
      v.freezeS += s.totalFreezesDuration ?? 0;
    });
    const text = await (await fetch('/metrics')).text();
    v.resent = Number(text.match(/^parley_nacks_answered_total (\d+)$/m)?.[1] ?? 0);
    return v;
  });
}

try {
  const pub = await pubBrowser.newPage();
  await pub.goto(`${base}/web/test/call.html`);
  await pub.evaluate(() => parley.join('meet', 'Publisher'));
  await pub.evaluate(() => parley.call({ video: { width: 640, height: 360 } }));
  const sub = await subBrowser.newPage();
  await sub.goto(`${base}/web/test/call.html`);
  await sub.evaluate(() => parley.join('meet', 'Subscriber'));
  await sub.evaluate(() => parley.call({ audio: true, video: { width: 320, height: 180 } }));
  for (let i = 0; i < 300 && (await sample(sub)).frames < 30; i++)
    await sub.waitForTimeout(100);
  nft(net.a.ns, `table inet lossy {
  chain out {
    type filter hook output priority 0;
    oifname "${net.a.dev}" meta l4proto udp numgen random mod 1000 < ${loss * 10} drop
  }
}
`);
  shaped = true;
  const a = await sample(sub);
  await sub.waitForTimeout(seconds * 1000);
  const b = await sample(sub);
  const dd = Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
  const sent = dd.received + dd.lost;
  console.log(`loss ${loss} %, ${seconds} s: received ${dd.received}, ` +
    `lost for good ${dd.lost} (${(100 * dd.lost / sent).toFixed(2)} %), NACKs sent ` +
    `${dd.nacks}, resent by parleyd ${dd.resent}, frames decoded ${dd.frames}, freezes ` +
    `${dd.freezes} (${dd.freezeS.toFixed(2)} s)`);
  console.log(`RESULT loss=${loss} received=${dd.received} lost=${dd.lost} ` +
    `nacks=${dd.nacks} resent=${dd.resent} frames=${dd.frames} freezes=${dd.freezes} ` +
    `freeze_s=${dd.freezeS.toFixed(2)}`);
} finally {
  if (shaped) nft(net.a.ns, 'delete table inet lossy');
  await pubBrowser.close();
  await subBrowser.close();
  await stopDaemonIn(d);
  pubSide.cleanup();
  subSide.cleanup();
  net.close();
}
