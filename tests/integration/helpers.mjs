// Shared harness for Parley's integration tests (node --test).
//
// - startDaemon(): creates a temp data dir, creates rooms with parleyctl, starts parleyd on a free
//   port (parsed from "listening on http://127.0.0.1:PORT" on stderr) and returns a Daemon.
// - Daemon#api(): one HTTP request to /api/client/v2/conferences/<alias>/<path>. Every JSON
//   response is checked: Content-Type application/json, envelope shape, and the JSON-Schema
//   validator that @pexip/infinity-api@20.0.0 uses for that endpoint and status (strict: keys the
//   package's validators would silently strip count as failures).
// - SseClient: raw HTTP SSE reader that records every event (name, data, id), comment lines and
//   protocol violations (missing id, non-JSON data, unnamed events).
// - Daemon#stop(): SIGTERM, then asserts exit code 0, no sanitizer report on stderr and no SSE
//   protocol violation on any stream opened through that daemon.
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TESTS_DIR = path.resolve(HERE, '..');
export const REPO = path.resolve(HERE, '../..');
export const BIN_DIR = path.resolve(process.env.PARLEY_BIN_DIR || path.join(REPO, 'build'));
export const PARLEYD = path.join(BIN_DIR, 'parleyd');
export const PARLEYCTL = path.join(BIN_DIR, 'parleyctl');
export const CACHE_DIR = path.join(HERE, '.cache');
export const API = '/api/client/v2/conferences';

/** True when the daemon binary was built with AddressSanitizer (RSS numbers are meaningless then). */
export const IS_SANITIZED = (() => {
  try {
    const bin = readFileSync(PARLEYD);
    // clang links the runtime statically; gcc links libasan.so dynamically.
    return ['__asan_init', 'libasan.so', 'AddressSanitizer'].some((m) => bin.includes(m));
  } catch {
    return false;
  }
})();

/**
 * Extra arguments every daemon gets: when parleyd has a fixed default UDP media port
 * (--media-port, default 40000), pass 0 so that several daemons (parallel test files) can run;
 * and since tests upload and send webhooks to a sink on loopback, which parleyd refuses by
 * default, allow private destinations (a test passes --allow-private-destinations 0 to check
 * the default).
 */
export const BASE_ARGS = (() => {
  try {
    const help = execFileSync(PARLEYD, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 });
    return [...(help.includes('--media-port') ? ['--media-port', '0'] : []),
      ...(help.includes('--allow-private-destinations') ? ['--allow-private-destinations', '1'] : [])];
  } catch {
    return [];
  }
})();

