// whip_publish.mjs — WHIP ingest's signalling cost: POST an OBS-like offer (Opus + H.264,
// candidates inside, no media follows) to /api/rtc/v1/whip/<sid>, then DELETE the resource,
// CONCURRENCY clients at once for SECONDS. Each POST verifies a JWT, joins a participant,
// negotiates the answer and places a publish call on a media loop; each DELETE ends it.
// Prints publish+delete cycles/s, the POST's p50/p99 latency and parleyd's CPU per cycle
// (utime + stime from /proc over the measured window).
// Usage: PARLEY_BIN_DIR=/tmp/b node bench/whip_publish.mjs [CONCURRENCY=8] [SECONDS=5]
import http from 'node:http';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startDaemon, stopDaemon, parleyctl } from '../tests/browser/helpers.mjs';

const CONCURRENCY = Number(process.argv[2] || 8);
const SECONDS = Number(process.argv[3] || 5);
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const OFFER = [
  'v=0', 'o=rtc 4107523824 0 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'a=msid-semantic:WMS *', 'a=setup:actpass', 'a=ice-ufrag:PvC3', 'a=ice-pwd:Mkz1lqr0PUWVzQ3hTJtLDIIh',
  'a=fingerprint:sha-256 9E:06:60:3B:53:2F:7C:3A:B0:EE:AD:2C:4D:21:B7:E5:65:7C:25:F9:6E:72:57:9B:3B:A3:F5:2A:D9:D7:2E:23',
  'm=audio 50000 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 127.0.0.1', 'a=mid:0', 'a=sendonly',
  'a=ssrc:2263331582 cname:obs', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1', 'a=candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host',
  'm=video 50000 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 127.0.0.1', 'a=mid:1', 'a=sendonly',
  'a=ssrc:2263331583 cname:obs', 'a=rtcp-mux', 'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack pli',
  'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
].join('\r\n') + '\r\n';

const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const d = await startDaemon([], ['--log-level', 'warn']);
const acme = JSON.parse(parleyctl(d.dir, 'account', 'add', '--cid', 'acme', '--json'));
const unsigned = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ cid: 'acme', sid: '*', exp: Math.floor(Date.now() / 1000) + 3600 })}`;
const jwt = `${unsigned}.${crypto.createHmac('sha256', acme.jwt_secret).update(unsigned).digest('base64url')}`;
const port = Number(new URL(d.base).port);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent,
      headers: { ...headers, 'Content-Length': body ? Buffer.byteLength(body) : 0 } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function client(i, until, lat) {
  let n = 0;
  while (Date.now() < until) {
    const t0 = process.hrtime.bigint();
    const r = await request('POST', `/api/rtc/v1/whip/bench${i % 4}`, OFFER,
      { 'Content-Type': 'application/sdp', Authorization: `Bearer ${jwt}` });
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.statusCode !== 201) throw new Error(`POST: ${r.statusCode}`);
    const del = await request('DELETE', r.headers.location);
    if (del.statusCode !== 200) throw new Error(`DELETE: ${del.statusCode}`);
    n++;
  }
  return n;
}

try {
  await Promise.all([...Array(CONCURRENCY).keys()].map((i) => client(i, Date.now() + 1000, [])));
  const lat = [];
  const c0 = cpu(d.proc.pid), t0 = Date.now();
  const counts = await Promise.all([...Array(CONCURRENCY).keys()].map((i) => client(i, t0 + SECONDS * 1000, lat)));
  const dt = (Date.now() - t0) / 1000, used = cpu(d.proc.pid) - c0;
  const n = counts.reduce((a, b) => a + b, 0);
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  console.log(`WHIP publish+delete, ${CONCURRENCY} clients: ${(n / dt).toFixed(0)} cycles/s; POST p50 ` +
    `${pct(0.5)} ms, p99 ${pct(0.99)} ms; parleyd CPU ${(100 * used / dt).toFixed(0)} % of a core, ` +
    `${(used * 1e6 / n).toFixed(0)} us per cycle`);
} finally {
  agent.destroy();
  await stopDaemon(d);
}
