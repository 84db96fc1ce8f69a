// Process lifecycle and operations: parleyd --help, parleyctl room add/list/remove and its input
// checks, /healthz, /metrics gauges, live reload of rooms, restart persistence, clean shutdown on
// SIGTERM / SIGINT with a disconnect event on every open stream.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, Daemon, parleyctl, PARLEYD, T, SLOW, sleep, waitUntil, assertFailed, SANITIZER_ENV, rawRequest, API, withTimeout } from './helpers.mjs';

function run(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...SANITIZER_ENV }, timeout: 20000 * SLOW }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'parley-it-ctl-'));

describe('parleyd --help', () => {
  test('prints every option and exits 0', T(), async () => {
    const r = await run(PARLEYD, ['--help']);
    assert.equal(r.code, 0, `parleyd --help exit ${r.code}: ${r.stderr}`);
    const out = r.stdout + r.stderr;
    for (const opt of ['--data-dir', '--http', '--token-lifetime', '--keepalive', '--pin-attempts', '--pin-window',
      '--guests-only-timeout', '--sse-queue-bytes', '--log-level']) {
      assert.ok(out.includes(opt), `--help should mention ${opt}`);
    }
  });

  test('an unknown option or bad value fails with a message', T(), async () => {
    const dir = tmpDir();
    try {
      for (const args of [['--no-such-option'], ['--token-lifetime', 'abc'], ['--http', 'not-an-address'], ['--log-level', 'loud']]) {
        const r = await run(PARLEYD, ['--data-dir', dir, ...args]);
        assert.notEqual(r.code, 0, `parleyd ${args.join(' ')} must fail`);
        assert.ok(r.stderr.trim().length > 0, `parleyd ${args.join(' ')} must explain on stderr`);
        for (const m of ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer']) assert.ok(!r.stderr.includes(m), r.stderr);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parleyctl', () => {
  let dir;
  before(() => { dir = tmpDir(); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('room add / list / remove', T(), async () => {
    let r = await parleyctl(dir, ['room', 'add', 'alpha', '--alias', 'alpha2', '--name', 'Alpha Room', '--pin', '1234', '--allow-guests']);
    assert.equal(r.code, 0, r.stderr);
    r = await parleyctl(dir, ['room', 'add', 'beta@example.com', '--lecture', '--pin', '1', '--guest-pin', '2', '--allow-guests']);
    assert.equal(r.code, 0, r.stderr);
    r = await parleyctl(dir, ['room', 'add', 'gamma', '--reception']);
    assert.equal(r.code, 0, r.stderr);
    r = await parleyctl(dir, ['room', 'list']);
    assert.equal(r.code, 0, r.stderr);
    for (const a of ['alpha', 'alpha2', 'beta@example.com', 'gamma']) assert.ok(r.stdout.includes(a), `list shows ${a}:\n${r.stdout}`);
    r = await parleyctl(dir, ['room', 'remove', 'gamma']);
    assert.equal(r.code, 0, r.stderr);
    r = await parleyctl(dir, ['room', 'list']);
    assert.ok(!r.stdout.includes('gamma'), `gamma removed:\n${r.stdout}`);
    assert.ok(r.stdout.includes('alpha'));
  });

  test('bad input: non-zero exit and a message on stderr', T(), async () => {
    let r = await parleyctl(dir, ['room', 'add', 'dup']);
    assert.equal(r.code, 0, r.stderr);
    const bad = [
      ['room', 'add', 'dup'], // duplicate alias
      ['room', 'add', 'other', '--alias', 'dup'], // duplicate secondary alias
      ['room', 'add', 'gp', '--guest-pin', '5678'], // guest PIN without host PIN
      ['room', 'add', 'np', '--pin', '12a4'], // non-digit PIN
      ['room', 'add', 'np2', '--pin', '1234', '--guest-pin', 'x9'], // non-digit guest PIN
      ['room', 'remove', 'no-such-room'],
      ['room', 'add'], // missing alias
      ['room', 'frobnicate'],
    ];
    for (const args of bad) {
      r = await parleyctl(dir, args);
      assert.notEqual(r.code, 0, `parleyctl ${args.join(' ')} must fail`);
      assert.ok(r.stderr.trim().length > 0, `parleyctl ${args.join(' ')} must explain on stderr`);
    }
    r = await parleyctl(dir, ['room', 'list']);
    for (const a of ['gp', 'np', 'np2', 'other']) {
      assert.ok(!r.stdout.split(/\s+/).includes(a), `rejected room ${a} must not be stored:\n${r.stdout}`);
    }
  });
});

describe('running daemon: health, metrics, live reload', () => {
  let d;
  before(async () => { d = await startDaemon({ rooms: ['live', 'live-2'] }); });
  after(async () => { await d?.stop(); });

  test('/healthz -> 200 JSON', T(), async () => {
    const r = await d.get('/healthz');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    JSON.parse(r.text);
  });

  test('/metrics gauges follow participants, tokens, streams and active rooms', T(), async () => {
    const m0 = await d.metrics();
    for (const g of ['parley_participants', 'parley_sse_streams', 'parley_tokens', 'parley_rooms_active']) {
      assert.equal(typeof m0[g], 'number', `gauge ${g} present`);
    }
    const a = await d.join('live', { name: 'M1' });
    const b = await d.join('live', { name: 'M2' });
    const c = await d.join('live-2', { name: 'M3' });
    const s1 = await a.events();
    const s2 = await a.events();
    await s1.synced();
    await s2.synced();
    const m1 = await d.metrics();
    assert.equal(m1.parley_participants - m0.parley_participants, 3, 'participants +3');
    assert.equal(m1.parley_sse_streams - m0.parley_sse_streams, 2, 'streams +2');
    assert.ok(m1.parley_tokens - m0.parley_tokens >= 3, 'tokens +3 at least');
    assert.equal(m1.parley_rooms_active - m0.parley_rooms_active, 2, 'two rooms active');
    s2.close();
    await b.release();
    await c.release();
    await waitUntil(async () => {
      const m = await d.metrics();
      return m.parley_sse_streams - m0.parley_sse_streams === 1 && m.parley_participants - m0.parley_participants === 1 &&
        m.parley_rooms_active - m0.parley_rooms_active === 1 && m;
    }, { what: 'gauges to drop after a release and a closed stream' });
    await a.release();
    await waitUntil(async () => {
      const m = await d.metrics();
      return m.parley_sse_streams === m0.parley_sse_streams && m.parley_participants === m0.parley_participants &&
        m.parley_rooms_active === m0.parley_rooms_active && m.parley_tokens === m0.parley_tokens;
    }, { what: 'gauges back to the baseline' });
  });

  test('room added with parleyctl while running becomes joinable; removed one disappears', T(), async () => {
    assertFailed(await d.api('POST', 'late-room', 'request_token', { body: { display_name: 'x' } }), 404, 'Neither conference nor gateway found');
    const r = await d.ctl('room', 'add', 'late-room', '--pin', '4321', '--allow-guests');
    assert.equal(r.code, 0, r.stderr);
    const prompt = await waitUntil(async () => {
      const x = await d.api('POST', 'late-room', 'request_token', { body: { display_name: 'x' } });
      return x.status !== 404 && x;
    }, { timeout: 5000, what: 'the new room to be visible' });
    assert.equal(prompt.status, 403, 'new room has its PIN');
    assert.equal(prompt.body.result.pin, 'required');
    const h = await d.join('late-room', { name: 'Late host', pin: '4321' });
    assert.equal(h.role, 'HOST');
    await h.release();
    const rm = await d.ctl('room', 'remove', 'late-room');
    assert.equal(rm.code, 0, rm.stderr);
    await waitUntil(async () => {
      const x = await d.api('POST', 'late-room', 'request_token', { body: { display_name: 'x' } });
      return x.status === 404;
    }, { timeout: 5000, what: 'the removed room to be gone' });
  });

  test('a room changed while running picks up the new PIN', T(), async () => {
    assert.equal((await d.ctl('room', 'add', 'chg')).code, 0);
    await waitUntil(async () => (await d.api('POST', 'chg', 'request_token', { body: { display_name: 'x' } })).status === 200,
      { what: 'room chg visible' });
    assert.equal((await d.ctl('room', 'remove', 'chg')).code, 0);
    assert.equal((await d.ctl('room', 'add', 'chg', '--pin', '2468')).code, 0);
    await waitUntil(async () => {
      const x = await d.api('POST', 'chg', 'request_token', { body: { display_name: 'x' } });
      return x.status === 403 && x.body.result?.pin === 'required';
    }, { what: 'room chg to require its new PIN' });
  });
});

describe('operational options', () => {
  test('--config FILE sets options; flags override the file', T(), async () => {
    const dir = tmpDir();
    const conf = path.join(dir, 'parley.conf');
    writeFileSync(conf, '# test config\ntoken-lifetime = 77\nkeepalive = 5\n');
    const d1 = await startDaemon({ rooms: ['cfg'], args: ['--config', conf] });
    try {
      const a = await d1.join('cfg', { name: 'C' });
      assert.equal(a.result.expires, '77', 'token-lifetime from the config file');
    } finally {
      await d1.stop();
    }
    const d2 = await startDaemon({ rooms: ['cfg'], args: ['--config', conf, '--token-lifetime', '33'] });
    try {
      const a = await d2.join('cfg', { name: 'C' });
      assert.equal(a.result.expires, '33', 'a flag overrides the config file');
    } finally {
      await d2.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--max-body lowers the body limit', T(), async () => {
    const d = await startDaemon({ rooms: ['mb'], args: ['--max-body', '1024'] });
    try {
      const r = await d.api('POST', 'mb', 'request_token', { body: { display_name: 'x'.repeat(2000) } });
      assertFailed(r, 413);
      const ok = await d.api('POST', 'mb', 'request_token', { body: { display_name: 'small' } });
      assert.equal(ok.status, 200);
    } finally {
      await d.stop();
    }
  });

  test('--log-level warn keeps routine info lines off stderr', T(), async () => {
    // The "listening on" line is how a caller of --http ADDR:0 learns the port: it must survive the log level.
    const d = await startDaemon({ rooms: ['quiet'], args: ['--log-level', 'warn'], listenTimeout: 4000 });
    const a = await d.join('quiet', { name: 'Q' });
    await a.release();
    await d.stop();
    const lines = d.stderr.split('\n').filter((l) => /\binfo\b/.test(l) && !l.includes('listening on'));
    assert.deepEqual(lines, [], 'no info lines besides the listening line');
  });

  test('CORS: default allows any origin, including the token and pin headers', T(), async () => {
    const d = await startDaemon({ rooms: ['cors'] });
    try {
      const pre = await rawRequest(d.port, 'OPTIONS', `${API}/cors/request_token`, {
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,pin,token' },
      });
      assert.ok(pre.status === 204 || pre.status === 200, `preflight: ${pre.status}`);
      assert.equal(pre.headers['access-control-allow-origin'], '*');
      const allowed = (pre.headers['access-control-allow-headers'] ?? '').toLowerCase();
      for (const h of ['content-type', 'pin', 'token']) assert.ok(allowed.includes(h) || allowed === '*', `allow-headers has ${h}: ${allowed}`);
      const r = await d.api('POST', 'cors', 'request_token', { body: { display_name: 'x' }, headers: { Origin: 'https://app.example' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], '*');
    } finally {
      await d.stop();
    }
  });
});

describe('restart and shutdown', () => {
  test('rooms persist across a restart on the same data dir', T(30000), async () => {
    const d = await startDaemon({ rooms: ['persist', { alias: 'persist-pin', pin: '1111' }] });
    await d.stop({ keepData: true });
    const d2 = new Daemon(d.dataDir, []);
    await d2.start();
    try {
      const a = await d2.join('persist', { name: 'Back' });
      assert.equal(a.role, 'HOST');
      const p = await d2.api('POST', 'persist-pin', 'request_token', { body: { display_name: 'x' } });
      assert.equal(p.status, 403);
      assert.equal(p.body.result.pin, 'required');
    } finally {
      await d2.stop();
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal}: every stream gets disconnect {reason} then closes; exit 0`, T(30000), async () => {
      const d = await startDaemon({ rooms: ['bye', 'bye-2'] });
      const a = await d.join('bye', { name: 'A' });
      const b = await d.join('bye', { name: 'B' });
      const c = await d.join('bye-2', { name: 'C' });
      const streams = [await a.events(), await a.events(), await b.events(), await c.events({ via: 'header' })];
      for (const s of streams) await s.synced();
      d.child.kill(signal);
      for (const s of streams) {
        await s.waitClosed(10000);
        const last = s.events[s.events.length - 1];
        assert.equal(last?.event, 'disconnect', `last event before close must be disconnect; got:\n  ${s.summary()}`);
        assert.equal(typeof last.data.reason, 'string');
        assert.ok(last.data.reason.length > 0);
        s.assertClean();
      }
      const exit = await withTimeout(d.exited, 15000 * SLOW, null);
      assert.ok(exit, `parleyd did not exit after ${signal}`);
      await d.stop(); // asserts code 0 and no sanitizer report
    });
  }

  test('shutdown with no clients is quick and clean', T(), async () => {
    const d = await startDaemon({ rooms: ['idle'] });
    const t0 = Date.now();
    await d.stop();
    assert.ok(Date.now() - t0 < 5000 * SLOW, `idle shutdown took ${Date.now() - t0} ms`);
  });

  test('two daemons can share nothing but the machine (port 0 picks distinct ports)', T(), async () => {
    const d1 = await startDaemon({ rooms: ['p'] });
    const d2 = await startDaemon({ rooms: ['p'] });
    try {
      assert.notEqual(d1.port, d2.port);
      assert.equal((await d1.get('/healthz')).status, 200);
      assert.equal((await d2.get('/healthz')).status, 200);
    } finally {
      await d1.stop();
      await d2.stop();
    }
  });
});

describe('/metrics kept from the public: a token, or a listener of its own', () => {
  test('--metrics-token: /metrics wants "Authorization: Bearer <token>"; /healthz stays open', T(), async () => {
    const d = await startDaemon({ rooms: ['m'], args: ['--metrics-token', 's3cret-metrics'] });
    try {
      const none = await d.get('/metrics');
      assert.equal(none.status, 401, `no token: ${none.status} ${none.text.slice(0, 200)}`);
      assert.match(none.headers['www-authenticate'] ?? '', /^Bearer/);
      assert.ok(!none.text.includes('parley_'), 'no figures without the token');
      const wrong = await d.get('/metrics', { headers: { Authorization: 'Bearer s3cret-metricz' } });
      assert.equal(wrong.status, 401);
      const right = await d.get('/metrics', { headers: { Authorization: 'Bearer s3cret-metrics' } });
      assert.equal(right.status, 200);
      assert.match(right.text, /^parley_participants \d+$/m);
      assert.equal((await d.get('/healthz')).status, 200);
    } finally {
      await d.stop();
    }
  });

  test('--metrics-listen ADDR:PORT: /metrics is served there and no longer on --http', T(), async () => {
    const d = await startDaemon({ rooms: ['m'], args: ['--metrics-listen', '127.0.0.1:0'] });
    try {
      const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(d.stderr);
      assert.ok(m, `parleyd names the metrics listener on stderr: ${d.stderr.slice(-500)}`);
      const port = Number(m[1]);
      assert.notEqual(port, d.port);
      const there = await rawRequest(port, 'GET', '/metrics');
      assert.equal(there.status, 200);
      assert.match(there.text, /^parley_participants \d+$/m);
      assert.equal((await rawRequest(port, 'GET', '/api/client/v2/conferences/m/conference_status')).status, 404,
        'the metrics listener serves nothing else');
      const main = await d.get('/metrics');
      assert.equal(main.status, 404, 'not on the public listener any more');
      assert.equal((await d.get('/healthz')).status, 200);
    } finally {
      await d.stop();
    }
  });

  test('--metrics-listen refuses what is not ADDR:PORT', T(), async () => {
    const r = await run(PARLEYD, ['--metrics-listen', 'nowhere', '--data-dir', tmpDir()]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--metrics-listen/);
  });
});
