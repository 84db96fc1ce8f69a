// netns.mjs — test hosts on a real network path: two network namespaces of the test's
// own, joined by a veth pair with addresses it picks (IPv4 and IPv6), parleyd started in
// one, Chromium in the other, nftables rules in either; everything removed by close().
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, CHROMIUM_FLAGS } from './helpers.mjs';

const BIN = process.env.PARLEY_BIN_DIR || join(ROOT, 'build');
let made = 0;

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/* Root can make namespaces here; elsewhere the tests that need them are skipped. */
export function canMakeNamespaces() {
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/* Two namespaces "<tag>a" (the server side) and "<tag>b" (the client side), linked by a
 * veth pair on 10.<k>.<j>.0/24 and fd00:<k>:<j+1>::/64 (never a zero group, so the text
 * is canonical as parleyd prints it); k and j differ per process and call so parallel
 * test files never share a subnet. */
export function makeNet() {
  const k = 100 + (process.pid % 100), j = made++ % 250;
  const tag = `pl${process.pid % 100000}n${j}`;
  const side = (s, host) => ({ ns: `${tag}${s}`, dev: `${tag}${s}v`.slice(-15),
    addr: `10.${k}.${j}.${host}`, addr6: `fd00:${k}:${j + 1}::${host}` });
  const a = side('a', 1), b = side('b', 2);
  const net = { a, b, closed: false };
  net.close = () => {
    if (net.closed) return;
    net.closed = true;
    for (const s of [a, b]) try { ip('netns', 'del', s.ns); } catch { /* already gone */ }
  };
  try {
    for (const s of [a, b]) ip('netns', 'add', s.ns);
    ip('link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev);
    for (const s of [a, b]) {
      ip('link', 'set', s.dev, 'netns', s.ns);
      const inNs = (...args) => ip('-n', s.ns, ...args);
      inNs('link', 'set', 'lo', 'up');
      inNs('addr', 'add', `${s.addr}/24`, 'dev', s.dev);
      inNs('-6', 'addr', 'add', `${s.addr6}/64`, 'dev', s.dev, 'nodad');
      inNs('link', 'set', s.dev, 'up');
    }
  } catch (e) {
    net.close();
    throw e;
  }
  return net;
}

/* Loads an nftables ruleset (nft -f syntax) into a namespace. */
export function nft(ns, rules) {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules });
}

/* A launcher Playwright can start as its browser: Chromium inside ns. Playwright talks
 * to it over a pipe (--remote-debugging-pipe), which crosses namespaces; a DevTools
 * port would be on the namespace's own loopback, out of the test's reach. */
export function chromiumIn(ns) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-netns-'));
  const path = join(dir, 'chromium');
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${ns} /usr/bin/chromium "$@"\n`);
  chmodSync(path, 0o755);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/* Chromium in the launcher's namespace, treating base (plain http on a namespace
 * address) as a secure origin: a page from another host over http gets no camera
 * otherwise. These tests are about the network path; https.test.mjs covers TLS. */
export async function launchChromiumIn(launcher, base) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: launcher.path,
    args: [...CHROMIUM_FLAGS, `--unsafely-treat-insecure-origin-as-secure=${base}`] });
}

/* SIGTERM: parleyd must exit 0 and without a sanitizer report. */
export async function stopDaemonIn(d) {
  const exited = new Promise((r) => d.proc.on('exit', (code) => r(code)));
  d.proc.kill('SIGTERM');
  assert.equal(await exited, 0, `parleyd exited badly\n${d.log().slice(-2000)}`);
  assert.doesNotMatch(d.log(), /AddressSanitizer|runtime error:|LeakSanitizer/);
  rmSync(d.dir, { recursive: true, force: true });
}

/* parleyd inside ns with --http http (e.g. "0.0.0.0:0"): returns what the start line
 * says, like helpers.startDaemon. rooms: parleyctl "room add" argument lists. */
export async function startDaemonIn(ns, http, rooms, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-netns-data-'));
  for (const room of rooms)
    execFileSync(join(BIN, 'parleyctl'), ['--data-dir', dir, 'room', 'add', ...room]);
  const proc = spawn('ip', ['netns', 'exec', ns, join(BIN, 'parleyd'), '--data-dir', dir,
    '--http', http, '--media-port', '0', '--web-dir', join(ROOT, 'web'), ...extra],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const ready = /listening on https?:\/\/(\S+):(\d+) media udp (\S+):(\d+)/;
  const deadline = Date.now() + 10000;
  while (!ready.test(log) && Date.now() < deadline && proc.exitCode === null)
    await new Promise((r) => setTimeout(r, 50));
  const m = log.match(ready);
  assert.ok(m, `parleyd did not start in ${ns}:\n${log}`);
  return { proc, dir, httpPort: Number(m[2]), udp: Number(m[4]), log: () => log };
}
