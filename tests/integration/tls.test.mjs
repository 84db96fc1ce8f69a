// HTTPS on the client API listener (--tls-cert/--tls-key): certificates from parleyctl tls
// self-signed, REST over HTTP/1.1 and HTTP/2 (ALPN), event streams over HTTP/2, the static web
// app, modern protocol versions only, wss:// in RTM's ws_endpoint, certificate reload on
// SIGHUP without dropping open streams, and clear errors for bad files.
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';

import { API, Daemon, SLOW, T, parleyctl, sleep, startDaemon, uniq, waitUntil, withTimeout } from './helpers.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** parleyctl tls self-signed; returns {cert, key, pem, pin}. */
async function selfSigned(name, host = '127.0.0.1') {
  const cert = path.join(dir, `${name}.crt`), key = path.join(dir, `${name}.key`);
  const r = await parleyctl(dir, ['tls', 'self-signed', '--name', host, '--out-cert', cert, '--out-key', key, '--days', '2']);
  assert.equal(r.code, 0, `parleyctl tls self-signed: ${r.stderr}`);
  const pin = /^spki-sha256: (\S+)$/m.exec(r.stdout)?.[1];
  assert.match(pin ?? '', /^[A-Za-z0-9+/]{43}=$/, `a base64 SHA-256 pin in: ${r.stdout}`);
  return { cert, key, pem: readFileSync(cert, 'utf8'), pin };
}

// The SHA-256 of the certificate's DER SubjectPublicKeyInfo (node's peer.pubkey is the bare key).
const spkiPin = (peer) => createHash('sha256')
  .update(new X509Certificate(peer.raw).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

/** A TLS handshake; resolves {alpn, version, cipher, pin, fingerprint} or rejects. */
function handshake(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
      const peer = s.getPeerCertificate();
      const out = { alpn: s.alpnProtocol, version: s.getProtocol(), cipher: s.getCipher().name,
        pin: spkiPin(peer), fingerprint: peer.fingerprint256 };
      s.end();
      resolve(out);
    });
    s.setTimeout(5000 * SLOW, () => s.destroy(new Error('handshake timed out')));
    s.on('error', reject);
  });
}

/** One HTTPS/1.1 request; resolves {status, headers, text, alpn}. */
function request11(port, ca, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({ host: '127.0.0.1', port, method, path: p, ca, agent: false, ALPNProtocols: ['http/1.1'],
      headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString(),
        alpn: res.socket.alpnProtocol }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** One request on an HTTP/2 session; resolves {status, headers, text}. */
function request2(session, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const s = session.request({ ':method': method, ':path': p, ...(data ? { 'content-type': 'application/json' } : {}) });
    let headers;
    const chunks = [];
    s.on('response', (h) => { headers = h; });
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => resolve({ status: headers?.[':status'], headers, text: Buffer.concat(chunks).toString() }));
    s.on('error', reject);
    s.end(data);
  });
}

/** An event stream read from a readable (HTTP/1.1 response or HTTP/2 stream): the event names seen. */
function eventLog(readable) {
  const log = { names: [], ended: false, text: '' };
  readable.setEncoding('utf8');
  readable.on('data', (chunk) => {
    log.text += chunk;
    for (const m of chunk.matchAll(/^event: (\S+)$/gm)) log.names.push(m[1]);
  });
  readable.on('close', () => { log.ended = true; });
  readable.on('error', () => { log.ended = true; });
  return log;
}

const joinBody = (name) => ({ display_name: name });
const tokenOf = (r) => JSON.parse(r.text).result.token;

