// cluster_join.mjs — what the cluster (issue 14) costs a join, on loopback: a real redis-server
// and three parleyd nodes (n1 --management), rooms written once into n1's store.
//   1. request_token latency through a non-home node (relayed) against directly at the home
//      node: JOINS joins each, interleaved, one at a time on kept-alive connections; each
//      join's token is released (untimed) so rosters stay small. p50 / p99 / max.
//   2. Redis commands per join: INFO commandstats before and after a batch of joins into an
//      already-placed room (home and relayed), and per first join of a fresh room (placement
//      and lease); the background rate (node refreshes, lease renewals, config polls) is
//      measured in an idle window and subtracted.
//   3. Joins per second (request_token + release_token pairs) with CONC requests in flight
//      for SECONDS: spread over three nodes and ROOMS rooms (2/3 of them relayed), against
//      a one-node cluster with the same rooms, and a node without cluster mode (with its
//      request_token latency as in 1., for reference).
// Usage: PARLEY_BIN_DIR=/tmp/b node bench/cluster_join.mjs [JOINS=500] [CONC=16] [SECONDS=10] [--baseline]
// (--baseline: only the node without cluster mode)
import http from 'node:http';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { API } from '../tests/integration/helpers.mjs';
import { startCluster } from '../tests/integration/cluster_helpers.mjs';