/** Slow-down factor for deadlines (sanitized builds are several times slower). */
export const SLOW = IS_SANITIZED ? 3 : 1;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the promise's value, or with `fallback` after ms; never leaves a timer behind. */
export function withTimeout(promise, ms, fallback = null) {
  let timer;
  const t = new Promise((r) => { timer = setTimeout(() => r(fallback), ms); });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** Polls fn() until it returns a truthy value or the deadline passes; returns that value. */
export async function waitUntil(fn, { timeout = 5000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout * SLOW;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout * SLOW} ms waiting for ${what}` +
        (last instanceof Error ? `: last error ${last.message}` : `: last value ${JSON.stringify(last)}`));
    }
    await sleep(interval);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON-Schema validators from @pexip/infinity-api, bundled with esbuild (the package's dist uses
// extension-less ESM imports that Node cannot load directly).

async function loadValidators() {
  mkdirSync(CACHE_DIR, { recursive: true });
  const { build } = await import('esbuild');
  const mods = ['token', 'conference', 'participant', 'call', 'breakout'];
  const contents = mods
    .map((m) => `export * as ${m} from '@pexip/infinity-api/dist/${m}/validation.js';`)
    .concat([`export * as client from '@pexip/infinity-api';`])
    .join('\n');
  const out = path.join(CACHE_DIR, `validators-${process.pid}-${Date.now()}.mjs`);
  await build({
    stdin: { contents, resolveDir: TESTS_DIR, loader: 'js', sourcefile: 'validators-entry.js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'silent',
  });
  let ns;
  try {
    ns = await import(pathToFileURL(out).href);
  } finally {
    rmSync(out, { force: true });
  }
  const flat = {};
  for (const m of mods) {
    for (const [name, fn] of Object.entries(ns[m])) {
      if (typeof fn !== 'function' || !name.startsWith('validate')) continue;
      if (flat[name] && flat[name] !== fn) throw new Error(`validator name clash: ${name}`);
      flat[name] = fn;
    }
  }
  return { flat, client: ns.client };
}

const loaded = await loadValidators();
setImmediate(() => Daemon.pruneLogs()); // once the module (and class Daemon) is evaluated
export const validators = loaded.flat;
/** The official client functions of @pexip/infinity-api (requestToken, lock, muteParticipant, withToken, …). */
export const pexip = loaded.client;

/** Lists key paths present in `orig` but missing from `stripped` (ajv removeAdditional deletes them). */
function removedKeys(orig, stripped, p = '') {
  const out = [];
  if (orig && typeof orig === 'object' && stripped && typeof stripped === 'object') {
    if (Array.isArray(orig)) {
      orig.forEach((v, i) => out.push(...removedKeys(v, stripped[i], `${p}[${i}]`)));
    } else {
      for (const k of Object.keys(orig)) {
        if (!(k in stripped)) out.push(`${p}.${k}`);
        else out.push(...removedKeys(orig[k], stripped[k], `${p}.${k}`));
      }
    }
  }
  return out;
}

/**
 * Validates `body` with the named validator from @pexip/infinity-api. Fails on schema errors and
 * on keys the schema does not allow (the package's validators strip those silently, so they are
 * detected by comparing against a pristine copy).
 */
export function assertSchema(validatorName, body, context = '') {
  const v = validators[validatorName];
  assert.ok(v, `no validator named ${validatorName} in @pexip/infinity-api`);
  const copy = structuredClone(body);
  const ok = v(copy);
  if (!ok) {
    assert.fail(`${context}${validatorName} rejected ${JSON.stringify(body)}:\n` +
      JSON.stringify(v.errors, null, 1));
  }
  const extra = removedKeys(body, copy);
  if (extra.length) {
    assert.fail(`${context}${validatorName}: keys not allowed by the schema: ${extra.join(', ')} in ` +
      JSON.stringify(body));
  }
}

/** Schema used for error envelopes the package does not model for an endpoint: strict {status:"failed", result:string}. */
export const GENERIC_FAILED = 'validateRequestToken404';

const P = '[^/]+';
// [method, regexp on the path after /conferences/<alias>/, {status: validator}] — mirrors
// @pexip/infinity-api dist/*/index.js (which validator each endpoint applies to which status).
const ROUTES = [
  ['POST', /^request_token$/, { 200: 'validateRequestToken200', 403: 'validateRequestToken403', 404: 'validateRequestToken404', 415: 'validateRequestToken415', 502: 'validateRequestToken502', 503: 'validateRequestToken503', 504: 'validateRequestToken504', 529: 'validateRequestToken529' }],
  ['POST', /^refresh_token$/, { 200: 'validateRefreshToken200', 403: 'validateRefreshToken403' }],
  ['POST', /^release_token$/, { 200: 'validateReleaseToken200', 403: 'validateReleaseToken403' }],
  ['POST', /^dial$/, { 200: 'validateDial200' }],
  ['GET', /^conference_status$/, { 200: 'validateConferenceStatus200' }],
  ['POST', /^lock$/, { 200: 'validateLock200' }],
  ['POST', /^unlock$/, { 200: 'validateUnlock200' }],
  ['POST', /^start_conference$/, { 200: 'validateStartConference200' }],
  ['POST', /^muteguests$/, { 200: 'validateMuteguests200' }],
  ['POST', /^unmuteguests$/, { 200: 'validateUnmuteguests200' }],
  ['POST', /^set_guests_can_unmute$/, { 200: 'validateSetGuestsCanUnmute200' }],
  ['POST', /^disconnect$/, { 200: 'validateDisconnect200' }],
  ['POST', /^message$/, { 200: 'validateMessageConference200' }],
  ['GET', /^participants$/, { 200: 'validateParticipants200' }],
  ['POST', /^transform_layout$/, { 200: 'validateTransformLayout200' }],
  ['POST', /^clearallbuzz$/, { 200: 'validateClearAllBuzz200' }],
  ['POST', /^silent_video_detection$/, { 200: 'validateSilentVideoDetection200' }],
  ['GET', /^theme\/$/, { 200: 'validateTheme200' }],
  ['GET', /^available_layouts$/, { 200: 'validateAvailableLayouts200' }],
  ['GET', /^layout_svgs$/, { 200: 'validateLayoutSvgs200' }],
  ['POST', /^breakoutbuzz$/, { 200: 'validateGuestBreakoutBuzz200' }],
  ['POST', /^clearbreakoutbuzz$/, { 200: 'validateGuestClearBreakoutBuzz200' }],
  ['POST', /^video_mixes\/create$/, { 200: 'validateVideoMixesCreate200' }],
  ['POST', new RegExp(`^video_mixes/${P}/configure$`), { 200: 'validateVideoMixesConfigure200' }],
  ['POST', new RegExp(`^video_mixes/${P}/delete$`), { 200: 'validateVideoMixesDelete200' }],
  ...[
    ['disconnect', 'DisconnectParticipant'], ['mute', 'MuteParticipant'], ['unmute', 'UnmuteParticipant'],
    ['client_mute', 'ClientMuteParticipant'], ['client_unmute', 'ClientUnmuteParticipant'],
    ['video_muted', 'VideoMuteParticipant'], ['video_unmuted', 'VideoUnmuteParticipant'],
    ['allowrxpresentation', 'AllowrxpresentationParticipant'], ['denyrxpresentation', 'DenyrxpresentationParticipant'],
    ['spotlighton', 'SpotlightonParticipant'], ['spotlightoff', 'SpotlightoffParticipant'],
    ['unlock', 'UnlockParticipant'], ['dtmf', 'DtmfParticipant'], ['overlaytext', 'OverlaytextParticipant'],
    ['pres_in_mix', 'PresInMixParticipant'], ['role', 'RoleParticipant'], ['fecc', 'FeccParticipant'],
    ['buzz', 'BuzzParticipant'], ['clearbuzz', 'ClearbuzzParticipant'], ['transfer', 'TransferParticipant'],
    ['message', 'MessageParticipant'], ['take_floor', 'TakeFloor'], ['release_floor', 'ReleaseFloor'],
    ['show_live_captions', 'ShowLiveCaptions'], ['hide_live_captions', 'HideLiveCaptions'],
    ['preferred_aspect_ratio', 'PreferredAspectRatio'], ['notify_not_afk', 'NotifyNotAFK'],
  ].map(([p, n]) => ['POST', new RegExp(`^participants/${P}/${p}$`), { 200: `validate${n}200`, 403: `validate${n}403` }]),
  // calls: 400/500/504 are plain text for the client; 403 JSON.
  ['POST', new RegExp(`^participants/${P}/calls$`), { 200: 'validateCallsWebrtcParticipant200', 403: 'validateCallsWebrtcParticipant403' }],
  ['GET', new RegExp(`^participants/${P}/avatar\\.jpg$`), { 403: 'validateAvatarJpgParticipant403', 404: 'validateAvatarJpgParticipant404' }],
  ...[['ack', 'Ack'], ['disconnect', 'DisconnectCall'], ['dtmf', 'Dtmf'], ['fecc', 'Fecc'],
    ['new_candidate', 'NewCandidate'], ['update', 'Update'], ['statistics', 'Statistics']]
    .map(([p, n]) => ['POST', new RegExp(`^participants/${P}/calls/${P}/${p}$`), { 200: `validate${n}200`, 403: `validate${n}403` }]),
];
for (const [, , m] of ROUTES) for (const v of Object.values(m)) {
  if (!validators[v]) throw new Error(`route table names unknown validator ${v}`);
}

/** The validator @pexip/infinity-api applies to (method, path-after-alias, status), or undefined. */
export function validatorFor(method, relPath, status) {
  const p = relPath.split('?')[0];
  for (const [m, re, map] of ROUTES) {
    if (m === method && re.test(p)) return map[status];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/**
 * One HTTP/1.1 request. Returns {status, headers, text, buffer}. `body` may be a string/Buffer
 * (sent as is) — set headers yourself.
 */
export function rawRequest(port, method, reqPath, { headers = {}, body, timeout = 10000, agent = false, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const buf = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const h = { ...headers };
    if (method !== 'GET' && method !== 'HEAD' && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) {
      h['Content-Length'] = buf ? buf.length : 0;
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: reqPath, headers: h, agent, localAddress });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${reqPath}: no response within ${timeout} ms`)), timeout * SLOW);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const buffer = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, buffer, text: buffer.toString('utf8') });
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.on('error', (e) => { clearTimeout(timer); reject(new Error(`${method} ${reqPath}: ${e.message}`)); });
    if (buf) req.write(buf);
    req.end();
  });
}

