// main.js — the web app's states and flow: pre-join, PIN and reception prompts, the
// waiting room, the call (events -> tiles, roster, chat, presentation), token refresh,
// and rejoining by itself after a network loss or a server restart.
import { Api, ApiError, isPermanent, plainWords } from './api.js';
import { LocalMedia, Call } from './media.js';
import { $, renderGrid, renderRoster, chatLine, fillSelect } from './view.js';
import { wireControls, cameraOff, stopShare } from './controls.js';

const query = new URLSearchParams(location.search);
const STATES = ['prejoin', 'joining', 'pin', 'reception', 'waiting', 'in-call', 'reconnecting', 'ended'];
const RECONNECTABLE = /Signaling node disconnected|Media (node|process) disconnected|Timer expired awaiting token refresh|Ice failure/;

export const app = {
  state: 'prejoin', selfUuid: '', participants: new Map(),
  alias: query.get('room') || '', name: '', pin: query.get('pin') || '', extension: '',
  api: null, es: null, call: null, token: null, local: new LocalMedia(),
  role: 'GUEST', conference: {}, stage: [], streams: null, presentation: null, sharing: null,
  micOn: true, camOn: true, serverMuted: false, hand: false, layout: 'grid',
  joinInFlight: false, leaving: false, generation: 0, multistream: true, hintsOff: false,
  unreadChat: 0,
};

window.parleyApp = {
  get state() { return app.state; },
  get selfUuid() { return app.selfUuid; },
  get participants() { return app.participants; },
  get streams() { return app.streams; },
  get call() { return app.call; },
};

export const say = (text) => { $('#status').textContent = text; };
export function showError(err) {
  const text = err ? plainWords(err, app.extension || app.alias) : '';
  $('#error').textContent = text;
  if (err) console.warn('parley:', err);
}

export function setState(s) {
  if (!STATES.includes(s)) throw new Error(`bad state ${s}`);
  app.state = s;
  document.body.dataset.state = s;
  $('#reconnecting').hidden = s !== 'reconnecting';
  const focus = { pin: '#pin', reception: '#room-alias', ended: '#rejoin' }[s];
  if (focus) setTimeout(() => $(focus).focus(), 0);
  if (s === 'prejoin') { $('#join').disabled = false; app.joinInFlight = false; }
  if (s === 'in-call') app.local.stopMeter();
  if (s === 'in-call' && (!document.activeElement || document.activeElement === document.body ||
      document.activeElement.closest('.view:not(#call-view)'))) $('button#mic').focus();
  renderSoon();
}

export const isHost = () => app.role === 'HOST' || app.role === 'chair';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* ---------- pre-join ---------- */

async function refreshDevices() {
  try {
    const { cameras, mics } = await app.local.devices();
    fillSelect($('select#camera'), cameras.map((d, i) => ({ value: d.deviceId, label: d.label || `Camera ${i + 1}` })), app.local.cameraId);
    fillSelect($('select#microphone'), mics.map((d, i) => ({ value: d.deviceId, label: d.label || `Microphone ${i + 1}` })), app.local.micId);
  } catch { /* no device list */ }
}

async function startPreview() {
  const audioOnly = $('#audio-only').checked;
  try {
    if (!app.local.audio) await app.local.openMic();
  } catch (e) { showError(e); }
  try {
    if (!audioOnly && !app.local.video) await app.local.openCamera();
    if (audioOnly) app.local.closeCamera();
  } catch (e) { showError(e); }
  $('#preview').srcObject = app.local.video ? new MediaStream([app.local.video]) : null;
  $('#preview-off').hidden = Boolean(app.local.video);
  await refreshDevices();
  app.local.startMeter((v) => { $('#mic-level').value = v; });
}

