// rtm_client — one RTM WebSocket for the integration tests (rtm.test, cluster_rtm.test):
// every server frame is kept and read in order, with the protocol's usual exchanges as
// methods that assert what the server must answer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SLOW, withTimeout, TESTS_DIR } from './helpers.mjs';

export const OFFER = readFileSync(path.join(TESTS_DIR, 'fixtures/sdp/chrome156_offer.sdp'), 'utf8');
export const IO = '/api/rtm/v1/io';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const offer = (sdp = OFFER) => ({ sdp: { type: 'offer', sdp } });

/** One RTM WebSocket: every server frame is kept; next() reads them in order. */
export class Rtm {
  constructor(ws) {
    this.ws = ws;
    this.msgs = [];
    this.cursor = 0;
    this.wake = () => {};
    this.closed = new Promise((resolve) => ws.on('close', (code) => {
      this.closeCode = code;
      resolve(code);
      this.wake();
    }));
    ws.on('message', (m, binary) => {
      let msg;
      try { msg = JSON.parse(String(m)); } catch { msg = { type: '(not JSON)', raw: String(m) }; }
      if (binary) msg = { type: '(binary)', raw: String(m) };
      this.msgs.push(msg);
      this.wake();
    });
  }

  send(type, data, extra = {}) {
    this.ws.send(JSON.stringify({ type, ...extra, ...(data === undefined ? {} : { data }) }));
  }

  /** The next frame not yet read (fails after `timeout` ms, scaled for ASan). */
  async next(what = 'a frame', timeout = 5000) {
    const deadline = Date.now() + timeout * SLOW;
    while (this.cursor >= this.msgs.length) {
      if (this.closeCode !== undefined) assert.fail(`socket closed (${this.closeCode}) before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within ${timeout * SLOW} ms; got ${JSON.stringify(this.msgs)}`);
      await withTimeout(new Promise((r) => { this.wake = r; }), left);
    }
    return this.msgs[this.cursor++];
  }

  /** Reads frames until a session_state with `state`; returns it. */
  async untilState(state, timeout = 5000) {
    for (;;) {
      const m = await this.next(`session_state ${state}`, timeout);
      if (m.type === 'session_state' && m.data.state === state) return m;
    }
  }

  /** The next two frames are SHUTDOWN then TERMINATED, both with `cause`. */
  async ended(cause, timeout = 5000) {
    const shut = await this.next(`SHUTDOWN ${cause}`, timeout);
    const term = await this.next(`TERMINATED ${cause}`);
    assert.deepEqual([shut.type, shut.data], ['session_state', { state: 'SHUTDOWN', termination_cause: cause }]);
    assert.deepEqual([term.type, term.data], ['session_state', { state: 'TERMINATED', termination_cause: cause }]);
    return term;
  }

  /** session_start (or supervisor_join_session): SETUP then an SDP answer; returns the session id. */
  async start(extra = {}, data = {}, type = 'session_start') {
    this.send(type, { ...offer(), ...data }, extra);
    const st = await this.next('session_state SETUP');
    assert.deepEqual([st.type, st.data], ['session_state', { state: 'SETUP' }], JSON.stringify(st));
    assert.match(st.session_id, UUID);
    const ans = await this.next('sdp_update');
    assert.equal(ans.type, 'sdp_update');
    assert.equal(ans.session_id, st.session_id);
    assert.equal(ans.data.sdp.type, 'answer');
    const sdp = ans.data.sdp.sdp;
    assert.match(sdp, /^v=0\r\n/);
    assert.match(sdp, /a=ice-lite|a=candidate:/, 'ICE-lite or candidates in the answer');
    assert.match(sdp, /a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\r\n/);
    assert.match(sdp, /a=setup:(passive|active)\r\n/);
    this.sid = st.session_id;
    return this.sid;
  }

  /** Sends a frame (object → JSON, string/Buffer as is) and expects exactly this error back. */
  async refused(frame, code, refType, opts) {
    if (typeof frame === 'object' && !Buffer.isBuffer(frame)) this.ws.send(JSON.stringify(frame), opts);
    else this.ws.send(frame, opts);
    const m = await this.next(`error ${code}`);
    assert.equal(m.type, 'error', `expected error ${code}, got ${JSON.stringify(m)}`);
    assert.deepEqual([m.data.code, m.data.ref_type], [code, refType], JSON.stringify(m));
    assert.ok(typeof m.data.message === 'string' && m.data.message.length > 0, 'error has a message');
    if (this.sid) assert.equal(m.session_id, this.sid, 'error names the socket\'s session');
    return m;
  }

  /** ping → pong; the pong carries the live session's id (none without a session). */
  async pong(sessionId = this.sid) {
    this.send('ping');
    const m = await this.next('pong');
    assert.equal(m.type, 'pong', JSON.stringify(m));
    assert.equal(m.session_id ?? null, sessionId ?? null, 'pong names the live session (null: none)');
  }

  close(code = 1000) { if (this.closeCode === undefined) this.ws.close(code); }
}
