// limits.test.mjs — what one room and one participant may hold: --max-participants (a full room
// refuses request_token with Pexip's 503 "Participant limit reached", and takes people again
// once someone leaves), --max-streams (event streams per participant, whichever token) and
// --max-connections-per-address (more are answered 429 before their request is read).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startDaemon, T, waitUntil } from './helpers.mjs';

let d;
before(async () => {
  d = await startDaemon({ rooms: ['small', 'other', 'streams'], args: ['--max-participants', '3', '--max-streams', '2', '--keepalive', '1'] });
});
after(async () => { await d?.stop(); });

test('a full room refuses request_token with 503 "Participant limit reached"', T(), async () => {
  const ps = [];
  for (let i = 0; i < 3; i++) ps.push(await d.join('small', { name: `P${i}` }));
  const r = await d.api('POST', 'small', 'request_token', { body: { display_name: 'One too many' } });
  assert.equal(r.status, 503, r.text);
  assert.deepEqual(r.body, { status: 'failed', result: 'Participant limit reached' });
  assert.equal((await ps[0].participants()).length, 3, 'nobody was added');
  const elsewhere = await d.join('other', { name: 'Another room' }); // the limit is per room
  await ps[1].release();
  const late = await d.join('small', { name: 'Next in' });
  assert.equal((await late.participants()).length, 3);
  for (const p of [ps[0], ps[2], late, elsewhere]) await p.release();
});

test('a participant holds at most --max-streams event streams, whichever token', T(), async () => {
  const p = await d.join('streams', { name: 'Many tabs' });
  const s1 = await p.events();
  await s1.synced();
  await p.refresh(); // a new token opens streams for the same participant
  const s2 = await p.events();
  await s2.synced();
  const refused = await p.events().then(() => null, (e) => e);
  assert.ok(refused, 'a third stream is refused');
  assert.equal(refused.status, 429, refused.message);
  assert.equal(JSON.parse(refused.text).status, 'failed');
  assert.match(JSON.parse(refused.text).result, /Too many event streams/);
  s1.close();
  // The server notices the closed stream at its next keep-alive; then a new one is welcome.
  let s3;
  for (let i = 0; i < 100 && !s3; i++) {
    s3 = await p.events().catch(() => null);
    if (!s3) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(s3, 'a stream is accepted again once one closed');
  await s3.synced();
  s2.close();
  s3.close();
  await p.release();
});

/** A raw connection from `from` that sends nothing; resolves with it once connected. */
function hold(port, from) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve(s));
    s.once('error', reject);
  });
}

/** What the server says, unasked, on a new connection from `from` (until it closes). */
function greeting(port, from) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d) => { text += d; });
    s.on('close', () => resolve(text));
    s.on('error', reject);
    setTimeout(() => { s.destroy(); resolve(text); }, 3000);
  });
}

test('one address holds at most --max-connections-per-address connections', T(), async () => {
  const dd = await startDaemon({ rooms: ['conns'], args: ['--max-connections-per-address', '5'] });
  try {
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await hold(dd.port, '127.0.0.5'));
    const refused = await greeting(dd.port, '127.0.0.5');
    assert.match(refused, /^HTTP\/1\.1 429 /, `the sixth connection: ${JSON.stringify(refused)}`);
    const body = JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body, { status: 'failed', result: 'Too many connections from this address' });
    // Another address is not held back, and requests on it work.
    const r = await dd.api('POST', 'conns', 'request_token', { body: { display_name: 'Elsewhere' }, localAddress: '127.0.0.6' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await dd.metrics()).parley_http_connections_refused_total, 1);
    held[0].destroy();
    let back;
    await waitUntil(async () => {
      back = await dd.api('POST', 'conns', 'request_token', { body: { display_name: 'Back' }, localAddress: '127.0.0.5', noCheck: true }).catch(() => null);
      return back?.status === 200;
    }, { timeout: 10000, what: 'a connection from the address once one closed' });
    for (const s of held) s.destroy();
  } finally {
    await dd.stop();
  }
});