async function join() {
  if (app.joinInFlight || app.state !== 'prejoin') return; // one participant per click, ever
  const name = $('#name').value.trim();
  if (!app.alias) app.alias = $('#room-input').value.trim();
  if (!app.alias) { showError(new Error('Type the name of the room to join.')); $('#room-input').focus(); return; }
  if (!name) { showError(new Error('Type your name first.')); $('#name').focus(); return; }
  app.joinInFlight = true;
  $('#join').disabled = true;
  app.name = name;
  try { localStorage.setItem('parley.name', name); } catch { /* private mode */ }
  app.camOn = !$('#audio-only').checked && Boolean(app.local.video);
  showError(null);
  setState('joining');
  say(`Joining ${app.alias}…`);
  app.leaving = false;
  try {
    await connect();
  } catch (e) {
    teardown();
    showError(e);
    say('');
    setState('prejoin');
  }
}

/* ---------- joining and rejoining ---------- */

function iceConfig(t) {
  const iceServers = [...(t.stun || []).map((s) => ({ urls: s.url })), ...(t.turn || [])];
  return { bundlePolicy: 'max-bundle', iceServers,
           iceTransportPolicy: t.use_relay_candidates_only ? 'relay' : 'all' };
}

/* request_token, the event stream, then the call (or the waiting room). Returns
 * 'prompt' when the user must answer a PIN or reception prompt first. */
export async function connect({ rejoin = false } = {}) {
  const gen = ++app.generation;
  const api = app.api = new Api(app.alias);
  const r = await api.requestToken({ name: app.name, pin: app.pin, extension: app.extension });
  if (gen !== app.generation) throw new Error('superseded');
  if (r.prompt === 'pin') {
    if (rejoin) throw new ApiError(403, 'Invalid PIN', '/request_token');
    $('#pin-hint').textContent = r.guestPin === 'none'
      ? 'Hosts type the host PIN. Guests may leave it empty.' : 'Type the PIN you were given.';
    if (app.pin) showError(new Error(app.pin === 'none' ? 'This meeting needs a PIN.' : 'Invalid PIN'));
    setState('pin');
    return 'prompt';
  }
  if (r.prompt === 'reception') {
    if (rejoin) throw new ApiError(404, 'Neither conference nor gateway found', '/request_token');
    setState('reception');
    return 'prompt';
  }
  app.token = r;
  app.selfUuid = r.participant_uuid;
  app.role = r.role;
  document.title = `${r.conference_name || app.alias} — Parley`;
  $('#room-label').textContent = r.conference_name || app.alias;
  api.onRole = (role) => { app.role = role; renderSoon(); };
  api.onLost = (e) => { if (gen === app.generation && !(e instanceof ApiError && e.status < 500 && e.status !== 403)) reconnect('token'); };
  api.startRefresh();
  app.participants.clear();
  app.streams = null;
  app.stage = [];
  app.es = await api.openEvents(handlers(gen), () => {
    if (gen === app.generation && ['in-call', 'waiting'].includes(app.state)) reconnect('events');
  });
  if (gen !== app.generation) throw new Error('superseded');
  if (r.current_service_type === 'waiting_room') {
    setState('waiting');
    say('You are in the waiting room. The host will let you in.');
    const me = app.participants.get(app.selfUuid);
    if (me) applySelf(me); // let in while the stream was opening
    return 'waiting';
  }
  await startCall(gen);
  showError(null);
  setState('in-call');
  say(rejoin ? 'Reconnected.' : `You joined ${r.conference_name || app.alias}.`);
  if (!app.es || app.es.readyState === EventSource.CLOSED) reconnect('events'); // lost while the call started
  return 'in-call';
}

