// External policy server (client API §E): parleyd asks a real HTTP policy server, started
// here, for service configuration, participant properties, media location and avatars,
// exactly as Pexip Infinity does; what it answers decides rooms, roles, names and PINs,
// and a policy server that hangs or talks nonsense leaves joins to the local store
// within the 5 s budget while the loop keeps answering.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, T, sleep, SLOW, HOST_PIN, rawRequest, waitUntil } from './helpers.mjs';

const USER = 'parley-policy';
const PASSWORD = 's3cret:with colon';
// A tiny baseline JPEG (SOI, APP0 JFIF, EOI): parleyd checks the markers, not the pixels.
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

/** The policy server: records every request; per-alias behaviour in `rules`. */
class PolicyServer {
  constructor() {
    this.requests = [];
    this.rules = new Map(); // alias -> { service, participant, location, avatar } handlers
    this.hung = new Set();
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  async stop() {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }

  handle(req, res) {
    const u = new URL(req.url, 'http://x');
    const q = Object.fromEntries(u.searchParams);
    const kind = u.pathname === '/policy/v1/service/configuration' ? 'service'
      : u.pathname === '/policy/v1/participant/properties' ? 'participant'
        : u.pathname === '/policy/v1/participant/location' ? 'location'
          : u.pathname.startsWith('/policy/v1/participant/avatar/') ? 'avatar' : 'unknown';
    const entry = { kind, path: u.pathname, q, auth: req.headers.authorization, at: Date.now() };
    this.requests.push(entry);
    const rule = this.rules.get(q.local_alias)?.[kind];
    const answer = rule ? rule(q, entry) : { status: 404, json: { status: 'failed' } };
    if (answer === 'hang') { // no answer for 10 s
      this.hung.add(res);
      setTimeout(() => { this.hung.delete(res); if (!res.destroyed) res.end('{}'); }, 10000);
      return;
    }
    const body = answer.raw ?? (answer.json !== undefined ? JSON.stringify(answer.json) : '');
    res.writeHead(answer.status ?? 200, { 'Content-Type': answer.type ?? 'application/json' });
    res.end(body);
  }

  of(kind, alias) { return this.requests.filter((r) => r.kind === kind && (!alias || r.q.local_alias === alias)); }
}

const ok = (result, action = 'continue') => ({ json: { status: 'success', action, result } });
const service = (alias, fields) => ({ service: () => ok({ service_type: 'conference', name: alias, service_tag: `tag-${alias}`, ...fields }) });

describe('external policy server', () => {
  let d;
  let pol;
  before(async () => {
    pol = new PolicyServer();
    await pol.start();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-policy-'));
    const pwFile = path.join(dir, 'pw');
    writeFileSync(pwFile, `${PASSWORD}\n`);
    d = await startDaemon({
      rooms: ['local', 'local2', 'local3', { alias: 'local-pin', pin: '9999', allowGuests: true },
        { alias: 'locked-local', pin: HOST_PIN, allowGuests: true, locked: true }],
      args: ['--policy-url', pol.url, '--policy-user', USER, '--policy-password-file', pwFile],
    });
  });
  after(async () => {
    await d?.stop();
    await pol?.stop();
  });

  test('a room only the policy server knows is joinable; its PIN rules apply; SSE works', T(), async () => {
    pol.rules.set('vmr.adhoc', {
      ...service('Ad-hoc VMR', { pin: '4321', allow_guests: true, guest_pin: '' }),
      location: () => ok({ location: 'London', overflow_locations: ['Paris'] }),
    });
    const prompt = await d.api('POST', 'vmr.adhoc', 'request_token', { body: { display_name: 'Nobody' } });
    assert.equal(prompt.status, 403, prompt.text);
    assert.deepEqual([prompt.body.result.pin, prompt.body.result.guest_pin], ['required', 'none']);
    const wrong = await d.api('POST', 'vmr.adhoc', 'request_token', { body: { display_name: 'Wrong' }, headers: { pin: '1111' } });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.result, 'Invalid PIN');

    const H = await d.join('vmr.adhoc', { name: 'Hanna', pin: '4321', body: { call_tag: 'ct-1' } });
    assert.equal(H.role, 'HOST');
    assert.equal(H.result.conference_name, 'Ad-hoc VMR');
    const G = await d.join('vmr.adhoc', { name: 'Gus', pin: 'none' });
    assert.equal(G.role, 'GUEST');
    const s = await H.events();
    await s.synced();
    const names = s.filter('participant_create').map((e) => e.data.display_name).sort();
    assert.deepEqual(names, ['Gus', 'Hanna'], 'both in one ad-hoc room');
    await H.do('message', { type: 'text/plain', payload: 'hello' });
    const gs = await G.events();
    await gs.synced();
    assert.equal((await G.participants()).length, 2);

    // What the policy server received: Pexip's parameters.
    const svc = pol.of('service', 'vmr.adhoc').at(-1).q;
    for (const [k, v] of Object.entries({ protocol: 'api', call_direction: 'dial_in', trigger: 'web', remote_address: '127.0.0.1', registered: 'False', encryption: 'On' })) {
      assert.equal(svc[k], v, `service configuration ${k}`);
    }
    for (const k of ['remote_alias', 'remote_display_name', 'vendor', 'call_tag', 'location', 'node_ip', 'version_id', 'pseudo_version_id', 'bandwidth', 'supports_direct_media', 'idp_uuid', 'has_authenticated_display_name']) {
      assert.ok(k in svc, `service configuration carries ${k}`);
    }
    const first = pol.of('service', 'vmr.adhoc').find((r) => r.q.remote_display_name === 'Hanna').q;
    assert.equal(first.call_tag, 'ct-1');
    const props = pol.of('participant', 'vmr.adhoc').find((r) => r.q.participant_uuid === H.uuid);
    assert.ok(props, 'participant properties names the participant uuid the token got');
    assert.equal(props.q.preauthenticated_role, 'chair', 'the host PIN was entered');
    assert.equal(props.q.service_name, 'Ad-hoc VMR');
    assert.equal(props.q.service_tag, 'tag-Ad-hoc VMR');
    assert.equal(props.q.participant_type, 'api');
    const gprops = pol.of('participant', 'vmr.adhoc').find((r) => r.q.participant_uuid === G.uuid);
    assert.equal(gprops.q.preauthenticated_role, 'guest');
    await waitUntil(() => pol.of('location', 'vmr.adhoc').some((r) => r.q.participant_uuid === H.uuid), { what: 'media location asked' });
    assert.ok(pol.requests.every((r) => r.auth === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`), 'HTTP Basic on every request');

    const m = await d.metrics();
    assert.ok(m.parley_policy_rooms >= 1);
    // Everyone leaves: the room goes; the next join makes it again.
    await H.release();
    await G.release();
    await sleep(50);
    const again = await d.join('vmr.adhoc', { name: 'Again', pin: '4321' });
    assert.equal(again.role, 'HOST');
    await again.release();
  });

  test('a policy test_call service: a private room per caller, its stream works', T(), async () => {
    pol.rules.set('echo.policy', { service: () => ok({ service_type: 'test_call', name: 'Echo', service_tag: 'e' }) });
    const a = await d.join('echo.policy', { name: 'A' });
    const b = await d.join('echo.policy', { name: 'B' });
    assert.equal(a.result.service_type, 'test_call');
    await b.release();
    const s = await a.events();
    await s.synced();
    assert.deepEqual((await a.participants()).map((p) => p.display_name), ['A'], 'a room of its own');
    await a.release();
    pol.rules.delete('echo.policy');
  });

  test('reject refuses: service configuration -> 404, participant properties -> 403', T(), async () => {
    pol.rules.set('local', { service: () => ({ json: { status: 'success', action: 'reject', result: {} } }) });
    const r = await d.api('POST', 'local', 'request_token', { body: { display_name: 'X' } });
    assert.equal(r.status, 404, 'a store room the policy server rejects is not found');
    assert.equal(r.body.result, 'Neither conference nor gateway found');
    pol.rules.set('local', {
      participant: (q) => (q.remote_display_name === 'Mallory'
        ? { json: { status: 'success', action: 'reject', result: { reject_reason: 'Not on the list' } } }
        : { status: 404 }),
    });
    const m = await d.api('POST', 'local', 'request_token', { body: { display_name: 'Mallory' } });
    assert.equal(m.status, 403);
    assert.equal(m.body.result, 'Not on the list');
    const a = await d.join('local', { name: 'Alice' });
    assert.equal(a.role, 'HOST');
    await a.release();
    pol.rules.delete('local');
  });

  test('role and display name changes take effect', T(), async () => {
    pol.rules.set('local2', {
      participant: (q) => ok(q.remote_display_name === 'Dora' ? { preauthenticated_role: 'guest', remote_display_name: 'Dora (guest)' } : {}),
    });
    const dora = await d.join('local2', { name: 'Dora' });
    assert.equal(dora.role, 'GUEST', 'the policy made a host a guest');
    assert.equal(dora.result.display_name, 'Dora (guest)');
    const me = (await dora.participants()).find((p) => p.uuid === dora.uuid);
    assert.equal(me.role, 'guest');
    assert.equal(me.display_name, 'Dora (guest)');
    // preauthenticated_role chair: as if the host PIN was entered, no prompt.
    pol.rules.set('local-pin', { participant: (q) => ok(q.remote_display_name === 'Vip' ? { preauthenticated_role: 'chair' } : {}) });
    const vip = await d.join('local-pin', { name: 'Vip' });
    assert.equal(vip.role, 'HOST');
    const other = await d.api('POST', 'local-pin', 'request_token', { body: { display_name: 'Other' } });
    assert.equal(other.status, 403, 'others still get the PIN prompt');
    // bypass_lock: past the lock of a locked room without the host PIN.
    pol.rules.set('locked-local', { participant: (q) => ok(q.remote_display_name === 'Bea' ? { bypass_lock: true } : {}) });
    const bea = await d.join('locked-local', { name: 'Bea', pin: 'none' });
    assert.equal(bea.result.current_service_type, 'conference', 'bypass_lock lets her in');
    const carl = await d.join('locked-local', { name: 'Carl', pin: 'none' });
    assert.equal(carl.result.current_service_type, 'waiting_room');
    for (const p of [dora, vip, bea, carl]) await p.release();
  });

  test('PIN changes take effect: the policy PIN replaces the store PIN, per request', T(), async () => {
    let pin = '1111';
    pol.rules.set('local-pin', { service: () => ok({ service_type: 'conference', name: 'Pin room', service_tag: 't', pin, allow_guests: false }) });
    const a = await d.join('local-pin', { name: 'A', pin: '1111' });
    assert.equal(a.role, 'HOST');
    const old = await d.api('POST', 'local-pin', 'request_token', { body: { display_name: 'B' }, headers: { pin: '9999' } });
    assert.equal(old.status, 403, 'the store PIN no longer opens it');
    pin = '2222';
    const stale = await d.api('POST', 'local-pin', 'request_token', { body: { display_name: 'C' }, headers: { pin: '1111' } });
    assert.equal(stale.status, 403);
    assert.equal(stale.body.result, 'Invalid PIN');
    const b = await d.join('local-pin', { name: 'D', pin: '2222' });
    assert.equal(b.role, 'HOST');
    const s = await b.events();
    await s.synced();
    assert.deepEqual(s.filter('participant_create').map((e) => e.data.display_name).sort(), ['A', 'D'], 'one room by the policy name');
    await a.release();
    await b.release();
    pol.rules.delete('local-pin');
  });

  test('a hanging policy server: joins come from the store within 5.5 s, the loop stays responsive', T(30000), async () => {
    pol.rules.set('local3', { service: () => 'hang', participant: () => 'hang' });
    pol.rules.set('never', { service: () => 'hang' });
    const before = await d.metrics();
    const t0 = Date.now();
    const first = d.api('POST', 'local3', 'request_token', { body: { display_name: 'Patient' } });
    await sleep(300);
    const t1 = Date.now();
    const second = d.api('POST', 'local3', 'request_token', { body: { display_name: 'Second' } });
    const missing = d.api('POST', 'never', 'request_token', { body: { display_name: 'Lost' } });
    // Meanwhile the loop answers at once.
    const m0 = Date.now();
    const metrics = await d.get('/metrics');
    const metricsMs = Date.now() - m0;
    assert.equal(metrics.status, 200);
    assert.ok(metricsMs < 250 * SLOW, `/metrics took ${metricsMs} ms while policy requests hang`);
    const h0 = Date.now();
    const other = await d.api('GET', 'local3', 'conference_status', { token: 'x' });
    assert.equal(other.status, 403);
    assert.ok(Date.now() - h0 < 250 * SLOW);
    const r1 = await first;
    const e1 = Date.now() - t0;
    const r2 = await second;
    const e2 = Date.now() - t1;
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r2.status, 200, r2.text);
    const budget = 5500 * (SLOW > 1 ? 1.2 : 1);
    assert.ok(e1 <= budget && e1 >= 4900, `first join took ${e1} ms`);
    assert.ok(e2 <= budget, `second join took ${e2} ms: not queued behind the first`);
    const lost = await missing;
    assert.equal(lost.status, 404, 'an alias only the hung server could know is not found');
    const after = await d.metrics();
    assert.ok(after.parley_policy_requests_total - before.parley_policy_requests_total >= 3);
    const text = (await d.get('/metrics')).text;
    assert.match(text, /parley_policy_requests_total\{type="service",outcome="timeout"\} [3-9]/);
    for (const p of [r1, r2]) await d.api('POST', 'local3', 'release_token', { token: p.body.result.token, body: {} });
    pol.rules.delete('local3');
  });

  test('garbage answers fall back to the store at once', T(), async () => {
    const cases = [
      { raw: '<html>oops</html>', type: 'text/html' },
      { raw: '{"status": "success", "result": ' },
      { json: { status: 'failed', action: 'reject', result: {} } },
      { json: { status: 'success', result: { service_type: 'conference', pin: 'abc', name: 'x' } } },
      { json: { status: 'success', result: { service_type: 'gateway', name: 'gw', service_tag: 'g' } } },
      { status: 500, raw: 'Internal error' },
      { json: ['status', 'success'] },
      { raw: JSON.stringify({ status: 'success', action: 'continue', result: { service_type: 'conference', name: 'big', service_tag: 'x', description: 'y'.repeat(70000) } }) },
    ];
    for (const c of cases) {
      pol.rules.set('local', { service: () => c, participant: () => c });
      const t0 = Date.now();
      const r = await d.api('POST', 'local', 'request_token', { body: { display_name: 'G' } });
      const ms = Date.now() - t0;
      assert.equal(r.status, 200, `${JSON.stringify(c).slice(0, 80)}: ${r.text}`);
      assert.equal(r.body.result.role, 'HOST');
      assert.equal(r.body.result.conference_name, 'local', 'the store room');
      assert.ok(ms < 1000 * SLOW, `fell back in ${ms} ms`);
      await d.api('POST', 'local', 'release_token', { token: r.body.result.token, body: {} });
      pol.rules.set('garbage-only', { service: () => c });
      const nf = await d.api('POST', 'garbage-only', 'request_token', { body: { display_name: 'G' } });
      assert.equal(nf.status, 404);
    }
    const text = (await d.get('/metrics')).text;
    assert.match(text, /parley_policy_requests_total\{type="service",outcome="invalid"\} [1-9]/);
    assert.match(text, /parley_policy_requests_total\{type="service",outcome="http_error"\} [1-9]/);
    assert.match(text, /parley_policy_request_seconds_count\{type="service"\} [1-9]/);
    pol.rules.delete('local');
  });

  test('avatars come from the policy server, cached; none gives 404', T(), async () => {
    pol.rules.set('local', {
      avatar: (q, e) => (e.path.endsWith('/Ava%20Tar') ? { raw: JPEG, type: 'image/jpeg' }
        : e.path.endsWith('/Not%20Jpeg') ? { raw: 'GIF89a', type: 'image/jpeg' } : { status: 404 }),
    });
    const ava = await d.join('local', { name: 'Ava Tar' });
    const plain = await d.join('local', { name: 'Not Jpeg' });
    const get = (p, target, qs = '') => rawRequest(d.port, 'GET', `/api/client/v2/conferences/local/participants/${target.uuid}/avatar.jpg${qs}`, { headers: { token: p.token } });
    const r = await get(plain, ava, '?width=64&height=48');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'image/jpeg');
    assert.ok(r.buffer.equals(JPEG), 'the policy server\'s bytes');
    const req = pol.of('avatar', 'local').at(-1);
    assert.equal(req.path, '/policy/v1/participant/avatar/Ava%20Tar');
    assert.equal(req.q.width, '64');
    assert.equal(req.q.height, '48');
    assert.equal(req.q.role, 'chair');
    assert.equal(req.q.trigger, 'web_avatar_fetch');
    assert.equal(req.q.participant_uuid, ava.uuid);
    const n = pol.of('avatar').length;
    const again = await get(ava, ava, '?width=64&height=48');
    assert.equal(again.status, 200);
    assert.ok(again.buffer.equals(JPEG));
    assert.equal(pol.of('avatar').length, n, 'served from the cache');
    const none = await get(ava, plain);
    assert.equal(none.status, 404);
    assert.equal(JSON.parse(none.text).result, 'No image available');
    await ava.release();
    await plain.release();
    pol.rules.delete('local');
  });
});
