// api.js — the client API v2 over fetch and EventSource: requests with the token
// header, request_token's prompts (PIN, virtual reception), token refresh, the event
// stream, and the server's error strings said in plain words.

export class ApiError extends Error {
  constructor(status, result, path) {
    super(typeof result === 'string' ? result : `${path}: HTTP ${status}`);
    this.status = status;
    this.result = result;
    this.path = path;
  }
}

/* Failures that will not go away by trying again. */
export function isPermanent(err) {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 404) return true;
  return err.status === 403 && /Invalid PIN|exceeded PIN|Disabled|Invalid role/.test(err.message);
}

const PLAIN = [
  [/Neither conference nor gateway found/, (alias) => `There is no meeting called "${alias}". Check the link or the room name.`],
  [/Invalid PIN/, () => 'That PIN is not right. Check it and try again.'],
  [/exceeded PIN entry retries/, () => 'Too many wrong PINs. Wait a minute, then try again.'],
  [/Participant limit reached|Out of resource/, () => 'This meeting is full right now. Try again later.'],
  [/Guests cannot unmute/, () => 'The host has muted you. You cannot unmute yourself in this meeting.'],
  [/Guests cannot present/, () => 'Guests cannot share their screen in this meeting.'],
  [/Only a host can do that/, () => 'Only a host can do that.'],
  [/Not admitted/, () => 'You have not been let in yet.'],
  [/Too many chat messages/, () => 'You are sending messages too fast. Wait a moment.'],
  [/Timer expired awaiting token refresh/, () => 'The connection to the meeting timed out.'],
  [/All conference hosts departed/, () => 'The meeting ended because every host left.'],
  [/Disconnected by another participant/, () => 'A host removed you from the meeting.'],
  [/Conference terminated by another participant/, () => 'A host ended the meeting for everyone.'],
  [/Timeout waiting for conference host/, () => 'Nobody let you in, so the waiting ended.'],
  [/Media is not available/, () => 'The server cannot carry audio or video right now.'],
  [/Failed to fetch|NetworkError|Load failed/, () => 'Cannot reach the server. Check your connection.'],
];

/* A server or browser error as a sentence a person understands. */
export function plainWords(err, alias = '') {
  const text = err && err.message ? err.message : String(err);
  for (const [re, say] of PLAIN) if (re.test(text)) return say(alias);
  if (err && err.name === 'NotAllowedError') return 'The browser was not allowed to use the camera or microphone. Allow it in the address bar, then try again.';
  if (err && err.name === 'NotFoundError') return 'No camera or microphone was found.';
  if (err && err.name === 'NotReadableError') return 'The camera or microphone is in use by another program.';
  return text;
}

export class Api {
  constructor(alias) {
    this.alias = alias;
    this.token = '';
    this.expires = 120;
    this.refresher = null;
    this.onRole = null;   // (role) after a refresh that reports one
    this.onLost = null;   // (err) the token could not be refreshed
  }

  base() { return `/api/client/v2/conferences/${encodeURIComponent(this.alias)}`; }

  /* keepalive: the request outlives the page (leaving, then closing the tab). */
  async request(method, path, body, headers = {}, { timeout = 15000, keepalive = false } = {}) {
    const h = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.token) h.token = this.token;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeout);
    let res;
    try {
      res = await fetch(this.base() + path, { method, headers: h, signal: ctl.signal, keepalive,
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new TypeError(`Failed to fetch ${path}: ${e.message}`);
    } finally {
      clearTimeout(timer);
    }
    let json = null;
    const text = await res.text();
    try { json = JSON.parse(text); } catch { json = { result: text }; }
    if (res.status !== 200) throw new ApiError(res.status, json ? json.result : text, path);
    return json.result;
  }

  post(path, body) { return this.request('POST', path, body); }
  get(path) { return this.request('GET', path); }

  /* request_token: resolves with the token result, or with {prompt:'pin'|'reception', ...}. */
  async requestToken({ name, pin, extension }) {
    const body = { display_name: name, supports_direct_chat: true, client_id: 'Parley web app' };
    if (extension) body.conference_extension = extension;
    const headers = pin ? { pin } : {}; // no pin header: the server says whether it wants one
    this.token = '';
    try {
      const r = await this.request('POST', '/request_token', body, headers);
      this.token = r.token;
      this.expires = Number(r.expires) || 120;
      return r;
    } catch (e) {
      if (e instanceof ApiError && e.status === 403 && e.result && typeof e.result === 'object') {
        if (e.result.conference_extension === 'required') return { prompt: 'reception' };
        if ('pin' in e.result) return { prompt: 'pin', guestPin: e.result.guest_pin };
      }
      throw e;
    }
  }

  startRefresh() {
    this.stopRefresh();
    /* expires/3 as the Pexip clients do, but at least every 15 s: a failed refresh is also
     * how a page without media (the waiting room) notices that the network is gone. */
    this.refresher = setInterval(() => this.refresh().catch(() => {}), Math.min(this.expires / 3, 15) * 1000);
  }

  stopRefresh() {
    clearInterval(this.refresher);
    this.refresher = null;
  }

  async refresh() {
    try {
      const r = await this.post('/refresh_token');
      this.token = r.token;
      if (r.role && this.onRole) this.onRole(r.role);
      return r;
    } catch (e) {
      if (this.onLost) this.onLost(e);
      throw e;
    }
  }

  /* Opens the event stream; resolves once it is open. handlers: {name: fn(data, event)}. */
  openEvents(handlers, onError) {
    return new Promise((resolve, reject) => {
      const es = new EventSource(`${this.base()}/events?token=${encodeURIComponent(this.token)}`);
      let opened = false;
      for (const [name, fn] of Object.entries(handlers)) {
        es.addEventListener(name, (ev) => {
          let data = null;
          try { data = JSON.parse(ev.data); } catch { return; }
          fn(data, ev);
        });
      }
      es.onopen = () => { opened = true; resolve(es); };
      es.onerror = () => {
        es.close();
        if (!opened) reject(new TypeError('Failed to fetch the event stream'));
        else onError();
      };
    });
  }

  /* On page close: the token in the query, as the beacon cannot send headers. */
  beaconRelease() {
    if (!this.token) return;
    const blob = new Blob([JSON.stringify({ reason: 'User initiated disconnect' })], { type: 'application/json' });
    navigator.sendBeacon(`${this.base()}/release_token?token=${encodeURIComponent(this.token)}`, blob);
  }
}