/** Checks a response is a JSON envelope; returns the parsed body. */
export function assertJsonEnvelope(res, what = '') {
  const ct = res.headers['content-type'] || '';
  assert.ok(ct.startsWith('application/json'),
    `${what}: expected Content-Type application/json, got ${JSON.stringify(ct)} (status ${res.status}, body ${res.text.slice(0, 300)})`);
  let body;
  try {
    body = JSON.parse(res.text);
  } catch (e) {
    assert.fail(`${what}: body is not valid JSON (status ${res.status}): ${res.text.slice(0, 300)}`);
  }
  assert.ok(body && typeof body === 'object' && !Array.isArray(body), `${what}: envelope must be an object: ${res.text.slice(0, 300)}`);
  assert.ok(body.status === 'success' || body.status === 'failed', `${what}: envelope status must be success|failed: ${res.text.slice(0, 300)}`);
  assert.ok('result' in body, `${what}: envelope lacks result: ${res.text.slice(0, 300)}`);
  return body;
}

// ---------------------------------------------------------------------------------------------
// Daemon

const liveChildren = new Set();
process.on('exit', () => {
  for (const c of liveChildren) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

function runFile(file, args, { env, timeout = 20000 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { env: env ?? process.env, timeout: timeout * SLOW }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, signal: err?.signal ?? null, stdout, stderr, error: err });
    });
  });
}

