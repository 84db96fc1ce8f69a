// media.js — the local camera and microphone (preview, device choice, level meter) and
// the call's RTCPeerConnection: audio, the camera with simulcast, 8 more receive-only
// video m-lines (tile slots) and the slides m-line; renegotiation and screen sharing.

export const SLOTS = 9; // the main video m-line is slot 0
export const SIMULCAST = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'h', maxBitrate: 1500000 },
];

export class LocalMedia {
  constructor() {
    this.audio = null; // MediaStreamTrack
    this.video = null;
    this.cameraId = '';
    this.micId = '';
    this.meterTimer = null;
    this.ctx = null;
  }

  stream() {
    return new MediaStream([this.audio, this.video].filter(Boolean));
  }

  async openMic() {
    const s = await navigator.mediaDevices.getUserMedia({
      audio: this.micId ? { deviceId: { exact: this.micId } } : true });
    if (this.audio) this.audio.stop();
    this.audio = s.getAudioTracks()[0];
    this.micId = this.audio.getSettings().deviceId || this.micId;
    return this.audio;
  }

  async openCamera() {
    const s = await navigator.mediaDevices.getUserMedia({
      video: { ...(this.cameraId ? { deviceId: { exact: this.cameraId } } : {}),
               width: { ideal: 1280 }, height: { ideal: 720 } } });
    if (this.video) this.video.stop();
    this.video = s.getVideoTracks()[0];
    this.cameraId = this.video.getSettings().deviceId || this.cameraId;
    return this.video;
  }

  closeCamera() {
    if (this.video) this.video.stop();
    this.video = null;
  }

  async devices() {
    const list = await navigator.mediaDevices.enumerateDevices();
    return { cameras: list.filter((d) => d.kind === 'videoinput'),
             mics: list.filter((d) => d.kind === 'audioinput') };
  }

  /* Calls onLevel(0..1) about 15 times a second with the microphone's loudness. */
  startMeter(onLevel) {
    this.stopMeter();
    if (!this.audio) return;
    try {
      this.ctx = new AudioContext();
      const src = this.ctx.createMediaStreamSource(new MediaStream([this.audio]));
      const an = this.ctx.createAnalyser();
      an.fftSize = 1024;
      src.connect(an);
      const buf = new Float32Array(an.fftSize);
      this.ctx.resume().catch(() => {});
      this.meterTimer = setInterval(() => {
        an.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const x of buf) sum += x * x;
        const rms = Math.sqrt(sum / buf.length);
        onLevel(this.audio && this.audio.enabled ? Math.min(1, rms * 4) : 0);
      }, 66);
    } catch { /* no WebAudio: no meter */ }
  }

  stopMeter() {
    clearInterval(this.meterTimer);
    this.meterTimer = null;
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
  }

  stopAll() {
    this.stopMeter();
    for (const t of [this.audio, this.video]) if (t) t.stop();
    this.audio = this.video = null;
  }
}

/* Like @pexip/infinity: the slides m-line says a=content:slides. */
function markSlides(sdp, mid) {
  if (mid == null) return sdp;
  return sdp.replace(`a=mid:${mid}\r\n`, `a=mid:${mid}\r\na=content:slides\r\n`);
}

/* The m-line section of sdp whose a=mid is mid. */
function section(sdp, mid) {
  const parts = sdp.split(/\r\n(?=m=)/);
  return parts.find((p) => p.includes(`\r\na=mid:${mid}\r\n`) || p.endsWith(`a=mid:${mid}`)) || '';
}

export class Call {
  /* api: Api; self: participant uuid; opts: {audio, video (tracks or null), iceConfig,
   * receiveSlides, multistream}. Events: ontrack(kind, mid, track), onstate(state). */
  constructor(api, self, opts) {
    this.api = api;
    this.self = self;
    this.opts = opts;
    this.uuid = '';
    this.pc = null;
    this.slots = []; // transceivers of slots 0..8
    this.slides = null;
    this.audioTx = null;
    this.simulcast = false;
    this.queue = Promise.resolve();
    this.closed = false;
    this.ontrack = () => {};
    this.onstate = () => {};
  }

  path(action) { return `/participants/${this.self}/calls/${this.uuid}/${action}`; }

