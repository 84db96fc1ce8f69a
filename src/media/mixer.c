/* mixer — Opus decode, jitter buffer with loss concealment, mix-minus, shared mix. */
#include "media/mixer.h"

#include "core/mem.h"

#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>
#include <string.h>

#define JITTER_SLOTS 8 /* 160 ms: reordering and bursts, not a long playout delay */
#define START_DEPTH 2  /* frames held before playout starts: absorbs arrival jitter */
#define PLC_FRAMES 3   /* concealed frames before a source counts as gone quiet */
#define SILENT 127
#define SPEAKING_BELOW 90 /* -dBov: quieter than this is not worth mixing */
#define BITRATE 32000

typedef struct {
  bool full;
  uint16_t seq;
  int level;
  uint16_t len;
  uint8_t data[MIXER_MAX_PACKET];
} jitter_slot;

struct mixer_source {
  void *owner;
  /* The decoder (18 KiB) and the jitter slots (8 x 1,275 bytes) are made at the first
   * audio packet, not at join: a peer that publishes only video, or listens, never sends
   * one, and they were 30 KiB of its memory (issue 13). Both stay until it leaves. */
  OpusDecoder *dec;
  OpusEncoder *enc;   /* for its mix-minus, created when it first speaks */
  jitter_slot *slots; /* JITTER_SLOTS of them, or NULL before the first packet */
  bool playing, muted, mixed, host;
  uint16_t next_seq;
  int concealed;
  /* this tick */
  const jitter_slot *packet; /* NULL: conceal, or nothing if !has_frame */
  bool has_frame, decoded;
  int frame_level;
  int16_t pcm[MIXER_FRAME];
  int level; /* smoothed */
};

struct mixer {
  mixer_source **sources;
  size_t n, cap;
  bool lecture;
  OpusEncoder *shared, *shared_hosts; /* the mix for listeners; hosts only (lecture) */
  int32_t mix[MIXER_FRAME], hosts_mix[MIXER_FRAME];
  bool mix_silent, hosts_silent; /* nobody (no host) is mixed this tick */
  bool shared_idle, hosts_idle;  /* the encoder sat out a silence: reset it first */
  /* Digital silence, encoded once: a room where nobody speaks costs no encoding. */
  uint8_t silence[MIXER_MAX_PACKET];
  size_t silence_len;
};

static OpusEncoder *new_encoder(void) {
  int err;
  OpusEncoder *e = opus_encoder_create(MIXER_RATE, 1, OPUS_APPLICATION_VOIP, &err);
  if (e) {
    opus_encoder_ctl(e, OPUS_SET_BITRATE(BITRATE));
    opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(5));
  }
  return e;
}

/* One 20 ms frame of zeros from a fresh encoder: a few bytes that any Opus decoder
 * turns into silence, whatever it decoded before. */
static size_t encode_silence(uint8_t *out) {
  OpusEncoder *e = new_encoder();
  int16_t zeros[MIXER_FRAME] = {0};
  int n = e ? opus_encode(e, zeros, MIXER_FRAME, out, MIXER_MAX_PACKET) : -1;
  if (e)
    opus_encoder_destroy(e);
  return n > 0 ? (size_t)n : 0;
}

mixer *mixer_new(void) {
  mixer *m = xcalloc(1, sizeof *m);
  m->shared = new_encoder();
  m->silence_len = encode_silence(m->silence);
  return m;
}

void mixer_free(mixer *m) {
  while (m->n)
    mixer_remove(m, m->sources[0]);
  free(m->sources);
  opus_encoder_destroy(m->shared);
  if (m->shared_hosts)
    opus_encoder_destroy(m->shared_hosts);
  free(m);
}

mixer_source *mixer_add(mixer *m, void *owner) {
  mixer_source *s = xcalloc(1, sizeof *s);
  s->owner = owner;
  s->level = SILENT;
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 8;
    m->sources = xrealloc(m->sources, m->cap * sizeof *m->sources);
  }
  m->sources[m->n++] = s;
  return s;
}

void mixer_remove(mixer *m, mixer_source *s) {
  for (size_t i = 0; i < m->n; i++)
    if (m->sources[i] == s) {
      m->sources[i] = m->sources[--m->n];
      break;
    }
  if (s->dec)
    opus_decoder_destroy(s->dec);
  free(s->slots);
  if (s->enc)
    opus_encoder_destroy(s->enc);
  free(s);
}

void mixer_set_muted(mixer_source *s, bool muted) { s->muted = muted; }
void mixer_set_host(mixer_source *s, bool host) { s->host = host; }