export const SANITIZER_ENV = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
};

const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer', 'ERROR: UndefinedBehaviorSanitizer'];

/** Runs parleyctl --data-dir DIR ARGS...; resolves {code, stdout, stderr}. */
export async function parleyctl(dataDir, args) {
  assert.ok(existsSync(PARLEYCTL), `parleyctl not found at ${PARLEYCTL} (set PARLEY_BIN_DIR)`);
  const r = await runFile(PARLEYCTL, ['--data-dir', dataDir, ...args], { env: { ...process.env, ...SANITIZER_ENV } });
  for (const m of SANITIZER_MARKERS) {
    assert.ok(!r.stderr.includes(m), `parleyctl ${args.join(' ')}: sanitizer report on stderr:\n${r.stderr}`);
  }
  return r;
}

/** Converts a room description to `room add` arguments. */
export function roomArgs(room) {
  if (typeof room === 'string') room = { alias: room };
  const a = ['room', 'add', room.alias];
  for (const x of room.aliases ?? []) a.push('--alias', x);
  if (room.name !== undefined) a.push('--name', room.name);
  if (room.pin !== undefined) a.push('--pin', room.pin);
  if (room.guestPin !== undefined) a.push('--guest-pin', room.guestPin);
  if (room.allowGuests) a.push('--allow-guests');
  if (room.lecture) a.push('--lecture');
  if (room.locked) a.push('--locked');
  if (room.reception) a.push('--reception');
  if (room.testCall) a.push('--test-call');
  if (room.guestsCanPresent === true) a.push('--guests-can-present');
  if (room.guestsCanPresent === false) a.push('--no-guests-can-present');
  if (room.relayOnly) a.push('--relay-only');
  return a;
}

let daemonCounter = 0;

export class Daemon {
  constructor(dataDir, args, { listenTimeout = 10000 } = {}) {
    this.listenTimeout = listenTimeout;
    this.dataDir = dataDir;
    this.args = args;
    this.stderr = '';
    this.port = undefined;
    this.child = undefined;
    this.exit = undefined; // {code, signal}
    this.sseClients = new Set();
    this.allSse = [];
    this.id = ++daemonCounter;
  }

  get base() { return `http://127.0.0.1:${this.port}`; }
  get pid() { return this.child?.pid; }

