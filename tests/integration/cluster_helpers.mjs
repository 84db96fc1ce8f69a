// cluster_helpers.mjs — what the cluster tests (issue 14) share: a real redis-server on a free
// loopback port (never the system one), N parleyd nodes in cluster mode on distinct HTTP and
// media ports (node 1 is the --management node and the only one whose store gets the rooms,
// unless seedAll), a shared cluster secret, readiness (every node registered in Redis, every
// node on the management node's configuration version), kill -9, clean stop and restart on the
// same ports, the cluster's view through `parleyctl --cluster URL cluster status --json`, and
// nginx as a load balancer in front of the nodes (a primary server per front, the others as
// backups). Nodes are helpers.mjs Daemons: api(), join(), sse(), metrics() work on them.
// At the end, core's node-at-a-time helpers (startRedis, startNode, kill9, clusterStatus).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Daemon, PARLEYCTL, REPO, SANITIZER_ENV, SLOW, parleyctl, roomArgs, sleep, startDaemon, waitUntil, withTimeout } from './helpers.mjs';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const WEB_DIR = process.env.PARLEY_WEB_DIR || path.join(REPO, 'web');

const children = new Set(); // redis-servers and nginxes: killed if the test process exits
process.on('exit', () => {
  for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
});

/** A TCP port nobody listens on right now (127.0.0.1). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Whether 127.0.0.1:port can be bound now. */
export function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** n distinct free ports. */
export async function freePorts(n) {
  const out = new Set();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// RESP: a minimal Redis client (one connection, commands in order), enough for tests and
// benches to read keys, INFO commandstats and CONFIG RESETSTAT.

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(`$${b.length}\r\n`, b, '\r\n');
  }
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

/* Parses one reply at buf[i]; returns [value, next index] or null when incomplete. Errors
 * come back as Error objects. */
function parseReply(buf, i) {
  if (i >= buf.length) return null;
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return [line, next];
    case '-': return [new Error(line), next];
    case ':': return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return null;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const out = [];
      let j = next;
      for (let k = 0; k < n; k++) {
        const r = parseReply(buf, j);
        if (!r) return null;
        out.push(r[0]);
        j = r[1];
      }
      return [out, j];
    }
    default: throw new Error(`RESP: unexpected type byte ${JSON.stringify(type)}`);
  }
}

export class RedisClient {
  static connect(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const c = new RedisClient();
      c.sock = net.connect(port, host, () => { c.sock.off('error', reject); resolve(c); });
      c.sock.once('error', reject);
      c.buf = Buffer.alloc(0);
      c.waiting = [];
      c.sock.on('data', (d) => {
        c.buf = Buffer.concat([c.buf, d]);
        for (;;) {
          const r = parseReply(c.buf, 0);
          if (!r) break;
          c.buf = c.buf.subarray(r[1]);
          const w = c.waiting.shift();
          if (w) w(r[0]);
        }
      });
      const fail = () => { for (const w of c.waiting.splice(0)) w(new Error('redis connection closed')); };
      c.sock.on('close', fail);
      c.sock.on('error', fail);
    });
  }

  /** Resolves with the reply; rejects on a Redis error reply or a closed connection. */
  command(...args) {
    return new Promise((resolve, reject) => {
      this.waiting.push((v) => (v instanceof Error ? reject(v) : resolve(v)));
      this.sock.write(encode(args));
    });
  }

  close() { this.sock.destroy(); }
}

/** One command on a fresh connection (for code that runs rarely). */
export async function redisCommand(port, ...args) {
  const c = await RedisClient.connect(port);
  try { return await c.command(...args); } finally { c.close(); }
}

