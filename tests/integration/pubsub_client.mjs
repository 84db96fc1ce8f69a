// pubsub_client — one /api/rtc/v1 WebSocket for the integration tests (docs/PUBSUB.md):
// requests with ids and their replies, events read in order, the close code.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { SLOW, withTimeout } from './helpers.mjs';

export const RTC = '/api/rtc/v1';

const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** An HS256 JWT of claims signed with secret. */
export function signJwt(secret, claims) {
  const unsigned = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(claims)}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

export class RtcClient {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.events = [];
    this.cursor = 0;
    this.wake = () => {};
    this.closed = new Promise((resolve) => ws.on('close', (code) => {
      this.closeCode = code;
      for (const p of this.pending.values()) p.reject(new Error(`socket closed (${code})`));
      this.pending.clear();
      resolve(code);
      this.wake();
    }));
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.ev) {
        this.events.push(msg);
        this.wake();
      } else if (this.pending.has(msg.id)) {
        this.pending.get(msg.id).resolve(msg);
        this.pending.delete(msg.id);
      } else {
        this.events.push({ ev: '(reply without request)', data: msg });
        this.wake();
      }
    });
  }

  static open(port, { origin } = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${RTC}`, origin ? { origin } : {});
      ws.on('open', () => resolve(new RtcClient(ws)));
      ws.on('unexpected-response', (req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.on('error', reject);
    });
  }

  /** Sends {id, op, ...fields}; resolves with the whole reply frame. */
  raw(op, fields = {}, timeout = 5000) {
    const id = this.nextId++;
    return withTimeout(new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, op, ...fields }));
    }), timeout * SLOW, { id, ok: false, err: { code: '(timeout)', message: `no reply to ${op}` } });
  }

  /** A request that must succeed: its data. */
  async ok(op, fields = {}) {
    const r = await this.raw(op, fields);
    assert.equal(r.ok, true, `${op}: ${JSON.stringify(r)}`);
    return r.data;
  }

  /** A request that must fail with code: its err. */
  async fails(op, fields, code) {
    const r = await this.raw(op, fields);
    assert.equal(r.ok, false, `${op} should fail with ${code}: ${JSON.stringify(r)}`);
    assert.equal(r.err.code, code, `${op}: ${JSON.stringify(r.err)}`);
    assert.ok(r.err.message.length > 5, 'a readable message');
    return r.err;
  }

  /** The next event (any name) not yet read. */
  async next(what = 'an event', timeout = 5000) {
    const deadline = Date.now() + timeout * SLOW;
    while (this.cursor >= this.events.length) {
      if (this.closeCode !== undefined) assert.fail(`socket closed (${this.closeCode}) before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within ${timeout * SLOW} ms`);
      await withTimeout(new Promise((r) => { this.wake = r; }), left);
    }
    return this.events[this.cursor++];
  }

  /** The next event must be ev; its data. */
  async expect(ev, timeout = 5000) {
    const e = await this.next(`event ${ev}`, timeout);
    assert.equal(e.ev, ev, `expected ${ev}, got ${JSON.stringify(e)}`);
    return e.data;
  }

  /** No event arrives within ms. */
  async quiet(ms = 300) {
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.events.length, this.cursor, `unexpected events: ${JSON.stringify(this.events.slice(this.cursor))}`);
  }

  close() { this.ws.terminate(); }
}