  async start() {
    assert.ok(existsSync(PARLEYD), `parleyd not found at ${PARLEYD} (set PARLEY_BIN_DIR)`);
    const args = ['--data-dir', this.dataDir, '--http', '127.0.0.1:0', ...BASE_ARGS, ...this.args];
    const child = spawn(PARLEYD, args, {
      env: { ...process.env, ...SANITIZER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    liveChildren.add(child);
    // Never let a leftover daemon keep the test process alive; the exit hook kills it.
    child.unref();
    child.stdout.unref?.();
    child.stderr.unref?.();
    this.stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { this.stdout += d; });
    child.stderr.setEncoding('utf8');
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        liveChildren.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const port = await this.waitListening(child, args).catch(async (e) => {
      if (!this.exit) {
        child.kill('SIGKILL');
        await withTimeout(this.exited, 5000); // a ref'd timer: the child itself is unref'd
      }
      this.saveLog();
      rmSync(this.dataDir, { recursive: true, force: true });
      throw e;
    });
    this.port = port;
    return this;
  }

  waitListening(child, args) {
    return new Promise((resolve, reject) => {
      const ms = this.listenTimeout * SLOW;
      const timer = setTimeout(() => reject(new Error(`parleyd did not print "listening on http://127.0.0.1:PORT" on stderr within ${ms} ms; stderr:\n${this.stderr}`)), ms);
      child.stderr.on('data', (d) => {
        this.stderr += d;
        const m = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(this.stderr); // https: --tls-cert
        if (m && this.port === undefined) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`parleyd exited early (code ${code}, signal ${signal}); args ${args.join(' ')}; stderr:\n${this.stderr}`));
      });
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  /** Runs parleyctl against this daemon's data dir. */
  ctl(...args) { return parleyctl(this.dataDir, args); }

  sanitizerReport() {
    return SANITIZER_MARKERS.filter((m) => this.stderr.includes(m));
  }

  /**
   * Sends `signal`, waits for exit and asserts a clean exit (code 0, no sanitizer report).
   * Returns the exit info. Closes every SSE client opened through this daemon afterwards.
   */
  async stop({ signal = 'SIGTERM', timeout = 15000, keepData = false } = {}) {
    if (!this.child) return undefined;
    let exit = this.exit;
    if (!exit) {
      this.child.kill(signal);
      exit = await withTimeout(this.exited, timeout * SLOW, null);
      if (!exit) {
        this.child.kill('SIGKILL');
        await withTimeout(this.exited, 5000);
        this.closeClients();
        assert.fail(`parleyd did not exit within ${timeout * SLOW} ms of ${signal}; stderr tail:\n${this.stderr.slice(-4000)}`);
      }
      this.signalled = true;
    }
    this.closeClients();
    this.saveLog();
    if (!keepData && !process.env.PARLEY_KEEP_DATA) rmSync(this.dataDir, { recursive: true, force: true });
    const sseViolations = this.allSse.flatMap((c) => c.violations.map((v) => `${c.path.replace(/token=[^&]*/, 'token=…')}: ${v}`));
    assert.deepEqual(sseViolations, [], 'SSE protocol violations seen on streams of this daemon');
    const report = this.sanitizerReport();
    assert.deepEqual(report, [], `sanitizer report on parleyd stderr:\n${this.stderr.slice(-8000)}`);
    assert.equal(exit.signal, null, `parleyd died from signal ${exit.signal}; stderr tail:\n${this.stderr.slice(-4000)}`);
    assert.equal(exit.code, 0, `parleyd exited with code ${exit.code}; stderr tail:\n${this.stderr.slice(-4000)}`);
    return exit;
  }

  static pruneLogs() {
    const dir = path.join(CACHE_DIR, 'logs');
    try {
      const cutoff = Date.now() - 6 * 3600 * 1000;
      for (const f of readdirSync(dir)) {
        const p = path.join(dir, f);
        if (statSync(p).mtimeMs < cutoff) rmSync(p, { force: true });
      }
    } catch { /* no logs yet */ }
  }

  saveLog() {
    try {
      const dir = path.join(CACHE_DIR, 'logs');
      mkdirSync(dir, { recursive: true });
      const name = `${path.basename(process.argv[1] || 'test', '.mjs')}-${process.pid}-${this.id}.log`;
      writeFileSync(path.join(dir, name), `args: ${this.args.join(' ')}\n${this.stderr}`);
    } catch { /* best effort */ }
  }

  closeClients() {
    for (const c of this.sseClients) c.close();
    this.sseClients.clear();
  }

  /** Reads /proc/<pid>/status VmRSS in KiB. */
  rssKiB() {
    const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
  }

  /**
   * Request to /api/client/v2/conferences/<alias>/<rel>. Options: token (sent as header `token`
   * unless tokenIn:'query'), body (object → JSON), rawBody (string, with contentType), headers,
   * rawAlias (do not percent-encode the alias), noCheck (skip envelope/schema checks),
   * localAddress (the loopback source address to connect from, e.g. 127.0.0.7).
   * Returns {status, headers, text, body}.
   */
  async api(method, alias, rel, opts = {}) {
    const { token, tokenIn = 'header', body, rawBody, contentType, headers = {}, rawAlias = false, noCheck = false, query, localAddress } = opts;
    const aliasPart = rawAlias ? alias : encodeURIComponent(alias);
    let p = `${API}/${aliasPart}/${rel}`;
    const qs = [];
    if (query) qs.push(query);
    const h = { ...headers };
    if (token !== undefined) {
      if (tokenIn === 'query') qs.push(`token=${token}`);
      else h.token = token;
    }
    if (qs.length) p += (p.includes('?') ? '&' : '?') + qs.join('&');
    let payload;
    if (rawBody !== undefined) {
      payload = rawBody;
      if (contentType) h['Content-Type'] = contentType;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['Content-Type'] = contentType ?? 'application/json';
    }
    let res;
    try {
      res = await rawRequest(this.port, method, p, { headers: h, body: payload, localAddress });
    } catch (e) {
      if (this.exit) e.message += ` (parleyd has exited: code ${this.exit.code}, signal ${this.exit.signal}; stderr tail:\n${this.stderr.slice(-2000)})`;
      throw e;
    }
    const what = `${method} ${p} -> ${res.status}`;
    if (noCheck) return { ...res, body: tryJson(res.text) };
    if (res.status === 204) {
      assert.equal(res.text, '', `${what}: 204 must have an empty body`);
      const v = validatorFor(method, rel, 204);
      if (v === undefined && rel.split('?')[0] !== 'theme/') assert.fail(`${what}: unexpected 204`);
      return { ...res, body: undefined };
    }
    const env = assertJsonEnvelope(res, what);
    const v = validatorFor(method, rel, res.status) ?? (res.status >= 400 ? GENERIC_FAILED : undefined);
    if (v) assertSchema(v, env, `${what}: `);
    else assert.fail(`${what}: status ${res.status} is not one the client handles for this endpoint: ${res.text.slice(0, 300)}`);
    return { ...res, body: env };
  }

  /** GET a path outside the conference API (healthz, metrics). */
  get(p, opts = {}) { return rawRequest(this.port, 'GET', p, opts); }

  /** Parses /metrics into {name: summed value}; asserts 200 text/plain. */
  async metrics() {
    const r = await this.get('/metrics');
    assert.equal(r.status, 200, `GET /metrics -> ${r.status}: ${r.text.slice(0, 200)}`);
    assert.match(r.headers['content-type'] || '', /^text\/plain/, 'metrics content type');
    return parseMetrics(r.text);
  }

  /** POST request_token and return a Participant (asserts 200). */
  async join(alias, { name = 'Alice', pin, body = {}, headers = {}, rawAlias } = {}) {
    const h = { ...headers };
    if (pin !== undefined) h.pin = pin;
    const r = await this.api('POST', alias, 'request_token', { body: { display_name: name, ...body }, headers: h, rawAlias });
    assert.equal(r.status, 200, `request_token ${alias} as ${name} (pin ${pin}): ${r.status} ${r.text}`);
    return new Participant(this, alias, r.body.result);
  }

  /** Opens an SSE stream; resolves once the response headers arrived (asserts 200 text/event-stream). */
  async sse(alias, token, opts = {}) {
    const c = new SseClient(this, alias, token, opts);
    this.sseClients.add(c);
    this.allSse.push(c);
    await c.opened;
    return c;
  }
}

function tryJson(t) {
  try { return JSON.parse(t); } catch { return undefined; }
}

export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
  }
  return out;
}

/**
 * Starts a daemon. rooms: array of alias strings or {alias, aliases, name, pin, guestPin,
 * allowGuests, lecture, locked, reception, testCall, guestsCanPresent, relayOnly}. args: extra parleyd arguments.
 */
export async function startDaemon({ rooms = [], args = [], dataDir, listenTimeout } = {}) {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'parley-it-'));
  for (const room of rooms) {
    const a = roomArgs(room);
    const r = await parleyctl(dir, a);
    assert.equal(r.code, 0, `parleyctl ${a.join(' ')} failed (${r.code}): ${r.stderr}`);
  }
  const d = new Daemon(dir, args, { listenTimeout });
  await d.start();
  return d;
}