/** INFO commandstats as {command: calls}. */
export function parseCommandstats(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// redis-server

export class RedisServer {
  constructor(port) {
    this.port = port;
    this.log = '';
    this.child = null;
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  /** Starts redis-server on its port (a free one the first time): no persistence, loopback. */
  static async start({ port } = {}) {
    const r = new RedisServer(port ?? await freePort());
    await r.start();
    return r;
  }

  async start() {
    assert.ok(existsSync(REDIS_SERVER), `${REDIS_SERVER} missing (scripts/install-deps.sh --test)`);
    this.dir = this.dir ?? mkdtempSync(path.join(os.tmpdir(), 'parley-redis-'));
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--dir', this.dir, '--logfile', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    children.add(child);
    child.unref();
    for (const s of [child.stdout, child.stderr]) {
      s.setEncoding('utf8');
      s.on('data', (d) => { this.log += d; });
      s.unref?.();
    }
    this.exited = new Promise((r) => child.on('exit', (code, signal) => { children.delete(child); r({ code, signal }); }));
    // On a restart the old process's port may linger a moment: retry until PONG.
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${this.log.slice(-2000)}`);
      return (await redisCommand(this.port, 'PING')) === 'PONG';
    }, { timeout: 10000, interval: 50, what: `redis-server on port ${this.port}` });
    return this;
  }

  command(...args) { return redisCommand(this.port, ...args); }

  async commandstats() { return parseCommandstats(await this.command('INFO', 'commandstats')); }

  /** kill -9: gone at once, nothing saved. */
  async kill() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await withTimeout(this.exited, 5000); // a ref'd timer: the child is unref'd
  }

  /** SIGTERM and wait. */
  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    if (!(await withTimeout(this.exited, 5000))) {
      this.child.kill('SIGKILL');
      await withTimeout(this.exited, 5000);
    }
  }

  /** A new (empty) redis-server on the same port, after `down_ms` without one. */
  async restart({ downMs = 0, kill = true } = {}) {
    await (kill ? this.kill() : this.stop());
    if (downMs) await sleep(downMs);
    await this.start();
  }

  async cleanup() {
    await this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes

/** A parleyd in cluster mode on a fixed HTTP port (so it comes back on the same one). */
export class ClusterNode extends Daemon {
  constructor(dataDir, args, { nodeId, httpPort, management }) {
    super(dataDir, [...args, '--http', `127.0.0.1:${httpPort}`]);
    this.nodeId = nodeId;
    this.httpPort = httpPort;
    this.management = management;
    this.oldLogs = '';
  }

  get url() { return `http://127.0.0.1:${this.httpPort}`; }
  get alive() { return !!this.child && this.child.exitCode === null && this.child.signalCode === null; }

  /** kill -9: the node vanishes as in a crash (its store stays for a restart). */
  async kill9() {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await withTimeout(this.exited, 5000); // a ref'd timer: the child is unref'd
    this.saveLog();
    this.closeClients();
  }

  /** SIGTERM; asserts a clean exit (code 0, no sanitizer report); keeps the store. */
  async cleanStop() {
    return this.stop({ keepData: true });
  }

  /** Starts the node again on the same data dir and HTTP port. */
  async restart() {
    if (this.alive) await this.cleanStop();
    this.oldLogs += this.stderr;
    this.stderr = '';
    this.port = undefined;
    this.exit = undefined;
    this.child = undefined;
    // The port of a node just killed may not be free at once (Daemon.start removes the data
    // dir when the start fails, so wait for the port rather than retry).
    await waitUntil(() => portFree(this.httpPort), { timeout: 10000, what: `port ${this.httpPort} free again` });
    await this.start();
    return this;
  }

  /** /metrics as {name: value} (no assertion on failure: null when the node is down). */
  async metricsOrNull() {
    try { return await this.metrics(); } catch { return null; }
  }
}

/** Writes a cluster secret file (48 random bytes, hex: 96 bytes >= 32) into dir. */
export function writeSecret(dir) {
  const f = path.join(dir, 'cluster.secret');
  writeFileSync(f, randomBytes(48).toString('hex'), { mode: 0o600 });
  return f;
}

function run(file, args, { timeout = 20000 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...SANITIZER_ENV }, timeout: timeout * SLOW }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

export class Cluster {
  constructor() {
    this.nodes = [];
    this.redis = null;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'parley-cluster-'));
    this.secretFile = writeSecret(this.dir);
  }

  get management() { return this.nodes.find((n) => n.management); }
  node(id) { return this.nodes.find((n) => n.nodeId === id); }
  get alive() { return this.nodes.filter((n) => n.alive); }

  /** parleyctl --cluster URL ARGS... (resolves {code, stdout, stderr}). */
  ctlCluster(...args) {
    assert.ok(existsSync(PARLEYCTL), `parleyctl not found at ${PARLEYCTL}`);
    return run(PARLEYCTL, ['--cluster', this.redis.url, ...args]);
  }

  /** parleyctl against the management node's data dir (how rooms are written once). */
  ctl(...args) { return parleyctl(this.management.dataDir, args); }

  /** `parleyctl --cluster URL cluster status --json`, parsed (asserts exit 0). */
  async status() {
    const r = await this.ctlCluster('cluster', 'status', '--json');
    assert.equal(r.code, 0, `parleyctl cluster status --json exited ${r.code}: ${r.stderr}`);
    try { return JSON.parse(r.stdout); } catch (e) {
      assert.fail(`parleyctl cluster status --json printed no JSON: ${e.message}\n${r.stdout.slice(0, 2000)}`);
    }
  }

  /** The home of room_key from `cluster status --json`: {node, epoch} or null when not leased.
   * Accepts rooms as an array of {room|key|room_key|alias, home|node|node_id, epoch} or as an
   * object {room_key: {home|node, epoch}}. */
  async homeFromStatus(roomKey) {
    const s = await this.status();
    const rooms = s.rooms ?? s.leases ?? [];
    const list = Array.isArray(rooms) ? rooms : Object.entries(rooms).map(([k, v]) => ({ room: k, ...(typeof v === 'object' ? v : { home: v }) }));
    const e = list.find((x) => [x.room, x.key, x.room_key, x.alias, x.name].includes(roomKey));
    if (!e) return null;
    return { node: e.home ?? e.node ?? e.node_id, epoch: Number(e.epoch) };
  }

  /** The lease as Redis holds it (contract: pl:room:<key> = "<node_id> <epoch>"), or null. */
  async leaseOf(roomKey) {
    const v = await this.redis.command('GET', `pl:room:${roomKey}`);
    if (v === null) return null;
    const [node, epoch] = v.split(' ');
    return { node, epoch: Number(epoch) };
  }

  /** Ids in pl:nodes whose pl:node:<id> hash exists (live members). */
  async members() {
    const ids = await this.redis.command('SMEMBERS', 'pl:nodes');
    const out = [];
    for (const id of ids) if (await this.redis.command('EXISTS', `pl:node:${id}`)) out.push(id);
    return out.sort();
  }

  /** The node hash pl:node:<id> as an object (empty when gone). */
  async nodeHash(id) {
    const a = await this.redis.command('HGETALL', `pl:node:${id}`);
    const o = {};
    for (let i = 0; i + 1 < a.length; i += 2) o[a[i]] = a[i + 1];
    return o;
  }

  /** Until every live node is a member and nothing dead is. */
  async waitMembers({ timeout = 10000 } = {}) {
    const want = this.alive.map((n) => n.nodeId).sort();
    return waitUntil(async () => {
      const m = await this.members();
      return JSON.stringify(m) === JSON.stringify(want) ? m : false;
    }, { timeout, interval: 100, what: `cluster members to be ${want.join(',')}` });
  }

  /** Until every live node applied the configuration version the management node published
   * (contract: pl:config version; metric parley_cluster_config_version). Returns it. */
  async waitConfig({ timeout = 5000 } = {}) {
    const v = await waitUntil(async () => Number(await this.redis.command('HGET', 'pl:config', 'version')) || false,
      { timeout, interval: 50, what: 'pl:config version published by the management node' });
    await waitUntil(async () => {
      for (const n of this.alive) {
        if (n.management) continue;
        const m = await n.metricsOrNull();
        if (!m || !(m.parley_cluster_config_version >= v)) return false;
      }
      return true;
    }, { timeout, interval: 50, what: `every node on configuration version ${v}` });
    return v;
  }

  /** Stops every live node cleanly (asserting clean exits), then Redis; removes the dirs. */
  async stop() {
    const errors = [];
    for (const n of this.nodes) {
      if (!n.alive) {
        if (!process.env.PARLEY_KEEP_DATA) rmSync(n.dataDir, { recursive: true, force: true });
        continue;
      }
      try { await n.stop(); } catch (e) { errors.push(`${n.nodeId}: ${e.message}`); }
    }
    if (this.redis) await this.redis.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
    assert.deepEqual(errors, [], 'every node stops cleanly');
  }

  /** kill -9 everything (after a failure). */
  async destroy() {
    for (const n of this.nodes) await n.kill9().catch(() => {});
    if (this.redis) await this.redis.cleanup();
    for (const n of this.nodes) rmSync(n.dataDir, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts redis-server and `nodes` parleyd nodes n1..nN on loopback. Node 1 is --management and
 * gets `rooms` (helpers.mjs roomArgs forms) in its store before it starts; seedAll puts them in
 * every node's store (a node that knew them before Redis). args: extra flags for every node;
 * nodeArgs(i): extra flags for node i (0-based). web: serve the web app (--web-dir).
 * Waits until every node is a member and (when rooms were given and wait !== false) on the
 * management node's configuration version. clustered: false starts the same nodes without
 * the cluster flags (and no Redis): the single-node baseline benches compare against.
 * region: a string for every node, or region(i) per node (0-based).
 */
export async function startCluster({ nodes = 3, rooms = [], seedAll = false, args = [], nodeArgs = () => [],
  web = false, region = 'default', redis, wait = true, clustered = true } = {}) {
  const c = new Cluster();
  try {
    if (clustered) c.redis = redis ?? await RedisServer.start();
    const ports = await freePorts(nodes);
    for (let i = 0; i < nodes; i++) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-node-'));
      if (i === 0 || seedAll) {
        for (const room of rooms) {
          const a = roomArgs(room);
          const r = await parleyctl(dir, a);
          assert.equal(r.code, 0, `parleyctl ${a.join(' ')}: ${r.stderr}`);
        }
      }
      const nodeId = `n${i + 1}`;
      const a = [...(clustered ? ['--cluster', c.redis.url, '--node-id', nodeId,
        '--region', typeof region === 'function' ? region(i) : region,
        '--node-url', `http://127.0.0.1:${ports[i]}`, '--cluster-secret-file', c.secretFile,
        ...(i === 0 ? ['--management'] : [])] : []), ...(web ? ['--web-dir', WEB_DIR] : []),
        ...args, ...nodeArgs(i)];
      c.nodes.push(new ClusterNode(dir, a, { nodeId, httpPort: ports[i], management: i === 0 }));
    }
    await c.nodes[0].start();
    await Promise.all(c.nodes.slice(1).map((n) => n.start()));
    if (wait && clustered) {
      await c.waitMembers();
      if (rooms.length) await c.waitConfig();
    }
    return c;
  } catch (e) {
    await c.destroy();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// nginx as a load balancer

/**
 * nginx on loopback with one front port per entry of `fronts`; each entry is a list of node
 * HTTP ports, the first the primary and the rest `backup` servers: what a load balancer with
 * health-checked upstreams does when a node dies (connect refused -> the next server).
 * Event streams are not buffered. Resolves {ports, stop()}.
 */
export async function startBalancer(fronts) {
  assert.ok(NGINX, 'nginx is not installed');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-lb-'));
  chmodSync(dir, 0o755);
  const ports = await freePorts(fronts.length);
  const blocks = fronts.map((servers, i) => `
  upstream front${i} {
${servers.map((p, k) => `    server 127.0.0.1:${p}${k ? ' backup' : ''} max_fails=1 fail_timeout=30s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${ports[i]};
    location / {
      proxy_pass http://front${i};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_cache off;
      proxy_connect_timeout 1s;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
    }
  }`).join('\n');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n');
  writeFileSync(`${dir}/nginx.conf`, `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
${temp}
${blocks}
}
`);
  const child = spawn(NGINX, ['-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.unref();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  child.stderr.unref?.();
  const exited = new Promise((r) => child.on('exit', () => { children.delete(child); r(true); }));
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const ok = await Promise.all(ports.map((p) => new Promise((resolve) => {
      const s = net.connect(p, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    })));
    return ok.every(Boolean);
  }, { timeout: 10000, what: 'nginx listening' });
  return {
    ports,
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    async stop() {
      child.kill('SIGQUIT');
      if (!(await withTimeout(exited, 5000, false))) { child.kill('SIGKILL'); await withTimeout(exited, 5000); }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Node-at-a-time helpers (written by helper "core" for cluster_membership.test.mjs): a
// redis-server as a plain object, one shared secret per test process, startNode/kill9.

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