const BASELINE = process.argv.includes('--baseline');
const argv = process.argv.filter((a) => a !== '--baseline');
const JOINS = Number(argv[2] || 500);
const CONC = Number(argv[3] || 16);
const SECONDS = Number(argv[4] || 10);
const ROOMS = 30;
const FRESH = 20; // rooms whose first join is counted for placement
const rooms = ['bench', ...Array.from({ length: ROOMS }, (_, i) => `r${i}`), ...Array.from({ length: FRESH }, (_, i) => `fresh${i}`)];
const ARGS = ['--log-level', 'warn', '--max-connections-per-address', '0'];

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(port, alias, rel, body, token) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body ?? {}));
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `${API}/${alias}/${rel}`, agent,
      headers: { 'content-type': 'application/json', 'content-length': data.length, ...(token ? { token } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`${rel} ${alias} on :${port}: ${res.statusCode} ${text.slice(0, 200)}`));
        else resolve(JSON.parse(text).result);
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`${rel}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

let seq = 0;
async function join(port, alias) {
  const t0 = process.hrtime.bigint();
  const r = await post(port, alias, 'request_token', { display_name: `b${++seq}` });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, token: r.token };
}
const release = (port, alias, token) => post(port, alias, 'release_token', {}, token);

const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
const fmt = (a) => `p50 ${pct(a, 50).toFixed(2)} ms, p99 ${pct(a, 99).toFixed(2)} ms, max ${Math.max(...a).toFixed(2)} ms (n=${a.length})`;

function sumStats(s) { return Object.values(s).reduce((x, y) => x + y, 0); }
function diff(a, b) {
  const out = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d) out[k] = d;
  }
  delete out.info; // our own INFO calls
  return out;
}

/* Redis commands per join for `fn` (which runs n joins): idle rate over the same time subtracted. */
async function commandsPer(cluster, n, fn) {
  const idleMs = 2000;
  const i0 = await cluster.redis.commandstats();
  await new Promise((r) => setTimeout(r, idleMs));
  const i1 = await cluster.redis.commandstats();
  const idleRate = sumStats(diff(i0, i1)) / idleMs;
  const s0 = await cluster.redis.commandstats();
  const t0 = Date.now();
  await fn();
  const ms = Date.now() - t0;
  const d = diff(s0, await cluster.redis.commandstats());
  const total = sumStats(d);
  return { perJoin: (total - idleRate * ms) / n, raw: total, ms, idlePerSec: idleRate * 1000, byCommand: d };
}

/* CONC workers for SECONDS doing join + release pairs; target(i) -> [port, alias]. */
async function throughput(target) {
  let pairs = 0, errors = 0, stop = false, k = 0;
  const firstError = [];
  const cpu0 = os.cpus().map((c) => c.times);
  const worker = async () => {
    while (!stop) {
      const [port, alias] = target(k++);
      try {
        const { token } = await join(port, alias);
        await release(port, alias, token);
        pairs++;
      } catch (e) { errors++; if (firstError.length < 3) firstError.push(e.message); }
    }
  };
  const warm = Array.from({ length: CONC }, worker);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const p0 = pairs;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const n = pairs - p0, ms = Date.now() - t0;
  stop = true;
  await Promise.all(warm);
  const cpu1 = os.cpus().map((c) => c.times);
  const busy = cpu1.map((c, i) => { const a = cpu0[i]; const tot = (x) => x.user + x.nice + x.sys + x.idle + x.irq; return 1 - (c.idle - a.idle) / (tot(c) - tot(a)); });
  return { perSec: n / (ms / 1000), errors, firstError, cpuBusy: busy.map((b) => `${Math.round(b * 100)}%`).join(' ') };
}

const model = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1];
console.log(`machine: ${os.cpus().length} cores (${model}), node ${process.version}, ${new Date().toISOString()}`);
console.log(`command: PARLEY_BIN_DIR=${process.env.PARLEY_BIN_DIR} node bench/cluster_join.mjs ${argv.slice(2).join(' ')}${BASELINE ? ' --baseline' : ''}`);

let cluster;
if (!BASELINE) await clustered();
async function clustered() {
// --- three nodes
cluster = await startCluster({ nodes: 3, rooms, args: ARGS });
try {
  const [n1] = cluster.nodes;
  // Place "bench" on n1 (a join there places it there when n1 is least loaded; else find it).
  const first = await join(n1.httpPort, 'bench');
  await release(n1.httpPort, 'bench', first.token);
  const homeId = (await cluster.homeFromStatus('bench'))?.node ?? (await cluster.leaseOf('bench'))?.node;
  const home = cluster.node(homeId);
  if (!home) throw new Error(`no lease for "bench" after a join (is the relay/locate path in this build?): ${JSON.stringify(await cluster.status())}`);
  const other = cluster.nodes.find((n) => n !== home);
  console.log(`\nroom "bench" homed on ${home.nodeId}; relayed through ${other.nodeId}`);

  // 1. latency, interleaved.
  for (let i = 0; i < 50; i++) { // warm-up both paths
    for (const n of [home, other]) { const j = await join(n.httpPort, 'bench'); await release(n.httpPort, 'bench', j.token); }
  }
  const direct = [], relayed = [];
  for (let i = 0; i < JOINS; i++) {
    for (const [n, into] of i % 2 ? [[home, direct], [other, relayed]] : [[other, relayed], [home, direct]]) {
      const j = await join(n.httpPort, 'bench');
      into.push(j.ms);
      await release(n.httpPort, 'bench', j.token);
    }
  }
  console.log('\n1. request_token latency, one at a time, kept-alive connection');
  console.log(`   at the home (${home.nodeId}):        ${fmt(direct)}`);
  console.log(`   through ${other.nodeId} (relayed):     ${fmt(relayed)}`);
  console.log(`   extra: p50 +${(pct(relayed, 50) - pct(direct, 50)).toFixed(2)} ms, p99 +${(pct(relayed, 99) - pct(direct, 99)).toFixed(2)} ms`);

  // 2. Redis commands per join.
  const N2 = 200;
  console.log('\n2. Redis commands per join (background rate subtracted)');
  for (const [what, n] of [['at the home, room placed', home], ['relayed, room placed', other]]) {
    const tokens = [];
    const r = await commandsPer(cluster, N2, async () => {
      for (let i = 0; i < N2; i++) tokens.push((await join(n.httpPort, 'bench')).token);
    });
    for (const tk of tokens) await release(n.httpPort, 'bench', tk);
    console.log(`   ${what}: ${r.perJoin.toFixed(2)} per join (${r.raw} in ${r.ms} ms over ${N2} joins; idle ${r.idlePerSec.toFixed(1)}/s) ${JSON.stringify(r.byCommand)}`);
  }
  {
    const tokens = [];
    const r = await commandsPer(cluster, FRESH, async () => {
      for (let i = 0; i < FRESH; i++) tokens.push([`fresh${i}`, (await join(other.httpPort, `fresh${i}`)).token]);
    });
    for (const [a, tk] of tokens) await release(other.httpPort, a, tk);
    console.log(`   first join of a fresh room (placement, lease), through ${other.nodeId}: ${r.perJoin.toFixed(2)} per join ${JSON.stringify(r.byCommand)}`);
  }

  // 3. throughput across three nodes, rooms spread by placement.
  for (let i = 0; i < ROOMS; i++) { // place r0..r29 (each first join through a different node)
    const n = cluster.nodes[i % 3];
    const j = await join(n.httpPort, `r${i}`);
    await release(n.httpPort, `r${i}`, j.token);
  }
  const homes = {};
  for (let i = 0; i < ROOMS; i++) { const h = await cluster.leaseOf(`r${i}`); homes[h?.node] = (homes[h?.node] ?? 0) + 1; }
  const t3 = await throughput((k) => [cluster.nodes[k % 3].httpPort, `r${(k * 7) % ROOMS}`]);
  console.log(`\n3. joins/s (request_token + release_token pairs), ${CONC} in flight, ${SECONDS} s`);
  console.log(`   three nodes (rooms per home ${JSON.stringify(homes)}): ${t3.perSec.toFixed(0)}/s, errors ${t3.errors} ${t3.firstError.join(' | ')}; cpu ${t3.cpuBusy}`);
} finally {
  await cluster.stop();
}

// --- one node
cluster = await startCluster({ nodes: 1, rooms, args: ARGS });
try {
  const [n1] = cluster.nodes;
  const t1 = await throughput((k) => [n1.httpPort, `r${(k * 7) % ROOMS}`]);
  console.log(`   one node:  ${t1.perSec.toFixed(0)}/s, errors ${t1.errors} ${t1.firstError.join(' | ')}; cpu ${t1.cpuBusy}`);
} finally {
  await cluster.stop();
}
}

// --- one node without cluster mode (what a join cost before issue 14)
cluster = await startCluster({ nodes: 1, rooms, args: ARGS, clustered: false });
try {
  const [n1] = cluster.nodes;
  const t0 = await throughput((k) => [n1.httpPort, `r${(k * 7) % ROOMS}`]);
  console.log(`\n3. joins/s (request_token + release_token pairs), ${CONC} in flight, ${SECONDS} s`);
  console.log(`   one node, no cluster mode: ${t0.perSec.toFixed(0)}/s, errors ${t0.errors} ${t0.firstError.join(' | ')}; cpu ${t0.cpuBusy}`);
  const plain = [];
  for (let i = 0; i < 50 + JOINS; i++) {
    const j = await join(n1.httpPort, 'bench');
    if (i >= 50) plain.push(j.ms);
    await release(n1.httpPort, 'bench', j.token);
  }
  console.log(`   request_token latency on it, as in 1.: ${fmt(plain)}`);
} finally {
  await cluster.stop();
}
agent.destroy();