// ---------------------------------------------------------------------------------------------
// Participant

export class Participant {
  constructor(daemon, alias, result) {
    this.d = daemon;
    this.alias = alias;
    this.result = result;
    this.token = result.token;
    this.uuid = result.participant_uuid;
    this.role = result.role;
    this.name = result.display_name;
  }

  /** Conference-level request with this participant's token. */
  req(method, rel, opts = {}) {
    return this.d.api(method, opts.alias ?? this.alias, rel, { token: this.token, ...opts });
  }

  post(rel, body, opts = {}) { return this.req('POST', rel, { body, ...opts }); }
  get(rel, opts = {}) { return this.req('GET', rel, opts); }

  /** POST participants/<uuid>/<action>. */
  act(uuid, action, body, opts = {}) {
    return this.post(`participants/${uuid}/${action}`, body, opts);
  }

  async ok(method, rel, opts = {}) {
    const r = await this.req(method, rel, opts);
    assert.equal(r.status, 200, `${method} ${rel} by ${this.name}: ${r.status} ${r.text}`);
    return r.body.result;
  }

  /** POST and assert 200; returns result. */
  async do(rel, body, opts = {}) { return this.ok('POST', rel, { body, ...opts }); }
  async doOn(uuid, action, body, opts = {}) { return this.do(`participants/${uuid}/${action}`, body, opts); }

  async refresh() {
    const r = await this.post('refresh_token');
    assert.equal(r.status, 200, `refresh_token: ${r.status} ${r.text}`);
    this.token = r.body.result.token;
    return r.body.result;
  }

  async release() {
    const r = await this.post('release_token', {});
    assert.equal(r.status, 200, `release_token: ${r.status} ${r.text}`);
    return r.body.result;
  }

  async participants() {
    return this.ok('GET', 'participants');
  }

  async status() { return this.ok('GET', 'conference_status'); }

  async me() {
    const list = await this.participants();
    return list.find((p) => p.uuid === this.uuid);
  }

  events(opts = {}) { return this.d.sse(this.alias, this.token, opts); }

