// Bad input and error envelopes: malformed JSON, content types, body limits, unknown rooms,
// participants and endpoints, token errors, alias encodings, HTTP keep-alive.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { startDaemon, Participant, T, assertFailed, rawRequest, assertJsonEnvelope, assertSchema, GENERIC_FAILED, API, HOST_PIN } from './helpers.mjs';

let d;
before(async () => {
  d = await startDaemon({
    rooms: [
      'err',
      { alias: 'meet@example.com', aliases: ['other alias'] },
      { alias: 'Mixed.Case-Room_1' },
      { alias: 'err-pin', pin: HOST_PIN, allowGuests: true },
    ],
  });
});
after(async () => { await d?.stop(); });

describe('bad input', () => {
  test('malformed JSON -> 400 JSON failed', T(), async () => {
    const r = await d.api('POST', 'err', 'request_token', { rawBody: '{"display_name": "x",', contentType: 'application/json' });
    assertFailed(r, 400);
    const a = await d.join('err', { name: 'M' });
    const r2 = await d.api('POST', 'err', 'message', { token: a.token, rawBody: '{not json}', contentType: 'application/json' });
    assertFailed(r2, 400);
    const r3 = await d.api('POST', 'err', `participants/${a.uuid}/overlaytext`, { token: a.token, rawBody: '[1,2', contentType: 'application/json' });
    assertFailed(r3, 400);
  });

  test('JSON that is not an object, or lacks required fields -> 400', T(), async () => {
    assertFailed(await d.api('POST', 'err', 'request_token', { rawBody: '"just a string"', contentType: 'application/json' }), 400);
    assertFailed(await d.api('POST', 'err', 'request_token', { body: {} }), 400, undefined, 'request_token without display_name: ');
    assertFailed(await d.api('POST', 'err', 'request_token', { body: { display_name: 42 } }), 400, undefined, 'non-string display_name: ');
    const a = await d.join('err', { name: 'M2' });
    assertFailed(await d.api('POST', 'err', 'message', { token: a.token, body: { type: 'text/plain' } }), 400, undefined, 'message without payload: ');
  });

  test('non-JSON content type on a JSON POST -> 415', T(), async () => {
    const r = await d.api('POST', 'err', 'request_token', { rawBody: '{"display_name":"x"}', contentType: 'text/plain' });
    assert.equal(r.status, 415, `request_token with text/plain: ${r.status} ${r.text}`);
    assert.equal(r.body.status, 'failed');
    const r2 = await d.api('POST', 'err', 'request_token', { rawBody: 'display_name=x', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(r2.status, 415);
    const a = await d.join('err', { name: 'CT' });
    const r3 = await d.api('POST', 'err', 'message', { token: a.token, rawBody: '{"type":"text/plain","payload":"x"}', contentType: 'text/plain' });
    assertFailed(r3, 415);
  });

  test('application/json with a charset parameter is accepted', T(), async () => {
    const r = await d.api('POST', 'err', 'request_token', { rawBody: '{"display_name":"Charset"}', contentType: 'application/json; charset=utf-8' });
    assert.equal(r.status, 200, r.text);
  });

  test('body larger than 64 KiB -> 413', T(), async () => {
    const big = JSON.stringify({ display_name: 'x'.repeat(70 * 1024) });
    const r = await d.api('POST', 'err', 'request_token', { rawBody: big, contentType: 'application/json' });
    assertFailed(r, 413);
    const a = await d.join('err', { name: 'Big' });
    const r2 = await d.api('POST', 'err', 'message', { token: a.token, body: { type: 'text/plain', payload: 'y'.repeat(65 * 1024) } });
    assertFailed(r2, 413);
    // just under the limit is fine
    const ok = await d.api('POST', 'err', 'message', { token: a.token, body: { type: 'text/plain', payload: 'z'.repeat(60 * 1024) } });
    assert.equal(ok.status, 200);
    // the server is still healthy
    assert.equal((await d.get('/healthz')).status, 200);
  });

  test('request bodies with unknown keys are accepted (ignored)', T(), async () => {
    const r = await d.api('POST', 'err', 'request_token', {
      body: { display_name: 'Extra', registration_token: 'r', chosen_idp: 'none', sso_token: 'none', node: 'n', breakout_rooms: true, something_new: { a: 1 } },
    });
    assert.equal(r.status, 200, r.text);
    const a = new Participant(d, 'err', r.body.result);
    const rel = await d.api('POST', 'err', 'release_token', { token: a.token, body: { reason: 'bye', error: 'none' } });
    assert.equal(rel.status, 200);
  });

  test('invalid UTF-8, deep nesting and NUL escapes are rejected or preserved, never crash', T(), async () => {
    const bad = Buffer.concat([Buffer.from('{"display_name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    assertFailed(await d.api('POST', 'err', 'request_token', { rawBody: bad, contentType: 'application/json' }), 400, undefined, 'invalid UTF-8: ');
    const deep = '['.repeat(30000) + ']'.repeat(30000);
    assertFailed(await d.api('POST', 'err', 'request_token', { rawBody: deep, contentType: 'application/json' }), 400, undefined, 'deeply nested JSON: ');
    const nul = await d.api('POST', 'err', 'request_token', { rawBody: '{"display_name":"a\\u0000b"}', contentType: 'application/json' });
    if (nul.status === 200) {
      assert.equal(nul.body.result.display_name, 'a\u0000b', 'a NUL in a name must not truncate it');
    } else {
      assertFailed(nul, 400, undefined, 'NUL in display_name: ');
    }
    assert.equal((await d.get('/healthz')).status, 200);
  });

  test('very long aliases and participant ids are plain 404s', T(), async () => {
    const longAlias = 'a'.repeat(5000);
    const r = await d.api('POST', longAlias, 'request_token', { body: { display_name: 'x' }, noCheck: true });
    assert.ok([404, 414, 400, 431].includes(r.status), `long alias: ${r.status}`);
    assertSchema(GENERIC_FAILED, assertJsonEnvelope(r, 'long alias'));
    const a = await d.join('err', { name: 'Long' });
    for (const id of ['b'.repeat(3000), '%00']) {
      const r2 = await a.act(id, 'mute');
      assert.ok(r2.status === 404 || r2.status === 400, `participant id ${id.slice(0, 10)}…: ${r2.status}`);
      assert.equal(r2.body.status, 'failed');
    }
    assert.equal((await a.me()).is_muted, 'NO');
  });

  test('display names with unicode and quotes round-trip', T(), async () => {
    const name = 'Zoë "Z" O\'Brien — 会議 🎉 \\ /';
    const a = await d.join('err', { name });
    assert.equal(a.result.display_name, name);
    assert.equal((await a.me()).display_name, name);
    const s = await a.events();
    await s.synced();
    assert.equal(s.find('participant_create', (p) => p.uuid === a.uuid).data.display_name, name);
    s.close();
    await a.release();
  });
});

describe('not found', () => {
  test('unknown room -> 404 Neither conference nor gateway found', T(), async () => {
    assertFailed(await d.api('POST', 'no-such-room', 'request_token', { body: { display_name: 'x' } }), 404, 'Neither conference nor gateway found');
  });

  test('unknown participant -> 404', T(), async () => {
    const a = await d.join('err', { name: 'Finder' });
    for (const action of ['mute', 'unmute', 'spotlighton', 'disconnect', 'buzz']) {
      const r = await a.act('0f0f0f0f-0000-4000-8000-000000000000', action);
      assertFailed(r, 404, undefined, `${action} on unknown participant: `);
    }
    const msg = await a.act('0f0f0f0f-0000-4000-8000-000000000000', 'message', { type: 'text/plain', payload: 'x' });
    assertFailed(msg, 404);
  });

  test('unknown endpoint -> 404 JSON, not HTML', T(), async () => {
    const a = await d.join('err', { name: 'Lost' });
    for (const [m, p] of [['GET', 'no_such_endpoint'], ['POST', 'no_such_endpoint'], ['POST', `participants/${a.uuid}/no_such_action`]]) {
      const r = await a.req(m, p, { body: m === 'POST' ? {} : undefined });
      assertFailed(r, 404, undefined, `${m} ${p}: `);
    }
    for (const p of ['/', '/nonexistent', '/api/client/v2/', '/api/client/v2/conferences/']) {
      const r = await rawRequest(d.port, 'GET', p);
      assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status}`);
      const body = assertJsonEnvelope(r, p);
      assertSchema(GENERIC_FAILED, body);
    }
  });

  test('wrong method -> 4xx JSON envelope', T(), async () => {
    const a = await d.join('err', { name: 'Method' });
    for (const [m, p] of [['GET', 'lock'], ['GET', 'request_token'], ['DELETE', 'participants'], ['PUT', 'message']]) {
      const r = await a.req(m, p, { noCheck: true });
      assert.ok(r.status === 405 || r.status === 404, `${m} ${p}: ${r.status}`);
      const body = assertJsonEnvelope(r, `${m} ${p}`);
      assertSchema(GENERIC_FAILED, body);
    }
  });
});

describe('tokens in errors', () => {
  test('missing token -> 403 Invalid token on every protected endpoint', T(), async () => {
    const a = await d.join('err', { name: 'Victim' });
    const cases = [['GET', 'conference_status'], ['GET', 'participants'], ['POST', 'lock'], ['POST', 'refresh_token'],
      ['POST', 'release_token'], ['POST', 'message'], ['POST', `participants/${a.uuid}/mute`], ['GET', 'available_layouts']];
    for (const [m, p] of cases) {
      const r = await d.api(m, 'err', p, { body: p === 'message' ? { type: 'text/plain', payload: 'x' } : undefined });
      assertFailed(r, 403, 'Invalid token', `${m} ${p} without token: `);
    }
    assert.equal((await a.me()).is_muted, 'NO', 'nothing happened');
  });

  test('forged token -> 403 Invalid token (header and query)', T(), async () => {
    const a = await d.join('err', { name: 'Real' });
    const forged = [a.token.slice(0, -2) + (a.token.endsWith('AA') ? 'BB' : 'AA'), 'x', 'a'.repeat(4000), `${a.token}x`, ''];
    for (const t of forged) {
      for (const tokenIn of ['header', 'query']) {
        const r = await d.api('GET', 'err', 'participants', { token: t, tokenIn });
        assertFailed(r, 403, 'Invalid token', `forged token (${t.length} chars, ${tokenIn}): `);
      }
    }
  });

  test('a released token is rejected everywhere', T(), async () => {
    const a = await d.join('err', { name: 'Gone' });
    await a.release();
    assertFailed(await d.api('GET', 'err', 'participants', { token: a.token }), 403, 'Invalid token');
    assertFailed(await d.api('POST', 'err', 'refresh_token', { token: a.token }), 403, 'Invalid token');
    assertFailed(await d.api('POST', 'err', 'release_token', { token: a.token, body: {} }), 403, 'Invalid token');
  });

  test('request_token with a pin header on a wrong PIN never leaks a token', T(), async () => {
    const r = await d.api('POST', 'err-pin', 'request_token', { body: { display_name: 'x' }, headers: { pin: '0000' } });
    assertFailed(r, 403, 'Invalid PIN');
    assert.ok(!r.text.includes('token"'), 'no token in an error');
  });
});

describe('aliases', () => {
  test('alias with @: percent-encoded and raw both work', T(), async () => {
    const enc = await d.api('POST', 'meet@example.com', 'request_token', { body: { display_name: 'Enc' } });
    assert.equal(enc.status, 200, `encoded: ${enc.text}`);
    const raw = await d.api('POST', 'meet@example.com', 'request_token', { body: { display_name: 'Raw' }, rawAlias: true });
    assert.equal(raw.status, 200, `raw: ${raw.text}`);
    // Same room: each sees the other.
    const list = await d.api('GET', 'meet@example.com', 'participants', { token: raw.body.result.token, rawAlias: true });
    const uuids = list.body.result.map((p) => p.uuid);
    assert.ok(uuids.includes(enc.body.result.participant_uuid) && uuids.includes(raw.body.result.participant_uuid));
    // Partly encoded spellings resolve too.
    const mixed = await d.api('GET', 'meet%40example.com', 'conference_status', { token: raw.body.result.token, rawAlias: true });
    assert.equal(mixed.status, 200);
  });

  test('alias with a space (%20) and a second alias of the same room', T(), async () => {
    const a = await d.api('POST', 'other alias', 'request_token', { body: { display_name: 'Space' } });
    assert.equal(a.status, 200, a.text);
    const b = await d.join('meet@example.com', { name: 'Primary' });
    const list = await b.participants();
    assert.ok(list.some((p) => p.uuid === a.body.result.participant_uuid), 'both aliases lead to the same room');
    const s = await d.sse('other alias', a.body.result.token);
    await s.synced();
    s.close();
  });

  test('alias lookup is exact or case-insensitive but never a different room', T(), async () => {
    const a = await d.api('POST', 'Mixed.Case-Room_1', 'request_token', { body: { display_name: 'Case' } });
    assert.equal(a.status, 200);
    const other = await d.api('POST', 'Mixed.Case-Room_2', 'request_token', { body: { display_name: 'Case' } });
    assertFailed(other, 404, 'Neither conference nor gateway found');
  });

  test('path traversal-ish aliases are just unknown rooms', T(), async () => {
    for (const alias of ['..', '%2e%2e', 'err%2F..', 'err%00x']) {
      const r = await d.api('POST', alias, 'request_token', { body: { display_name: 'x' }, rawAlias: true, noCheck: true });
      assert.ok(r.status === 404 || r.status === 400, `${alias}: ${r.status}`);
      const body = assertJsonEnvelope(r, alias);
      assertSchema(GENERIC_FAILED, body);
    }
  });
});

describe('HTTP', () => {
  test('keep-alive: several requests on one connection', T(), async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set();
      let last;
      for (let i = 0; i < 5; i++) {
        last = await new Promise((resolve, reject) => {
          const body = JSON.stringify({ display_name: `KA${i}` });
          const req = http.request({ host: '127.0.0.1', port: d.port, method: 'POST', path: `${API}/err/request_token`, agent,
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
            sockets.add(res.socket);
            let t = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { t += c; });
            res.on('end', () => resolve({ status: res.statusCode, text: t }));
          });
          req.on('error', reject);
          req.end(body);
        });
        assert.equal(last.status, 200);
      }
      assert.equal(sockets.size, 1, 'all requests reused one connection');
    } finally {
      agent.destroy();
    }
  });

  test('garbage on the socket does not hurt the server', T(), async () => {
    await new Promise((resolve) => {
      const s = net.connect(d.port, '127.0.0.1', () => {
        s.write('THIS IS NOT HTTP\r\n\r\n\x00\x01\x02');
      });
      const timer = setTimeout(() => { s.destroy(); resolve(); }, 2000);
      s.on('data', () => {});
      s.on('error', () => { clearTimeout(timer); resolve(); });
      s.on('close', () => { clearTimeout(timer); resolve(); });
    });
    await new Promise((resolve) => {
      const s = net.connect(d.port, '127.0.0.1', () => {
        s.write(`POST ${API}/err/request_token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"disp`);
        setTimeout(() => s.destroy(), 100);
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    const h = await d.get('/healthz');
    assert.equal(h.status, 200);
    const r = await d.api('POST', 'err', 'request_token', { body: { display_name: 'After garbage' } });
    assert.equal(r.status, 200);
  });
});
