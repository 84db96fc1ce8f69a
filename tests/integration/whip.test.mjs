// WHIP ingest (RFC 9725, docs/PUBSUB.md "WHIP") with a plain HTTP client: what an encoder
// such as OBS sees (201, Location, ETag, Link, the answer), the errors (400, 401, 403, 404,
// 405, 409, 415, 429), CORS for browser clients, and the session's other participants
// hearing the WHIP publisher come and go. Media through WHIP: tests/browser/whip.test.mjs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, rawRequest } from './helpers.mjs';
import { RtcClient, signJwt } from './pubsub_client.mjs';

const WHIP = '/api/rtc/v1/whip';
const ORIGIN = 'https://app.example.com';
const STUN = 'stun:stun.example.net:3478';
const TURN = 'turn:turn.example.net:3478?transport=udp';

// What OBS (libdatachannel) offers: Opus and H.264 (packetization-mode 1), bundled,
// sendonly, its candidates in the offer (no trickle).
const OBS_OFFER = [
  'v=0', 'o=rtc 4107523824 0 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0 1', 'a=group:LS 0 1', 'a=msid-semantic:WMS *',
  'a=setup:actpass', 'a=ice-ufrag:PvC3', 'a=ice-pwd:Mkz1lqr0PUWVzQ3hTJtLDIIh',
  'a=ice-options:ice2,trickle',
  'a=fingerprint:sha-256 9E:06:60:3B:53:2F:7C:3A:B0:EE:AD:2C:4D:21:B7:E5:65:7C:25:F9:6E:72:57:9B:3B:A3:F5:2A:D9:D7:2E:23',
  'm=audio 50000 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 127.0.0.1', 'a=mid:0', 'a=sendonly',
  'a=ssrc:2263331582 cname:obs', 'a=ssrc:2263331582 msid:obs obs-audio', 'a=msid:obs obs-audio',
  'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1',
  'a=candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host', 'a=end-of-candidates',
  'm=video 50000 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 127.0.0.1', 'a=mid:1', 'a=sendonly',
  'a=ssrc:2263331583 cname:obs', 'a=ssrc:2263331583 msid:obs obs-video', 'a=msid:obs obs-video',
  'a=rtcp-mux', 'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:96 goog-remb',
  'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
].join('\r\n') + '\r\n';

