// parleyctl's every view against records that exist (room show / list / list --json, account
// show / list / list --json, key list, jwt), and its exit status when the store cannot commit
// (a full disk under a running parleyd) or stdout cannot be written.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parleyctl, PARLEYCTL, Daemon, T, SANITIZER_ENV } from './helpers.mjs';

const ok = (r, what) => assert.equal(r.code, 0, `parleyctl ${what} exit ${r.code}: ${r.stderr}`);

describe('parleyctl views of existing records', () => {
  let dir;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'parley-it-ctlview-'));
    ok(await parleyctl(dir, ['room', 'add', 'meet', '--alias', 'meet-2', '--name', 'Demo meeting', '--pin', '1234', '--allow-guests']), 'room add meet');
    ok(await parleyctl(dir, ['room', 'add', 'echo', '--name', 'Echo test', '--test-call']), 'room add echo');
    ok(await parleyctl(dir, ['room', 'add', 'lect', '--pin', '1', '--guest-pin', '2', '--allow-guests', '--lecture', '--locked']), 'room add lect');
    ok(await parleyctl(dir, ['account', 'add', '--cid', 'demo', '--name', 'Demo account']), 'account add');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const meet = {
    name: 'Demo meeting', aliases: ['meet', 'meet-2'], pin: true, guest_pin: false, allow_guests: true,
    lecture: false, locked: false, reception: false, test_call: false,
    guests_can_present: true, relay_only: false,
  };

  test('room show finds a room by any of its aliases', T(), async () => {
    for (const alias of ['meet', 'meet-2']) {
      const r = await parleyctl(dir, ['room', 'show', alias]);
      ok(r, `room show ${alias}`);
      const o = JSON.parse(r.stdout);
      assert.equal(typeof o.id, 'number');
      delete o.id;
      assert.deepEqual(o, meet);
    }
    const r = await parleyctl(dir, ['room', 'show', 'echo']);
    ok(r, 'room show echo');
    assert.equal(JSON.parse(r.stdout).test_call, true);
    const none = await parleyctl(dir, ['room', 'show', 'no-such-room']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no room has the alias "no-such-room"/);
  });

  test('room list and room list --json show every room', T(), async () => {
    let r = await parleyctl(dir, ['room', 'list']);
    ok(r, 'room list');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0], /^meet\s+Demo meeting\s+host-pin guests alias=meet-2$/);
    assert.match(lines[1], /^echo\s+Echo test\s+test-call$/);
    assert.match(lines[2], /^lect\s+lect\s+host-pin guest-pin guests lecture locked$/);
    r = await parleyctl(dir, ['room', 'list', '--json']);
    ok(r, 'room list --json');
    const all = JSON.parse(r.stdout);
    assert.deepEqual(all.map((x) => x.aliases[0]), ['meet', 'echo', 'lect']);
    const first = { ...all[0] };
    delete first.id;
    assert.deepEqual(first, meet);
    assert.deepEqual({ pin: all[2].pin, guest_pin: all[2].guest_pin, lecture: all[2].lecture, locked: all[2].locked },
      { pin: true, guest_pin: true, lecture: true, locked: true });
    r = await parleyctl(dir, ['room', 'list', '--bogus']);
    assert.notEqual(r.code, 0, 'room list --bogus must fail');
  });

  test('a second `make run` set-up finds what the first one made', T(), async () => {
    // The Makefile's run target: `room show meet || room add meet ...`.
    const r = await parleyctl(dir, ['room', 'show', 'meet']);
    ok(r, 'room show meet');
    const again = await parleyctl(dir, ['room', 'add', 'meet']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already used/);
  });

  test('account show / list / list --json, key list, jwt', T(), async () => {
    let r = await parleyctl(dir, ['account', 'show', 'demo']);
    ok(r, 'account show');
    const acc = JSON.parse(r.stdout);
    assert.equal(acc.cid, 'demo');
    assert.equal(acc.name, 'Demo account');
    assert.ok(acc.jwt_secret && acc.webhook_secret);
    r = await parleyctl(dir, ['account', 'list']);
    ok(r, 'account list');
    assert.match(r.stdout, /^demo\s+Demo account$/m);
    r = await parleyctl(dir, ['account', 'list', '--json']);
    ok(r, 'account list --json');
    assert.deepEqual(JSON.parse(r.stdout).map((a) => [a.cid, a.name]), [['demo', 'Demo account']]);
    r = await parleyctl(dir, ['key', 'add', '--account', 'demo', '--origin', 'https://app.example.com']);
    ok(r, 'key add');
    const prefix = r.stdout.trim().slice(0, 8);
    for (const args of [['key', 'list'], ['key', 'list', '--account', 'demo']]) {
      r = await parleyctl(dir, args);
      ok(r, args.join(' '));
      assert.ok(r.stdout.startsWith(`${prefix}... demo`), r.stdout);
    }
    r = await parleyctl(dir, ['jwt', '--account', 'demo', '--client-id', 'me']);
    ok(r, 'jwt');
    assert.equal(r.stdout.trim().split('.').length, 3);
    r = await parleyctl(dir, ['account', 'show', 'nobody']);
    assert.notEqual(r.code, 0);
  });

  test('output that cannot be written is a failure', T(), async () => {
    for (const args of [['room', 'list'], ['room', 'list', '--json'], ['room', 'show', 'meet'], ['account', 'list', '--json']]) {
      let code = 0;
      let stderr = '';
      try {
        execFileSync('sh', ['-c', '"$0" "$@" >/dev/full', PARLEYCTL, '--data-dir', dir, ...args],
          { env: { ...process.env, ...SANITIZER_ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        code = e.status;
        stderr = String(e.stderr);
      }
      assert.notEqual(code, 0, `parleyctl ${args.join(' ')} >/dev/full must fail`);
      assert.match(stderr, /cannot (write|print)/);
    }
  });
});

// A full disk under a running daemon: parleyd keeps the database (and its WAL index) open, as in
// production, and the file system is then filled; COMMIT is the first write that needs space.
describe('parleyctl on a full disk', () => {
  let mnt;
  let mounted = false;
  let d;
  before(() => {
    mnt = mkdtempSync(path.join(os.tmpdir(), 'parley-it-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch { /* not permitted here: the tests below skip */ }
  });
  after(async () => {
    await d?.stop({ keepData: true }).catch(() => {});
    if (mounted) execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  test('room add, room remove, account add and key add exit non-zero and store nothing', T(30000), async (t) => {
    if (!mounted) return t.skip('cannot mount a tmpfs here (needs root)');
    const data = path.join(mnt, 'data');
    mkdirSync(data);
    ok(await parleyctl(data, ['room', 'add', 'before']), 'room add before');
    ok(await parleyctl(data, ['account', 'add', '--cid', 'acme']), 'account add');
    d = new Daemon(data, []);
    await d.start();
    const fill = path.join(mnt, 'fill');
    const fd = openSync(fill, 'w');
    const chunk = Buffer.alloc(4096);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      assert.equal(e.code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
    const attempts = [
      ['room', 'add', 'after', '--alias', 'after-2', '--name', 'After'],
      ['room', 'remove', 'before'],
      ['account', 'add', '--cid', 'late'],
      ['key', 'add', '--account', 'acme', '--origin', 'https://app.example.com'],
    ];
    for (const args of attempts) {
      const r = await parleyctl(data, args);
      assert.notEqual(r.code, 0, `parleyctl ${args.join(' ')} on a full disk must fail; stdout: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /added|removed|pk_/, `nothing may be reported as done: ${r.stdout}`);
      assert.match(r.stderr, /full/i, `the reason: ${r.stderr}`);
    }
    unlinkSync(fill);
    let r = await parleyctl(data, ['room', 'list']);
    ok(r, 'room list');
    assert.match(r.stdout, /^before\s/m);
    assert.doesNotMatch(r.stdout, /after/);
    r = await parleyctl(data, ['account', 'show', 'late']);
    assert.notEqual(r.code, 0);
    r = await parleyctl(data, ['key', 'list']);
    ok(r, 'key list');
    assert.equal(r.stdout, '');
    // With space again the same command works.
    ok(await parleyctl(data, attempts[0]), 'room add after, with space');
    await d.stop({ keepData: true });
    d = undefined;
  });
});
