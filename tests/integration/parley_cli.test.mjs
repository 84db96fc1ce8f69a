// The parley CLI (tools/parley.c) against real parleyd nodes found through a real DNS server:
// dnsmasq, started here on a loopback port, publishes _pexapp._tcp.example.test with two targets
// of different priorities (each a parleyd's HTTP port). The CLI joins through the first, and
// through the second when the first is down; it joins, chats (a participant of the test sees
// it), locks (the next guest waits, a one-shot run refuses), mutes guests, disconnects one,
// and leaves (release_token: gone from the roster) on quit, SIGTERM and stdin EOF. Every
// failure exits non-zero with its one-line message; --json lines parse. HTTPS is verified by
// default (a third, TLS node under secure.test).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startDaemon, parleyctl, T, SLOW, HOST_PIN, BIN_DIR, SANITIZER_ENV, waitUntil, sleep, withTimeout,
} from './helpers.mjs';

const PARLEY = path.join(BIN_DIR, 'parley');
const DNSMASQ = '/usr/sbin/dnsmasq';
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer'];
const ROOM = 'cli-room';

let A, B, S; // node1 (priority 10), node2 (priority 20), the TLS node
let dns; // {child, port}
let dir;
let closedPorts;
let hang, busy; // a TCP server that never answers, an HTTP server that answers 503

/** A UDP port nobody uses right now (dnsmasq binds it next). */
function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** A TCP port with nothing listening on it (connections are refused). */
function closedTcpPort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function startDnsmasq(records) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    const args = ['--no-daemon', '--port', String(port), '--listen-address', '127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', '--local=/test/', '--log-queries', ...records];
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d) => { log += d; });
    child.stdout.on('data', (d) => { log += d; });
    const exited = new Promise((r) => child.on('exit', (code) => r(code)));
    // dnsmasq answers once it has read its records; wait for that, or its early exit (port taken).
    const up = await withTimeout(Promise.race([
      waitUntil(() => /started, version/.test(log), { timeout: 5000, what: 'dnsmasq start' }).then(() => true),
      exited.then(() => false),
    ]), 6000 * SLOW, false);
    if (up) return { child, port, exited, log: () => log };
    child.kill('SIGKILL');
  }
  throw new Error('dnsmasq did not start');
}

