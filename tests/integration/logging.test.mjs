// Log injection: strings a client sends (display names here; RTM client ids in rtm.test.mjs)
// reach parleyd's log escaped, so a newline in them cannot start a forged log line.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, waitUntil } from './helpers.mjs';

describe('log lines carry client strings escaped', () => {
  let d;
  before(async () => { d = await startDaemon({ rooms: ['logroom'] }); });
  after(async () => { await d?.stop(); });

  test('a display_name with a newline does not forge a log line', T(), async () => {
    const forged = 'error conf: FORGED-BY-CLIENT room=logroom';
    const name = `Mallory\n2026-01-01T00:00:00.000Z ${forged}\r\u001b[2K\\x0a`;
    const p = await d.join('logroom', { name });
    assert.equal(p.name, name, 'the name itself is kept as sent');
    await waitUntil(() => d.stderr.includes(`participant=${p.uuid}`), { what: 'the join line in the log' });
    const lines = d.stderr.split('\n');
    const mine = lines.filter((l) => l.includes(forged));
    assert.equal(mine.length, 1, `one line mentions the forged text:\n${mine.join('\n')}`);
    assert.match(mine[0], /^\S+Z info conf: join room=logroom participant=\S+ name="Mallory\\x0a2026-01-01T00:00:00\.000Z error conf: FORGED-BY-CLIENT room=logroom\\x0d\\x1b\[2K\\\\x0a" role=\w+ /);
    assert.ok(!d.stderr.includes('\r') && !d.stderr.includes('\u001b'), 'no raw CR or ESC in the log');
    await p.leave?.();
  });
});
