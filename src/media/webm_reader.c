/* webm_reader — parses the header of a Parley recording strictly enough to patch it, then
 * walks clusters with bounded reads, stopping at the first element a crash cut short. */
#include "media/webm_reader.h"

#include "core/mem.h"
#include "media/ebml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_READ (64 * 1024)
#define UNIX_TO_2001_MS 978307200000LL

typedef struct {
  uint32_t id;
  uint64_t size;
  size_t head; /* bytes of id and size */
  bool unknown;
} element;

/* The element at p; 0 if its header is invalid or cut short. */
static size_t read_element(const uint8_t *p, size_t n, element *e) {
  size_t a = ebml_read_id(p, n, &e->id);
  if (a == 0)
    return 0;
  size_t b = ebml_read_size(p + a, n - a, &e->size, &e->unknown);
  if (b == 0)
    return 0;
  e->head = a + b;
  return e->head;
}

static int fail(char *err, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
  return -1;
}

/* Calls fn for each complete child in body; returns the bytes those children span. */
typedef void (*child_fn)(void *ctx, const element *e, const uint8_t *data, uint64_t at);

static size_t each_child(const uint8_t *body, size_t n, child_fn fn, void *ctx) {
  size_t i = 0;
  element e;
  while (i < n && read_element(body + i, n - i, &e) && !e.unknown &&
         e.size <= n - i - e.head) {
    fn(ctx, &e, body + i + e.head, i);
    i += e.head + (size_t)e.size;
  }
  return i;
}

/* ---- header ---- */

static void ebml_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  webm_scan *s = ctx;
  if (e->id == 0x4282)
    s->webm_doctype = e->size == 4 && memcmp(d, "webm", 4) == 0;
}

typedef struct {
  webm_scan *s;
  uint64_t base; /* file offset of the Info body */
} info_ctx;

static void info_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  info_ctx *c = ctx;
  if (e->id == MKV_DATE && e->size == 8)
    c->s->date_unix_ms = (int64_t)ebml_read_uint(d, 8) / 1000000 + UNIX_TO_2001_MS;
  bool slot = e->head + e->size == WEBM_DURATION_SPACE;
  if (e->id == MKV_DURATION && slot) {
    c->s->duration_ms = ebml_read_float(d, 8);
    c->s->layout.duration_at = c->base + at;
  } else if (e->id == MKV_VOID && slot) {
    c->s->layout.duration_at = c->base + at;
  }
}

static void video_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  webm_track_info *t = ctx;
  if (e->id == MKV_PIXEL_WIDTH && e->size <= 8)
    t->width = (int)ebml_read_uint(d, (size_t)e->size);
  else if (e->id == MKV_PIXEL_HEIGHT && e->size <= 8)
    t->height = (int)ebml_read_uint(d, (size_t)e->size);
}

static void audio_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  webm_track_info *t = ctx;
  if (e->id == MKV_CHANNELS && e->size <= 8)
    t->channels = (int)ebml_read_uint(d, (size_t)e->size);
}

static void track_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  webm_track_info *t = ctx;
  size_t n = (size_t)e->size;
  if (e->id == MKV_TRACK_NUMBER && n <= 8)
    t->number = (int)ebml_read_uint(d, n);
  else if (e->id == MKV_TRACK_TYPE && n <= 8)
    t->type = (int)ebml_read_uint(d, n);
  else if (e->id == MKV_CODEC_ID && n < sizeof t->codec)
    memcpy(t->codec, d, n), t->codec[n] = '\0';
  else if (e->id == MKV_CODEC_PRIVATE)
    t->codec_private_len = n;
  else if (e->id == MKV_VIDEO)
    each_child(d, n, video_child, t);
  else if (e->id == MKV_AUDIO)
    each_child(d, n, audio_child, t);
}

static void tracks_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  webm_scan *s = ctx;
  if (e->id != MKV_TRACK_ENTRY || s->n_tracks == 2)
    return;
  webm_track_info *t = &s->tracks[s->n_tracks];
  memset(t, 0, sizeof *t);
  each_child(d, (size_t)e->size, track_child, t);
  if ((t->number == WEBM_AUDIO_TRACK && t->type == 2) ||
      (t->number == WEBM_VIDEO_TRACK && t->type == 1))
    s->n_tracks++;
}

