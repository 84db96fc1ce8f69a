// parleyd behind a real nginx (Debian's), configured from dist/nginx/parley.conf, the file
// docs/DEPLOYMENT.md quotes (checked here word for word, so the doc cannot drift): REST,
// an SSE event that must arrive within a second of the action (not buffered), an RTM
// WebSocket, and --trust-proxy: PIN throttling and the per-address connection limit see
// the client nginx names in X-Forwarded-For (clients on 127.0.0.2 and 127.0.0.3, so two
// real source addresses), a forged X-Forwarded-For is ignored, and without --trust-proxy
// the header is ignored altogether.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startDaemon, rawRequest, API, HOST_PIN, T, SLOW, sleep, waitUntil, REPO } from './helpers.mjs';

const TEMPLATE = path.join(REPO, 'dist/nginx/parley.conf');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Replaces `from` in text, failing if the template no longer has it. */
function must(text, from, to) {
  assert.ok(text.includes(from), `dist/nginx/parley.conf no longer has "${from}"`);
  return text.replace(from, to);
}

/** nginx in front of parleyd on `upstream`, from the recipe; resolves {port, stop}. */
async function startNginx(upstream) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-nginx-'));
  chmodSync(dir, 0o755); // nginx's workers (nobody when run as root) use its temp dirs
  const port = await freePort();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`],
  { stdio: 'ignore' });
  let site = readFileSync(TEMPLATE, 'utf8');
  site = must(site, 'listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`);
  site = must(site, 'listen [::]:443 ssl http2;', '');
  site = must(site, 'server 127.0.0.1:8080;', `server 127.0.0.1:${upstream};`);
  site = must(site, '/etc/letsencrypt/live/parley.example.com/fullchain.pem', `${dir}/cert.pem`);
  site = must(site, '/etc/letsencrypt/live/parley.example.com/privkey.pem', `${dir}/key.pem`);
  writeFileSync(`${dir}/parley.conf`, site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n');
  writeFileSync(`${dir}/nginx.conf`, `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
${temp}
  include ${dir}/parley.conf;
}
`);
  const child = spawn(NGINX, ['-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.on('exit', r));
  await waitUntil(() => new Promise((resolve) => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  }), { timeout: 10000, what: 'nginx listening' });
  return {
    port,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One HTTPS request to nginx from localAddress; resolves {status, json, text}. */
function viaProxy(port, method, p, { from = '127.0.0.2', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request({
      host: '127.0.0.1', port, method, path: p, localAddress: from, rejectUnauthorized: false, agent: false,
      headers: { ...headers, ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.setTimeout(10000 * SLOW, () => req.destroy(new Error(`${method} ${p}: no answer`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** An event stream through nginx: events as {name, data, at}; status once the head came. */
function openStream(port, alias, token, from) {
  return new Promise((resolve, reject) => {
    const s = { events: [], buf: '' };
    const req = https.get({
      host: '127.0.0.1', port, path: `${API}/${alias}/events?token=${token}`, localAddress: from,
      rejectUnauthorized: false, agent: false,
    }, (res) => {
      s.status = res.statusCode;
      s.close = () => req.destroy();
      res.setEncoding('utf8');
      res.on('data', (c) => {
        s.buf += c;
        let i;
        while ((i = s.buf.indexOf('\n\n')) >= 0) {
          const block = s.buf.slice(0, i);
          s.buf = s.buf.slice(i + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          if (name) s.events.push({ name, data: /^data: (.*)$/m.exec(block)?.[1], at: Date.now() });
        }
      });
      res.on('error', () => {});
      resolve(s);
    });
    req.on('error', reject);
  });
}

const join = (port, alias, name, from, pin = HOST_PIN, headers = {}) =>
  viaProxy(port, 'POST', `${API}/${alias}/request_token`, { from, headers: { pin, ...headers }, body: { display_name: name } });

describe('behind nginx (dist/nginx/parley.conf)', { skip: !NGINX && 'nginx is not installed (scripts/install-deps.sh --test)' }, () => {
  let d, proxy;
  const streams = [];
  before(async () => {
    d = await startDaemon({
      rooms: [{ alias: 'px', pin: HOST_PIN }],
      args: ['--trust-proxy', '127.0.0.1', '--pin-attempts', '2', '--max-connections-per-address', '2'],
    });
    proxy = await startNginx(d.port);
  });
  after(async () => {
    for (const s of streams) s.close?.();
    await proxy?.stop();
    await d?.stop();
  });

  test('docs/DEPLOYMENT.md quotes dist/nginx/parley.conf as it is', () => {
    const doc = readFileSync(path.join(REPO, 'docs/DEPLOYMENT.md'), 'utf8');
    const file = readFileSync(TEMPLATE, 'utf8');
    assert.ok(doc.includes('```nginx\n' + file + '```\n'), 'the nginx block in DEPLOYMENT.md differs from dist/nginx/parley.conf');
  });

  test('REST, and an SSE event arrives within 1 s of its cause', T(), async () => {
    const a = await join(proxy.port, 'px', 'Alice', '127.0.0.2');
    assert.equal(a.status, 200, a.text);
    const s = await openStream(proxy.port, 'px', a.json.result.token, '127.0.0.2');
    streams.push(s);
    assert.equal(s.status, 200);
    await waitUntil(() => s.events.some((e) => e.name === 'layout'), { what: 'the initial burst' });
    await sleep(300);
    const sent = Date.now();
    const b = await join(proxy.port, 'px', 'Bob', '127.0.0.3');
    assert.equal(b.status, 200, b.text);
    const ev = await waitUntil(() => s.events.find((e) => e.name === 'participant_create' && e.data.includes('Bob')),
      { timeout: 3000, interval: 10, what: 'participant_create for Bob' });
    assert.ok(ev.at - sent < 1000 * SLOW, `the event took ${ev.at - sent} ms through nginx`);
    s.close();
    streams.splice(streams.indexOf(s), 1);
  });

  test('an RTM WebSocket works through nginx', T(), async () => {
    await d.ctl('account', 'add', '--cid', 'acme', '--json');
    const jwt = (await d.ctl('jwt', '--account', 'acme', '--client-id', 'agent-1')).stdout.trim();
    const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/api/rtm/v1/io?access_token=${jwt}`, { rejectUnauthorized: false });
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    const pong = new Promise((resolve) => ws.on('message', (m) => resolve(JSON.parse(String(m)))));
    ws.send(JSON.stringify({ type: 'ping' }));
    assert.equal((await pong).type, 'pong');
    ws.close();
  });

  test('RTM\'s ws_endpoint says wss:// behind a TLS proxy; a direct X-Forwarded-Proto is ignored', T(), async () => {
    const jwt = (await d.ctl('jwt', '--account', 'acme', '--client-id', 'agent-2')).stdout.trim();
    const headers = { authorization: `Bearer ${jwt}` };
    const r = await viaProxy(proxy.port, 'POST', '/api/rtm/v1/session', { headers, body: { client_id: 'agent-2' } });
    assert.equal(r.status, 201, r.text);
    // The Host nginx passes on ($http_host) keeps the port the client used.
    assert.equal(r.json.ws_endpoint, `wss://127.0.0.1:${proxy.port}/api/rtm/v1/io`);
    const direct = await rawRequest(d.port, 'POST', '/api/rtm/v1/session', {
      localAddress: '127.0.0.4', headers: { ...headers, 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ client_id: 'agent-2' }) });
    assert.equal(direct.status, 201, direct.text);
    assert.match(JSON.parse(direct.text).ws_endpoint, /^ws:\/\//, 'not from a trusted proxy: plain ws');
  });

  test('wrong PINs count per X-Forwarded-For client; a forged entry is ignored', T(), async () => {
    for (let i = 0; i < 2; i++) {
      const r = await join(proxy.port, 'px', 'Mallory', '127.0.0.2', '0000');
      assert.equal(r.status, 403, r.text);
    }
    const locked = await join(proxy.port, 'px', 'Mallory', '127.0.0.2');
    assert.match(locked.text, /exceeded PIN entry retries/, 'the guessing client is throttled');
    const forged = await join(proxy.port, 'px', 'Mallory', '127.0.0.2', HOST_PIN, { 'x-forwarded-for': '127.0.0.9' });
    assert.match(forged.text, /exceeded PIN entry retries/, 'a client-sent X-Forwarded-For does not reset it');
    const other = await join(proxy.port, 'px', 'Carol', '127.0.0.3');
    assert.equal(other.status, 200, `another client behind the same proxy is not lumped in: ${other.text}`);
  });

  test('the connection limit counts each forwarded client, not the proxy', T(), async () => {
    // One request from .3 leaves nginx's one idle upstream connection counted for .3.
    const c = await join(proxy.port, 'px', 'Dave', '127.0.0.3');
    assert.equal(c.status, 200, c.text);
    const token = c.json.result.token;
    for (let i = 0; i < 2; i++) {
      const s = await openStream(proxy.port, 'px', token, '127.0.0.2');
      streams.push(s);
      assert.equal(s.status, 200, `stream ${i + 1} from 127.0.0.2`);
    }
    const third = await openStream(proxy.port, 'px', token, '127.0.0.2');
    streams.push(third);
    assert.equal(third.status, 429, 'a third connection for 127.0.0.2 is over --max-connections-per-address 2');
    const mine = await openStream(proxy.port, 'px', token, '127.0.0.3');
    streams.push(mine);
    assert.equal(mine.status, 200, '127.0.0.3 has its own count');
  });
});

describe('X-Forwarded-For from a peer that is not a trusted proxy', () => {
  test('is ignored: without --trust-proxy, and from an untrusted peer with it', T(), async () => {
    for (const args of [[], ['--trust-proxy', '10.0.0.0/8']]) {
      const d = await startDaemon({ rooms: [{ alias: 'px', pin: HOST_PIN }], args: ['--pin-attempts', '2', ...args] });
      try {
        const tryPin = (pin, xff) => rawRequest(d.port, 'POST', `${API}/px/request_token`, {
          headers: { 'content-type': 'application/json', pin, 'x-forwarded-for': xff },
          body: JSON.stringify({ display_name: 'Eve' }),
        });
        assert.equal((await tryPin('0000', '198.51.100.1')).status, 403);
        assert.equal((await tryPin('0000', '198.51.100.2')).status, 403);
        const r = await tryPin(HOST_PIN, '198.51.100.3');
        assert.match(r.text, /exceeded PIN entry retries/, `args ${args.join(' ')}: every XFF value is one client`);
      } finally {
        await d.stop();
      }
    }
  });
});