async function startCall(gen) {
  const make = (multistream) => {
    const call = new Call(app.api, app.selfUuid, {
      audio: app.local.audio, video: app.camOn ? app.local.video : null,
      iceConfig: iceConfig(app.token), multistream,
      receiveSlides: Boolean(app.presentation) });
    call.ontrack = (kind, mid, track) => onTrack(call, kind, track);
    call.onstate = (s) => onConnectionState(gen, call, s);
    return call;
  };
  let call = make(app.multistream);
  app.call = call;
  try {
    await call.start();
  } catch (e) {
    await call.hangup();
    if (gen !== app.generation || !app.multistream || e instanceof TypeError) throw e;
    console.warn('parley: a multistream call failed, trying one video m-line:', e.message);
    /* A server that cannot take 9 video m-lines: one, as every Pexip client offers. */
    app.multistream = false;
    call = make(false);
    app.call = call;
    await call.start();
  }
  if (gen !== app.generation) { call.close(); throw new Error('superseded'); }
  if (app.local.audio) app.local.audio.enabled = app.micOn && !app.serverMuted;
  if (!app.camOn) app.api.post(`/participants/${app.selfUuid}/video_muted`).catch(() => {});
  if (!app.micOn) app.api.post(`/participants/${app.selfUuid}/client_mute`).catch(() => {});
  renderSoon();
}

function onTrack(call, kind, track) {
  if (call !== app.call) return;
  if (kind === 'audio') {
    const a = $('#remote-audio');
    a.srcObject = new MediaStream([track]);
    a.play().catch(() => {});
  } else if (kind === 'slides') {
    const v = $('#presentation video');
    v.srcObject = new MediaStream([track]);
    track.onunmute = () => { if (app.presentation) showPresentation('video'); };
    v.play().catch(() => {});
  } else {
    track.onunmute = () => renderSoon();
    renderSoon();
  }
}

let iceTimer = null;
function onConnectionState(gen, call, s) {
  if (gen !== app.generation || call !== app.call) return;
  clearTimeout(iceTimer);
  if (s === 'failed') reconnect('ice');
  else if (s === 'disconnected')
    iceTimer = setTimeout(() => {
      if (gen === app.generation && call.pc.connectionState !== 'connected') reconnect('ice');
    }, 5000);
}

/* Everything of the current session goes, except the local camera and microphone. */
export function teardown() {
  app.generation++;
  clearTimeout(iceTimer);
  if (app.es) app.es.close();
  app.es = null;
  if (app.call) app.call.close();
  app.call = null;
  if (app.api) app.api.stopRefresh();
  if (app.sharing) { app.sharing.stop(); app.sharing = null; }
  app.participants.clear();
  app.streams = null;
  app.stage = [];
  app.presentation = null;
  hidePresentation();
  renderSoon();
}

function releaseQuietly(api) {
  if (api && api.token)
    api.request('POST', '/release_token', { reason: 'User initiated disconnect' }, {}, { timeout: 2000 }).catch(() => {});
}

export async function reconnect(why) {
  if (app.leaving || !['in-call', 'waiting'].includes(app.state)) return;
  console.info('parley: reconnecting after', why);
  const old = app.api;
  teardown();
  releaseQuietly(old); // a blip leaves no ghost of us behind
  setState('reconnecting');
  const stale = [old];
  say('Connection lost. Reconnecting…');
  for (let attempt = 0; ; attempt++) {
    await sleep(Math.min(500 * 2 ** attempt, 3000) * (0.8 + Math.random() * 0.4));
    if (app.leaving || app.state !== 'reconnecting') return;
    try {
      await connect({ rejoin: true });
      showError(null);
      stale.forEach(releaseQuietly); // sent again: offline, the first tries never arrived
      return;
    } catch (e) {
      const api = app.api;
      teardown();
      releaseQuietly(api);
      stale.push(api);
      if (app.leaving || app.state !== 'reconnecting') return;
      if (isPermanent(e)) { end(plainWords(e, app.alias)); return; }
      say(`Still reconnecting (attempt ${attempt + 2})…`);
    }
  }
}

export function end(reason) {
  teardown();
  app.leaving = true;
  app.local.stopAll(); // the camera light goes out; Join again opens them anew
  $('#preview').srcObject = null;
  $('#ended-reason').textContent = reason || '';
  $('#ended-title').textContent = /left the meeting/.test(reason || '') ? 'You left the meeting' : 'The meeting ended for you';
  setState('ended');
  say(reason || 'You left the meeting.');
}

