// Concurrency: many participants and streams in one room, concurrent chat from everybody,
// concurrent joins/leaves, and the gauges returning to their baseline afterwards. Under the
// ASan build this is the main memory-safety workout.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, T, waitUntil, HOST_PIN } from './helpers.mjs';

let d;
before(async () => {
  d = await startDaemon({ rooms: ['crowd', { alias: 'churn', pin: HOST_PIN, allowGuests: true }] });
});
after(async () => { await d?.stop(); });

describe('fan-out', () => {
  test('20 participants chat concurrently; every stream gets every other participant\'s messages', T(90000), async () => {
    const m0 = await d.metrics();
    const N = 20;
    const K = 5;
    const ps = await Promise.all(Array.from({ length: N }, (_, i) => d.join('crowd', { name: `P${i}` })));
    for (const p of ps) {
      p.s = await p.events();
    }
    await Promise.all(ps.map((p) => p.s.synced()));
    // Everybody sees the whole room once all creates have arrived (late joiners via live creates).
    for (const p of ps) {
      await waitUntil(() => new Set(p.s.filter('participant_create').map((e) => e.data.uuid)).size === N,
        { what: `${p.name} to know all ${N} participants` });
    }
    await Promise.all(ps.map(async (p, i) => {
      for (let k = 0; k < K; k++) await p.do('message', { type: 'text/plain', payload: `${i}:${k}` });
    }));
    for (const [i, p] of ps.entries()) {
      await p.s.waitFor('message_received', () => p.s.filter('message_received').length >= (N - 1) * K, { timeout: 20000 });
      const got = p.s.filter('message_received').map((e) => e.data.payload);
      assert.equal(got.length, (N - 1) * K, `${p.name} message count`);
      assert.ok(!got.some((x) => x.startsWith(`${i}:`)), `${p.name} got its own message`);
      // Per sender, order is preserved.
      for (let j = 0; j < N; j++) {
        if (j === i) continue;
        const seq = got.filter((x) => x.startsWith(`${j}:`)).map((x) => Number(x.split(':')[1]));
        assert.deepEqual(seq, [...Array(K).keys()], `${p.name}: messages from P${j} in order`);
      }
      p.s.assertClean();
    }
    const m1 = await d.metrics();
    assert.equal(m1.parley_participants - m0.parley_participants, N);
    assert.equal(m1.parley_sse_streams - m0.parley_sse_streams, N);
    // Leave concurrently; the survivors see every delete.
    const leavers = ps.slice(0, N / 2);
    const stayers = ps.slice(N / 2);
    await Promise.all(leavers.map((p) => p.release()));
    for (const p of stayers) {
      for (const l of leavers) await p.s.waitFor('participant_delete', (x) => x.uuid === l.uuid);
    }
    await Promise.all(stayers.map((p) => p.release()));
    await waitUntil(async () => {
      const m = await d.metrics();
      return m.parley_participants === m0.parley_participants && m.parley_sse_streams === m0.parley_sse_streams &&
        m.parley_rooms_active === m0.parley_rooms_active;
    }, { timeout: 5000, what: 'gauges back to baseline' });
  });

  test('churn: joins, streams, control actions and leaves interleaved', T(90000), async () => {
    const H = await d.join('churn', { name: 'Host', pin: HOST_PIN });
    const hs = await H.events();
    await hs.synced();
    const m0 = await d.metrics();
    const rounds = 30;
    await Promise.all(Array.from({ length: 6 }, async (_, w) => {
      for (let r = 0; r < rounds / 6; r++) {
        const g = await d.join('churn', { name: `G${w}.${r}`, pin: 'none' });
        const s = await g.events();
        await s.synced();
        await H.doOn(g.uuid, 'mute');
        await g.doOn(g.uuid, 'buzz');
        await g.do('message', { type: 'text/plain', payload: `hi from ${w}.${r}` });
        if (r % 2) {
          await g.release();
        } else {
          const res = await H.act(g.uuid, 'disconnect');
          assert.equal(res.status, 200);
        }
        await s.waitClosed();
      }
    }));
    await waitUntil(async () => {
      const m = await d.metrics();
      return m.parley_participants === m0.parley_participants && m.parley_sse_streams === m0.parley_sse_streams;
    }, { what: 'churned participants and streams gone' });
    const list = await H.participants();
    assert.deepEqual(list.map((p) => p.uuid), [H.uuid]);
    assert.equal(hs.filter('message_received').length, rounds);
    hs.assertClean();
    await H.release();
  });
});
