// cli_join.mjs — what SRV discovery adds to a parley CLI run, on loopback. `parley roster
// --json` runs N times one after another, three ways, and two times are taken of each run:
// join, the CLI's own elapsed_ms from its start to request_token's answer (DNS, connect,
// request_token), and wall, the whole process (start, join, GET participants, release_token,
// exit) as the parent sees it:
//   direct    ROOM@127.0.0.1:PORT, no DNS at all
//   srv       ROOM@example.test: SRV + A/AAAA from a dnsmasq on loopback, first target up
//   failover  ROOM@fail.test: the priority-10 target's port is closed, the priority-20 one answers
// Usage: PARLEY_BIN_DIR=/tmp/b node bench/cli_join.mjs [N=50]
// Prints p50 / p95 / max in ms of both for each.
import { spawn, execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { startDaemon, BIN_DIR, waitUntil } from '../tests/integration/helpers.mjs';

const N = Number(process.argv[2] || 50);
const PARLEY = path.join(BIN_DIR, 'parley');

const freeUdp = () => new Promise((r) => {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => r(port)); });
});
const closedTcp = () => new Promise((r) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => r(port)); });
});

const d = await startDaemon({ rooms: ['bench'], args: ['--log-level', 'warn'] });
const dnsPort = await freeUdp();
const dead = await closedTcp();
let log = '';
const dns = spawn('/usr/sbin/dnsmasq', ['--no-daemon', '--port', String(dnsPort), '--listen-address', '127.0.0.1',
  '--bind-interfaces', '--no-resolv', '--no-hosts', '--local=/test/',
  `--srv-host=_pexapp._tcp.example.test,node1.example.test,${d.port},10,5`,
  `--srv-host=_pexapp._tcp.fail.test,down.fail.test,${dead},10,5`,
  `--srv-host=_pexapp._tcp.fail.test,up.fail.test,${d.port},20,5`,
  '--host-record=node1.example.test,127.0.0.1', '--host-record=down.fail.test,127.0.0.1',
  '--host-record=up.fail.test,127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
dns.stderr.on('data', (x) => { log += x; });
await waitUntil(() => log.includes('started'), { what: 'dnsmasq' });

const once = (target, extra) => new Promise((resolve, reject) => {
  const t0 = process.hrtime.bigint();
  execFile(PARLEY, ['roster', target, '--json', '--http', '--dns-server', `127.0.0.1:${dnsPort}`, ...extra], (err, out, errout) => {
    if (err) reject(new Error(`${target}: ${errout}`));
    else resolve({ wall: Number(process.hrtime.bigint() - t0) / 1e6, join: JSON.parse(out.split('\n')[0]).elapsed_ms });
  });
});

try {
  const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))];
  const modes = [['direct', `bench@127.0.0.1:${d.port}`], ['srv', 'bench@example.test'], ['failover', 'bench@fail.test']];
  const ms = Object.fromEntries(modes.map(([w]) => [w, []]));
  for (const [, target] of modes) await once(target, []); // warm the page cache
  // Interleaved, so that the machine's load falls on the three alike.
  for (let i = 0; i < N; i++) for (const [what, target] of modes) ms[what].push(await once(target, []));
  for (const [what] of modes) {
    const line = ['join', 'wall'].map((k) => {
      const a = ms[what].map((r) => r[k]).sort((x, y) => x - y);
      return `${k} p50 ${pct(a, 0.5).toFixed(1)} / p95 ${pct(a, 0.95).toFixed(1)} / max ${a[a.length - 1].toFixed(1)} ms`;
    });
    console.log(`${what.padEnd(9)} n=${N}  ${line.join('   ')}`);
  }
} finally {
  dns.kill('SIGTERM');
  await d.stop();
}
