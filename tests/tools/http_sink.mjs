// http_sink — a real HTTP server that receives Parley's uploads and webhooks in tests: it
// stores PUT bodies, logs every request, checks webhook signatures, and fails on demand.
//
// Run it:   node tests/tools/http_sink.mjs [--port 0] [--dir DIR]
//           (prints one JSON line {"port":N,"dir":"..."} on stdout when it listens)
// or import it:   import { startSink } from './http_sink.mjs'; const s = await startSink();
//
// Control API on the same port (JSON in and out):
//   GET  /_log      every request so far (oldest first), see `entry` below
//   POST /_control  any of:
//     {"reset": true}                      forget the log and every rule
//     {"secret": "..."}                    check webhook-signature with this secret
//                                          (whsec_...: with the standardwebhooks package)
//     {"status": 204}                      answer this to normal requests (default 200,
//                                          201 for PUT)
//     {"fail": {"status": 500, "count": 2, "retry_after": "1"}}
//                                          the next `count` requests get `status` (with
//                                          Retry-After when given); rules queue up in order
//     {"down_ms": 1500}                    after answering, close the listening socket and
//                                          every open connection, listen again after 1.5 s
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Secrets in the Standard Webhooks form ("whsec_" + base64 of the key) are checked by the
// stock `standardwebhooks` library, as a receiver would; other secrets (tests of the outbox
// with plain strings, and secrets made before Parley used that form) by node's own HMAC with
// the text as the key.
let standardWebhooks;
try {
  standardWebhooks = await import('standardwebhooks');
} catch { /* not installed: a whsec_ secret then never verifies */ }

function verifySignature(secret, headers, body) {
  const id = headers['webhook-id'], ts = headers['webhook-timestamp'], sig = headers['webhook-signature'];
  if (!id || !ts || !sig) return false;
  if (secret.startsWith('whsec_')) {
    if (!standardWebhooks) return 'standardwebhooks is not installed (cd tests && npm ci)';
    try {
      new standardWebhooks.Webhook(secret).verify(body.toString(), headers);
      return true;
    } catch {
      return false;
    }
  }
  const mac = crypto.createHmac('sha256', secret).update(`${id}.${ts}.`).update(body).digest('base64');
  const want = Buffer.from(`v1,${mac}`);
  // A signature header may carry several space-separated signatures (key rotation).
  const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
  return fresh && sig.split(' ').some((s) => {
    const b = Buffer.from(s);
    return b.length === want.length && crypto.timingSafeEqual(b, want);
  });
}

export async function startSink({ port = 0, host = '127.0.0.1', dir } = {}) {
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'parley-sink-'));
  const state = { log: [], rules: [], secret: null, status: null, seq: 0 };
  const sockets = new Set();
  let server;

  function nextStatus(method) {
    const rule = state.rules[0];
    if (rule) {
      if (--rule.count <= 0) state.rules.shift();
      return { status: rule.status, retryAfter: rule.retry_after };
    }
    return { status: state.status || (method === 'PUT' ? 201 : 200) };
  }

  function control(req, res, body) {
    const reply = (code, obj) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (req.method === 'GET' && req.url === '/_log') return reply(200, state.log);
    let cmd;
    try { cmd = JSON.parse(body.toString() || '{}'); } catch { return reply(400, { error: 'bad JSON' }); }
    if (cmd.reset) Object.assign(state, { log: [], rules: [], secret: null, status: null });
    if ('secret' in cmd) state.secret = cmd.secret;
    if ('status' in cmd) state.status = cmd.status;
    if (cmd.fail) state.rules.push({ count: 1, ...cmd.fail });
    if (cmd.down_ms) res.on('finish', () => goDown(cmd.down_ms));
    reply(200, { ok: true });
  }

  function goDown(ms) {
    server.close();
    for (const s of sockets) s.destroy();
    setTimeout(() => server.listen(sink.port, host), ms);
  }

  function handle(req, res) {
    const started = Date.now();
    const isPut = req.method === 'PUT';
    const seq = ++state.seq;
    const file = isPut ? path.join(dir, `upload-${seq}.bin`) : null;
    const out = file ? fs.createWriteStream(file) : null;
    const chunks = [];
    const hash = crypto.createHash('sha256');
    let length = 0;
    req.on('data', (c) => {
      length += c.length;
      hash.update(c);
      if (out) out.write(c); else if (length <= (1 << 20)) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url.startsWith('/_')) return control(req, res, body);
      const { status, retryAfter } = nextStatus(req.method);
      const entry = {
        seq, method: req.method, url: req.url, headers: req.headers, at_ms: started,
        content_length: req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : null,
        length, sha256: hash.digest('hex'), status, file,
        body: isPut ? null : body.toString(),
        signature_ok: state.secret && !isPut ? verifySignature(state.secret, req.headers, body) : null,
      };
      const finish = () => {
        state.log.push(entry);
        const headers = { 'content-type': 'text/plain' };
        if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
        res.writeHead(status, headers);
        res.end(`${status}\n`);
      };
      if (out) out.end(finish); else finish();
    });
  }

  server = http.createServer(handle);
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const sink = {
    port: server.address().port,
    dir,
    get url() { return `http://${host}:${this.port}`; },
    get log() { return state.log; },
    fail(status, count = 1, retryAfter) { state.rules.push({ status, count, retry_after: retryAfter }); },
    setSecret(secret) { state.secret = secret; },
    reset() { Object.assign(state, { log: [], rules: [], secret: null, status: null }); },
    down(ms) { goDown(ms); },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return sink;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const sink = await startSink({ port: Number(arg('--port') || 0), dir: arg('--dir') });
  process.stdout.write(JSON.stringify({ port: sink.port, dir: sink.dir }) + '\n');
  const stop = () => sink.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
