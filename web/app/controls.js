// controls.js — what the user's clicks and keys do: the prompts' forms, mic, camera,
// screen share, hand, layout, panels, chat sending, and the host's roster controls.
import { app, connect, render, renderSoon, say, showError, setState, teardown, isHost,
  showPresentation, hidePresentation } from './main.js';
import { ApiError } from './api.js';
import { $, chatLine } from './view.js';

const self = (action) => `/participants/${app.selfUuid}/${action}`;
const quietly = (p) => p.catch(showError);

/* ---------- prompts ---------- */

async function answerPrompt(fn) {
  showError(null);
  setState('joining');
  try {
    fn();
    await connect();
  } catch (e) {
    teardown();
    showError(e);
    const again = e instanceof ApiError && e.status === 403 && /PIN/.test(e.message) ? 'pin'
      : e instanceof ApiError && e.status === 404 && app.extension ? 'reception' : 'prejoin';
    setState(again);
  }
}

/* ---------- microphone and camera ---------- */

async function toggleMic() {
  if (!app.selfUuid) return;
  const on = app.micOn && !app.serverMuted && app.local.audio;
  if (on) {
    app.micOn = false;
    app.local.audio.enabled = false;
    say('Microphone off.');
    render();
    return quietly(app.api.post(self('client_mute')));
  }
  if (app.serverMuted) {
    try {
      await app.api.post(self('unmute'));
    } catch (e) {
      return showError(e);
    }
    app.serverMuted = false;
  }
  if (!app.local.audio) {
    try {
      await app.local.openMic();
      if (app.call) await app.call.replaceAudio(app.local.audio);
    } catch (e) {
      return showError(e);
    }
  }
  app.micOn = true;
  app.local.audio.enabled = true;
  say('Microphone on.');
  render();
  return quietly(app.api.post(self('client_unmute')));
}

export async function cameraOff(tell = true) {
  app.camOn = false;
  if (app.call) await app.call.replaceVideo(null).catch(() => {});
  app.local.closeCamera();
  render();
  if (tell) await quietly(app.api.post(self('video_muted')));
}

async function cameraOn() {
  try {
    await app.local.openCamera();
  } catch (e) {
    return showError(e);
  }
  app.camOn = true;
  if (app.call) await app.call.replaceVideo(app.local.video).catch(showError);
  render();
  await quietly(app.api.post(self('video_unmuted')));
}

async function toggleCamera() {
  if (!app.selfUuid) return;
  if (app.camOn) {
    await cameraOff(true);
    say('Camera off.');
  } else {
    await cameraOn();
    if (app.camOn) say('Camera on.');
  }
}

/* ---------- screen sharing (take_floor, then the slides m-line sends) ---------- */

async function startShare() {
  if (!navigator.mediaDevices.getDisplayMedia) return showError(new Error('This browser cannot share its screen.'));
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
  } catch (e) {
    if (e.name === 'NotAllowedError') return say('Screen sharing was cancelled.');
    return showError(e);
  }
  const track = stream.getVideoTracks()[0];
  track.contentHint = 'detail';
  try {
    await app.api.post(self('take_floor'));
    if (!app.call) throw new Error('Not in a call');
    app.sharing = track;
    app.presentation = null; // the floor is ours now: whoever had it stopped
    track.onended = () => stopShare(true);
    const v = $('#presentation video');
    v.srcObject = new MediaStream([track]);
    showPresentation('video');
    render();
    await app.call.sendScreen(track);
    say('You are sharing your screen.');
  } catch (e) {
    track.stop();
    if (app.sharing === track) stopShare(true);
    showError(e);
  }
}

export async function stopShare(release) {
  const track = app.sharing;
  if (!track) return;
  app.sharing = null;
  track.onended = null;
  track.stop();
  hidePresentation();
  render();
  if (release) await quietly(app.api.post(self('release_floor')));
  if (app.call) {
    await app.call.slides.sender.replaceTrack(null).catch(() => {});
    await app.call.setSlidesDirection(app.presentation ? 'recvonly' : 'inactive').catch(() => {});
  }
  if (app.presentation) showPresentation(null);
  say('You stopped sharing.');
}

/* ---------- panels ---------- */

function togglePanel(which) {
  const panel = $(`#${which}-panel`), button = $(`#${which}-toggle`);
  const open = panel.hidden;
  const other = which === 'chat' ? 'roster' : 'chat';
  if (open && window.matchMedia('(max-width: 700px)').matches) {
    $(`#${other}-panel`).hidden = true;
    $(`#${other}-toggle`).setAttribute('aria-expanded', 'false');
  }
  panel.hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  document.body.classList.toggle('panel-open', !$('#chat-panel').hidden || !$('#roster-panel').hidden);
  if (open && which === 'chat') {
    app.unreadChat = 0;
    $('#chat-badge').textContent = '';
    $('#chat-input').focus();
  } else if (open) {
    const first = panel.querySelector('button:not([hidden]), li');
    if (first) first.focus();
  } else {
    button.focus();
  }
}

/* ---------- chat ---------- */

async function sendChat() {
  const input = $('#chat-input');
  const text = input.value.trim();
  if (!text || !app.api) return;
  const to = $('#chat-to').value;
  const target = to ? app.participants.get(to) : null;
  try {
    if (to) await app.api.post(`/participants/${to}/message`, { type: 'text/plain', payload: text });
    else await app.api.post('/message', { type: 'text/plain', payload: text });
    chatLine($('#chat-log'), { text, mine: true, direct: Boolean(to), to: target ? target.display_name : '' });
    input.value = '';
    showError(null);
  } catch (e) {
    showError(e);
  }
}

/* ---------- host controls ---------- */