typedef struct {
  webm_scan *s;
  uint64_t base; /* file offset of the Segment's children */
  bool seekhead_ok, header_done;
} segment_ctx;

static void segment_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  segment_ctx *c = ctx;
  webm_scan *s = c->s;
  uint64_t pos = c->base + at;
  if (c->header_done)
    return;
  if (at == 0)
    c->seekhead_ok = e->id == MKV_SEEKHEAD || e->id == MKV_VOID;
  if (e->id == MKV_INFO) {
    /* The SeekHead and its Void padding fill the space before Info: patchable. */
    c->seekhead_ok &= at == WEBM_SEEKHEAD_SPACE;
    s->layout.info_at = pos;
    info_ctx ic = {s, pos + e->head};
    each_child(d, (size_t)e->size, info_child, &ic);
  } else if (e->id == MKV_TRACKS) {
    s->layout.tracks_at = pos;
    each_child(d, (size_t)e->size, tracks_child, s);
    s->layout.header_end = pos + e->head + e->size;
    c->header_done = true; /* Tracks is the last header element Parley writes */
  }
}

static int scan_header(int fd, webm_scan *s, char *err, size_t err_len) {
  uint8_t *h = xmalloc(HEADER_READ);
  ssize_t n = pread(fd, h, HEADER_READ, 0);
  element e;
  int rc = -1;
  if (n <= 0 || !read_element(h, (size_t)n, &e) || e.id != MKV_EBML || e.unknown ||
      e.size > (uint64_t)n - e.head) {
    fail(err, err_len, "no EBML header");
    goto out;
  }
  each_child(h + e.head, (size_t)e.size, ebml_child, s);
  size_t seg = e.head + (size_t)e.size;
  element sg;
  if (!read_element(h + seg, (size_t)n - seg, &sg) || sg.id != MKV_SEGMENT ||
      sg.head - 4 != 8) {
    fail(err, err_len, "no Segment with an 8-byte size after the EBML header");
    goto out;
  }
  s->layout.segment_size_at = seg + 4;
  s->layout.segment_data = seg + sg.head;
  s->layout.seekhead_at = s->layout.segment_data;
  s->segment_size_known = !sg.unknown;
  s->segment_size = sg.size;
  segment_ctx c = {s, s->layout.segment_data, false, false};
  each_child(h + s->layout.segment_data, (size_t)n - s->layout.segment_data,
             segment_child, &c);
  if (!c.seekhead_ok || !s->layout.info_at || !s->layout.duration_at || !c.header_done ||
      s->n_tracks == 0) {
    fail(err, err_len, "header is not a complete Parley recording header");
    goto out;
  }
  rc = 0;
out:
  free(h);
  return rc;
}

/* ---- clusters ---- */

typedef struct {
  webm_scan *s;
  webm_block_fn on_block;
  void *ud;
  uint64_t cluster_at; /* file offset of the cluster */
  int64_t timecode;
  bool have_timecode, video_seen;
  int64_t last[3], delta[3]; /* per track number */
  size_t cues_cap;
} cluster_ctx;

static void add_cue(cluster_ctx *c, int64_t t) {
  webm_scan *s = c->s;
  if (s->n_cues == c->cues_cap) {
    size_t cap = c->cues_cap ? c->cues_cap * 2 : 64;
    s->cues = xrealloc(s->cues, cap * sizeof *s->cues);
    c->cues_cap = cap;
  }
  s->cues[s->n_cues++] =
      (webm_cue){(uint64_t)(t < 0 ? 0 : t), c->cluster_at - s->layout.segment_data};
}

static bool has_track(const webm_scan *s, int number) {
  for (int i = 0; i < s->n_tracks; i++)
    if (s->tracks[i].number == number)
      return true;
  return false;
}