describe('WHIP', () => {
  let d, acme, other, key;
  const jwt = (acc, claims = {}) => signJwt(acc.jwt_secret,
    { cid: acc.cid, sid: '*', exp: Math.floor(Date.now() / 1000) + 600, ...claims });
  const post = (path, { token, body = OBS_OFFER, type = 'application/sdp', origin, headers = {} } = {}) =>
    rawRequest(d.port, 'POST', path, {
      body,
      headers: {
        ...(type ? { 'Content-Type': type } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(origin ? { Origin: origin } : {}),
        ...headers,
      },
    });
  const refused = (r, status, pattern) => {
    assert.equal(r.status, status, `${status} expected: ${r.status} ${r.text}`);
    assert.match(r.headers['content-type'], /^text\/plain/);
    assert.ok(r.text.trim().length > 10, `a readable reason: ${r.text}`);
    if (pattern) assert.match(r.text, pattern);
  };
  const sockets = [];
  const ws = async (opts) => {
    const c = await RtcClient.open(d.port, opts);
    sockets.push(c);
    return c;
  };

  before(async () => {
    d = await startDaemon({
      args: ['--stun-url', STUN, '--turn-url', TURN, '--turn-secret', 'whip-test-secret'],
    });
    const add = async (cid) => {
      const r = await d.ctl('account', 'add', '--cid', cid, '--json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    acme = await add('acme');
    other = await add('other');
    const r = await d.ctl('key', 'add', '--account', 'acme', '--origin', ORIGIN);
    assert.equal(r.code, 0, r.stderr);
    key = r.stdout.trim();
  });
  after(async () => {
    for (const c of sockets) c.close();
    await d?.stop();
  });

  test('an OBS-like offer: 201, Location, ETag, Link, an H.264 answer; DELETE ends it', async () => {
    const watcher = await ws();
    await watcher.ok('join', { sid: 'live', uid: 'watcher', jwt: jwt(acme) });
    const r = await post(`${WHIP}/live?name=OBS`, { token: jwt(acme) });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers['content-type'], 'application/sdp');
    const loc = r.headers.location;
    assert.match(loc, /^\/api\/rtc\/v1\/whip\/live\/[A-Za-z0-9_-]{43}$/);
    assert.match(r.headers.etag, /^"[^"]+"$/);
    // RFC 9725 §4.6: one Link per ICE server URL, TURN with its credentials.
    const links = [].concat(r.headers.link ?? []).join(', ');
    assert.ok(links.includes(`<${STUN}>; rel="ice-server"`), links);
    assert.match(links, new RegExp(`<${TURN.replace(/[?.]/g, '\\$&')}>; rel="ice-server"; username="[^"]+"; credential="[^"]+"; credential-type="password"`));
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(r.headers['access-control-expose-headers'], /location/);
    // The answer: both m-lines, recvonly, H.264 packetization-mode 1 and Opus.
    const sdp = r.text;
    assert.match(sdp, /^v=0\r\n/);
    assert.equal(sdp.match(/^m=/gm).length, 2);
    assert.match(sdp, /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF 111\r$/m);
    assert.match(sdp, /^m=video [1-9]\d* UDP\/TLS\/RTP\/SAVPF 96\b/m);
    assert.match(sdp, /^a=rtpmap:96 H264\/90000\r$/m);
    assert.match(sdp, /^a=fmtp:96 .*packetization-mode=1/m);
    assert.equal(sdp.match(/^a=recvonly\r$/gm).length, 2);
    assert.match(sdp, /^a=ice-lite\r$/m);
    assert.match(sdp, /^a=candidate:/m);
    // The ufrag is compared as text: it may hold '+' and '/', which a RegExp reads as syntax.
    assert.equal(r.headers.etag, `"${sdp.match(/^a=ice-ufrag:(\S+)\r$/m)[1]}"`);

    // The session sees an ordinary participant and its feed.
    const joined = await watcher.expect('participant_joined');
    assert.equal(joined.name, 'OBS');
    const pub = await watcher.expect('publisher');
    assert.equal(pub.uid, joined.uid);
    assert.equal(pub.type, 'video');
    const late = await ws();
    const j = await late.ok('join', { sid: 'live', jwt: jwt(acme) });
    assert.deepEqual(j.feeds.map((f) => f.feed_id), [pub.feed_id]);
    assert.ok(j.participants.some((x) => x.uid === pub.uid && x.name === 'OBS'));
    assert.equal((await watcher.expect('participant_joined')).uid, j.uid);
    await late.ok('leave');
    assert.deepEqual(await watcher.expect('participant_left'), { uid: j.uid });

    // Neither trickle nor ICE restart: 405 naming what is allowed.
    const patch = await rawRequest(d.port, 'PATCH', loc, {
      body: 'a=ice-ufrag:x\r\n', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
    });
    assert.equal(patch.status, 405);
    assert.match(patch.headers.allow, /DELETE/);
    assert.equal(patch.headers['accept-patch'], undefined);
    assert.equal((await rawRequest(d.port, 'POST', loc, { body: 'x' })).status, 405);

    // A resource of another session's path is not found; its own is deleted once.
    const wrong = loc.replace('/live/', '/other/');
    refused(await rawRequest(d.port, 'DELETE', wrong), 404);
    const del = await rawRequest(d.port, 'DELETE', loc);
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(await watcher.expect('publisher_left'), { uid: pub.uid, feed_id: pub.feed_id });
    assert.deepEqual(await watcher.expect('participant_left'), { uid: pub.uid });
    refused(await rawRequest(d.port, 'DELETE', loc), 404);
    refused(await rawRequest(d.port, 'DELETE', `${WHIP}/live/not-a-resource`), 404);

    const m = await d.metrics();
    assert.equal(m.parley_whip_resources, 0);
    assert.ok(m.parley_whip_created_total >= 1);
    assert.ok(m.parley_whip_deleted_total >= 1);
  });

  test('credentials: a JWT, or a key only from a browser page of its origins', async () => {
    // No credential, or not a Bearer one.
    let r = await post(`${WHIP}/auth`);
    refused(r, 401);
    assert.match(r.headers['www-authenticate'], /^Bearer/);
    refused(await post(`${WHIP}/auth`, { headers: { Authorization: 'Basic dXNlcjpwdw==' } }), 401);
    refused(await post(`${WHIP}/auth`, { token: 'not.a.jwt' }), 401);
    // Forged (acme's claims with other's secret), expired, another session, may not publish.
    refused(await post(`${WHIP}/auth`, {
      token: signJwt(other.jwt_secret, { cid: 'acme', sid: '*', exp: Math.floor(Date.now() / 1000) + 60 }),
    }), 401);
    refused(await post(`${WHIP}/auth`, { token: jwt(acme, { exp: 1000 }) }), 401);
    refused(await post(`${WHIP}/auth`, { token: jwt(acme, { sid: 'elsewhere' }) }), 403, /another session/);
    refused(await post(`${WHIP}/auth`, { token: jwt(acme, { can_publish: false }) }), 403, /can_publish/);
    // A key is visible in web pages: without an Origin (an encoder) it is refused and the
    // reason says to use a JWT; from a foreign origin too.
    refused(await post(`${WHIP}/auth`, { token: key }), 403, /JWT/);
    refused(await post(`${WHIP}/auth`, { token: key, origin: 'https://evil.example.org' }), 403);
    refused(await post(`${WHIP}/auth`, { token: key, origin: `https://${'a'.repeat(600)}.example.com` }),
      400, /Origin header is over 511 bytes/);
    // From its origin (a browser WHIP client) it publishes.
    r = await post(`${WHIP}/auth`, { token: key, origin: ORIGIN });
    assert.equal(r.status, 201, r.text);
    assert.equal((await rawRequest(d.port, 'DELETE', r.headers.location)).status, 200);
    // The JWT's uid claim is the participant's: a second stream with it is a conflict.
    r = await post(`${WHIP}/auth`, { token: jwt(acme, { uid: 'cam1' }) });
    assert.equal(r.status, 201, r.text);
    refused(await post(`${WHIP}/auth`, { token: jwt(acme, { uid: 'cam1' }) }), 409, /already/);
    assert.equal((await rawRequest(d.port, 'DELETE', r.headers.location)).status, 200);
    // Tenants apart: other's session "auth" is not acme's.
    const o = await ws();
    const oj = await o.ok('join', { sid: 'auth', jwt: jwt(other) });
    assert.deepEqual(oj.participants, []);
  });

  test('requests that are not an offer', async () => {
    const token = jwt(acme);
    refused(await post(`${WHIP}/bad`, { token, type: 'application/json', body: '{}' }), 415);
    refused(await post(`${WHIP}/bad`, { token, type: null }), 415);
    refused(await post(`${WHIP}/bad`, { token, body: '' }), 400);
    refused(await post(`${WHIP}/bad`, { token, body: 'hello, world' }), 400);
    // Readable reasons for unusable offers.
    refused(await post(`${WHIP}/bad`, { token, body: OBS_OFFER.replace(/a=fingerprint[^\r]*\r\n/, '') }), 400);
    refused(await post(`${WHIP}/bad`, { token, body: 'x'.repeat(70 * 1024) }), 413);
    refused(await post(`${WHIP}/bad?type=movie`, { token }), 400, /type/);
    refused(await post(`${WHIP}/bad%2`, { token }), 404);
    refused(await post(`${WHIP}/a/b/c`, { token }), 404);
    refused(await post(`${WHIP}/${'s'.repeat(65)}`, { token }), 404);
    const get = await rawRequest(d.port, 'GET', `${WHIP}/bad`);
    assert.equal(get.status, 405);
    assert.match(get.headers.allow, /POST/);
    // Nothing was left behind by the refusals.
    const c = await ws();
    const j = await c.ok('join', { sid: 'bad', jwt: token });
    assert.deepEqual(j.participants, []);
    assert.deepEqual(j.feeds, []);
  });

  test('CORS preflight for browser WHIP clients', async () => {
    const pre = await rawRequest(d.port, 'OPTIONS', `${WHIP}/live`, {
      headers: {
        Origin: 'https://studio.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    assert.match(pre.headers['access-control-allow-methods'], /POST/);
    assert.match(pre.headers['access-control-allow-headers'], /authorization/);
    assert.match(pre.headers['access-control-allow-headers'], /content-type/);
    const res = await rawRequest(d.port, 'OPTIONS', `${WHIP}/live/abc`, {
      headers: { Origin: 'https://studio.example', 'Access-Control-Request-Method': 'DELETE' },
    });
    assert.equal(res.status, 204);
    assert.match(res.headers['access-control-allow-methods'], /DELETE/);
  });

  test('a full session is 429', async () => {
    const full = [];
    for (let i = 0; i < 100; i++) {
      const c = await ws();
      await c.ok('join', { sid: 'full', jwt: jwt(acme) });
      full.push(c);
    }
    refused(await post(`${WHIP}/full`, { token: jwt(acme) }), 429, /full/);
    for (const c of full) c.close();
  });
});
