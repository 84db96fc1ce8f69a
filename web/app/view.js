// view.js — drawing the call: the tiles of #grid (kept by participant uuid, so a video
// element survives re-renders), the roster with host controls, and the chat log.

export const $ = (sel) => document.querySelector(sel);

function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  return (parts.slice(0, 2).map((p) => p[0]).join('') || '?').toUpperCase();
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'type') e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

function makeTile(uuid) {
  const video = el('video', { autoplay: true, playsInline: true, muted: true });
  video.setAttribute('playsinline', '');
  const tile = el('div', { class: 'tile', 'data-participant-uuid': uuid, role: 'group' },
    video,
    el('div', { class: 'avatar', 'aria-hidden': 'true' }),
    el('div', { class: 'label' },
      el('span', { class: 'hand-icon', 'aria-hidden': 'true', text: 'Hand up' }),
      el('span', { class: 'name' }),
      el('span', { class: 'mute-icon', 'aria-hidden': 'true', text: 'Muted' })));
  return tile;
}

/* tiles: [{uuid, name, self, track|null, noVideo, speaking, muted, hand, paused, featured}] */
export function renderGrid(grid, tiles, layout) {
  const keep = new Set(tiles.map((t) => t.uuid));
  for (const node of [...grid.children])
    if (!keep.has(node.dataset.participantUuid)) {
      const v = node.querySelector('video');
      if (v) v.srcObject = null;
      node.remove();
    }
  let prev = null;
  for (const t of tiles) {
    let node = grid.querySelector(`.tile[data-participant-uuid="${CSS.escape(t.uuid)}"]`);
    if (!node) node = makeTile(t.uuid);
    const want = prev ? prev.nextSibling : grid.firstChild;
    if (node !== want) grid.insertBefore(node, want);
    prev = node;
    node.dataset.name = t.name;
    node.querySelector('.name').textContent = t.self ? `${t.name} (you)` : t.name;
    node.querySelector('.avatar').textContent = initials(t.name);
    const flags = [t.muted ? 'muted' : '', t.hand ? 'hand raised' : '', t.speaking ? 'speaking' : ''].filter(Boolean);
    node.setAttribute('aria-label', `${t.self ? 'You' : t.name}${flags.length ? ', ' + flags.join(', ') : ''}`);
    for (const [cls, on] of [['self', t.self], ['speaking', t.speaking], ['muted', t.muted],
      ['hand', t.hand], ['no-video', t.noVideo || !t.track], ['paused', t.paused], ['featured', t.featured]])
      node.classList.toggle(cls, Boolean(on));
    const video = node.querySelector('video');
    const current = video.srcObject && video.srcObject.getVideoTracks()[0];
    if ((t.track || null) !== (current || null)) {
      video.srcObject = t.track ? new MediaStream([t.track]) : null;
      if (t.track) video.play().catch(() => {});
    }
    node.dataset.mid = t.mid == null ? '' : t.mid;
  }
  grid.dataset.count = String(tiles.length);
  fit(grid, Math.max(1, tiles.length), layout);
  grid.classList.toggle('layout-speaker', layout === 'speaker');
  grid.classList.toggle('layout-grid', layout !== 'speaker');
}

/* The grid's columns and tile size that give n 16:9 tiles the most room. */
function fit(grid, n, layout) {
  const W = grid.clientWidth, H = grid.clientHeight, gap = 8;
  if (layout === 'speaker' || !W || !H) {
    grid.style.removeProperty('--tile-w');
    grid.style.removeProperty('--tile-h');
    grid.style.setProperty('--cols', '1');
    return;
  }
  let best = { w: 0, cols: 1 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((W - gap * (cols - 1)) / cols, ((H - gap * (rows - 1)) / rows) * 16 / 9);
    if (w > best.w) best = { w, cols };
  }
  grid.style.setProperty('--cols', String(best.cols));
  grid.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
  grid.style.setProperty('--tile-h', `${Math.floor(best.w * 9 / 16)}px`);
}

/* Roster entries with host controls. people: [{p, self, waiting}]; act(action, uuid). */
export function renderRoster(list, people, { isHost, selfUuid }) {
  list.replaceChildren(...people.map(({ p }) => {
    const self = p.uuid === selfUuid;
    const waiting = p.service_type === 'waiting_room';
    const muted = p.is_muted === 'YES';
    const tags = [];
    if (p.role === 'chair') tags.push('host');
    if (self) tags.push('you');
    if (waiting) tags.push('waiting');
    if (muted || p.is_client_muted) tags.push('muted');
    if (p.buzz_time > 0) tags.push('hand raised');
    if (p.spotlight > 0) tags.push('spotlight');
    if (p.is_presenting === 'YES') tags.push('presenting');
    const li = el('li', { 'data-participant-uuid': p.uuid, class: waiting ? 'waiting' : '' },
      el('span', { class: 'who', text: p.display_name || 'Someone' }),
      el('span', { class: 'tags', text: tags.length ? ` (${tags.join(', ')})` : '' }));
    if (isHost && !self) {
      const actions = waiting
        ? [['admit', 'Let in'], ['deny', 'Deny']]
        : [[muted ? 'unmute' : 'mute', muted ? 'Unmute' : 'Mute'],
           ...(p.buzz_time > 0 ? [['lower-hand', 'Lower hand']] : []),
           ['spotlight', p.spotlight > 0 ? 'Remove spotlight' : 'Spotlight'],
           ...(p.role === 'chair' ? [] : [['make-host', 'Make host']]),
           ['remove', 'Remove']];
      const box = el('span', { class: 'actions' });
      for (const [action, label] of actions) {
        const b = el('button', { type: 'button', 'data-action': action, text: label,
          'aria-label': `${label}: ${p.display_name}` });
        if (action === 'spotlight') b.setAttribute('aria-pressed', String(p.spotlight > 0));
        box.append(b);
      }
      li.append(box);
    }
    return li;
  }));
}

export function chatLine(log, { from, text, direct, mine, to }) {
  const who = mine ? (to ? `You to ${to}` : 'You') : direct ? `${from} (privately)` : from;
  const li = el('li', { class: `${mine ? 'mine' : ''} ${direct ? 'direct' : ''}`.trim() },
    el('span', { class: 'from', text: who }),
    el('span', { class: 'text', text }),
    el('time', { text: new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }));
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

export function fillSelect(select, items, current) {
  select.replaceChildren(...items.map(({ value, label }) => el('option', { value, text: label })));
  if (items.some((i) => i.value === current)) select.value = current;
}