/** Runs parley to its end; resolves {code, stdout, stderr, lines (parsed JSON when --json)}. */
function runCli(args, { timeout = 20000, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(PARLEY, args, { env: { ...process.env, ...SANITIZER_ENV }, timeout: timeout * SLOW },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        for (const m of SANITIZER_MARKERS) assert.ok(!stderr.includes(m), `sanitizer report from parley ${args.join(' ')}:\n${stderr}`);
        resolve({ code, stdout, stderr, signal: err?.signal ?? null });
      });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

const dnsArgs = () => ['--dns-server', `127.0.0.1:${dns.port}`];
const plain = () => [...dnsArgs(), '--http'];
const jsonLines = (out) => out.split('\n').filter(Boolean).map((l) => {
  try { return JSON.parse(l); } catch { assert.fail(`--json line does not parse: ${l}`); }
  return undefined;
});

/** An interactive `parley join`: JSON lines as they come, commands written to its stdin. */
class Cli {
  constructor(args) {
    this.lines = [];
    this.stderr = '';
    this.waiters = [];
    this.child = spawn(PARLEY, args, { env: { ...process.env, ...SANITIZER_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!l) continue;
        let o;
        try { o = JSON.parse(l); } catch { assert.fail(`--json line does not parse: ${l}`); }
        this.lines.push(o);
        this.check();
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => { this.exit = { code, signal }; this.check(); r(this.exit); }));
  }

  check() {
    for (const w of [...this.waiters]) {
      const o = this.lines.slice(w.since).find(w.pred);
      if (o || this.exit) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        if (o) w.resolve(o);
        else w.reject(new Error(`parley exited (${JSON.stringify(this.exit)}) before ${w.what}; stderr: ${this.stderr}\nlines: ${JSON.stringify(this.lines.slice(w.since))}`));
      }
    }
  }

  mark() { return this.lines.length; }

  waitFor(pred, what, since = 0, timeout = 8000) {
    return new Promise((resolve, reject) => {
      const w = { pred, what, since, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr}\nlines: ${JSON.stringify(this.lines.slice(since)).slice(0, 3000)}`));
      }, timeout * SLOW);
      this.waiters.push(w);
      this.check();
    });
  }

  /** Writes a command line and waits for its result (or error) line. */
  async run(line, command = line.split(' ')[0]) {
    const m = this.mark();
    this.child.stdin.write(`${line}\n`);
    return this.waitFor((o) => (o.type === 'result' || o.type === 'error') && o.command === command, `result of ${line}`, m);
  }

  async end() {
    const e = await withTimeout(this.exited, 10000 * SLOW, null);
    if (!e) this.child.kill('SIGKILL');
    for (const m of SANITIZER_MARKERS) assert.ok(!this.stderr.includes(m), `sanitizer report from parley:\n${this.stderr}`);
    return e;
  }
}

/** The participants of ROOM on daemon d, as seen by a fresh host (who leaves again). */
async function rosterOn(d) {
  const H = await d.join(ROOM, { name: 'Roster Reader', pin: HOST_PIN });
  const list = await H.participants();
  await H.release();
  return list.filter((p) => p.uuid !== H.uuid);
}

before(async () => {
  assert.ok(existsSync(PARLEY), `parley not found at ${PARLEY} (set PARLEY_BIN_DIR)`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'parley-it-cli-'));
  const rooms = [
    { alias: ROOM, pin: HOST_PIN, allowGuests: true },
    { alias: 'cli-pinned', pin: HOST_PIN, guestPin: '5678', allowGuests: true },
  ];
  // A short token lifetime: a session lasting longer proves the CLI refreshes its token.
  A = await startDaemon({ rooms, args: ['--token-lifetime', '3'] });
  B = await startDaemon({ rooms, args: ['--pin-attempts', '2'] });
  const cert = path.join(dir, 'node3.crt'), key = path.join(dir, 'node3.key');
  const r = await parleyctl(dir, ['tls', 'self-signed', '--name', 'node3.secure.test', '--out-cert', cert, '--out-key', key, '--days', '2']);
  assert.equal(r.code, 0, r.stderr);
  S = await startDaemon({ rooms, args: ['--tls-cert', cert, '--tls-key', key] });
  closedPorts = [await closedTcpPort(), await closedTcpPort()];
  const held = [];
  hang = net.createServer((sock) => held.push(sock));
  hang.held = held;
  busy = http.createServer((req, res) => {
    busy.hits = (busy.hits ?? 0) + 1;
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'failed', result: 'Out of resource' }));
  });
  for (const srv of [hang, busy]) await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  dns = await startDnsmasq([
    `--srv-host=_pexapp._tcp.example.test,node1.example.test,${A.port},10,5`,
    `--srv-host=_pexapp._tcp.example.test,node2.example.test,${B.port},20,5`,
    '--host-record=node1.example.test,127.0.0.1',
    '--host-record=node2.example.test,127.0.0.1',
    `--srv-host=_pexapp._tcp.dead.test,n1.dead.test,${closedPorts[0]},10,5`,
    `--srv-host=_pexapp._tcp.dead.test,n2.dead.test,${closedPorts[1]},20,5`,
    '--host-record=n1.dead.test,127.0.0.1',
    '--host-record=n2.dead.test,127.0.0.1',
    `--srv-host=_pexapp._tcp.secure.test,node3.secure.test,${S.port},10,5`,
    '--host-record=node3.secure.test,127.0.0.1',
    '--host-record=aonly.test,127.0.0.1',
    `--srv-host=_pexapp._tcp.slow.test,hang.slow.test,${hang.address().port},10,5`,
    `--srv-host=_pexapp._tcp.slow.test,node2.example.test,${B.port},20,5`,
    '--host-record=hang.slow.test,127.0.0.1',
    `--srv-host=_pexapp._tcp.busy.test,busy.busy.test,${busy.address().port},10,5`,
    `--srv-host=_pexapp._tcp.busy.test,node2.example.test,${B.port},20,5`,
    '--host-record=busy.busy.test,127.0.0.1',
  ]);
  writeFileSync(path.join(dir, 'ca.pem'), readFileSync(cert));
});

after(async () => {
  dns?.child.kill('SIGTERM');
  for (const sock of hang?.held ?? []) sock.destroy();
  hang?.close();
  busy?.close();
  await A?.stop();
  await B?.stop();
  await S?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('parley CLI', () => {
  test('--help and usage errors', T(), async () => {
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /parley COMMAND ALIAS@DOMAIN/);
    assert.match(h.stdout, /--dns-server/);
    for (const args of [[], ['join'], ['frobnicate', 'a@b'], ['join', 'no-at-sign'], ['chat', 'a@b'], ['join', 'a@b', '--bogus']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `parley ${args.join(' ')} should be a usage error: ${r.stderr}`);
      assert.ok(r.stderr.trim().length > 0, 'a message on stderr');
    }
  });

  test('one-shot roster through SRV joins the priority-10 target and releases its token', T(), async () => {
    const r = await runCli(['roster', `${ROOM}@example.test`, '--pin', HOST_PIN, '--name', 'Roster Bot', '--json', ...plain()]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const joined = lines.find((o) => o.type === 'joined');
    assert.equal(joined.target, `node1.example.test:${A.port}`);
    assert.equal(joined.targets_tried, 1);
    assert.ok(joined.elapsed_ms > 0 && joined.elapsed_ms < 10000 * SLOW, `elapsed_ms ${joined.elapsed_ms}`);
    assert.equal(joined.role, 'HOST');
    const roster = lines.find((o) => o.type === 'roster');
    assert.ok(roster.participants.some((p) => p.uuid === joined.participant_uuid && p.display_name === 'Roster Bot'));
    assert.ok(dns.log().includes('query[SRV] _pexapp._tcp.example.test'), 'the SRV query went to dnsmasq');
    assert.deepEqual((await rosterOn(A)).filter((p) => p.display_name === 'Roster Bot'), [], 'release_token: gone from the roster');
  });

  test('interactive join: roster, chat both ways, lock, mute guests, disconnect, quit', T(60000), async () => {
    const H = await A.join(ROOM, { name: 'Hedda Host', pin: HOST_PIN });
    const hs = await H.events();
    await hs.synced();
    const G = await A.join(ROOM, { name: 'Gus Guest', pin: 'none' });
    const gs = await G.events();
    await gs.synced();
    // node1 issues 3 s tokens: the test's own participants refresh theirs too.
    const keep = [H.keepAlive(1000), G.keepAlive(1000)];

    const cli = new Cli(['join', `${ROOM}@example.test`, '--pin', HOST_PIN, '--name', 'Cli Carla', '--json', ...plain()]);
    const joined = await cli.waitFor((o) => o.type === 'joined', 'joined');
    assert.equal(joined.target, `node1.example.test:${A.port}`);
    const roster = await cli.waitFor((o) => o.type === 'roster', 'the roster');
    const names = roster.participants.map((p) => p.display_name).sort();
    assert.deepEqual(names, ['Cli Carla', 'Gus Guest', 'Hedda Host']);
    await hs.waitFor('participant_create', (p) => p.uuid === joined.participant_uuid && p.display_name === 'Cli Carla');

    // Chat: the host's stream sees the CLI's message; the CLI prints the guest's.
    assert.equal((await cli.run('chat hello from the terminal')).ok, true);
    const msg = await hs.waitFor('message_received', (m) => m.payload === 'hello from the terminal');
    assert.equal(msg.data.origin, 'Cli Carla');
    assert.equal(msg.data.uuid, joined.participant_uuid);
    await G.do('message', { type: 'text/plain', payload: 'hi Carla' });
    const chat = await cli.waitFor((o) => o.type === 'chat' && o.payload === 'hi Carla', 'the guest\'s chat');
    assert.equal(chat.origin, 'Gus Guest');

    // Lock: the next guest waits, as the server holds it; a one-shot guest run refuses.
    const ml = hs.mark();
    assert.equal((await cli.run('lock')).ok, true);
    await hs.waitFor('conference_update', (c) => c.locked === true, { since: ml });
    await cli.waitFor((o) => o.type === 'conference' && o.locked === true, 'conference locked');
    const W = await A.join(ROOM, { name: 'Wanda Waiting', pin: 'none' });
    assert.equal(W.result.current_service_type, 'waiting_room');
    await cli.waitFor((o) => o.type === 'participant_joined' && o.participant.display_name === 'Wanda Waiting' &&
      o.participant.service_type === 'waiting_room', 'the waiting guest');
    // A CLI guest joining now is held too: it says it waits, and is let in by the unlock.
    const guestCli = new Cli(['join', `${ROOM}@example.test`, '--name', 'Cli Guest', '--json', ...plain()]);
    const gj = await guestCli.waitFor((o) => o.type === 'joined', 'the guest CLI joined');
    assert.equal(gj.role, 'GUEST');
    assert.equal(gj.service_type, 'waiting_room');
    await guestCli.waitFor((o) => o.type === 'waiting', 'the guest CLI waiting');
    const locked = await runCli(['chat', `${ROOM}@example.test`, 'let me in', ...plain()]);
    assert.equal(locked.code, 5, locked.stderr);
    assert.match(locked.stderr, /^parley: conference cli-room is locked/);
    assert.equal(locked.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal((await cli.run('unlock')).ok, true);
    await cli.waitFor((o) => o.type === 'participant_updated' && o.participant.display_name === 'Wanda Waiting' &&
      o.participant.service_type === 'conference', 'the waiting guest let in');
    await W.release();
    await guestCli.waitFor((o) => o.type === 'admitted', 'the guest CLI admitted');
    guestCli.child.stdin.end();
    assert.deepEqual(await guestCli.end(), { code: 0, signal: null }, guestCli.stderr);

    // The session outlives the 3 s token lifetime: refresh_token runs on its timer.
    await sleep(4000);
    assert.equal(cli.exit, undefined, `parley still running: ${cli.stderr}`);

    // Mute guests: the guest is muted, the host is not.
    const mm = hs.mark();
    assert.equal((await cli.run('mute-guests')).ok, true);
    await hs.waitFor('participant_update', (p) => p.uuid === G.uuid && p.is_muted === 'YES', { since: mm });
    await cli.waitFor((o) => o.type === 'participant_updated' && o.participant.uuid === G.uuid &&
      o.participant.is_muted === 'YES' && o.changed.includes('is_muted'), 'the guest muted');
    assert.equal((await cli.run('unmute-guests')).ok, true);

    // Roster on demand; disconnect by name (and a name nobody has).
    const m2 = cli.mark();
    cli.child.stdin.write('roster\n');
    const r2 = await cli.waitFor((o) => o.type === 'roster', 'roster command', m2);
    assert.ok(r2.participants.some((p) => p.uuid === G.uuid));
    const nobody = await cli.run('disconnect Nobody Here', 'disconnect');
    assert.equal(nobody.type, 'error');
    assert.match(nobody.message, /no participant "Nobody Here"/);
    assert.equal((await cli.run('disconnect Gus Guest')).ok, true);
    await gs.waitFor('disconnect');
    await cli.waitFor((o) => o.type === 'participant_left' && o.participant.uuid === G.uuid, 'the guest gone');
    const unknown = await cli.run('frob', 'frob');
    assert.equal(unknown.type, 'error');

    // quit releases the token: the host sees the CLI participant leave.
    const mq = hs.mark();
    cli.child.stdin.write('quit\n');
    const e = await cli.end();
    assert.deepEqual(e, { code: 0, signal: null }, cli.stderr);
    await hs.waitFor('participant_delete', (p) => p.uuid === joined.participant_uuid, { since: mq });
    for (const k of keep) await k.stop();
    await H.release();
  });

  test('SIGTERM and stdin EOF both release the token', T(30000), async () => {
    const H = await A.join(ROOM, { name: 'Host Watch', pin: HOST_PIN });
    const hs = await H.events();
    await hs.synced();
    for (const how of ['SIGTERM', 'EOF', 'SIGINT']) {
      const cli = new Cli(['join', `${ROOM}@example.test`, '--pin', HOST_PIN, '--name', `Leaver ${how}`, '--json', ...plain()]);
      const joined = await cli.waitFor((o) => o.type === 'joined', 'joined');
      await cli.waitFor((o) => o.type === 'roster', 'roster');
      const m = hs.mark();
      if (how === 'EOF') cli.child.stdin.end();
      else cli.child.kill(how);
      const e = await cli.end();
      assert.deepEqual(e, { code: 0, signal: null }, `${how}: ${cli.stderr}`);
      await hs.waitFor('participant_delete', (p) => p.uuid === joined.participant_uuid, { since: m });
    }
    await H.release();
  });

  test('a script on stdin: commands wait for the roster, the token waits for the commands', T(30000), async () => {
    const H = await A.join(ROOM, { name: 'Script Host', pin: HOST_PIN });
    const hs = await H.events();
    await hs.synced();
    const keep = H.keepAlive(1000);
    const V = await A.join(ROOM, { name: 'Victor Victim', pin: 'none' });
    const vs = await V.events();
    await vs.synced();
    // All of it written at once, EOF included: "disconnect NAME" needs the roster first, and
    // the chat must be sent before the token is released.
    const r = await runCli(['join', `${ROOM}@example.test`, '--pin', HOST_PIN, '--name', 'Scripted', '--json', ...plain()],
      { input: 'disconnect Victor Victim\nchat scripted hello\n' });
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    assert.deepEqual(lines.filter((o) => o.type === 'result').map((o) => o.command), ['disconnect', 'chat']);
    await vs.waitFor('disconnect');
    const m = await hs.waitFor('message_received', (x) => x.payload === 'scripted hello');
    const del = await hs.waitFor('participant_delete', (p) => p.uuid === lines[0].participant_uuid);
    assert.ok(del.index > m.index, 'released after the chat went out');
    await keep.stop();
    await H.release();
  });

  test('human output: joined line, roster, chat', T(), async () => {
    const H = await A.join(ROOM, { name: 'Human Host', pin: HOST_PIN });
    const r = await runCli(['roster', `${ROOM}@example.test`, '--pin', HOST_PIN, '--name', 'Reader', ...plain()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^joined cli-room via node1\\.example\\.test:${A.port} as Reader \\(host\\)$`, 'm'));
    assert.match(r.stdout, /^roster: \d+ participants$/m);
    assert.match(r.stdout, /^ {2}Human Host \(host\) [0-9a-f-]{36}$/m);
    const c = await runCli(['chat', `${ROOM}@example.test`, 'one shot', ...plain()]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^ok: chat$/m);
    await H.release();
  });

  test('failures exit non-zero with one line each', T(40000), async () => {
    const cases = [
      [['roster', `${ROOM}@example.test`, '--pin', '9999', ...plain()], 5, /^parley: wrong PIN for cli-room/],
      [['roster', `no-such-room@example.test`, ...plain()], 5, /^parley: conference no-such-room not found/],
      [['roster', `cli-pinned@example.test`, ...plain()], 5, /^parley: cli-pinned needs a PIN/],
      [['lock', `${ROOM}@example.test`, '--pin', 'none', ...plain()], 5, /^parley: lock failed: HTTP 403/],
      [['roster', `${ROOM}@nothing.test`, ...plain()], 3, /^parley: no SRV record for _pexapp\._tcp\.nothing\.test and no A\/AAAA record for nothing\.test\n$/],
      [['roster', `${ROOM}@dead.test`, ...plain()], 4, new RegExp(`^parley: dead\\.test: 2 targets tried, none answered: n1\\.dead\\.test:${closedPorts[0]} \\(.*\\); n2\\.dead\\.test:${closedPorts[1]} \\(`)],
      [['roster', `${ROOM}@example.test`, '--dns-server', 'not-an-ip'], 2, /^parley: bad DNS server/],
      // HTTPS is verified by default: a self-signed node is refused without its CA.
      [['roster', `${ROOM}@secure.test`, ...dnsArgs()], 4, /^parley: secure\.test: 1 target tried, none answered: node3\.secure\.test:\d+ \(.*certificate/i],
    ];
    for (const [args, code, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, code, `parley ${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, re, `parley ${args.join(' ')}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    // Past node2's 2 wrong PINs a minute, the token is refused whatever the PIN.
    const direct = `cli-pinned@127.0.0.1:${B.port}`;
    for (const pin of ['1111', '2222']) {
      const w = await runCli(['roster', direct, '--pin', pin, '--http']);
      assert.equal(w.code, 5, w.stderr);
      assert.match(w.stderr, /^parley: wrong PIN for cli-pinned/);
    }
    const refused = await runCli(['roster', direct, '--pin', HOST_PIN, '--http']);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /^parley: 127\.0\.0\.1:\d+ refused the token \(HTTP 403\): Participant exceeded PIN entry retries\n$/);
    // --json adds the same message as a JSON line on stdout.
    const j = await runCli(['roster', `${ROOM}@nothing.test`, '--json', ...plain()]);
    assert.equal(j.code, 3);
    assert.deepEqual(jsonLines(j.stdout).map((o) => [o.type, o.fatal]), [['error', true]]);
  });

  test('HTTPS: --ca-file verifies the node, --insecure skips it', T(), async () => {
    const v = await runCli(['roster', `${ROOM}@secure.test`, '--pin', HOST_PIN, '--json', '--ca-file', path.join(dir, 'ca.pem'), ...dnsArgs()]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(jsonLines(v.stdout)[0].target, `node3.secure.test:${S.port}`);
    const i = await runCli(['roster', `${ROOM}@secure.test`, '--insecure', ...dnsArgs()]);
    assert.equal(i.code, 0, i.stderr);
    // A session over HTTPS (curl may multiplex the event stream and the calls over HTTP/2).
    const cli = new Cli(['join', `${ROOM}@secure.test`, '--pin', HOST_PIN, '--name', 'TLS Tess', '--json',
      '--ca-file', path.join(dir, 'ca.pem'), ...dnsArgs()]);
    await cli.waitFor((o) => o.type === 'roster' && o.participants.some((p) => p.display_name === 'TLS Tess'), 'roster over TLS');
    assert.equal((await cli.run('lock')).ok, true);
    await cli.waitFor((o) => o.type === 'conference' && o.locked === true, 'locked over TLS');
    assert.equal((await cli.run('unlock')).ok, true);
    cli.child.stdin.write('quit\n');
    assert.deepEqual(await cli.end(), { code: 0, signal: null }, cli.stderr);
  });

  test('no SRV records: the domain\'s own address on the fallback port; HOST:PORT directly', T(), async () => {
    const r = await runCli(['roster', `${ROOM}@aonly.test`, '--port', String(A.port), '--json', ...plain()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonLines(r.stdout)[0].target, `aonly.test:${A.port}`);
    // Without --port that is 443, where nothing listens here.
    const f = await runCli(['roster', `${ROOM}@aonly.test`, ...plain()]);
    assert.equal(f.code, 4, f.stderr);
    assert.match(f.stderr, /aonly\.test:443 \(/);
    const d = await runCli(['roster', `${ROOM}@127.0.0.1:${B.port}`, '--json', '--http']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(jsonLines(d.stdout)[0].target, `127.0.0.1:${B.port}`);
  });

  test('a target that never answers (timeout) or answers 503 is skipped for the next', T(30000), async () => {
    const t0 = Date.now();
    const slow = await runCli(['roster', `${ROOM}@slow.test`, '--timeout', '1', '--json', ...plain()]);
    assert.equal(slow.code, 0, slow.stderr);
    const sj = jsonLines(slow.stdout)[0];
    assert.equal(sj.target, `node2.example.test:${B.port}`);
    assert.equal(sj.targets_tried, 2);
    assert.ok(sj.elapsed_ms >= 900, `waited for the timeout: ${sj.elapsed_ms} ms`);
    assert.ok(Date.now() - t0 < 10000 * SLOW);
    const b = await runCli(['roster', `${ROOM}@busy.test`, '--json', ...plain()]);
    assert.equal(b.code, 0, b.stderr);
    const bj = jsonLines(b.stdout)[0];
    assert.equal(bj.target, `node2.example.test:${B.port}`);
    assert.equal(bj.targets_tried, 2);
    assert.ok(busy.hits >= 1, 'the 503 target was asked first');
    // With only the hanging target, the failure names the timeout.
    const only = await runCli(['roster', `${ROOM}@hang.slow.test:${hang.address().port}`, '--timeout', '0.5', ...plain()]);
    assert.equal(only.code, 4, only.stderr);
    assert.match(only.stderr, /timed out/i);
  });

  // Last: it stops node1.
  test('the priority-20 target takes over when the priority-10 one is down', T(30000), async () => {
    await A.stop();
    A = undefined;
    const r = await runCli(['chat', `${ROOM}@example.test`, 'via node2', '--json', ...plain()]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    assert.equal(lines[0].type, 'joined');
    assert.equal(lines[0].target, `node2.example.test:${B.port}`);
    assert.equal(lines[0].targets_tried, 2, 'node1 was tried first');
    assert.deepEqual(lines[1], { type: 'result', command: 'chat', ok: true });
    // The session on node2 works as on node1: join, a host there sees it, leave.
    const H = await B.join(ROOM, { name: 'B Host', pin: HOST_PIN });
    const hs = await H.events();
    await hs.synced();
    const cli = new Cli(['join', `${ROOM}@example.test`, '--pin', HOST_PIN, '--name', 'On Node2', '--json', ...plain()]);
    const joined = await cli.waitFor((o) => o.type === 'joined', 'joined');
    assert.equal(joined.target, `node2.example.test:${B.port}`);
    await hs.waitFor('participant_create', (p) => p.uuid === joined.participant_uuid);
    cli.child.stdin.end();
    assert.deepEqual(await cli.end(), { code: 0, signal: null });
    await hs.waitFor('participant_delete', (p) => p.uuid === joined.participant_uuid);
    await H.release();
  });
});