describe('HTTPS listener', () => {
  let d, a, room, metricsPort;
  before(async () => {
    a = await selfSigned('a');
    room = uniq('tls');
    d = await startDaemon({ rooms: [room], args: ['--tls-cert', a.cert, '--tls-key', a.key,
      '--metrics-listen', '127.0.0.1:0'] });
    metricsPort = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(d.stderr)?.[1];
  });
  after(async () => { await d?.stop(); });

  test('the start line says https and the served certificate is the one parleyctl made', T(), async () => {
    assert.match(d.stderr, /listening on https:\/\/127\.0\.0\.1:\d+ /);
    const h = await handshake(d.port, { ca: a.pem, ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(h.pin, a.pin, 'the printed pin is the served certificate\'s SPKI SHA-256');
    assert.equal(h.version, 'TLSv1.3', 'TLS 1.3 preferred');
    assert.equal(h.alpn, 'h2', 'h2 preferred by ALPN');
    assert.ok(d.stderr.includes(`spki-sha256 ${a.pin}`), 'the log names the pin');
    // --metrics-listen stays plain HTTP.
    assert.ok(metricsPort, 'metrics on http://');
    const m = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /^parley_http_connections \d+$/m);
  });

  test('TLS 1.0/1.1 and non-AEAD TLS 1.2 ciphers are refused; ECDHE-AEAD 1.2 is served', T(), async () => {
    // SECLEVEL=0: the client offers the old versions itself, so the refusal is the server's
    // (h2o closes the connection on a failed handshake: the client sees a reset). The same
    // client allowed up to TLS 1.2 gets in.
    const old = { ca: a.pem, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' };
    for (const v of ['TLSv1', 'TLSv1.1']) {
      await assert.rejects(handshake(d.port, { ...old, maxVersion: v }), (e) => !!e.code, `${v} refused`);
    }
    assert.equal((await handshake(d.port, { ...old, maxVersion: 'TLSv1.2' })).version, 'TLSv1.2');
    // ECDHE with CBC (not AEAD), which an ECDSA certificate could otherwise serve.
    await assert.rejects(handshake(d.port, { ca: a.pem, maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256' }), (e) => !!e.code,
    'ECDHE-ECDSA with CBC refused');
    const h = await handshake(d.port, { ca: a.pem, maxVersion: 'TLSv1.2' });
    assert.equal(h.version, 'TLSv1.2');
    assert.match(h.cipher, /^ECDHE-ECDSA-(AES128-GCM|AES256-GCM|CHACHA20)/);
    // Plain HTTP on the TLS port gets no answer a client could take for the API's.
    const plain = await fetch(`http://127.0.0.1:${d.port}/healthz`).then((r) => r.status, (e) => e.cause?.code ?? 'error');
    assert.notEqual(plain, 200);
  });

  test('REST over HTTP/1.1 with ALPN http/1.1', T(), async () => {
    const r = await request11(d.port, a.pem, 'POST', `${API}/${room}/request_token`, joinBody('H1'));
    assert.equal(r.alpn, 'http/1.1');
    assert.equal(r.status, 200, r.text);
    const st = await request11(d.port, a.pem, 'GET', `${API}/${room}/conference_status?token=${tokenOf(r)}`);
    assert.equal(st.status, 200, st.text);
    assert.equal(JSON.parse(st.text).status, 'success');
  });

  test('REST, event streams and the web app over HTTP/2', T(), async () => {
    const session = http2.connect(`https://127.0.0.1:${d.port}`, { ca: a.pem });
    try {
      await new Promise((resolve, reject) => { session.once('connect', resolve); session.once('error', reject); });
      assert.equal(session.alpnProtocol, 'h2');
      const r = await request2(session, 'POST', `${API}/${room}/request_token`, joinBody('H2'));
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers['content-type'], /^application\/json/);
      const token = tokenOf(r);
      const events = session.request({ ':method': 'GET', ':path': `${API}/${room}/events?token=${token}` });
      const headers = await new Promise((resolve) => events.once('response', resolve));
      assert.equal(headers[':status'], 200);
      assert.match(headers['content-type'], /^text\/event-stream/);
      const log = eventLog(events);
      await waitUntil(() => log.names.includes('participant_sync_end'), { what: 'the snapshot over HTTP/2' });
      // A live event: someone else joins (over another HTTP/2 request on the same session).
      const other = await request2(session, 'POST', `${API}/${room}/request_token`, joinBody('Other'));
      assert.equal(other.status, 200);
      await waitUntil(() => log.text.includes('"Other"'), { what: 'participant_create for Other over HTTP/2' });
      const st = await request2(session, 'GET', `${API}/${room}/participants?token=${token}`);
      assert.equal(st.status, 200);
      assert.ok(JSON.parse(st.text).result.some((p) => p.display_name === 'Other'));
      const web = await request2(session, 'GET', '/web/');
      assert.equal(web.status, 200);
      assert.match(web.text, /<html/i);
      assert.equal(log.ended, false, 'the stream stays open');
      events.close();
    } finally {
      session.close();
    }
  });

  test('RTM\'s ws_endpoint says wss:// when the request came over TLS', T(), async () => {
    const acct = await parleyctl(d.dataDir, ['account', 'add', '--cid', 'tlsacct', '--json']);
    assert.equal(acct.code, 0, acct.stderr);
    const jwt = (await parleyctl(d.dataDir, ['jwt', '--account', 'tlsacct', '--client-id', 'c1'])).stdout.trim();
    const r = await new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: d.port, method: 'POST', path: '/api/rtm/v1/session', ca: a.pem,
        agent: false, headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' } }, (res) => {
        let t = '';
        res.on('data', (c) => { t += c; });
        res.on('end', () => resolve({ status: res.statusCode, text: t }));
      });
      req.on('error', reject);
      req.end('{}');
    });
    assert.equal(r.status, 201, r.text);
    const endpoint = JSON.parse(r.text).ws_endpoint;
    assert.equal(endpoint, `wss://127.0.0.1:${d.port}/api/rtm/v1/io`);
    // The socket itself over TLS (h2o's HTTP/1.1 upgrade on a TLS connection): ping, pong.
    const ws = new WebSocket(`${endpoint}?access_token=${jwt}`, { ca: a.pem, ALPNProtocols: ['http/1.1'] }); // as browsers
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    assert.equal(ws._socket.alpnProtocol, 'http/1.1');
    const reply = new Promise((resolve) => ws.once('message', (m) => resolve(JSON.parse(m.toString()))));
    ws.send(JSON.stringify({ type: 'ping' }));
    assert.equal((await withTimeout(reply, 5000 * SLOW))?.type, 'pong');
    ws.close();
  });

  test('SIGHUP loads a new certificate for new connections; an open event stream keeps going', T(), async () => {
    const b = await selfSigned('b');
    const joined = await request11(d.port, a.pem, 'POST', `${API}/${room}/request_token`, joinBody('Before'));
    const token = tokenOf(joined);
    // An event stream over HTTP/1.1 and one over HTTP/2, both opened with certificate A.
    const res = await new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: d.port, path: `${API}/${room}/events?token=${token}`, ca: a.pem, agent: false }, resolve)
        .on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    const log1 = eventLog(res);
    const session = http2.connect(`https://127.0.0.1:${d.port}`, { ca: a.pem });
    const s2 = session.request({ ':method': 'GET', ':path': `${API}/${room}/events?token=${token}` });
    const log2 = eventLog(s2);
    await waitUntil(() => log1.names.includes('participant_sync_end') && log2.names.includes('participant_sync_end'),
      { what: 'both snapshots' });

    // Certificate B replaces A in the configured files (rename: what certbot's deploy does).
    writeFileSync(`${a.cert}.new`, b.pem);
    writeFileSync(`${a.key}.new`, readFileSync(b.key));
    renameSync(`${a.key}.new`, a.key);
    renameSync(`${a.cert}.new`, a.cert);
    const mark = d.stderr.length;
    process.kill(d.pid, 'SIGHUP');
    await waitUntil(() => d.stderr.slice(mark).includes('SIGHUP: TLS certificate reloaded'), { what: 'the reload log line' });
    const h = await handshake(d.port, { ca: b.pem }); // both are CN=127.0.0.1: one at a time
    assert.equal(h.pin, b.pin, 'a new connection sees certificate B');
    assert.notEqual(h.pin, a.pin);

    // The streams opened before the reload are open and get new events.
    const n = uniq('After');
    const r = await request11(d.port, b.pem, 'POST', `${API}/${room}/request_token`, joinBody(n));
    assert.equal(r.status, 200);
    await waitUntil(() => log1.text.includes(`"${n}"`) && log2.text.includes(`"${n}"`),
      { what: 'participant_create on both old streams' });
    assert.equal(log1.ended, false);
    assert.equal(log2.ended, false);

    // A broken certificate file: the reload fails, logged, and B stays.
    writeFileSync(a.cert, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    const mark2 = d.stderr.length;
    process.kill(d.pid, 'SIGHUP');
    await waitUntil(() => /TLS reload failed, keeping the old certificate: no PEM certificate/.test(d.stderr.slice(mark2)),
      { what: 'the failed reload\'s error' });
    assert.equal((await handshake(d.port, { ca: b.pem })).pin, b.pin, 'still certificate B');
    // A key that does not match the certificate: refused the same way.
    writeFileSync(a.cert, b.pem);
    writeFileSync(a.key, readFileSync((await selfSigned('c')).key));
    const mark3 = d.stderr.length;
    process.kill(d.pid, 'SIGHUP');
    await waitUntil(() => /TLS reload failed.*does not match/.test(d.stderr.slice(mark3)), { what: 'the mismatch error' });
    assert.equal((await handshake(d.port, { ca: b.pem })).pin, b.pin, 'still certificate B');
    assert.equal(log1.ended || log2.ended, false, 'the old streams are still open');
    res.destroy();
    s2.close();
    session.close();

    // A connection accepted before a reload whose hello comes after it: h2o holds the
    // context it was accepted with by a bare pointer until then. Nothing else holds B's
    // (the handshakes above are closed): ASan sees a use after free if parleyd let go of it.
    await sleep(200 * SLOW);
    const connections = async () => Number(/^parley_http_connections (\d+)$/m
      .exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())[1]);
    const before = await connections();
    const early = net.connect(d.port, '127.0.0.1');
    await new Promise((resolve, reject) => { early.once('connect', resolve); early.once('error', reject); });
    await waitUntil(async () => (await connections()) >= before + 1, { what: 'parleyd to accept it, not only the kernel' });
    const e = await selfSigned('e');
    writeFileSync(a.key, readFileSync(e.key));
    writeFileSync(a.cert, e.pem);
    const mark4 = d.stderr.length;
    process.kill(d.pid, 'SIGHUP');
    await waitUntil(() => d.stderr.slice(mark4).includes('SIGHUP: TLS certificate reloaded'), { what: 'the third reload' });
    assert.equal((await handshake(d.port, { ca: e.pem })).pin, e.pin, 'new connections: certificate E');
    assert.equal((await handshake(d.port, { socket: early, ca: b.pem })).pin, b.pin,
      'the connection accepted before the reload is served the certificate it was accepted with');
  });
});

