// parleyd under systemd: when stderr is the journal (JOURNAL_STREAM names its device and
// inode, as systemd sets it), each line starts with its sd-daemon <N> priority, which
// journald stores as the record's priority (journalctl -p warning filters on it). Here
// stderr is a file whose device:inode goes into JOURNAL_STREAM, as journald's socket
// would; a JOURNAL_STREAM for another file leaves the lines as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PARLEYD, BASE_ARGS, SANITIZER_ENV, T, waitUntil } from './helpers.mjs';

async function runWith(journalStream) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-journal-'));
  const log = path.join(dir, 'stderr');
  const fd = openSync(log, 'w+');
  const st = fstatSync(fd, { bigint: true });
  const env = { ...process.env, ...SANITIZER_ENV, JOURNAL_STREAM: journalStream(st) };
  // The start and shutdown lines are info; every level's number is in tests/unit/test_log_journal.c.
  const child = spawn(PARLEYD, ['--data-dir', path.join(dir, 'data'), '--http', '127.0.0.1:0', ...BASE_ARGS,
    '--log-level', 'info'], { env, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  try {
    await waitUntil(() => readFileSync(log, 'utf8').includes('listening on'), { what: 'parleyd listening' });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
  const text = readFileSync(log, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return text.split('\n').filter(Boolean);
}

test('stderr is the journal: every line starts with its <N> priority', T(), async () => {
  const lines = await runWith((st) => `${st.dev}:${st.ino}`);
  const listening = lines.find((l) => l.includes('listening on'));
  assert.match(listening, /^<6>info parleyd: listening on http:\/\/127\.0\.0\.1:\d+ /, 'info is <6>, no timestamp of ours');
  assert.ok(lines.some((l) => l.startsWith('<6>info parleyd: stopped')), `the shutdown line:\n${lines.join('\n')}`);
  for (const l of lines) {
    if (/AddressSanitizer|LeakSanitizer|runtime error/.test(l)) continue; // reported by the exit code
    assert.match(l, /^<[3467]>(debug|info|warn|error) [a-z_]+: /, `a line without its priority: ${l}`);
  }
});

test('JOURNAL_STREAM for another file: plain timestamped lines', T(), async () => {
  const lines = await runWith((st) => `${st.dev}:${st.ino + 1n}`);
  const listening = lines.find((l) => l.includes('listening on'));
  assert.match(listening, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info parleyd: listening on /);
});
