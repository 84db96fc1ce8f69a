// pubsub.js — the example app of pubsub.html: everything it does goes through the SDK.
// A tile per remote feed (keyed by feed id, named after its participant), the own camera
// as a preview, a screen share, messages to everyone or one person.
// ?sid=&name=&key= (or &jwt=) fill the form, and &autojoin=1 joins at once.
import Parley from '../sdk/parley.js';

const $ = (sel) => document.querySelector(sel);
const E = Parley.events;
const app = window.pubsubApp = { session: null, camera: null, screen: null, screenFeed: null, messages: [], speaker: null };

function setState(state, text = '') {
  document.body.dataset.state = state;
  $('#status').textContent = text;
  $('#share').hidden = $('#leave').hidden = state !== 'in-call' && state !== 'reconnecting';
}

const nameOf = (uid) => app.session?.participants.find((p) => p.uid === uid)?.name || uid;

/* The tile of a feed, made (and subscribed) when it is new. */
function addTile(f) {
  if (document.querySelector(`.tile[data-feed="${CSS.escape(f.feed_id)}"]`)) return;
  const tile = document.createElement('div');
  tile.className = `tile ${f.type}`;
  tile.classList.toggle('speaking', f.uid === app.speaker); // `speaker` comes on changes only
  tile.dataset.feed = f.feed_id;
  tile.dataset.uid = f.uid;
  const video = document.createElement('video');
  video.autoplay = video.playsInline = true;
  const label = document.createElement('span');
  label.className = 'name';
  label.textContent = f.type === 'screen' ? `${nameOf(f.uid)} (screen)` : nameOf(f.uid);
  tile.append(video, label);
  $('#tiles').append(tile);
  app.session.subscribe(f.feed_id, video).catch((e) => showError(e));
}

function removeTile(feedId) {
  document.querySelector(`.tile[data-feed="${CSS.escape(feedId)}"]`)?.remove();
}

function refreshRecipients() {
  const to = $('#to');
  const chosen = to.value;
  to.replaceChildren(new Option('Everyone', ''));
  for (const p of app.session.participants) to.append(new Option(p.name || p.uid, p.uid));
  to.value = [...to.options].some((o) => o.value === chosen) ? chosen : '';
}

function addMessage(from, text) {
  app.messages.push({ from, text });
  const li = document.createElement('li');
  li.textContent = `${from}: ${text}`;
  $('#messages').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

function showError(e) {
  $('#error').textContent = e.code ? `${e.message} (${e.code})` : String(e.message || e);
}

async function join({ sid, name, credential }) {
  setState('joining', 'Joining…');
  $('#error').textContent = '';
  const auth = /^ey[\w-]+\.[\w-]+\.[\w-]+$/.test(credential) ? { jwt: credential } : { key: credential };
  let s;
  try {
    app.camera = app.camera || await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    s = app.session = await Parley.connect(location.origin, { sid, name, ...auth });
  } catch (e) {
    setState('prejoin');
    showError(e);
    return;
  }
  s.on(E.participantJoined, refreshRecipients);
  s.on(E.participantLeft, refreshRecipients);
  s.on(E.publisher, (f) => {
    if (f.replaces) { // restored into the same element after a reconnection
      const tile = document.querySelector(`.tile[data-feed="${CSS.escape(f.replaces)}"]`);
      if (tile) tile.dataset.feed = f.feed_id;
      return;
    }
    addTile(f);
  });
  s.on(E.publisherLeft, (f) => removeTile(f.feed_id));
  s.on(E.speaker, ({ uid }) => {
    app.speaker = uid;
    for (const t of document.querySelectorAll('.tile')) t.classList.toggle('speaking', t.dataset.uid === uid);
  });
  s.on(E.data, ({ from, payload }) => addMessage(nameOf(from), payload?.text ?? JSON.stringify(payload)));
  s.on(E.reconnecting, ({ timeout }) => setState('reconnecting', `Reconnecting in ${(timeout / 1000).toFixed(1)} s…`));
  s.on(E.reconnected, ({ feeds }) => {
    if (app.screenFeed && feeds[app.screenFeed]) app.screenFeed = feeds[app.screenFeed];
    setState('in-call');
    refreshRecipients();
  });
  s.on(E.disconnected, ({ reason, error }) => {
    setState('left', reason === 'left' ? 'You left' : 'Disconnected');
    if (error) showError(error);
    for (const t of document.querySelectorAll('.tile:not(.self)')) t.remove();
  });
  s.on(E.error, showError);
  setState('in-call');
  refreshRecipients();
  for (const f of s.feeds) addTile(f);
  try {
    await s.publish(app.camera, { type: 'video', el: $('#local') });
  } catch (e) {
    showError(e);
  }
}

async function toggleScreen() {
  const s = app.session;
  if (app.screenFeed) {
    const id = app.screenFeed;
    app.screenFeed = null;
    app.screen?.getTracks().forEach((t) => t.stop());
    $('#share').textContent = 'Share screen';
    $('#share').classList.add('off');
    await s.unpublish(id).catch(showError);
    return;
  }
  try {
    app.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    app.screen.getVideoTracks()[0].onended = () => { if (app.screenFeed) toggleScreen(); };
    app.screenFeed = await s.publish(app.screen, { type: 'screen' });
    $('#share').textContent = 'Stop sharing';
    $('#share').classList.remove('off');
  } catch (e) {
    showError(e);
  }
}

$('#join').addEventListener('submit', (e) => {
  e.preventDefault();
  join({ sid: $('#sid').value.trim(), name: $('#name').value.trim(), credential: $('#key').value.trim() });
});
$('#share').addEventListener('click', toggleScreen);
$('#leave').addEventListener('click', async () => {
  await app.session?.leave();
  app.screen?.getTracks().forEach((t) => t.stop());
  app.screenFeed = null;
});
$('#chat').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('#msg').value;
  if (!text || !app.session) return;
  const to = $('#to').value || undefined;
  try {
    await app.session.send({ text }, { to });
    addMessage(to ? `You → ${nameOf(to)}` : 'You', text);
    $('#msg').value = '';
  } catch (err) {
    showError(err);
  }
});

const q = new URLSearchParams(location.search);
if (q.get('sid')) $('#sid').value = q.get('sid');
if (q.get('name')) $('#name').value = q.get('name');
if (q.get('key') || q.get('jwt')) $('#key').value = q.get('key') || q.get('jwt');
if (q.get('autojoin') === '1' && $('#join').checkValidity())
  join({ sid: $('#sid').value, name: $('#name').value, credential: $('#key').value });