void mixer_set_lecture(mixer *m, bool lecture) {
  m->lecture = lecture;
  if (lecture && !m->shared_hosts)
    m->shared_hosts = new_encoder();
}
int mixer_source_level(const mixer_source *s) { return s->level; }
bool mixer_source_mixed(const mixer_source *s) { return s->mixed; }
size_t mixer_sources(const mixer *m) { return m->n; }

void mixer_push(mixer_source *s, const uint8_t *opus, size_t len, uint16_t seq,
                int level_dbov) {
  if (len == 0 || len > MIXER_MAX_PACKET)
    return;
  /* Too late: that frame was already played or concealed. */
  if (s->playing && (uint16_t)(seq - s->next_seq) >= 0x8000)
    return;
  if (!s->dec) {
    int err;
    s->dec = opus_decoder_create(MIXER_RATE, 1, &err);
    if (!s->dec)
      return;
  }
  if (!s->slots)
    s->slots = xcalloc(JITTER_SLOTS, sizeof *s->slots);
  jitter_slot *slot = &s->slots[seq % JITTER_SLOTS];
  slot->full = true;
  slot->seq = seq;
  slot->level = level_dbov;
  slot->len = (uint16_t)len;
  memcpy(slot->data, opus, len);
}

static void start_playout(mixer_source *s) {
  int full = 0;
  uint16_t oldest = 0;
  if (!s->slots)
    return; /* no audio from it yet */
  for (int i = 0; i < JITTER_SLOTS; i++) {
    const jitter_slot *slot = &s->slots[i];
    if (!slot->full)
      continue;
    if (!full++ || (uint16_t)(slot->seq - oldest) >= 0x8000)
      oldest = slot->seq;
  }
  if (full >= START_DEPTH) {
    s->playing = true;
    s->next_seq = oldest;
    s->concealed = 0;
  }
}

/* Takes this tick's frame: the next packet, a concealed frame, or nothing. */
static void pop_frame(mixer_source *s) {
  s->has_frame = s->decoded = false;
  s->packet = NULL;
  if (!s->playing)
    start_playout(s);
  if (!s->playing)
    return;
  jitter_slot *slot = &s->slots[s->next_seq % JITTER_SLOTS];
  if (slot->full && slot->seq == s->next_seq) {
    slot->full = false;
    s->packet = slot;
    s->concealed = 0;
  } else if (++s->concealed > PLC_FRAMES) {
    s->playing = false; /* gone quiet (DTX, or the sender stopped): buffer again */
    return;
  }
  s->has_frame = true;
  s->next_seq++;
}

static int pcm_level(const int16_t *pcm) {
  double sum = 0;
  for (int i = 0; i < MIXER_FRAME; i++)
    sum += (double)pcm[i] * pcm[i];
  double rms = sqrt(sum / MIXER_FRAME) / 32768.0;
  if (rms <= 0)
    return SILENT;
  int dbov = (int)(-20.0 * log10(rms));
  return dbov < 0 ? 0 : dbov > SILENT ? SILENT : dbov;
}

static void decode(mixer_source *s) {
  if (s->decoded)
    return;
  const uint8_t *data = s->packet ? s->packet->data : NULL;
  int n =
      opus_decode(s->dec, data, s->packet ? s->packet->len : 0, s->pcm, MIXER_FRAME, 0);
  if (n < 0)
    n = 0;
  if (n < MIXER_FRAME)
    memset(s->pcm + n, 0, (size_t)(MIXER_FRAME - n) * sizeof *s->pcm);
  s->decoded = true;
}

/* The frame's level: from the RFC 6464 header when given (no decoding needed),
 * else from the decoded samples. Concealed frames fade. */
static void measure(mixer_source *s) {
  if (!s->has_frame)
    s->frame_level = SILENT;
  else if (!s->packet)
    s->frame_level = s->level + 10 > SILENT ? SILENT : s->level + 10;
  else if (s->packet->level >= 0)
    s->frame_level = s->packet->level;
  else {
    decode(s);
    s->frame_level = pcm_level(s->pcm);
  }
  s->level = (s->level * 3 + s->frame_level) / 4;
}

