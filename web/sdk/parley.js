// parley.js — Parley's publish/subscribe SDK (docs/PUBSUB.md "SDK"): one ES module, no build
// step. A session keeps one WebSocket to /api/rtc/v1, one publish and one subscribe
// RTCPeerConnection (the server offers on the subscribe side), renders feeds into the elements
// the app gives it, tells the server the size it draws each video at, and reconnects by itself
// (resume first, a fresh join when that fails), restoring publications and subscriptions.

/** Event names a session emits (`session.on(Parley.events.publisher, cb)`). */
export const events = Object.freeze({
  participantJoined: 'participantJoined', // {uid, name, meta}
  participantLeft: 'participantLeft', //     {uid}
  publisher: 'publisher', //                 {uid, feed_id, type, replaces?}
  publisherLeft: 'publisherLeft', //         {uid, feed_id}
  speaker: 'speaker', //                     {uid}
  data: 'data', //                           {from, payload}
  recordingStarted: 'recordingStarted', //   {rec_id, feed_id}
  recordingStopped: 'recordingStopped', //   {rec_id, feed_id, ok, bytes, duration_ms, reason?}
  reconnecting: 'reconnecting', //           {timeout, attempt}
  reconnected: 'reconnected', //             {resumed, feeds: {old: new}}
  disconnected: 'disconnected', //           {reason, error?}
  error: 'error', //                         ParleyError
});

/** An error with the server's code (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
 * NOT_JOINED, ALREADY_JOINED, LIMIT, INTERNAL) or one of the SDK's own (NETWORK: no
 * connection; TIMEOUT: no answer in time; CLOSED: the session has ended; MEDIA: the
 * browser refused a description). */
export class ParleyError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'ParleyError';
    /** @type {string} */
    this.code = code;
  }
}

/* The camera's simulcast layers, as web/app/media.js sends them: 1/4, 1/2 and full size. */
const SIMULCAST = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'h', maxBitrate: 1500000 },
];
const REQUEST_TIMEOUT = 10000;
const PING_EVERY = 10000;
const BACKOFF_FIRST = 250;
const BACKOFF_MAX = 5000;
const ORPHAN_MS = 30000; // how long a subscription waits for its publisher to publish again

const SERVER_EVENTS = {
  participant_joined: events.participantJoined,
  participant_left: events.participantLeft,
  publisher: events.publisher,
  publisher_left: events.publisherLeft,
  speaker: events.speaker,
  data: events.data,
  recording_started: events.recordingStarted,
  recording_stopped: events.recordingStopped,
};

/** The WebSocket URL: ws(s) as given, http(s) turned into ws(s), /api/rtc/v1 when the URL
 * names no path. @param {string} url */
function socketUrl(url) {
  const u = new URL(url, globalThis.location ? globalThis.location.href : undefined);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/rtc/v1';
  return u.href;
}

/** The m-section of sdp whose a=mid is mid ('' if none). */
function section(sdp, mid) {
  const parts = sdp.split(/\r\n(?=m=)/);
  return parts.find((p) => p.startsWith('m=') && new RegExp(`\r\na=mid:${mid}(\r\n|$)`).test(p)) || '';
}

/** Whether the m-section of mid in sdp is gone (port 0) or carries nothing. */
function dropped(sdp, mid) {
  const s = section(sdp, mid);
  return !s || /^m=\S+ 0 /.test(s) || /\r\na=inactive/.test(s);
}

/**
 * A joined participant. Made by {@link connect}.
 */
export class Session {
  /** @param {string} url @param {ConnectOptions} opts */
  constructor(url, opts) {
    this.url = socketUrl(url);
    this.opts = { ...opts };
    /** @type {string} */ this.sid = opts.sid;
    /** @type {string|undefined} */ this.uid = opts.uid;
    /** @type {string|undefined} */ this.cid = undefined;
    /** @type {Map<string, {uid: string, name?: string, meta?: any}>} */ this.participantMap = new Map();
    /** @type {Map<string, {feed_id: string, uid: string, type: string}>} */ this.feedMap = new Map();
    this.iceServers = [];
    this.state = 'connecting'; // connecting | connected | reconnecting | closed
    this.listeners = new Map();
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.token = null;
    this.pub = null; // the publish RTCPeerConnection
    this.sub = null; // the subscribe RTCPeerConnection
    this.pubQueue = Promise.resolve();
    this.subQueue = Promise.resolve();
    /** feed_id -> {feed_id, stream, type, el, transceivers} */
    this.publications = new Map();
    this.aliases = new Map(); // a publication's feed_id before a fresh join -> now
    /** feed_id -> {feed_id, uid, type, el, stream, mids, sent, observer} */
    this.subscriptions = new Map();
    /** uid/type -> {sub, timer}: subscriptions whose feed went with a fresh join */
    this.orphans = new Map();
    this.midFeed = new Map(); // sub mid -> {feed_id, kind}
    this.unacked = null; // our last answer, until the server has it
    this.pingTimer = null;
    this.attempt = 0;
  }