/* Leaving shows at once; the call's disconnect and release_token go together (either
 * takes us out of everyone's grid) and outlive the page if it is closed right after. */
export async function leave() {
  if (app.leaving) return;
  app.leaving = true;
  const api = app.api, call = app.call;
  app.call = null;
  const jobs = [];
  if (call) {
    call.close();
    if (call.uuid) jobs.push(api.request('POST', call.path('disconnect'), undefined, {}, { keepalive: true }));
  }
  if (api && api.token)
    jobs.push(api.request('POST', '/release_token', { reason: 'User initiated disconnect' }, {}, { keepalive: true }));
  end('You left the meeting.');
  await Promise.allSettled(jobs);
}

/* ---------- events ---------- */

function handlers(gen) {
  const live = (fn) => (data, ev) => { if (gen === app.generation) fn(data, ev); };
  return {
    participant_sync_begin: live(() => { app.participants.clear(); }),
    participant_sync_end: live(() => renderSoon()),
    participant_create: live((p) => {
      const known = app.participants.has(p.uuid);
      app.participants.set(p.uuid, p);
      if (p.uuid === app.selfUuid) applySelf(p);
      else if (!known && app.state === 'in-call') say(`${p.display_name} joined.`);
      renderSoon();
    }),
    participant_update: live((p) => {
      const before = app.participants.get(p.uuid);
      app.participants.set(p.uuid, p);
      if (p.uuid === app.selfUuid) applySelf(p);
      else if (before && before.service_type !== 'waiting_room' && isHost() && p.service_type === 'waiting_room') say(`${p.display_name} is waiting to be let in.`);
      renderSoon();
    }),
    participant_delete: live(({ uuid }) => {
      const p = app.participants.get(uuid);
      app.participants.delete(uuid);
      if (p && uuid !== app.selfUuid) say(`${p.display_name} left.`);
      render(); // at once: no frozen video of someone who left
    }),
    conference_update: live((c) => { app.conference = c; renderSoon(); }),
    stage: live((s) => { app.stage = Array.isArray(s) ? s : []; renderSoon(); }),
    parley_streams: live((m) => {
      if (app.call && m.call_uuid && app.call.uuid && m.call_uuid !== app.call.uuid) return;
      app.streams = m.streams || [];
      render();
    }),
    presentation_start: live((d) => onPresentationStart(d)),
    presentation_stop: live(() => onPresentationStop()),
    presentation_frame: live((d, ev) => {
      const id = ev.lastEventId || (d && d.id) || '';
      const img = $('#presentation img');
      img.src = `${app.api.base()}/presentation.jpeg?id=${encodeURIComponent(id)}&token=${encodeURIComponent(app.api.token)}`;
      if (app.presentation) showPresentation('image');
    }),
    message_received: live((m) => {
      chatLine($('#chat-log'), { from: m.origin, text: m.payload, direct: m.direct });
      if ($('#chat-panel').hidden) {
        app.unreadChat++;
        $('#chat-badge').textContent = String(app.unreadChat);
        say(`New message from ${m.origin}.`);
      }
    }),
    call_disconnected: live((c) => {
      if (app.call && c.call_uuid === app.call.uuid && !app.leaving) reconnect('call ended');
    }),
    disconnect: live((d) => {
      const reason = (d && d.reason) || '';
      if (RECONNECTABLE.test(reason)) reconnect(reason);
      else end(plainWords(new Error(reason || 'Disconnected'), app.alias));
    }),
    refresh_token: live(() => { app.api.refresh().catch(() => {}); }),
  };
}