describe('bad TLS files at start', () => {
  /** Runs parleyd with args; resolves {code, stderr} once it exits (it must, and fast). */
  async function startFails(args) {
    const data = mkdtempSync(path.join(dir, 'data-'));
    const d = new Daemon(data, args, { listenTimeout: 5000 });
    const e = await d.start().then(() => null, (err) => err);
    if (!e) {
      await d.stop();
      assert.fail(`parleyd started with ${args.join(' ')}`);
    }
    const exit = await withTimeout(d.exited, 5000 * SLOW);
    return { code: exit?.code, stderr: d.stderr };
  }

  test('a missing key, a key of another certificate, a file that is no PEM, one flag alone', T(), async () => {
    const a = await selfSigned('start-a');
    const b = await selfSigned('start-b');
    const cases = [
      [['--tls-cert', a.cert, '--tls-key', path.join(dir, 'nope.key')], /cannot open the TLS key .*nope\.key: No such file/],
      [['--tls-cert', a.cert, '--tls-key', b.key], /the private key in .*start-b\.key does not match the certificate in .*start-a\.crt/],
      [['--tls-cert', a.key, '--tls-key', a.key], /no PEM certificate \(chain\) in .*start-a\.key/],
      [['--tls-cert', a.cert, '--tls-key', a.cert], /no PEM private key in .*start-a\.crt/],
      [['--tls-cert', a.cert], /--tls-cert and --tls-key go together/],
    ];
    for (const [args, want] of cases) {
      const r = await startFails(args);
      assert.notEqual(r.code, 0, `exit code for ${args.join(' ')}`);
      assert.match(r.stderr, want, `stderr for ${args.join(' ')}`);
    }
  });

  test('parleyctl tls self-signed refuses a bad name and bad --days', T(), async () => {
    for (const args of [['--name', 'a,IP:1.2.3.4'], ['--name', 'x', '--days', '0'], ['--days', '3']]) {
      const r = await parleyctl(dir, ['tls', 'self-signed', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, /parleyctl: /);
    }
    // A host name (not an address) gets DNS:name alone; node accepts it for that name.
    const n = await selfSigned('named', 'parley.test');
    const x = new X509Certificate(n.pem);
    assert.equal(x.subjectAltName, 'DNS:parley.test');
    assert.ok(x.checkHost('parley.test'));
  });
});

describe('event streams over HTTP/2 under back-pressure', () => {
  let d, a, room;
  before(async () => {
    a = await selfSigned('bp');
    room = uniq('h2bp');
    // The default --sse-queue-bytes (256 KiB; a stream is cut at once past 8 times that).
    d = await startDaemon({ rooms: [room], args: ['--tls-cert', a.cert, '--tls-key', a.key, '--chat-rate', '0'] });
  });
  after(async () => { await d?.stop(); });

  // Flow-control windows as Chromium's (6 MB a stream, 15 MB the connection); node's
  // default of 64 KiB makes a reader wait a round trip for every 64 KiB.
  const connect = async () => {
    const session = http2.connect(`https://127.0.0.1:${d.port}`, { ca: a.pem, settings: { initialWindowSize: 6 << 20 } });
    await new Promise((resolve, reject) => { session.once('connect', resolve); session.once('error', reject); });
    session.setLocalWindowSize(15 << 20);
    session.on('error', () => {});
    return session;
  };
  const metric = async (name) => {
    const r = await request11(d.port, a.pem, 'GET', '/metrics');
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text)?.[1]);
  };

  test('a stream its reader stops reading is cut; a reader that keeps up gets every message', T(60000), async () => {
    const s1 = await connect(), s2 = await connect(), s3 = await connect();
    try {
      const join = async (s, name) => tokenOf(await request2(s, 'POST', `${API}/${room}/request_token`, joinBody(name)));
      const victim = await join(s1, 'Stalled'), watcher = await join(s2, 'Watcher'), sender = await join(s3, 'Flooder');
      const stalled = s1.request({ ':method': 'GET', ':path': `${API}/${room}/events?token=${victim}` });
      const sLog = eventLog(stalled);
      const watch = s2.request({ ':method': 'GET', ':path': `${API}/${room}/events?token=${watcher}` });
      const wLog = eventLog(watch);
      await waitUntil(() => sLog.names.includes('participant_sync_end') && wLog.names.includes('participant_sync_end'),
        { what: 'both snapshots' });
      stalled.pause(); // no more reading: its HTTP/2 window closes, then parleyd's queue fills
      const overflows = await metric('parley_sse_overflows_total');
      const N = 320, payload = 'x'.repeat(32 * 1024); // 10 MB: past the stalled stream's window and bound
      for (let i = 0; i < N; i += 8) {
        await Promise.all(Array.from({ length: 8 }, (_, j) => request2(s3, 'POST',
          `${API}/${room}/message?token=${sender}`, { type: 'text/plain', payload: `${i + j}:${payload}` })));
      }
      await waitUntil(() => sLog.ended, { what: 'the stalled stream to be cut', timeout: 15000 });
      assert.equal(await metric('parley_sse_overflows_total'), overflows + 1);
      await waitUntil(() => (wLog.names.filter((n) => n === 'message_received').length === N),
        { what: `all ${N} messages on the watcher's stream`, timeout: 20000 });
      assert.equal(wLog.ended, false, 'the reader that keeps up stays');
      watch.close();
    } finally {
      for (const s of [s1, s2, s3]) s.destroy();
    }
  });
});
