// RTM accounts with parleyctl: account add/list/show, key add/list, jwt. The minted JWT is
// checked with Node's own HMAC (an implementation independent of Parley's), and the store is
// checked to hold an API key only as its SHA-256.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parleyctl, T } from './helpers.mjs';

const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

async function ok(dir, args) {
  const r = await parleyctl(dir, args);
  assert.equal(r.code, 0, `parleyctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('parleyctl account / key / jwt', () => {
  let dir;
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'parley-it-acc-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('account add prints the secrets; list hides them; show repeats them', T(), async () => {
    const out = await ok(dir, ['account', 'add', '--cid', 'acme', '--name', 'Acme Corp']);
    const fields = Object.fromEntries(out.trim().split('\n').map((l) => l.split(': ')));
    assert.equal(fields.cid, 'acme');
    assert.match(fields.jwt_secret, /^[A-Za-z0-9_-]{43}$/);
    assert.match(fields.webhook_secret, /^whsec_[A-Za-z0-9+/]{43}=$/); // Standard Webhooks
    assert.notEqual(fields.jwt_secret, fields.webhook_secret);

    const gen = JSON.parse(await ok(dir, ['account', 'add', '--json']));
    assert.match(gen.cid, /^acc_[0-9a-f]{24}$/);
    assert.match(gen.jwt_secret, /^[A-Za-z0-9_-]{43}$/);

    const list = await ok(dir, ['account', 'list']);
    assert.ok(list.includes('acme') && list.includes('Acme Corp') && list.includes(gen.cid), list);
    assert.ok(!list.includes(fields.jwt_secret) && !list.includes(gen.jwt_secret), 'list must not print secrets');
    const listJson = JSON.parse(await ok(dir, ['account', 'list', '--json']));
    assert.deepEqual(listJson.map((a) => a.cid).sort(), ['acme', gen.cid].sort());
    assert.ok(listJson.every((a) => !('jwt_secret' in a) && !('webhook_secret' in a)));

    const shown = JSON.parse(await ok(dir, ['account', 'show', 'acme']));
    assert.equal(shown.jwt_secret, fields.jwt_secret);
    assert.equal(shown.webhook_secret, fields.webhook_secret);
    assert.equal(shown.name, 'Acme Corp');
  });

  test('jwt mints an HS256 token signed with the account secret', T(), async () => {
    const acc = JSON.parse(await ok(dir, ['account', 'show', 'acme']));
    for (const noRec of [false, true]) {
      const args = ['jwt', '--account', 'acme', '--client-id', 'agent-7', '--ttl', '120'];
      if (noRec) args.push('--no-recording');
      const before = Math.floor(Date.now() / 1000);
      const token = (await ok(dir, args)).trim();
      const [h, p, s] = token.split('.');
      assert.equal(token.split('.').length, 3);
      assert.deepEqual(b64urlJson(h), { alg: 'HS256', typ: 'JWT' });
      const mac = createHmac('sha256', acc.jwt_secret).update(`${h}.${p}`).digest('base64url');
      assert.equal(s, mac, 'signature must verify with Node crypto and the account secret');
      const claims = b64urlJson(p);
      assert.equal(claims.cid, 'acme');
      assert.equal(claims.client_id, 'agent-7');
      assert.equal(claims.exp - claims.iat, 120);
      assert.ok(Math.abs(claims.iat - before) <= 5, `iat ${claims.iat} is now`);
      if (noRec) assert.equal(claims.rec, false);
      else assert.ok(!('rec' in claims));
    }
  });

  test('key add prints the key once; the store keeps only its hash', T(), async () => {
    const key = (await ok(dir, ['key', 'add', '--account', 'acme', '--origin', 'HTTPS://App.Example.com:443',
      '--origin', 'http://localhost:3000'])).trim();
    assert.match(key, /^pk_[A-Za-z0-9_-]{43}$/);
    const key2 = (await ok(dir, ['key', 'add', '--account', 'acme', '--origin', 'https://x.example', '--no-recording'])).trim();
    assert.notEqual(key, key2);

    const list = await ok(dir, ['key', 'list', '--account', 'acme']);
    const lines = list.trim().split('\n');
    assert.equal(lines.length, 2, list);
    assert.ok(lines[0].startsWith(key.slice(0, 8)) && lines[0].includes('https://app.example.com') &&
      lines[0].includes('http://localhost:3000') && / recording /.test(lines[0]), list);
    assert.ok(lines[1].includes('no-recording') && lines[1].includes('https://x.example'), list);
    assert.ok(!list.includes(key.slice(8)), 'list must not print the key');

    const db = ['parley.db', 'parley.db-wal'].map((f) => path.join(dir, f)).filter(existsSync)
      .map((f) => readFileSync(f)).reduce((a, b) => Buffer.concat([a, b]));
    assert.ok(!db.includes(key) && !db.includes(key.slice(8)), 'the key itself must not be stored');
    assert.ok(db.includes(createHash('sha256').update(key).digest('hex')), 'its SHA-256 hex is stored');
  });

  test('bad input: non-zero exit, a message on stderr, nothing stored', T(), async () => {
    const bad = [
      ['account', 'add', '--cid', 'acme'], // taken
      ['account', 'add', '--cid', 'has space'],
      ['account', 'add', '--cid'],
      ['account', 'add', '--frob'],
      ['account', 'show', 'nobody'],
      ['account', 'frobnicate'],
      ['key', 'add', '--account', 'acme'], // no origin
      ['key', 'add', '--origin', 'https://a.example'], // no account
      ['key', 'add', '--account', 'nobody', '--origin', 'https://a.example'],
      ['key', 'add', '--account', 'acme', '--origin', 'https://a.example/path'],
      ['key', 'add', '--account', 'acme', '--origin', 'ftp://a.example'],
      ['key', 'add', '--account', 'acme', '--origin', 'null'],
      ['jwt', '--account', 'acme'], // no client id
      ['jwt', '--account', 'nobody', '--client-id', 'x'],
      ['jwt', '--account', 'acme', '--client-id', 'x', '--ttl', '0'],
      ['jwt', '--account', 'acme', '--client-id', 'x', '--ttl', '5s'],
    ];
    for (const args of bad) {
      const r = await parleyctl(dir, args);
      assert.equal(r.code, 2, `parleyctl ${args.join(' ')} must fail`);
      assert.ok(r.stderr.startsWith('parleyctl: '), `parleyctl ${args.join(' ')} must explain: ${r.stderr}`);
      assert.equal(r.stdout, '', `parleyctl ${args.join(' ')} prints nothing on stdout`);
    }
    const keys = await ok(dir, ['key', 'list']);
    assert.equal(keys.trim().split('\n').length, 2, keys);
    const accounts = JSON.parse(await ok(dir, ['account', 'list', '--json']));
    assert.equal(accounts.length, 2);
  });
});