  build() {
    const pc = this.pc = new RTCPeerConnection(this.opts.iceConfig);
    const { audio, video, multistream = true } = this.opts;
    const stream = new MediaStream([audio, video].filter(Boolean));
    this.audioTx = pc.addTransceiver(audio || 'audio', { direction: audio ? 'sendrecv' : 'recvonly', streams: [stream] });
    let main;
    /* The camera m-line is sendrecv even without a camera (audio-only join): a camera
     * turned on later is sent without renegotiating, still with its simulcast layers
     * (Chrome would not offer rid extensions again after an answer left them out). */
    try {
      /* A server without multistream gets a Pexip client's offer: one signalled SSRC. */
      if (!multistream) throw new Error('no simulcast');
      main = pc.addTransceiver(video || 'video', { direction: 'sendrecv',
        streams: [stream], sendEncodings: SIMULCAST.map((e) => ({ ...e })) });
      this.simulcast = true;
    } catch {
      main = pc.addTransceiver(video || 'video', { direction: 'sendrecv', streams: [stream] });
      this.simulcast = false;
    }
    this.slots = [main];
    this.slides = pc.addTransceiver('video', { direction: this.opts.receiveSlides ? 'recvonly' : 'inactive' });
    if (multistream)
      for (let i = 1; i < SLOTS; i++) this.slots.push(pc.addTransceiver('video', { direction: 'recvonly' }));
    pc.ontrack = (e) => {
      const t = e.transceiver;
      const kind = t === this.slides ? 'slides' : t === this.audioTx ? 'audio' : 'video';
      this.ontrack(kind, t.mid, e.track);
    };
    pc.onconnectionstatechange = () => this.onstate(pc.connectionState);
    this.pending = [];
    pc.onicecandidate = (e) => {
      const body = { candidate: e.candidate ? e.candidate.candidate : '', mid: e.candidate ? e.candidate.sdpMid : '0' };
      if (this.uuid) this.api.post(this.path('new_candidate'), body).catch(() => {});
      else this.pending.push(body);
    };
  }

  /* Tracks of the slots, by mid. */
  slotMids() { return this.slots.map((t) => t.mid); }

  trackOfMid(mid) {
    const t = this.pc && this.pc.getTransceivers().find((x) => x.mid === mid);
    return t && t.receiver ? t.receiver.track : null;
  }

  async start() {
    this.build();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const r = await this.api.post(`/participants/${this.self}/calls`, {
      call_type: 'WEBRTC', sdp: markSlides(this.pc.localDescription.sdp, this.slides.mid),
      media_type: 'video' });
    if (this.closed) throw new Error('closed');
    this.uuid = r.call_uuid;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
    if (!this.understood(r.sdp)) throw new Error('The server does not offer multistream calls');
    await this.afterAnswer(r.sdp);
    await this.api.post(this.path('ack'), {});
    for (const body of this.pending) this.api.post(this.path('new_candidate'), body).catch(() => {});
    this.pending = [];
    return r;
  }

  /* Whether the server took the multistream offer as the extension means it: simulcast on
   * the camera's m-line, and each accepted slot with its own stream (msid parley-<mid>). A
   * server without the extension may answer the extra m-lines with the main video's SSRC
   * (Chrome refuses that answer, Firefox takes it and shows nothing) and forwards nothing
   * from a rid-only camera stream. */
  understood(sdp) {
    if (this.slots.length < 2) return true;
    if (this.simulcast && !/\r\na=simulcast:/.test(section(sdp, this.slots[0].mid))) return false;
    return this.slots.slice(1).every((t) => {
      const s = section(sdp, t.mid);
      return !s || /^m=video 0 /.test(s) || s.includes(`msid:parley-${t.mid}`);
    });
  }

  /* A server that did not agree to simulcast gets one full-size layer, not the 1/4 one. */
  async afterAnswer(sdp) {
    const main = this.slots[0];
    this.accepted = this.slots.map((t) => {
      const s = section(sdp, t.mid);
      return Boolean(s) && !/^m=video 0 /.test(s);
    });
    if (!this.simulcast) return;
    if (/a=simulcast:/.test(section(sdp, main.mid))) return;
    try {
      const p = main.sender.getParameters();
      if (p.encodings && p.encodings.length) {
        p.encodings = [{ ...p.encodings[0], scaleResolutionDownBy: 1, maxBitrate: 1500000 }];
        await main.sender.setParameters(p);
      }
    } catch { /* keep what the browser chose */ }
  }

  /* Offer/answer again (presentation on or off, camera added); one at a time. */
  renegotiate() {
    const run = async () => {
      if (this.closed || !this.uuid) return;
      await this.pc.setLocalDescription(await this.pc.createOffer());
      const r = await this.api.post(this.path('update'), {
        sdp: markSlides(this.pc.localDescription.sdp, this.slides.mid) });
      const sdp = typeof r === 'string' ? r : r.sdp;
      if (this.closed) return;
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      await this.afterAnswer(sdp);
      await this.api.post(this.path('ack'), {});
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  async setSlidesDirection(dir) {
    if (!this.slides || this.slides.direction === dir) return;
    this.slides.direction = dir;
    await this.renegotiate();
  }

  async sendScreen(track) {
    await this.slides.sender.replaceTrack(track);
    await this.setSlidesDirection('sendonly');
  }

  async replaceAudio(track) { if (this.audioTx) await this.audioTx.sender.replaceTrack(track); }

  /* A camera track (or null: stop sending). Joining without a camera made the m-line
   * receive-only: it becomes sendrecv by renegotiation. */
  async replaceVideo(track) {
    const main = this.slots[0];
    if (!main) return;
    await main.sender.replaceTrack(track);
    if (track && main.direction === 'recvonly') {
      main.direction = 'sendrecv';
      await this.renegotiate();
    }
  }

  async hangup() {
    if (this.closed) return;
    this.closed = true;
    const uuid = this.uuid;
    if (this.pc) this.pc.close();
    if (uuid) await this.api.post(this.path('disconnect')).catch(() => {});
  }

  close() {
    this.closed = true;
    if (this.pc) this.pc.close();
  }
}