function applySelf(p) {
  app.role = p.role === 'chair' ? 'HOST' : 'GUEST';
  app.hand = p.buzz_time > 0;
  const serverMuted = p.is_muted === 'YES';
  if (serverMuted !== app.serverMuted) {
    app.serverMuted = serverMuted;
    if (app.local.audio) app.local.audio.enabled = app.micOn && !serverMuted;
    say(serverMuted ? 'A host muted your microphone.' : 'You can speak again.');
  }
  if (p.is_video_muted && app.camOn && app.state === 'in-call') {
    cameraOff(false);
    say('Your camera was turned off by a host.');
  }
  if (app.state === 'waiting' && p.service_type !== 'waiting_room' && app.admittedGen !== app.generation) {
    const gen = app.admittedGen = app.generation; // once: more updates come while the call starts
    say('You were let in. Connecting…');
    startCall(gen).then(() => { if (gen === app.generation) { setState('in-call'); say('You joined the meeting.'); } })
      .catch((e) => { if (gen === app.generation) { showError(e); reconnect('call'); } });
  }
}

/* ---------- presentation ---------- */

function onPresentationStart(d) {
  if (!d || !d.presenter_uuid) { // revoked
    if (app.sharing) stopShare(false);
    return;
  }
  if (app.sharing && d.presenter_uuid !== app.selfUuid) {
    stopShare(false);
    say(`${d.presenter_name} took over the presentation.`);
  }
  app.presentation = { uuid: d.presenter_uuid, name: d.presenter_name };
  showPresentation(null);
  say(`${d.presenter_name} is presenting.`);
  if (app.call) app.call.setSlidesDirection('recvonly').catch(showError);
}

function onPresentationStop() {
  if (!app.presentation) return;
  app.presentation = null;
  hidePresentation();
  say('The presentation ended.');
  if (app.call && !app.sharing) app.call.setSlidesDirection('inactive').catch(() => {});
}

/* mode: 'video', 'image' or null (keep). */
export function showPresentation(mode) {
  const box = $('#presentation');
  const who = app.sharing ? { uuid: app.selfUuid, name: 'You' } : app.presentation;
  if (!who) return;
  box.hidden = false;
  box.dataset.presenterUuid = who.uuid;
  if (mode) box.dataset.mode = mode;
  else if (!box.dataset.mode) box.dataset.mode = 'video';
  box.querySelector('img').hidden = box.dataset.mode !== 'image';
  box.querySelector('video').hidden = box.dataset.mode === 'image';
  box.querySelector('.caption').textContent = app.sharing ? 'You are sharing your screen' : `${who.name} is presenting`;
  $('#stage').classList.add('has-presentation');
  scheduleHints();
}

export function hidePresentation() {
  const box = $('#presentation');
  box.hidden = true;
  delete box.dataset.presenterUuid;
  delete box.dataset.mode;
  box.querySelector('video').srcObject = null;
  box.querySelector('img').removeAttribute('src');
  $('#stage').classList.remove('has-presentation');
}

/* ---------- drawing ---------- */

const publishesVideo = (p) => p && p.has_media && !p.is_video_muted && p.is_audio_only_call !== 'YES' && p.service_type !== 'waiting_room';
const inCall = (p) => p && p.has_media && p.service_type !== 'waiting_room';

