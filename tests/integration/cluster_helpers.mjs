// cluster_helpers — shared pieces of the cluster tests: a real redis-server on a free
// port (persistence off, as docs/CLUSTER.md advises), parleyd nodes started in
// cluster mode on it, kill -9, and `parleyctl --cluster URL cluster status --json`.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PARLEYCTL, SANITIZER_ENV, startDaemon, waitUntil, withTimeout } from './helpers.mjs';

/** A free TCP port on loopback (closed again before it is returned). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ } });

/** A redis-server of the test's own: {port, url, stop(), kill9(), start()}. */
export async function startRedis({ port, password } = {}) {
  const r = { port: port ?? await freePort(), child: undefined };
  r.url = `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${r.port}`;
  r.start = async () => {
    const args = ['--port', String(r.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no'];
    if (password) args.push('--requirepass', password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.unref();
    child.stdout.unref?.();
    child.stderr.unref?.();
    r.child = child;
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    r.exited = new Promise((resolve) => child.on('exit', () => { children.delete(child); resolve(); }));
    await waitUntil(() => out.includes('Ready to accept connections'), { timeout: 5000, what: `redis-server on ${r.port}: ${out}` });
  };
  r.kill9 = async () => {
    r.child.kill('SIGKILL');
    await withTimeout(r.exited, 5000);
  };
  r.stop = async () => {
    if (r.child && r.child.exitCode === null && r.child.signalCode === null) await r.kill9();
  };
  await r.start();
  return r;
}

let secretFile;
/** One cluster secret file for every node of this test process. */
export function clusterSecretFile() {
  if (!secretFile) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-secret-'));
    secretFile = path.join(dir, 'cluster.secret');
    writeFileSync(secretFile, 'cluster-test-secret-0123456789abcdef0123456789\n', { mode: 0o600 });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return secretFile;
}

/** Starts a parleyd node in cluster mode on redis; extra: more parleyd flags. */
export function startNode(redis, { id, region = 'default', management = false, rooms = [], args = [] } = {}) {
  const a = ['--cluster', redis.url, '--node-id', id, '--region', region,
    '--cluster-secret-file', clusterSecretFile(), ...args];
  if (management) a.push('--management');
  return startDaemon({ rooms, args: a });
}

/** kill -9 of a node (no clean exit: its key lapses in Redis). */
export async function kill9(daemon) {
  daemon.child.kill('SIGKILL');
  await withTimeout(daemon.exited, 5000);
  daemon.saveLog();
  rmSync(daemon.dataDir, { recursive: true, force: true });
}

/** Runs parleyctl --cluster URL ARGS...; resolves {code, stdout, stderr}. */
export function clusterCtl(redis, args) {
  return new Promise((resolve) => {
    execFile(PARLEYCTL, ['--cluster', redis.url, ...args], { env: { ...process.env, ...SANITIZER_ENV } },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

/** `cluster status --json`, parsed: {nodes: [...], rooms: [...]}. */
export async function clusterStatus(redis) {
  const r = await clusterCtl(redis, ['cluster', 'status', '--json']);
  assert.equal(r.code, 0, `parleyctl cluster status failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
