// The /web/ static files over raw sockets (node net): a %00 in the path is refused instead of
// cutting the file name short, symbolic links that lead out of the web directory are not
// followed (links inside it still work), and a request framed by both Content-Length and
// Transfer-Encoding (RFC 9112 §6.1).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon, T, SLOW } from './helpers.mjs';

/** Sends raw bytes; resolves with everything read until the server closes or `ms` pass. */
function raw(port, bytes, ms = 1500) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    let closed = false;
    const timer = setTimeout(() => { s.destroy(); done(); }, ms * SLOW);
    const done = () => { clearTimeout(timer); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }); };
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => { closed = true; s.end(); done(); });
    s.on('error', reject);
    s.write(bytes);
  });
}

const get = (port, p) => raw(port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
const status = (r) => Number(/^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1]);

describe('static files under /web/', () => {
  let d, top;
  before(async () => {
    top = mkdtempSync(path.join(os.tmpdir(), 'parley-it-web-'));
    const web = path.join(top, 'web');
    const outside = path.join(top, 'outside');
    mkdirSync(path.join(web, 'sub'), { recursive: true });
    mkdirSync(path.join(outside, 'dir'), { recursive: true });
    writeFileSync(path.join(web, 'a.txt'), 'inside-a\n');
    writeFileSync(path.join(web, 'sub', 'b.txt'), 'inside-b\n');
    writeFileSync(path.join(outside, 'secret.txt'), 'OUTSIDE-SECRET\n');
    writeFileSync(path.join(outside, 'index.html'), 'OUTSIDE-INDEX\n');
    writeFileSync(path.join(outside, 'dir', 'index.html'), 'OUTSIDE-DIR-INDEX\n');
    symlinkSync('../outside/secret.txt', path.join(web, 'secret-link.txt'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(web, 'abs-link.txt'));
    symlinkSync('../outside/dir', path.join(web, 'dir-link'));
    symlinkSync('../../outside/index.html', path.join(web, 'sub', 'index.html'));
    symlinkSync('a.txt', path.join(web, 'inside-link.txt'));
    symlinkSync('sub', path.join(web, 'sub-link'));
    d = await startDaemon({ args: ['--web-dir', web] });
  });
  after(async () => {
    await d?.stop();
    rmSync(top, { recursive: true, force: true });
  });

  test('ordinary files and links inside the web directory are served', T(), async () => {
    for (const [p, body] of [['/web/a.txt', 'inside-a'], ['/web/sub/b.txt', 'inside-b'], ['/web/inside-link.txt', 'inside-a'], ['/web/sub-link/b.txt', 'inside-b']]) {
      const r = await get(d.port, p);
      assert.equal(status(r), 200, `${p}: ${r.text}`);
      assert.ok(r.text.endsWith(`\r\n\r\n${body}\n`), `${p}: ${r.text}`);
    }
  });

  test('a %00 in the path is refused, not cut short', T(), async () => {
    for (const p of ['/web/a.txt%00.html', '/web/a.txt%00', '/web/%00', '/web/sub%00/b.txt']) {
      const r = await get(d.port, p);
      assert.ok([400, 404].includes(status(r)), `${p}: ${r.text.split('\r\n')[0]}`);
      assert.ok(!r.text.includes('inside-a'), `${p} served a.txt:\n${r.text}`);
    }
  });

  test('symbolic links out of the web directory are not followed', T(), async () => {
    for (const p of ['/web/secret-link.txt', '/web/abs-link.txt', '/web/dir-link/', '/web/dir-link/index.html', '/web/sub/', '/web/sub/index.html', '/web/sub-link/']) {
      const r = await get(d.port, p);
      assert.equal(status(r), 404, `${p}: ${r.text.split('\r\n')[0]}`);
      assert.ok(!r.text.includes('OUTSIDE'), `${p} leaked a file from outside:\n${r.text}`);
    }
  });

  test('both Content-Length and Transfer-Encoding: 400 and the connection closed', T(), async () => {
    for (const target of ['/healthz', '/web/a.txt', '/api/client/v2/conferences/x/request_token']) {
      const r = await raw(d.port, `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n` +
        '0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(status(r), 400, `${target}: ${r.text}`);
      assert.ok(r.closed, `${target}: the connection stays open`);
      assert.equal((r.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, `${target}: the smuggled request was answered:\n${r.text}`);
    }
  });
});