function tiles() {
  const vad = new Map(app.stage.map((s) => [s.participant_uuid, s.vad]));
  const about = (uuid) => {
    const p = app.participants.get(uuid) || {};
    return { uuid, name: p.display_name || 'Someone', muted: p.is_muted === 'YES' || Boolean(p.is_client_muted),
             hand: p.buzz_time > 0, speaking: (vad.get(uuid) || 0) > 0 };
  };
  const out = [];
  const shown = new Set([app.selfUuid]);
  const call = app.call;
  if (call && ['in-call', 'joining', 'waiting'].includes(app.state)) {
    if (app.token && app.token.service_type === 'test_call') {
      /* A test call: what comes back is our own audio and video, through the server. */
      const mid = call.slots[0] && call.slots[0].mid;
      out.push({ uuid: 'test-call', name: 'You, through the server', track: call.trackOfMid(mid), mid });
    } else if (app.streams) {
      for (const s of app.streams) {
        const u = s.participant_uuid;
        if (!u || shown.has(u) || !app.participants.has(u)) continue;
        shown.add(u);
        out.push({ ...about(u), track: call.trackOfMid(s.mid), mid: s.mid, paused: s.layer === null });
      }
    } else {
      /* One video m-line (no parley_streams): slot 0 shows the speaker of the stage. */
      const order = [...app.stage.map((s) => s.participant_uuid), ...app.participants.keys()];
      const u = order.find((x) => x !== app.selfUuid && publishesVideo(app.participants.get(x)));
      if (u) {
        shown.add(u);
        const mid = call.slots[0] && call.slots[0].mid;
        out.push({ ...about(u), track: call.trackOfMid(mid), mid });
      }
    }
    for (const p of app.participants.values())
      if (!shown.has(p.uuid) && inCall(p) && (p.is_audio_only_call === 'YES' || p.is_video_muted)) {
        shown.add(p.uuid);
        out.push({ ...about(p.uuid), track: null, noVideo: true });
      }
  }
  if (app.selfUuid) {
    const me = about(app.selfUuid);
    out.push({ ...me, name: app.name, self: true, track: app.camOn ? app.local.video : null,
               noVideo: !app.camOn, muted: !app.micOn || app.serverMuted, hand: app.hand });
  }
  if (app.layout === 'speaker') {
    const remote = out.filter((t) => !t.self);
    const featured = app.stage.map((s) => remote.find((t) => t.uuid === s.participant_uuid)).find(Boolean) || remote[0] || out[0];
    if (featured) {
      featured.featured = true;
      out.splice(out.indexOf(featured), 1);
      out.unshift(featured);
    }
  }
  return out;
}

let renderQueued = false, lastRoster = '', lastChatTo = '';
export function renderSoon() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; render(); });
  setTimeout(() => { if (renderQueued) { renderQueued = false; render(); } }, 100); // hidden tabs
}

export function render() {
  const list = tiles();
  renderGrid($('#grid'), list, app.layout);
  const people = [...app.participants.values()].sort((a, b) =>
    (a.service_type === 'waiting_room' ? 0 : 1) - (b.service_type === 'waiting_room' ? 0 : 1) ||
    (a.start_time || 0) - (b.start_time || 0));
  /* Redrawn only when it changes: a keyboard user's focus stays on its button while
   * stage and other events come and go. */
  const rosterKey = JSON.stringify([isHost(), app.selfUuid, people.map((p) => [p.uuid, p.display_name, p.role,
    p.service_type, p.is_muted, p.is_client_muted, p.buzz_time, p.spotlight, p.is_presenting])]);
  if (rosterKey !== lastRoster) {
    lastRoster = rosterKey;
    const focused = document.activeElement && document.activeElement.closest('#roster li[data-participant-uuid]');
    const again = focused && [focused.dataset.participantUuid, document.activeElement.dataset.action];
    renderRoster($('#roster'), people.map((p) => ({ p })), { isHost: isHost(), selfUuid: app.selfUuid });
    if (again) {
      const li = $('#roster').querySelector(`li[data-participant-uuid="${CSS.escape(again[0])}"]`);
      const b = li && (li.querySelector(`button[data-action="${again[1]}"]`) || li.querySelector('button'));
      if (b) b.focus();
    }
  }
  const waiting = people.filter((p) => p.service_type === 'waiting_room').length;
  $('#roster-badge').textContent = waiting && isHost() ? String(waiting) : '';
  document.body.classList.toggle('is-host', isHost());
  $('#lock').setAttribute('aria-pressed', String(Boolean(app.conference.locked)));
  $('#lock').textContent = app.conference.locked ? 'Unlock meeting' : 'Lock meeting';
  $('#mute-guests').setAttribute('aria-pressed', String(Boolean(app.conference.guests_muted)));
  $('#mute-guests').textContent = app.conference.guests_muted ? 'Unmute all guests' : 'Mute all guests';
  $('#lock-indicator').hidden = !app.conference.locked;
  const to = $('#chat-to');
  const current = to.value;
  const others = people.filter((p) => p.uuid !== app.selfUuid && p.service_type !== 'waiting_room');
  const toKey = JSON.stringify(others.map((p) => [p.uuid, p.display_name]));
  if (toKey !== lastChatTo) {
    lastChatTo = toKey;
    fillSelect(to, [{ value: '', label: 'Everyone' }, ...others.map((p) => ({ value: p.uuid, label: p.display_name }))], current);
    if (current && to.value !== current) say('The person you were writing to has left; messages go to everyone.');
  }
  const micOn = app.micOn && !app.serverMuted && Boolean(app.local.audio);
  $('button#mic').setAttribute('aria-pressed', String(micOn));
  $('button#mic .label').textContent = micOn ? 'Mute' : 'Unmute';
  $('button#camera').setAttribute('aria-pressed', String(app.camOn));
  $('button#camera .label').textContent = app.camOn ? 'Stop video' : 'Start video';
  $('button#share').setAttribute('aria-pressed', String(Boolean(app.sharing)));
  $('button#share .label').textContent = app.sharing ? 'Stop sharing' : 'Share';
  $('button#hand').setAttribute('aria-pressed', String(app.hand));
  $('button#hand .label').textContent = app.hand ? 'Lower hand' : 'Raise hand';
  $('button#share').setAttribute('aria-label', app.sharing ? 'Stop sharing your screen' : 'Share your screen');
  scheduleHints();
}