static void block(cluster_ctx *c, const uint8_t *d, size_t n, bool *first_in_cluster) {
  webm_scan *s = c->s;
  if (n < 4 || !c->have_timecode || (d[0] & 0x80) == 0)
    return;
  int track = d[0] & 0x7f;
  if (!has_track(s, track))
    return;
  int64_t t = c->timecode + (int16_t)(uint16_t)(d[1] << 8 | d[2]);
  bool key = d[3] & 0x80;
  bool video = track == WEBM_VIDEO_TRACK;
  bool video_track = has_track(s, WEBM_VIDEO_TRACK);
  if ((video && key && !c->video_seen) || (!video_track && *first_in_cluster))
    add_cue(c, t);
  c->video_seen |= video;
  *first_in_cluster = false;
  if (c->last[track] >= 0 && t > c->last[track])
    c->delta[track] = t - c->last[track];
  c->last[track] = t;
  if (s->blocks == 0 || t < s->first_ms)
    s->first_ms = t;
  if (t > s->last_ms)
    s->last_ms = t;
  int64_t end =
      t + (c->delta[track] < WEBM_MAX_FRAME_MS ? c->delta[track] : WEBM_MAX_FRAME_MS);
  if (end > s->end_ms)
    s->end_ms = end;
  s->blocks++;
  s->keyframes += key && video;
  if (c->on_block)
    c->on_block(c->ud, track, t, key, d + 4, n - 4);
}

typedef struct {
  cluster_ctx *c;
  bool first;
} blocks_ctx;

static void cluster_child(void *ctx, const element *e, const uint8_t *d, uint64_t at) {
  blocks_ctx *b = ctx;
  if (e->id == MKV_TIMECODE && e->size <= 8) {
    b->c->timecode = (int64_t)ebml_read_uint(d, (size_t)e->size);
    b->c->have_timecode = true;
  } else if (e->id == MKV_SIMPLE_BLOCK) {
    block(b->c, d, (size_t)e->size, &b->first);
  }
}

/* One cluster at pos whose body (possibly cut short) is body[0..n). Returns the bytes
 * of body its complete children span. */
static size_t scan_cluster(cluster_ctx *c, uint64_t pos, const uint8_t *body, size_t n) {
  c->cluster_at = pos;
  c->have_timecode = c->video_seen = false;
  blocks_ctx b = {c, true};
  return each_child(body, n, cluster_child, &b);
}

static int read_at(int fd, uint8_t *out, size_t n, uint64_t at) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, out + got, n - got, (off_t)(at + got));
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

/* Walks the clusters after the header; returns at the end of the file, at the first
 * damaged or foreign element, or at the Cues, with good_end after the last whole cluster
 * (or block). */
static void scan_clusters(int fd, webm_scan *s, cluster_ctx *c) {
  uint64_t pos = s->layout.header_end;
  s->good_end = pos;
  uint8_t head[12];
  while (pos < s->file_size) {
    size_t want =
        s->file_size - pos < sizeof head ? (size_t)(s->file_size - pos) : sizeof head;
    element e;
    if (read_at(fd, head, want, pos) != 0 || !read_element(head, want, &e))
      return;
    if (e.id != MKV_CLUSTER) { /* Parley writes only Cues after its clusters */
      if (e.id == MKV_CUES)
        s->cues_at = pos;
      return;
    }
    if (e.unknown || e.size > WEBM_MAX_CLUSTER || e.head != 12)
      return; /* not the 8-byte size Parley writes: cannot be patched, so not trusted */
    uint64_t avail = s->file_size - pos - e.head;
    size_t n = (size_t)(e.size < avail ? e.size : avail);
    uint8_t *body = xmalloc(n);
    if (read_at(fd, body, n, pos + e.head) != 0) {
      free(body);
      return;
    }
    size_t kept = scan_cluster(c, pos, body, n);
    free(body);
    s->clusters++;
    if (kept < e.size) { /* cut short: keep its complete blocks, and stop */
      if (kept > 0) {
        s->cut_cluster_at = pos;
        s->good_end = pos + e.head + kept;
      }
      return;
    }
    pos += e.head + e.size;
    s->good_end = pos;
  }
}

int webm_scan_file(int fd, webm_scan *s, webm_block_fn on_block, void *ud, char *err,
                   size_t err_len) {
  memset(s, 0, sizeof *s);
  s->last_ms = -1;
  struct stat st;
  if (fstat(fd, &st) != 0)
    return fail(err, err_len, "cannot stat the file");
  s->file_size = (uint64_t)st.st_size;
  if (scan_header(fd, s, err, err_len) != 0)
    return -1;
  cluster_ctx c = {.s = s, .on_block = on_block, .ud = ud, .last = {-1, -1, -1}};
  scan_clusters(fd, s, &c);
  if (s->blocks == 0)
    s->first_ms = 0;
  return 0;
}

void webm_scan_free(webm_scan *s) {
  free(s->cues);
  s->cues = NULL;
  s->n_cues = 0;
}