/* The loudest unmuted sources that are making sound, by smoothed level. O(n). */
static size_t pick_speakers(mixer *m, mixer_source **out) {
  size_t n = 0;
  for (size_t i = 0; i < m->n; i++) {
    mixer_source *s = m->sources[i];
    s->mixed = false;
    if (s->muted || !s->has_frame || s->frame_level >= SPEAKING_BELOW)
      continue;
    size_t at = n < MIXER_MAX_SPEAKERS ? n++ : MIXER_MAX_SPEAKERS;
    if (at == MIXER_MAX_SPEAKERS) {
      if (out[n - 1]->level <= s->level)
        continue;
      at = n - 1;
    }
    while (at > 0 && out[at - 1]->level > s->level) {
      out[at] = out[at - 1];
      at--;
    }
    out[at] = s;
  }
  return n;
}

static size_t encode(OpusEncoder *enc, const int32_t *mix, const int16_t *minus,
                     uint8_t *out) {
  int16_t pcm[MIXER_FRAME];
  for (int i = 0; i < MIXER_FRAME; i++) {
    int32_t v = mix[i] - (minus ? minus[i] : 0);
    pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
  }
  int n = opus_encode(enc, pcm, MIXER_FRAME, out, MIXER_MAX_PACKET);
  return n > 0 ? (size_t)n : 0;
}

typedef struct {
  OpusEncoder *enc;
  const int32_t *mix;
  bool silent; /* the mix is digital silence this tick */
  bool *idle;  /* the encoder's "sat out a silence" flag */
  const uint8_t *silence;
  size_t silence_len;
  uint8_t data[MIXER_MAX_PACKET];
  size_t len;
  bool done;
} shared_packet;

/* The shared mix's packet for this tick: encoded at most once however many listen, and
 * not encoded at all while nobody is mixed (an idle room's usual state, and an encode
 * costs about a hundred microseconds). After such a pause the encoder starts afresh,
 * as the listeners' decoders have just decoded silence from a fresh encoder. */
static void build_shared(shared_packet *p) {
  p->done = true;
  if (p->silent && p->silence_len) {
    memcpy(p->data, p->silence, p->silence_len);
    p->len = p->silence_len;
    *p->idle = true;
    return;
  }
  if (*p->idle) {
    opus_encoder_ctl(p->enc, OPUS_RESET_STATE);
    *p->idle = false;
  }
  p->len = encode(p->enc, p->mix, NULL, p->data);
}

static shared_packet shared_for(const mixer *m, OpusEncoder *enc, const int32_t *mix,
                                bool silent, bool *idle) {
  return (shared_packet){.enc = enc,
                         .mix = mix,
                         .silent = silent,
                         .idle = idle,
                         .silence = m->silence,
                         .silence_len = m->silence_len};
}

static void send_shared(shared_packet *p, mixer_source *s, mixer_out_cb out, void *ud) {
  if (!p->done)
    build_shared(p);
  if (p->len)
    out(s->owner, p->data, p->len, true, ud);
}

static void mix_speakers(mixer *m, mixer_source **speakers, size_t n) {
  memset(m->mix, 0, sizeof m->mix);
  memset(m->hosts_mix, 0, sizeof m->hosts_mix);
  m->mix_silent = n == 0;
  m->hosts_silent = true;
  for (size_t k = 0; k < n; k++) {
    mixer_source *s = speakers[k];
    decode(s);
    s->mixed = true;
    for (int i = 0; i < MIXER_FRAME; i++)
      m->mix[i] += s->pcm[i];
    if (m->lecture && s->host) {
      m->hosts_silent = false;
      for (int i = 0; i < MIXER_FRAME; i++)
        m->hosts_mix[i] += s->pcm[i];
    }
  }
}

void mixer_tick(mixer *m, mixer_out_cb out, void *ud) {
  mixer_source *speakers[MIXER_MAX_SPEAKERS];
  for (size_t i = 0; i < m->n; i++) {
    pop_frame(m->sources[i]);
    measure(m->sources[i]);
  }
  mix_speakers(m, speakers, pick_speakers(m, speakers));
  shared_packet all = shared_for(m, m->shared, m->mix, m->mix_silent, &m->shared_idle);
  shared_packet hosts =
      shared_for(m, m->shared_hosts, m->hosts_mix, m->hosts_silent, &m->hosts_idle);
  uint8_t own[MIXER_MAX_PACKET];
  for (size_t i = 0; i < m->n; i++) {
    mixer_source *s = m->sources[i];
    if (m->lecture && !s->host) {
      send_shared(&hosts, s, out, ud); /* guests hear hosts only */
    } else if (s->mixed) {
      if (!s->enc)
        s->enc = new_encoder();
      size_t len = encode(s->enc, m->mix, s->pcm, own);
      if (len)
        out(s->owner, own, len, false, ud);
    } else {
      send_shared(&all, s, out, ud);
    }
  }
}