/* ---------- tile size hints (contract §1) ---------- */

let hintTimer = null, lastHints = '';
export function scheduleHints() {
  clearTimeout(hintTimer);
  hintTimer = setTimeout(sendHints, 250);
}

async function sendHints() {
  const call = app.call;
  if (!call || !call.uuid || !app.streams || app.hintsOff || app.state !== 'in-call') return;
  const dpr = window.devicePixelRatio || 1;
  const grid = $('#grid');
  const fallback = grid.querySelector('.tile:not(.featured)') || grid;
  const streams = call.slotMids().filter((m) => m != null).map((mid) => {
    const tile = grid.querySelector(`.tile[data-mid="${CSS.escape(mid)}"]:not(.self)`);
    /* An empty slot: the size a new tile would get, so a newcomer is not held paused. */
    const box = tile || fallback;
    return { mid, width: Math.round(box.clientWidth * dpr), height: Math.round(box.clientHeight * dpr) };
  });
  const body = JSON.stringify(streams);
  if (body === lastHints) return;
  lastHints = body;
  try {
    await app.api.post(`/participants/${app.selfUuid}/calls/${call.uuid}/streams`, { streams });
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) app.hintsOff = true;
    else lastHints = '';
  }
}

/* ---------- start ---------- */

function init() {
  const name = query.get('name') || (() => { try { return localStorage.getItem('parley.name'); } catch { return ''; } })() || '';
  $('#name').value = name;
  if (query.get('audioonly') === '1') $('#audio-only').checked = true;
  if (app.pin && app.pin !== 'none') $('#pin').value = app.pin;
  app.layout = ['grid', 'speaker'].includes(localStorage.getItem('parley.layout')) ? localStorage.getItem('parley.layout') : 'grid';
  $('#layout').value = app.layout;
  if (!app.alias) $('#room-field').hidden = false;
  $('#prejoin-room').textContent = app.alias ? `“${app.alias}”` : 'a meeting';
  $('#room-label').textContent = app.alias;
  setState('prejoin');
  wireControls({ join, leave, startPreview, refreshDevices });
  new ResizeObserver(() => renderSoon()).observe($('#grid'));
  window.addEventListener('resize', () => renderSoon());
  window.addEventListener('pagehide', () => { if (app.api && !app.leaving) app.api.beaconRelease(); });
  const ready = startPreview();
  if (query.get('autojoin') === '1') ready.finally(() => join());
}

init();