  // ---- events -------------------------------------------------------------------------------

  /** Calls cb(data) for each event named name (see {@link events}). */
  on(name, cb) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(cb);
    return this;
  }

  /** Stops calling cb for name (all callbacks of name without cb). */
  off(name, cb) {
    if (!cb) this.listeners.delete(name);
    else this.listeners.get(name)?.delete(cb);
    return this;
  }

  emit(name, data) {
    for (const cb of [...(this.listeners.get(name) || [])]) {
      try {
        cb(data);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }

  /** Participants other than this one. */
  get participants() { return [...this.participantMap.values()]; }

  /** Feeds published by others, as the server announced them. */
  get feeds() { return [...this.feedMap.values()]; }

  // ---- the WebSocket ------------------------------------------------------------------------

  /** Opens a socket; resolves once it is open. */
  open() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (e) {
        reject(new ParleyError('NETWORK', `Cannot open ${this.url}: ${e.message}`));
        return;
      }
      this.ws = ws;
      let opened = false;
      ws.onopen = () => { opened = true; resolve(ws); };
      ws.onmessage = (e) => { if (ws === this.ws) this.receive(e.data); };
      ws.onclose = (e) => {
        if (!opened) reject(new ParleyError('NETWORK', `Cannot reach ${this.url}`));
        if (ws === this.ws) this.dropped(e);
      };
      ws.onerror = () => {};
    });
  }

  /** A frame from the server: a reply or an event. */
  receive(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.id !== undefined && this.pending.has(m.id)) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) {
        // Offers are applied in the order they arrive, replies and events alike.
        try {
          p.resolve(p.onReply ? p.onReply(m.data || {}) : m.data || {});
        } catch (e) {
          p.reject(e);
        }
      } else {
        const err = m.err || {};
        p.reject(new ParleyError(err.code || 'INTERNAL', err.message || `${p.op} failed`));
      }
      return;
    }
    if (m.ev) this.event(m.ev, m.data || {});
  }

  /** A request on the current socket; resolves with the reply's data. onReply runs as the
   * reply arrives (before any later frame is handled). */
  request(op, body = {}, { onReply, timeout = REQUEST_TIMEOUT } = {}) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new ParleyError('NETWORK', `Not connected (${op})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ParleyError('TIMEOUT', `No answer to ${op} within ${timeout / 1000} s`));
      }, timeout);
      this.pending.set(id, { op, resolve, reject, timer, onReply });
      ws.send(JSON.stringify({ id, op, ...body }));
    });
  }

  /** A request the app makes: refused at once while the session is not connected. */
  call(op, body, opts) {
    if (this.state === 'closed') return Promise.reject(new ParleyError('CLOSED', 'The session has ended'));
    if (this.state !== 'connected')
      return Promise.reject(new ParleyError('NETWORK', `Not connected (${op}); try again once reconnected`));
    return this.request(op, body, opts);
  }

  failPending(code, message) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ParleyError(code, message));
    }
    this.pending.clear();
  }

  startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      // A socket that does not answer a ping is dead even if TCP has not noticed yet.
      this.request('ping', {}, { timeout: PING_EVERY }).catch((e) => {
        if (e.code === 'TIMEOUT' && ws === this.ws) ws.close(4000, 'ping timeout');
      });
    }, PING_EVERY);
  }

  /** The socket closed: reconnect unless the session is over. */
  dropped(e) {
    this.ws = null;
    this.failPending('NETWORK', `Connection lost (${e.code})`);
    clearInterval(this.pingTimer);
    if (this.state === 'connected') {
      this.state = 'reconnecting';
      if (!this.loop) this.loop = this.reconnect().finally(() => { this.loop = null; });
    }
  }

  // ---- joining and reconnecting -------------------------------------------------------------

  async auth() {
    const { key, jwt } = this.opts;
    if (key) return { key };
    return { jwt: typeof jwt === 'function' ? await jwt() : jwt };
  }

  joined(r) {
    this.cid = r.cid;
    this.sid = r.sid;
    this.uid = r.uid;
    this.token = r.session_token;
    this.iceServers = r.ice_servers || [];
    this.participantMap = new Map((r.participants || []).filter((p) => p.uid !== this.uid).map((p) => [p.uid, p]));
    const feeds = (r.feeds || []).filter((f) => f.uid !== this.uid);
    this.feedMap = new Map(feeds.map((f) => [f.feed_id, f]));
  }

  /** The first join: the socket, then join. */
  async join() {
    await this.open();
    const { sid, uid, name, meta } = this.opts;
    const r = await this.request('join', { sid, uid, name, meta, ...(await this.auth()) });
    this.joined(r);
    this.state = 'connected';
    this.startPing();
  }

  /** Tries again and again, 0.25 s doubling to 5 s: resume, else a fresh join. */
  async reconnect({ fresh = false } = {}) {
    let delay = BACKOFF_FIRST;
    for (let attempt = 1; this.state === 'reconnecting'; attempt++) {
      this.emit(events.reconnecting, { timeout: delay, attempt });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, BACKOFF_MAX);
      if (this.state !== 'reconnecting') return;
      try {
        await this.open();
      } catch {
        continue;
      }
      try {
        if (!fresh && this.token) {
          try {
            const r = await this.request('resume', { sid: this.sid, uid: this.uid, session_token: this.token });
            const [feeds, people] = [this.feedMap, this.participantMap];
            this.joined(r);
            this.state = 'connected';
            this.missed(feeds, people, new Set());
            this.startPing();
            if (await this.restoreResumed()) {
              this.emit(events.reconnected, { resumed: true, feeds: {} });
              return;
            }
            // Kept on the server but not restorable here: leave it and join afresh.
            await this.request('leave').catch(() => {});
            this.state = 'reconnecting';
            fresh = true;
            continue;
          } catch (e) {
            if (e.code === 'NETWORK' || e.code === 'TIMEOUT') {
              this.state = 'reconnecting';
              this.ws?.close();
              continue;
            }
            fresh = true; // NOT_FOUND: the server let the participant go
          }
        }
        const { name, meta } = this.opts;
        const r = await this.request('join', { sid: this.sid, uid: this.uid, name, meta, ...(await this.auth()) });
        const [before, people] = [this.feedMap, this.participantMap];
        this.joined(r);
        this.state = 'connected';
        this.startPing();
        fresh = false;
        const feeds = await this.restoreFresh(before, people);
        this.emit(events.reconnected, { resumed: false, feeds });
        return;
      } catch (e) {
        if (['UNAUTHORIZED', 'FORBIDDEN', 'BAD_REQUEST'].includes(e.code)) {
          this.close('refused', e);
          return;
        }
        if (this.state === 'connected') this.state = 'reconnecting';
        this.ws?.close();
      }
    }
  }

  /** After a resume: the server kept feeds and subscriptions; ICE restarts on both
   * connections. False when that did not work. */
  async restoreResumed() {
    try {
      // The server matches answers with its offers in order: an answer the old
      // socket did not deliver goes first (BAD_REQUEST: it had arrived after all).
      if (this.unacked)
        await this.queue('sub', async () => {
          await this.request('answer', { sdp: this.unacked }).catch((e) => {
            if (e.code === 'NETWORK') throw e;
          });
          this.unacked = null;
        });
      // A connection whose path still works (the socket alone dropped) keeps it: media
      // never stopped. One that lost it too (a new network) restarts ICE now; one that
      // loses it later restarts when it notices (see connection()).
      const lost = (pc) => pc && pc.connectionState !== 'connected';
      if (lost(this.pub) && this.publications.size)
        await this.queue('pub', async () => {
          await this.pub.setLocalDescription(await this.pub.createOffer({ iceRestart: true }));
          const r = await this.request('publish_update', { sdp: this.pub.localDescription.sdp });
          await this.pub.setRemoteDescription({ type: 'answer', sdp: r.sdp });
        });
      if (lost(this.sub) && this.subscriptions.size)
        await this.request('ice_restart', { pc: 'sub' }, { onReply: (r) => this.applyOffer(r) });
      return true;
    } catch (e) {
      // TIMEOUT: the server waits for something this side cannot give (an offer lost with
      // the old socket); a fresh join starts clean.
      if (e.code === 'NETWORK') throw e;
      return false;
    }
  }

  /** After a fresh join: new connections, every publication published again (new feed
   * ids), every subscription made again into the same element, by the same feed id if the
   * feed is still there, else by its publisher's next feed of the same type. Returns
   * {old feed_id: new feed_id} of the publications. */
  async restoreFresh(before, people) {
    for (const pc of [this.pub, this.sub]) pc?.close();
    this.pub = this.sub = null;
    this.midFeed.clear();
    this.unacked = null;
    const moved = {};
    // One at a time, so that a drop midway leaves the rest for the next attempt.
    for (const p of [...this.publications.values()]) {
      for (const t of p.transceivers) t.stop?.();
      const id = await this.publish(p.stream, { type: p.type, el: p.el }, true);
      this.publications.delete(p.feed_id);
      moved[p.feed_id] = id;
      for (const [a, b] of this.aliases) if (b === p.feed_id) this.aliases.set(a, id);
      this.aliases.set(p.feed_id, id);
    }
    const taken = new Set();
    for (const s of [...this.subscriptions.values()]) {
      s.observer?.disconnect();
      this.subscriptions.delete(s.feed_id);
      const next = this.feedMap.has(s.feed_id) ? this.feedMap.get(s.feed_id)
        : this.feeds.find((f) => f.uid === s.uid && f.type === s.type && !this.subscriptions.has(f.feed_id));
      if (!next) {
        this.orphan(s);
        continue;
      }
      try {
        await this.subscribe(next.feed_id, s.el, true);
      } catch (e) {
        this.subscriptions.set(s.feed_id, s);
        throw e;
      }
      taken.add(next.feed_id);
      taken.add(s.feed_id);
      if (next.feed_id !== s.feed_id) this.emit(events.publisher, { ...next, replaces: s.feed_id });
    }
    for (const o of this.orphans.values()) taken.add(o.s.feed_id);
    this.missed(before, people, taken);
    return moved;
  }

  /** Tells the app what changed while the socket was down: participants and feeds that
   * came or went (but not those in skip, which were restored or wait for it). */
  missed(feeds, people, skip) {
    for (const [uid, p] of people) if (!this.participantMap.has(uid)) this.emit(events.participantLeft, { uid: p.uid });
    for (const [uid, p] of this.participantMap) if (!people.has(uid)) this.emit(events.participantJoined, p);
    for (const [id, f] of feeds)
      if (!this.feedMap.has(id) && !skip.has(id)) {
        this.forget(id);
        this.emit(events.publisherLeft, { uid: f.uid, feed_id: id });
      }
    for (const [id, f] of this.feedMap) if (!feeds.has(id) && !skip.has(id)) this.emit(events.publisher, f);
  }

  /** A subscription whose feed is gone for now: restored when its publisher publishes the
   * same type again (within 30 s), else reported gone. */
  orphan(s) {
    const k = `${s.uid}\n${s.type}`;
    const timer = setTimeout(() => {
      this.orphans.delete(k);
      if (s.el && s.el.srcObject === s.stream) s.el.srcObject = null;
      this.emit(events.publisherLeft, { uid: s.uid, feed_id: s.feed_id });
    }, ORPHAN_MS);
    this.orphans.set(k, { s, timer });
  }

  // ---- server events ------------------------------------------------------------------------

  event(ev, d) {
    switch (ev) {
      case 'offer':
        this.applyOffer(d).catch((e) => this.emit(events.error, e));
        return;
      case 'error':
        this.emit(events.error, new ParleyError(d.code || 'INTERNAL', d.message || 'Server error'));
        return;
      case 'participant_joined':
        if (d.uid === this.uid) return;
        this.participantMap.set(d.uid, d);
        break;
      case 'participant_left':
        if (d.uid === this.uid) return;
        this.participantMap.delete(d.uid);
        // Its feeds go with it, whether or not the server says so feed by feed.
        for (const f of this.feeds)
          if (f.uid === d.uid) this.event('publisher_left', { uid: f.uid, feed_id: f.feed_id });
        for (const [k, o] of this.orphans)
          if (o.s.uid === d.uid) {
            clearTimeout(o.timer);
            this.orphans.delete(k);
            this.emit(events.publisherLeft, { uid: d.uid, feed_id: o.s.feed_id });
          }
        break;
      case 'publisher': {
        if (d.uid === this.uid) return;
        this.feedMap.set(d.feed_id, d);
        const k = `${d.uid}\n${d.type}`;
        const o = this.orphans.get(k);
        if (o) {
          clearTimeout(o.timer);
          this.orphans.delete(k);
          this.subscribe(d.feed_id, o.s.el, true)
            .then(() => this.emit(events.publisher, { ...d, replaces: o.s.feed_id }))
            .catch((e) => this.emit(events.error, e));
          return;
        }
        break;
      }
      case 'publisher_left':
        if (d.uid === this.uid || !this.feedMap.has(d.feed_id)) return;
        this.feedMap.delete(d.feed_id);
        this.forget(d.feed_id);
        break;
      default:
        break;
    }
    if (SERVER_EVENTS[ev]) this.emit(SERVER_EVENTS[ev], d);
  }

  // ---- publishing ---------------------------------------------------------------------------

  /** Runs fn after everything queued before on that connection's queue. */
  queue(which, fn) {
    const key = which === 'pub' ? 'pubQueue' : 'subQueue';
    const run = this[key].then(fn, fn);
    this[key] = run.catch(() => {});
    return run;
  }

  connection(which) {
    if (!this[which]) {
      const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
      pc.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate && this.state === 'connected' && this[which] === pc)
          this.request('trickle', { pc: which, candidate: e.candidate.candidate }).catch(() => {});
      };
      // A failed path (new network) while the socket lives: an ICE restart, at once when
      // it failed, after 2 s when it stays disconnected (consent checks unanswered).
      let lostTimer = null;
      const restart = () => {
        if (this[which] === pc && this.state === 'connected')
          this.iceRestart(which).catch((e) => this.emit(events.error, e));
      };
      pc.onconnectionstatechange = () => {
        clearTimeout(lostTimer);
        if (pc.connectionState === 'failed') restart();
        else if (pc.connectionState === 'disconnected') lostTimer = setTimeout(restart, 2000);
      };
      if (which === 'sub') pc.ontrack = () => this.render();
      if (which === 'pub') this.openChannels(pc);
      this[which] = pc;
    }
    return this[which];
  }

  async iceRestart(which) {
    if (which === 'pub')
      return this.queue('pub', async () => {
        await this.pub.setLocalDescription(await this.pub.createOffer({ iceRestart: true }));
        const r = await this.call('publish_update', { sdp: this.pub.localDescription.sdp });
        await this.pub.setRemoteDescription({ type: 'answer', sdp: r.sdp });
      });
    return this.call('ice_restart', { pc: 'sub' }, { onReply: (r) => this.applyOffer(r) });
  }

  /**
   * Publishes the stream's audio and/or video as one feed; shows it (muted) in el if given.
   * A camera ('video') is sent in three simulcast layers.
   * @param {MediaStream} stream
   * @param {{type?: 'video'|'screen'|'audio', el?: HTMLMediaElement}} [opts]
   * @returns {Promise<string>} the feed id
   */
  publish(stream, { type = 'video', el } = {}, internal = false) {
    if (!internal && this.state !== 'connected') return this.call('publish');
    return this.queue('pub', async () => {
      const pc = this.connection('pub');
      const transceivers = [];
      const audio = stream.getAudioTracks()[0];
      const video = stream.getVideoTracks()[0];
      if (audio) transceivers.push(pc.addTransceiver(audio, { direction: 'sendonly', streams: [stream] }));
      if (video) {
        const init = { direction: 'sendonly', streams: [stream] };
        if (type === 'video') init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
        transceivers.push(pc.addTransceiver(video, init));
      }
      if (!transceivers.length) throw new ParleyError('BAD_REQUEST', 'The stream has no audio or video track');
      let r;
      try {
        await pc.setLocalDescription(await pc.createOffer());
        const mids = transceivers.map((t) => t.mid);
        r = await this.request('publish', { sdp: pc.localDescription.sdp, type, mids });
        await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
      } catch (e) {
        if (pc.signalingState === 'have-local-offer')
          await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
        for (const t of transceivers) {
          t.sender.replaceTrack(null).catch(() => {});
          t.stop?.();
        }
        throw e instanceof ParleyError ? e : new ParleyError('MEDIA', e.message);
      }
      const t = transceivers.find((x) => x.sender.track?.kind === 'video');
      if (t && type === 'video' && !/\r\na=simulcast:/.test(section(r.sdp, t.mid))) {
        // An answer without simulcast: one layer at full size.
        const p = t.sender.getParameters();
        if (p.encodings?.length) {
          p.encodings = [{ ...p.encodings[0], scaleResolutionDownBy: 1, maxBitrate: 1500000 }];
          await t.sender.setParameters(p).catch(() => {});
        }
      }
      this.publications.set(r.feed_id, { feed_id: r.feed_id, stream, type, el, transceivers });
      if (el) {
        el.muted = true;
        el.playsInline = true;
        el.autoplay = true;
        el.srcObject = stream;
        el.play?.().catch(() => {});
      }
      return r.feed_id;
    });
  }

  /** Stops publishing a feed (the app's tracks keep running: they are the app's).
   * @param {string} feedId */
  unpublish(feedId) {
    const id = this.aliases.get(feedId) || feedId;
    return this.queue('pub', async () => {
      const p = this.publications.get(id);
      if (!p) throw new ParleyError('NOT_FOUND', `No publication ${feedId}`);
      await this.call('unpublish', { feed_id: id });
      this.publications.delete(id);
      if (p.el && p.el.srcObject === p.stream) p.el.srcObject = null;
      for (const t of p.transceivers) {
        await t.sender.replaceTrack(null).catch(() => {});
        t.stop?.();
      }
      // The stopped m-lines are told to the server (port 0).
      const pc = this.pub;
      await pc.setLocalDescription(await pc.createOffer());
      const r = await this.call('publish_update', { sdp: pc.localDescription.sdp });
      await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
    });
  }

  // ---- subscribing --------------------------------------------------------------------------

  /** Applies a server offer (reply or event) in arrival order: answer it, render. */
  applyOffer({ sdp, tracks = [] }) {
    return this.queue('sub', async () => {
      const pc = this.connection('sub');
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription(await pc.createAnswer());
      } catch (e) {
        throw new ParleyError('MEDIA', `The subscribe offer was refused: ${e.message}`);
      }
      for (const t of tracks) this.midFeed.set(String(t.mid), { feed_id: t.feed_id, kind: t.kind });
      for (const mid of [...this.midFeed.keys()]) if (dropped(sdp, mid)) this.midFeed.delete(mid);
      // An answer lost with the socket is sent again after a resume (see restoreResumed).
      this.unacked = pc.localDescription.sdp;
      try {
        await this.request('answer', { sdp: this.unacked });
        this.unacked = null;
      } catch (e) {
        if (e.code !== 'NETWORK' && e.code !== 'TIMEOUT') this.unacked = null;
        throw e;
      }
      this.render();
    });
  }

  /** Puts each subscription's tracks into its element (a new stream when they changed). */
  render() {
    if (!this.sub) return;
    const byFeed = new Map();
    for (const t of this.sub.getTransceivers()) {
      const m = t.mid !== null && this.midFeed.get(t.mid);
      if (!m || !t.receiver.track || t.currentDirection === 'inactive' || t.stopped) continue;
      if (!byFeed.has(m.feed_id)) byFeed.set(m.feed_id, []);
      byFeed.get(m.feed_id).push(t.receiver.track);
    }
    for (const s of this.subscriptions.values()) {
      const tracks = byFeed.get(s.feed_id) || [];
      const have = s.stream ? s.stream.getTracks() : [];
      const same = have.length === tracks.length && tracks.every((t) => have.includes(t));
      if (same && s.el?.srcObject === s.stream) continue;
      s.stream = new MediaStream(tracks);
      if (s.el) {
        s.el.autoplay = true;
        s.el.playsInline = true;
        s.el.srcObject = s.stream;
        s.el.play?.().catch(() => {});
      }
    }
  }

  /**
   * Receives a feed and renders it into el (a video or audio element), which then tells
   * the server the size it is drawn at. Resolves with the feed's MediaStream.
   * @param {string} feedId
   * @param {HTMLMediaElement} [el]
   * @returns {Promise<MediaStream>}
   */
  async subscribe(feedId, el, internal = false) {
    if (!internal && this.state !== 'connected') return this.call('subscribe');
    if (this.subscriptions.has(feedId)) throw new ParleyError('BAD_REQUEST', `Already subscribed to ${feedId}`);
    const f = this.feedMap.get(feedId) || {};
    const s = { feed_id: feedId, uid: f.uid, type: f.type, el, stream: null, sent: null, observer: null };
    this.subscriptions.set(feedId, s);
    let applied;
    try {
      await this.request('subscribe', { feed_ids: [feedId] }, { onReply: (r) => { applied = this.applyOffer(r); } });
      await applied;
    } catch (e) {
      if (this.subscriptions.get(feedId) === s) this.subscriptions.delete(feedId);
      throw e;
    }
    this.render();
    if (el) this.watch(s);
    return s.stream || new MediaStream();
  }

  /** Stops receiving a feed; its element is emptied. @param {string} feedId */
  async unsubscribe(feedId) {
    if (!this.subscriptions.has(feedId)) throw new ParleyError('NOT_FOUND', `Not subscribed to ${feedId}`);
    let applied;
    await this.call('unsubscribe', { feed_ids: [feedId] }, { onReply: (r) => { applied = this.applyOffer(r); } });
    this.forget(feedId);
    await applied;
  }

  /** Drops a subscription on our side (unsubscribed, or its feed is gone). */
  forget(feedId) {
    const s = this.subscriptions.get(feedId);
    if (!s) return;
    this.subscriptions.delete(feedId);
    s.observer?.disconnect();
    clearTimeout(s.layerTimer);
    if (s.el && s.el.srcObject === s.stream) s.el.srcObject = null;
  }

  /** Reports the size el is drawn at (device pixels), on every change of size, debounced;
   * paused when it is not drawn at all. */
  watch(s) {
    if (typeof ResizeObserver === 'undefined' || !s.el || s.el.tagName === 'AUDIO') return;
    const report = () => {
      if (this.subscriptions.get(s.feed_id) !== s || this.state !== 'connected') return;
      const dpr = globalThis.devicePixelRatio || 1;
      const width = Math.round(s.el.clientWidth * dpr);
      const height = Math.round(s.el.clientHeight * dpr);
      const hint = width && height && s.el.isConnected ? { width, height } : { paused: true };
      const key = JSON.stringify(hint);
      if (key === s.sent) return;
      s.sent = key;
      this.request('layer', { feed_id: s.feed_id, ...hint }).catch(() => { s.sent = null; });
    };
    s.observer = new ResizeObserver(() => {
      clearTimeout(s.layerTimer);
      s.layerTimer = setTimeout(report, 150);
    });
    s.observer.observe(s.el);
    report();
  }

  // ---- data and leaving ---------------------------------------------------------------------

  // ---- data channels (docs/PUBSUB.md "Data channels") --------------------------------------

  /** The publish connection's two channels, opened with it: their messages become `data`. */
  openChannels(pc) {
    this.channels = {};
    for (const [kind, label, init] of [['reliable', 'parley', {}],
      ['lossy', 'parley-lossy', { ordered: false, maxRetransmits: 0 }]]) {
      const dc = pc.createDataChannel(label, init);
      dc.binaryType = 'arraybuffer';
      dc.onmessage = (e) => this.onChannelMessage(e.data, kind === 'reliable');
      this.channels[kind] = dc;
    }
  }

  onChannelMessage(data, reliable) {
    if (!(data instanceof ArrayBuffer) || data.byteLength < 2) return;
    const b = new Uint8Array(data);
    const n = b[1];
    if (b.length < 2 + n) return;
    const from = new TextDecoder().decode(b.subarray(2, 2 + n));
    const body = b.subarray(2 + n);
    if (b[0] & 2) { // an error envelope: the server refused one of our messages
      let e = {};
      try { e = JSON.parse(new TextDecoder().decode(body)); } catch { /* unreadable */ }
      this.emit(events.error, new ParleyError(e.code || 'INTERNAL', e.message || 'Data channel error'));
      return;
    }
    let payload;
    if (b[0] & 1) {
      const text = new TextDecoder().decode(body);
      try { payload = JSON.parse(text); } catch { payload = text; }
    } else {
      payload = body.slice().buffer;
    }
    this.emit(events.data, { from, payload, binary: !(b[0] & 1), reliable, channel: true });
  }

  /**
   * Sends data to one participant (to: its uid) or to all others. Any JSON value goes over
   * the WebSocket (checked by the server, reaching everyone) unless `reliable` is given;
   * with `reliable` (true: ordered, retransmitted; false: unordered, never retransmitted),
   * or binary data (an ArrayBuffer or a typed array, or `binary: true` for a string's
   * UTF-8 bytes), it goes over the publish connection's data channel, which reaches
   * participants whose own channel is open (those who publish).
   * @param {any} data
   * @param {{to?: string, reliable?: boolean, binary?: boolean}} [opts]
   */
  async send(data, { to, reliable, binary } = {}) {
    const isBinary = binary || data instanceof ArrayBuffer || ArrayBuffer.isView(data);
    if (reliable === undefined && !isBinary) {
      await this.call('data', to === undefined ? { payload: data } : { to, payload: data });
      return;
    }
    const dc = this.channels?.[reliable === false ? 'lossy' : 'reliable'];
    if (!dc || dc.readyState !== 'open' || this.state !== 'connected')
      throw new ParleyError('NETWORK', 'The data channel is not open (it opens with the first publish)');
    let body;
    if (data instanceof ArrayBuffer) body = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else body = new TextEncoder().encode(binary && typeof data === 'string' ? data : JSON.stringify(data));
    const uid = new TextEncoder().encode(to ?? '');
    if (uid.length > 64) throw new ParleyError('BAD_REQUEST', 'to is a uid of at most 64 characters');
    if (body.length > 65536) throw new ParleyError('LIMIT', 'A data channel message carries at most 64 KiB');
    const msg = new Uint8Array(2 + uid.length + body.length);
    msg[0] = isBinary ? 0 : 1;
    msg[1] = uid.length;
    msg.set(uid, 2);
    msg.set(body, 2 + uid.length);
    dc.send(msg);
  }

  // ---- recording ---------------------------------------------------------------------------

  /**
   * Records feeds (feedIds; null or omitted: every feed of the session), each into its own
   * file, uploaded (PUT) to uploadUrl once it is closed, then one webhook per file to
   * webhookUrl. uploadUrl may hold {rec_id}, {feed_id}, {uid} and {sid}, replaced per file
   * (needed when more than one feed is recorded). Needs a key with the recording scope or a
   * JWT with can_record (FORBIDDEN otherwise). Resolves with [{rec_id, feed_id}].
   * @param {string[]|null|undefined} feedIds
   * @param {{uploadUrl: string, webhookUrl?: string}} opts
   * @returns {Promise<{rec_id: string, feed_id: string}[]>}
   */
  async startRecording(feedIds, { uploadUrl, webhookUrl } = /** @type {any} */ ({})) {
    if (!uploadUrl) throw new ParleyError('BAD_REQUEST', 'startRecording needs an uploadUrl');
    const body = { upload_url: uploadUrl };
    if (feedIds && feedIds.length) body.feed_ids = feedIds;
    if (webhookUrl) body.webhook_url = webhookUrl;
    const d = await this.call('record_start', body);
    return d.recordings;
  }

  /**
   * Stops recordings (recIds; null or omitted: every recording of the session). Each file is
   * then closed and delivered; `recordingStopped` says when.
   * @param {string[]|null} [recIds]
   */
  async stopRecording(recIds) {
    await this.call('record_stop', recIds && recIds.length ? { rec_ids: recIds } : {});
  }

  /** Leaves the session: feeds stop, connections close, `disconnected {reason: 'left'}`. */
  async leave() {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    if (wasConnected) await this.request('leave', {}, { timeout: 3000 }).catch(() => {});
    this.close('left');
  }

  close(reason, error) {
    this.state = 'closed';
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.failPending('CLOSED', 'The session has ended');
    for (const s of this.subscriptions.values()) this.forget(s.feed_id);
    for (const o of this.orphans.values()) clearTimeout(o.timer);
    this.orphans.clear();
    for (const p of this.publications.values()) if (p.el && p.el.srcObject === p.stream) p.el.srcObject = null;
    this.publications.clear();
    this.pub?.close();
    this.sub?.close();
    this.pub = this.sub = null;
    this.emit(events.disconnected, error ? { reason, error } : { reason });
  }
}

/**
 * @typedef {object} ConnectOptions
 * @property {string} sid the session to join (made on the first join)
 * @property {string} [key] a WEB_ONLY API key bound to this page's origin
 * @property {string|(() => string|Promise<string>)} [jwt] a JWT, or a function giving a
 *   fresh one (asked again at each fresh join)
 * @property {string} [uid] this participant's id (the server makes one if absent)
 * @property {string} [name] a display name others see
 * @property {any} [meta] any JSON others see
 */

/**
 * Joins a session. url: the server (https://host) or its WebSocket (wss://host/api/rtc/v1).
 * Rejects with a {@link ParleyError} (FORBIDDEN: the key is not for this origin, ...).
 * @param {string} url
 * @param {ConnectOptions} opts
 * @returns {Promise<Session>}
 */
export async function connect(url, opts) {
  if (!opts || !opts.sid) throw new ParleyError('BAD_REQUEST', 'connect needs a session id (sid)');
  if (!opts.key === !opts.jwt) throw new ParleyError('BAD_REQUEST', 'connect needs a key or a jwt (one of them)');
  const s = new Session(url, opts);
  try {
    await s.join();
  } catch (e) {
    s.state = 'closed';
    s.ws?.close();
    throw e;
  }
  return s;
}

export const Parley = Object.freeze({ connect, events, ParleyError, Session });
export default Parley;
