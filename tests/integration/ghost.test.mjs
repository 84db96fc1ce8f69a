// ghost.test.mjs — a participant whose tab is closed (tests/tools/ghost_peer.c: real ICE +
// DTLS + SRTP, then total silence) must not linger: once the consent-freshness window
// passes without a check (RFC 7675), its call ends (participant_update with has_media
// false) and, its last call gone that way, the participant leaves at once
// (participant_delete) instead of waiting for its token to lapse (--token-lifetime, 120 s).
// --consent-timeout is set to its minimum so the test takes seconds; the ghost's socket
// stays open (a frozen machine) or closes (a killed browser).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, BIN_DIR, SLOW } from './helpers.mjs';

const GHOST = path.join(BIN_DIR, 'bench', 'ghost_peer');
const CONSENT_S = 5;
let d;
before(async () => { d = await startDaemon({ rooms: ['ghost'], args: ['--consent-timeout', String(CONSENT_S)] }); });
after(async () => { await d?.stop(); });

/** Runs ghost_peer; resolves {uuid, silentAt} once it has fallen silent. */
function ghost(child) {
  return new Promise((resolve, reject) => {
    let out = '', err = '', uuid;
    child.stdout.on('data', (b) => {
      out += b;
      uuid ??= out.match(/^connected (\S+)$/m)?.[1];
      if (uuid && /^silent$/m.test(out)) resolve({ uuid, silentAt: Date.now() });
    });
    child.stderr.on('data', (b) => { err += b; });
    child.on('exit', (code) => reject(new Error(`ghost_peer exited (${code}) early:\n${out}\n${err}`)));
  });
}

for (const [what, silentS] of [['socket open', '60'], ['socket closed', '0']]) {
test(`a silent participant (${what}) leaves within the consent window, announced at once`, async () => {
  assert.ok(existsSync(GHOST), `${GHOST} is built with the benchmarks`);
  const watcher = await d.join('ghost', { name: 'Watcher' });
  const sse = await watcher.events();
  const child = spawn(GHOST, [String(d.port), 'ghost', silentS], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const { uuid, silentAt } = await ghost(child);
    await sse.waitFor('participant_update', (p) => p.uuid === uuid && p.has_media === true, { timeout: 5000 });
    const since = sse.mark();
    const gone = await sse.waitFor('participant_update', (p) => p.uuid === uuid && p.has_media === false,
      { since, timeout: (CONSENT_S + 10) * 1000 });
    const took = Date.now() - silentAt;
    assert.ok(took < (CONSENT_S + 2.5) * 1000 * SLOW, `the call ended ${took} ms after the peer fell silent`);
    assert.ok(took >= (CONSENT_S - 1) * 1000, `ended after only ${took} ms: consent was not given its window`);
    assert.ok(gone);
    await sse.waitFor('participant_delete', (p) => p.uuid === uuid, { since, timeout: 2500 });
    const left = Date.now() - silentAt;
    assert.ok(left < (CONSENT_S + 2.5) * 1000 * SLOW, `the ghost left ${left} ms after falling silent`);
    const roster = await watcher.participants();
    assert.ok(!roster.some((p) => p.uuid === uuid), 'the ghost is off the roster');
    assert.ok(roster.some((p) => p.uuid === watcher.uuid), 'the watcher is still in');
  } finally {
    child.kill('SIGTERM');
  }
});
}