  /** Refreshes the token every `everyMs` until stop() is called. */
  keepAlive(everyMs) {
    let stopped = false;
    const errors = [];
    const loop = (async () => {
      while (!stopped) {
        await sleep(everyMs);
        if (stopped) break;
        try { await this.refresh(); } catch (e) { errors.push(e); }
      }
    })();
    return {
      errors,
      stop: async () => { stopped = true; await loop; },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// SSE client

export class SseClient {
  /**
   * opts: via 'query' (default) | 'header'; rawAlias (do not encode alias); path (override).
   */
  constructor(daemon, alias, token, { via = 'query', rawAlias = false, path: overridePath, headers: extraHeaders = {} } = {}) {
    this.d = daemon;
    this.events = [];
    this.comments = [];
    this.violations = [];
    this.waiters = [];
    this.ended = false;
    this.partial = '';
    this.cur = { event: undefined, data: [], id: undefined, hasData: false };
    const aliasPart = rawAlias ? alias : encodeURIComponent(alias);
    const p = overridePath ?? `${API}/${aliasPart}/events` + (via === 'query' ? `?token=${token}` : '');
    const headers = { Accept: 'text/event-stream', ...extraHeaders };
    if (via === 'header') headers.token = token;
    this.path = p;
    this.closedPromise = new Promise((r) => { this.resolveClosed = r; });
    this.opened = new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: daemon.port, method: 'GET', path: p, headers, agent: false });
      this.req = req;
      const timer = setTimeout(() => { req.destroy(new Error(`SSE ${p}: no response headers within ${5 * SLOW} s`)); }, 5000 * SLOW);
      req.on('response', (res) => {
        clearTimeout(timer);
        this.res = res;
        this.status = res.statusCode;
        this.headers = res.headers;
        if (res.statusCode !== 200) {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const e = new Error(`SSE ${p}: status ${res.statusCode}: ${Buffer.concat(chunks).toString()}`);
            e.status = res.statusCode;
            e.headers = res.headers;
            e.text = Buffer.concat(chunks).toString();
            reject(e);
          });
          return;
        }
        const ct = res.headers['content-type'] || '';
        if (!ct.startsWith('text/event-stream')) {
          reject(new Error(`SSE ${p}: Content-Type ${ct}`));
          res.destroy();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk) => this.feed(chunk));
        res.on('end', () => this.onEnd('end'));
        res.on('close', () => this.onEnd('close'));
        res.on('error', () => this.onEnd('error'));
        resolve(this);
      });
      req.on('error', (e) => { clearTimeout(timer); this.onEnd('error'); reject(e); });
      req.end();
    });
    this.opened.catch(() => {});
  }

  feed(chunk) {
    this.partial += chunk;
    // Split on \r\n, \n or \r (keep a trailing \r: it may be the first half of \r\n).
    for (;;) {
      const m = /\r\n|\n|\r(?!$)/.exec(this.partial);
      if (!m) break;
      const line = this.partial.slice(0, m.index);
      this.partial = this.partial.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments.push({ text: line.slice(1), t: Date.now() });
      return undefined;
    }
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.cur.event = value;
    else if (field === 'data') { this.cur.data.push(value); this.cur.hasData = true; }
    else if (field === 'id') this.cur.id = value;
    else if (field === 'retry') this.cur.retry = value;
    else this.violations.push(`unknown field ${JSON.stringify(field)}`);
    return undefined;
  }

  dispatch() {
    const c = this.cur;
    this.cur = { event: undefined, data: [], id: undefined, hasData: false };
    if (!c.hasData && c.event === undefined && c.id === undefined) return; // stray blank line
    const raw = c.data.join('\n');
    const ev = { event: c.event ?? 'message', raw, id: c.id, t: Date.now(), index: this.events.length };
    if (c.event === undefined) this.violations.push(`unnamed event with data ${raw}`);
    if (c.id === undefined || c.id === '') this.violations.push(`event ${ev.event} without id`);
    if (!c.hasData) this.violations.push(`event ${ev.event} without data`);
    try {
      ev.data = JSON.parse(raw);
    } catch {
      ev.data = undefined;
      ev.badJson = true;
      this.violations.push(`event ${ev.event} data is not JSON: ${raw.slice(0, 200)}`);
    }
    this.events.push(ev);
    this.checkWaiters();
  }

  onEnd(why) {
    if (this.ended) return;
    this.ended = why;
    this.endedAt = Date.now();
    this.resolveClosed(why);
    this.checkWaiters();
  }

  /** Index to pass as `since` to only consider events that arrive after this call. */
  mark() { return this.events.length; }

  names(since = 0) { return this.events.slice(since).map((e) => e.event); }

  find(name, filter = () => true, since = 0) {
    for (let i = since; i < this.events.length; i++) {
      const e = this.events[i];
      if ((name === undefined || e.event === name) && filter(e.data, e)) return e;
    }
    return undefined;
  }

  filter(name, filter = () => true, since = 0) {
    return this.events.slice(since).filter((e) => (name === undefined || e.event === name) && filter(e.data, e));
  }

  checkWaiters() {
    for (const w of [...this.waiters]) {
      const e = this.find(w.name, w.filter, w.since);
      if (e) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(e);
      } else if (this.ended) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.reject(new Error(`SSE stream ended (${this.ended}) before ${w.desc}; got: ${this.summary(w.since)}`));
      }
    }
  }

  summary(since = 0) {
    return this.events.slice(since).map((e) => `${e.event} ${e.raw.slice(0, 160)}`).join('\n  ') || '(no events)';
  }

  /** Resolves with the first event named `name` (any if undefined) from index `since` matching filter(data, ev). */
  waitFor(name, filter = () => true, { since = 0, timeout = 5000 } = {}) {
    const desc = `event ${name ?? '(any)'} matching ${filter.toString().slice(0, 160)} (since #${since})`;
    const e = this.find(name, filter, since);
    if (e) return Promise.resolve(e);
    if (this.ended) return Promise.reject(new Error(`SSE stream ended (${this.ended}) before ${desc}; got:\n  ${this.summary(since)}`));
    return new Promise((resolve, reject) => {
      const w = { name, filter, since, resolve, reject, desc };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${timeout * SLOW} ms waiting for ${desc}; got:\n  ${this.summary(since)}`));
      }, timeout * SLOW);
      this.waiters.push(w);
    });
  }

  /** Waits for the initial burst through participant_sync_end; returns the events so far. */
  async synced(timeout = 5000) {
    await this.waitFor('participant_sync_end', undefined, { timeout });
    return this.events;
  }

  /** Resolves when the server closed the stream (rejects after timeout). */
  async waitClosed(timeout = 5000) {
    if (this.ended) return this.ended;
    const r = await withTimeout(this.closedPromise, timeout * SLOW, 'timeout');
    if (r === 'timeout') throw new Error(`SSE ${this.path} still open after ${timeout * SLOW} ms; events:\n  ${this.summary()}`);
    return r;
  }

  assertClean() {
    assert.deepEqual(this.violations, [], `SSE protocol violations on ${this.path}`);
  }

  close() {
    try { this.req?.destroy(); } catch { /* ignore */ }
    try { this.res?.destroy(); } catch { /* ignore */ }
    this.onEnd(this.ended || 'closed-by-client');
  }
}

/** Participant object keys every client relies on (PKG-API Participant, required). */
export const PARTICIPANT_REQUIRED = ['uuid', 'display_name', 'overlay_text', 'role', 'is_muted', 'is_video_muted',
  'is_presenting', 'spotlight', 'buzz_time', 'start_time', 'call_direction', 'protocol', 'local_alias', 'encryption',
  'has_media', 'is_audio_only_call', 'is_video_call', 'mute_supported', 'disconnect_supported', 'transfer_supported',
  'fecc_supported', 'rx_presentation_policy', 'is_streaming_conference', 'is_external', 'external_node_uuid',
  'is_video_silent'];

/** Asserts an SSE participant object carries the keys clients need (extra keys are allowed on SSE). */
export function assertParticipantShape(p, ctx = '') {
  assert.ok(p && typeof p === 'object', `${ctx}participant must be an object`);
  for (const k of PARTICIPANT_REQUIRED) assert.ok(k in p, `${ctx}participant lacks ${k}: ${JSON.stringify(p)}`);
  assert.equal(typeof p.uuid, 'string');
  assert.ok(p.uuid.length > 0, `${ctx}participant uuid empty`);
  assert.ok(['chair', 'guest'].includes(p.role), `${ctx}role ${p.role}`);
  assert.ok(['YES', 'NO'].includes(p.is_muted), `${ctx}is_muted ${p.is_muted}`);
  assert.ok(['YES', 'NO'].includes(p.is_presenting), `${ctx}is_presenting ${p.is_presenting}`);
  assert.equal(typeof p.spotlight, 'number');
  assert.equal(typeof p.buzz_time, 'number');
  assert.equal(typeof p.start_time, 'number');
  assert.equal(typeof p.is_video_muted, 'boolean');
}

/** Unique suffix helper for names. */
let nameCounter = 0;
export const uniq = (p = 'x') => `${p}${++nameCounter}`;

/** Standard per-test options: generous timeout scaled for sanitizer builds. */
export const T = (ms = 20000) => ({ timeout: ms * SLOW });

/** The three classic roles in a PIN-protected room. */
export const HOST_PIN = '1234';
export const GUEST_PIN = '5678';

export { isDeepStrictEqual };

/** Asserts an error response: HTTP status, envelope "failed" and (if given) the exact result string. */
export function assertFailed(r, status, result, ctx = '') {
  assert.equal(r.status, status, `${ctx}expected HTTP ${status}, got ${r.status}: ${r.text?.slice(0, 300)}`);
  assert.equal(r.body?.status, 'failed', `${ctx}expected envelope status "failed": ${r.text?.slice(0, 300)}`);
  assert.equal(typeof r.body.result, 'string', `${ctx}error result must be a string: ${r.text?.slice(0, 300)}`);
  if (result !== undefined) assert.equal(r.body.result, result, `${ctx}error string`);
}

/** Opens an event stream on a raw socket and never reads from it (a stalled reader);
 * an error after it opened (the server cutting it) is expected and ignored. */
export function stalledStream(port, alias, token) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.write(`GET ${API}/${alias}/events?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
      s.pause();
      resolve(s);
    });
    s.on('error', () => {});
    s.once('error', reject);
  });
}