const ROSTER_ACTIONS = {
  mute: (u) => app.api.post(`/participants/${u}/mute`),
  unmute: (u) => app.api.post(`/participants/${u}/unmute`),
  remove: (u) => app.api.post(`/participants/${u}/disconnect`),
  deny: (u) => app.api.post(`/participants/${u}/disconnect`),
  admit: (u) => app.api.post(`/participants/${u}/unlock`),
  'lower-hand': (u) => app.api.post(`/participants/${u}/clearbuzz`),
  spotlight: (u) => app.api.post(`/participants/${u}/${app.participants.get(u)?.spotlight > 0 ? 'spotlightoff' : 'spotlighton'}`),
  'make-host': (u) => app.api.post(`/participants/${u}/role`, { role: 'chair' }),
};

async function rosterClick(ev) {
  const b = ev.target.closest('button[data-action]');
  if (!b || !isHost()) return;
  const li = b.closest('li[data-participant-uuid]');
  const uuid = li && li.dataset.participantUuid;
  const fn = ROSTER_ACTIONS[b.dataset.action];
  if (!uuid || !fn) return;
  const name = app.participants.get(uuid)?.display_name || 'them';
  if (b.dataset.action === 'remove' && !confirmRemove(name)) return;
  b.disabled = true;
  try {
    await fn(uuid);
    say({ mute: `${name} is muted.`, unmute: `${name} can speak again.`, remove: `${name} was removed.`,
          deny: `${name} was turned away.`, admit: `${name} was let in.`, spotlight: `Spotlight changed for ${name}.`,
          'make-host': `${name} is now a host.`, 'lower-hand': `${name}'s hand is lowered.` }[b.dataset.action]);
  } catch (e) {
    showError(e);
  } finally {
    if (b.isConnected) b.disabled = false;
  }
}

/* A confirmation question only with ?confirm=1: a dialog would stall scripted hosts. */
function confirmRemove(name) {
  if (new URLSearchParams(location.search).get('confirm') !== '1') return true;
  return window.confirm(`Remove ${name} from the meeting?`);
}

/* ---------- wiring ---------- */

/* A listener whose failure is shown to the user, never left as an unhandled rejection. */
const safe = (fn) => (...args) => {
  try {
    const r = fn(...args);
    if (r && r.catch) r.catch(showError);
  } catch (e) {
    showError(e);
  }
};

const on = (target, type, fn) => target.addEventListener(type, safe(fn));

export function wireControls({ join, leave, startPreview, refreshDevices }) {
  on($('#waiting-leave'), 'click', leave);
  on($('#prejoin-form'), 'submit', (e) => { e.preventDefault(); join(); });
  on($('#audio-only'), 'change', () => startPreview());
  on($('select#camera'), 'change', async (e) => {
    app.local.cameraId = e.target.value;
    if ($('#audio-only').checked) return;
    try {
      await app.local.openCamera();
      $('#preview').srcObject = new MediaStream([app.local.video]);
      if (app.call && app.camOn) await app.call.replaceVideo(app.local.video);
    } catch (err) { showError(err); }
  });
  on($('select#microphone'), 'change', async (e) => {
    app.local.micId = e.target.value;
    try {
      await app.local.openMic();
      app.local.audio.enabled = app.micOn && !app.serverMuted;
      if (app.call) await app.call.replaceAudio(app.local.audio);
      app.local.startMeter((v) => { $('#mic-level').value = v; });
      await refreshDevices();
    } catch (err) { showError(err); }
  });
  on($('#pin-form'), 'submit', (e) => {
    e.preventDefault();
    answerPrompt(() => { app.pin = $('#pin').value.trim() || 'none'; });
  });
  on($('#pin-cancel'), 'click', () => { teardown(); setState('prejoin'); });
  on($('#reception-form'), 'submit', (e) => {
    e.preventDefault();
    const target = $('#room-alias').value.trim();
    if (!target) { showError(new Error('Type the meeting you want to join.')); return; }
    answerPrompt(() => { app.extension = target; });
  });
  on($('#reception-cancel'), 'click', () => { teardown(); setState('prejoin'); });
  on($('button#mic'), 'click', toggleMic);
  on($('button#camera'), 'click', toggleCamera);
  on($('#share'), 'click', () => (app.sharing ? stopShare(true) : startShare()));
  on($('#hand'), 'click', () => quietly(app.api.post(self(app.hand ? 'clearbuzz' : 'buzz'))));
  on($('#layout'), 'change', (e) => {
    app.layout = e.target.value;
    try { localStorage.setItem('parley.layout', app.layout); } catch { /* private mode */ }
    render();
  });
  on($('#roster-toggle'), 'click', () => togglePanel('roster'));
  on($('#chat-toggle'), 'click', () => togglePanel('chat'));
  on($('#roster'), 'click', rosterClick);
  on($('#lock'), 'click', () => quietly(app.api.post(app.conference.locked ? '/unlock' : '/lock')));
  on($('#mute-guests'), 'click', () => quietly(app.api.post(app.conference.guests_muted ? '/unmuteguests' : '/muteguests')));
  on($('#chat-form'), 'submit', (e) => { e.preventDefault(); sendChat(); });
  on($('#chat-input'), 'keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); sendChat(); }
  });
  on($('#leave'), 'click', leave);
  on($('#rejoin'), 'click', () => {
    app.leaving = false;
    app.selfUuid = '';
    $('#chat-log').replaceChildren();
    setState('prejoin');
    startPreview();
    $('#join').focus();
  });
  on(document, 'keydown', (e) => {
    if (e.key === 'Escape') {
      for (const w of ['chat', 'roster']) if (!$(`#${w}-panel`).hidden) togglePanel(w);
    }
  });
  renderSoon();
}
