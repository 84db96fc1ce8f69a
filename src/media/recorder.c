/* recorder — turns a session's RTP into one WebM/Matroska file on the media loop: frames
 * are timed, interleaved and grouped into clusters, each written through libuv's
 * threadpool as soon as it closes, and the file is finalised (Cues, Duration, sizes) on
 * close. */
#include "media/recorder.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/depacketizer.h"
#include "media/webm.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 200
#define CLUSTER_MS 1000 /* a crash loses at most about this much */
#define MUX_WAIT_MS 300 /* how long one track waits for the other to interleave */
#define FSYNC_MS 3000
#define KEYFRAME_RETRY_MS 1000
#define PRE_KEY_AUDIO_MS                                                                 \
  10000                        /* audio kept while the first video keyframe is awaited   \
                                */
#define VIDEO_GIVE_UP_MS 10000 /* then the file is written with audio only */
#define MAX_CLUSTER_BYTES (8u << 20)
#define MAX_QUEUED_BYTES                                                                 \
  (64u << 20) /* the disk is this far behind: fail, do not grow                          \
               */
/* Sender reports are read once for lip sync; later ones move video only when the two
 * clocks have drifted this far apart (a busy sender's SR NTP times jitter by 10-20 ms;
 * real clock drift is ~50 ppm, 3 ms a minute), and then by slewing. */
#define REALIGN_MS 80.0
#define SLEW_MS_PER_FRAME 2.0 /* 6 % of a 33 ms frame interval: unnoticeable */
#define FALLBACK_WIDTH 640
#define FALLBACK_HEIGHT 480

enum { AUDIO, VIDEO };

/* Frames of one track waiting to be interleaved, data packed in one buffer. */
typedef struct {
  int64_t t; /* media time, loop milliseconds */
  size_t off, len;
  bool key;
} qframe;

typedef struct {
  qframe *f;
  size_t head, n, cap;
  buf data;
} frame_queue;

typedef struct {
  bool active, anchored;
  uint32_t clock;
  uint32_t last_ts32;
  int64_t last_ext; /* unwrapped RTP time of the newest frame */
  double offset_ms; /* media time = RTP ms + offset */
  double target_ms; /* where sender reports want offset_ms; reached by slewing */
  bool aligned;     /* video: the sender reports have been applied once */
  bool timed;       /* a frame has been given a media time (prev_t) */
  int64_t prev_t;
  bool have_sr;
  uint64_t sr_ntp;
  uint32_t sr_rtp;
  int64_t last_t, last_delta; /* file time of the last block written, its interval */
  depacketizer *dep;
  frame_queue q;
} track;

typedef enum { OP_WRITE, OP_FSYNC, OP_CLOSE, OP_UNLINK } op_kind;

typedef struct io_op {
  struct io_op *next;
  op_kind kind;
  uint64_t offset;
  buf data;
  size_t done;
  bool first_media; /* its completion means the first frame is on disk */
} io_op;

struct recorder {
  uv_loop_t *loop;
  char *path;
  recorder_callbacks cb;
  void *ud;
  uv_timer_t timer;
  track t[2];
  rec_codec video_codec;
  int audio_channels;
  /* Clocks: loop ms and wall ms at open, to date the file. */
  uint64_t open_ms;
  int64_t open_wall_ms, stopped_wall_ms;
  int64_t newest; /* newest media time queued */
  bool header_written, video_given_up, key_request_pending, started_reported;
  bool closing, failed, finished, empty; /* empty: closed before any frame */
  char error[160];
  int64_t file_start; /* media time of file time 0 */
  webm_layout layout;
  /* The cluster being filled. */
  buf cluster;
  size_t cluster_size_at;
  bool cluster_open, first_media_pending;
  int64_t cluster_tc;
  uint64_t cluster_opened_ms;
  webm_cue *cues;
  size_t n_cues, cues_cap;
  int64_t end_ms;
  /* Disk: one request at a time, in queue order. */
  uv_fs_t req;
  uv_file fd;
  bool io_busy;
  io_op *io_head, *io_tail;
  uint64_t file_end, bytes_queued, unsynced;
  uint64_t last_fsync_ms;
  int64_t last_key_request_ms;
  recorder_stats stats;
};

static void io_next(recorder *r);
static void mux(recorder *r, bool drain);

static int64_t wall_ms(void) {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- frame queues ---- */

static bool queue_push(frame_queue *q, int64_t t, bool key, const uint8_t *d, size_t n) {
  if (q->head == q->n) { /* empty: reuse from the start */
    q->head = q->n = 0;
    q->data.len = 0;
  }
  if (q->n == q->cap) {
    if (q->head > 0) { /* slide the live part to the front before growing */
      size_t base = q->f[q->head].off;
      memmove(q->f, q->f + q->head, (q->n - q->head) * sizeof *q->f);
      q->n -= q->head;
      q->head = 0;
      for (size_t i = 0; i < q->n; i++)
        q->f[i].off -= base;
      memmove(q->data.data, q->data.data + base, q->data.len - base);
      q->data.len -= base;
    }
    if (q->n == q->cap) {
      size_t cap = q->cap ? q->cap * 2 : 64;
      q->f = xrealloc(q->f, cap * sizeof *q->f);
      q->cap = cap;
    }
  }
  q->f[q->n++] = (qframe){t, q->data.len, n, key};
  buf_append(&q->data, d, n);
  return true;
}

static const qframe *queue_head(const frame_queue *q) {
  return q->head < q->n ? &q->f[q->head] : NULL;
}

static void queue_free(frame_queue *q) {
  free(q->f);
  buf_free(&q->data);
}

/* ---- disk queue ---- */

static io_op *enqueue(recorder *r, op_kind kind, uint64_t offset, buf *data) {
  io_op *op = xcalloc(1, sizeof *op);
  op->kind = kind;
  op->offset = offset;
  if (data) {
    op->data = *data;
    *data = (buf){0};
    r->bytes_queued += op->data.len;
  }
  if (r->io_tail)
    r->io_tail->next = op;
  else
    r->io_head = op;
  r->io_tail = op;
  if (r->bytes_queued > MAX_QUEUED_BYTES && !r->failed) {
    snprintf(r->error, sizeof r->error, "the disk is too slow: %llu bytes waiting",
             (unsigned long long)r->bytes_queued);
    r->failed = true;
  }
  return op;
}

/* Appends data at the end of the file. */
static io_op *append_file(recorder *r, buf *data) {
  uint64_t at = r->file_end;
  r->file_end += data->len;
  r->unsynced += data->len;
  return enqueue(r, OP_WRITE, at, data);
}

static void patch_file(recorder *r, uint64_t at, const void *bytes, size_t n) {
  buf b = {0};
  buf_append(&b, bytes, n);
  enqueue(r, OP_WRITE, at, &b);
}

static void free_ops(recorder *r) {
  while (r->io_head) {
    io_op *op = r->io_head;
    r->io_head = op->next;
    buf_free(&op->data);
    free(op);
  }
  r->io_tail = NULL;
}

static void on_timer_closed(uv_handle_t *h) {
  recorder *r = h->data;
  free_ops(r);
  for (int i = 0; i < 2; i++) {
    depacketizer_free(r->t[i].dep);
    queue_free(&r->t[i].q);
  }
  buf_free(&r->cluster);
  free(r->cues);
  free(r->path);
  free(r);
}

/* The end, either way: one on_closed, then the recorder goes. */
static void finish(recorder *r) {
  r->finished = true;
  recorder_result res = {.ok = !r->failed && !r->empty,
                         .size_bytes = r->file_end,
                         .duration_ms = (uint64_t)(r->end_ms > 0 ? r->end_ms : 0),
                         .stopped_unix_ms =
                             r->stopped_wall_ms ? r->stopped_wall_ms : wall_ms()};
  if (r->header_written)
    res.first_frame_unix_ms = r->open_wall_ms + (r->file_start - (int64_t)r->open_ms);
  if (!res.ok) {
    snprintf(res.error, sizeof res.error, "%s", r->error);
    log_warn("recorder", "recording %s failed: %s", r->path, r->error);
  }
  if (res.ok && !r->started_reported && r->cb.on_started) {
    r->started_reported = true;
    r->cb.on_started(r->ud, res.first_frame_unix_ms);
  }
  uv_timer_stop(&r->timer);
  if (r->cb.on_closed)
    r->cb.on_closed(r->ud, &res);
  uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

static void on_fail_closed(uv_fs_t *req) {
  recorder *r = req->data;
  uv_fs_req_cleanup(req);
  r->fd = -1;
  finish(r);
}

/* After a failure: drop what is queued, close the file (kept: recovery may save it). */
static void fail_now(recorder *r) {
  free_ops(r);
  if (r->fd >= 0) {
    r->io_busy = true;
    uv_fs_close(r->loop, &r->req, r->fd, on_fail_closed);
  } else {
    finish(r);
  }
}

static void fail_fs(recorder *r, const char *what, ssize_t err) {
  if (!r->failed)
    snprintf(r->error, sizeof r->error, "%s %s: %s", what, r->path,
             uv_strerror((int)err));
  r->failed = true;
}

static void op_done(recorder *r) {
  io_op *op = r->io_head;
  r->io_head = op->next;
  if (!r->io_head)
    r->io_tail = NULL;
  r->bytes_queued -= op->data.len;
  if (op->first_media && !r->started_reported && r->cb.on_started && !r->failed) {
    r->started_reported = true;
    r->cb.on_started(r->ud, r->open_wall_ms + (r->file_start - (int64_t)r->open_ms));
  }
  buf_free(&op->data);
  free(op);
}

static void on_io(uv_fs_t *req) {
  recorder *r = req->data;
  io_op *op = r->io_head;
  ssize_t res = req->result;
  uv_fs_req_cleanup(req);
  r->io_busy = false;
  if (res < 0) {
    static const char *const what[] = {"write", "fsync", "close", "unlink"};
    fail_fs(r, what[op->kind], res);
    if (op->kind == OP_CLOSE)
      r->fd = -1;
  } else if (op->kind == OP_WRITE && (op->done += (size_t)res) < op->data.len) {
    io_next(r); /* a short write: the rest */
    return;
  } else {
    if (op->kind == OP_CLOSE)
      r->fd = -1;
    op_done(r);
  }
  io_next(r);
}

static void io_next(recorder *r) {
  if (r->io_busy || r->finished)
    return;
  if (r->failed) {
    fail_now(r);
    return;
  }
  io_op *op = r->io_head;
  if (!op) {
    if (r->closing && r->fd < 0)
      finish(r);
    return;
  }
  r->io_busy = true;
  r->req.data = r;
  if (op->kind == OP_WRITE) {
    uv_buf_t b =
        uv_buf_init(op->data.data + op->done, (unsigned)(op->data.len - op->done));
    uv_fs_write(r->loop, &r->req, r->fd, &b, 1, (int64_t)(op->offset + op->done), on_io);
  } else if (op->kind == OP_FSYNC) {
    uv_fs_fsync(r->loop, &r->req, r->fd, on_io);
  } else if (op->kind == OP_CLOSE) {
    uv_fs_close(r->loop, &r->req, r->fd, on_io);
  } else {
    uv_fs_unlink(r->loop, &r->req, r->path, on_io);
  }
}

static void on_open(uv_fs_t *req) {
  recorder *r = req->data;
  ssize_t res = req->result;
  uv_fs_req_cleanup(req);
  r->io_busy = false;
  if (res < 0)
    fail_fs(r, "create", res);
  else
    r->fd = (uv_file)res;
  io_next(r);
}

/* ---- file layout ---- */

static void add_cue(recorder *r, int64_t t) {
  if (r->n_cues == r->cues_cap) {
    size_t cap = r->cues_cap ? r->cues_cap * 2 : 64;
    r->cues = xrealloc(r->cues, cap * sizeof *r->cues);
    r->cues_cap = cap;
  }
  r->cues[r->n_cues++] = (webm_cue){(uint64_t)t, r->file_end - r->layout.segment_data};
}

static void close_cluster(recorder *r) {
  if (!r->cluster_open)
    return;
  webm_cluster_end(&r->cluster, r->cluster_size_at);
  io_op *op = append_file(r, &r->cluster);
  if (r->first_media_pending) {
    op->first_media = true;
    r->first_media_pending = false;
  }
  r->cluster_open = false;
  r->stats.clusters++;
}

static void open_cluster(recorder *r, int64_t t, bool cue) {
  close_cluster(r);
  if (cue)
    add_cue(r, t);
  r->cluster_size_at = webm_cluster_begin(&r->cluster, (uint64_t)t);
  r->cluster_tc = t;
  r->cluster_open = true;
  r->cluster_opened_ms = uv_now(r->loop);
}

static bool has_video(const recorder *r) {
  return r->t[VIDEO].active && !r->video_given_up;
}

static void write_block(recorder *r, int ti, const qframe *f, const uint8_t *data) {
  track *tr = &r->t[ti];
  int64_t t = f->t - r->file_start;
  if (t < tr->last_t) /* a block never goes back in time within its track */
    t = tr->last_t;
  if (t < 0)
    t = 0;
  bool video_key = ti == VIDEO && f->key;
  int64_t rel = t - r->cluster_tc;
  if (!r->cluster_open || video_key || rel >= CLUSTER_MS || rel < -30000 ||
      r->cluster.len > MAX_CLUSTER_BYTES) {
    open_cluster(r, t, video_key || !has_video(r));
    rel = 0;
  }
  webm_simple_block(&r->cluster, ti == VIDEO ? WEBM_VIDEO_TRACK : WEBM_AUDIO_TRACK,
                    (int16_t)rel, f->key, data, f->len);
  if (tr->last_t >= 0 && t > tr->last_t)
    tr->last_delta = t - tr->last_t;
  tr->last_t = t;
  int64_t end =
      t + (tr->last_delta < WEBM_MAX_FRAME_MS ? tr->last_delta : WEBM_MAX_FRAME_MS);
  if (end > r->end_ms)
    r->end_ms = end;
}

static void write_header(recorder *r, int64_t key_t, int width, int height,
                         const uint8_t *avcc, size_t avcc_len) {
  const qframe *a = queue_head(&r->t[AUDIO].q);
  r->file_start = a && (a->t < key_t || r->video_given_up) ? a->t : key_t;
  static const webm_video map[] = {WEBM_VIDEO_NONE, WEBM_VIDEO_NONE, WEBM_VIDEO_VP8,
                                   WEBM_VIDEO_VP9, WEBM_VIDEO_H264};
  webm_tracks wt = {.audio = r->t[AUDIO].active,
                    .audio_channels = r->audio_channels,
                    .audio_rate = (int)r->t[AUDIO].clock,
                    .video = has_video(r) ? map[r->video_codec] : WEBM_VIDEO_NONE,
                    .width = width > 0 ? width : FALLBACK_WIDTH,
                    .height = height > 0 ? height : FALLBACK_HEIGHT,
                    .codec_private = avcc,
                    .codec_private_len = avcc_len,
                    .date_unix_ms =
                        r->open_wall_ms + (r->file_start - (int64_t)r->open_ms)};
  buf h = {0};
  webm_write_header(&h, &wt, &r->layout);
  append_file(r, &h);
  r->header_written = true;
  r->first_media_pending = true;
}

static void write_video_header(recorder *r, int64_t t, const depkt_frame *f) {
  buf avcc = {0};
  if (r->video_codec == REC_CODEC_H264) {
    size_t sps_len, pps_len;
    const uint8_t *sps = depacketizer_h264_sps(r->t[VIDEO].dep, &sps_len);
    const uint8_t *pps = depacketizer_h264_pps(r->t[VIDEO].dep, &pps_len);
    webm_avcc(&avcc, sps, sps_len, pps, pps_len);
  }
  write_header(r, t, f->width, f->height, (const uint8_t *)avcc.data, avcc.len);
  buf_free(&avcc);
}

/* ---- timing ---- */

static int64_t unwrap(const track *tr, uint32_t ts) {
  return tr->last_ext + (int32_t)(ts - tr->last_ts32);
}

static double rtp_ms(const track *tr, int64_t ext) {
  return (double)ext * 1000.0 / tr->clock;
}

/* The first packet of a track pins its RTP clock to the arrival time. */
static void anchor(recorder *r, track *tr, const uint8_t *pkt, size_t len) {
  if (len < 12)
    return;
  uint32_t ts =
      (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
  tr->anchored = true;
  tr->last_ts32 = ts;
  tr->last_ext = ts;
  tr->offset_ms = (double)uv_now(r->loop) - rtp_ms(tr, ts);
  tr->target_ms = tr->offset_ms;
}

/* With a sender report on both tracks, video moves so that both follow the sender's
 * wall clock; audio stays put (its timeline is the one heard). The first alignment jumps
 * (unless that would go back over frames already timed); later ones only beyond
 * REALIGN_MS, so that report jitter never reaches the file. */
static void align_by_sender_reports(recorder *r) {
  track *a = &r->t[AUDIO], *v = &r->t[VIDEO];
  if (!a->have_sr || !v->have_sr || !a->anchored || !v->anchored)
    return;
  double ntp_a = (double)(a->sr_ntp >> 32) * 1000.0 +
                 (double)(a->sr_ntp & 0xffffffffu) * 1000.0 / 4294967296.0;
  double ntp_v = (double)(v->sr_ntp >> 32) * 1000.0 +
                 (double)(v->sr_ntp & 0xffffffffu) * 1000.0 / 4294967296.0;
  double c_a = ntp_a - rtp_ms(a, unwrap(a, a->sr_rtp));
  double c_v = ntp_v - rtp_ms(v, unwrap(v, v->sr_rtp));
  double want = a->offset_ms + (c_v - c_a);
  if (!v->aligned) {
    v->aligned = true;
    v->target_ms = want;
    if (!v->timed || want > v->offset_ms)
      v->offset_ms = want;
  } else if (fabs(want - v->target_ms) > REALIGN_MS) {
    v->target_ms = want;
  }
}

/* Moves a track's offset toward its target by at most SLEW_MS_PER_FRAME. */
static void slew(track *tr) {
  double d = tr->target_ms - tr->offset_ms;
  if (d > SLEW_MS_PER_FRAME)
    d = SLEW_MS_PER_FRAME;
  else if (d < -SLEW_MS_PER_FRAME)
    d = -SLEW_MS_PER_FRAME;
  tr->offset_ms += d;
}

/* ---- frames in, blocks out ---- */

static void on_frame(recorder *r, int ti, const depkt_frame *f) {
  track *tr = &r->t[ti];
  int64_t ext = unwrap(tr, f->rtp_ts);
  if (ext > tr->last_ext) {
    tr->last_ext = ext;
    tr->last_ts32 = f->rtp_ts;
  }
  slew(tr);
  int64_t t = llround(rtp_ms(tr, ext) + tr->offset_ms);
  if (tr->timed && t <= tr->prev_t)
    t = tr->prev_t + 1; /* media time never repeats nor goes back */
  tr->timed = true;
  tr->prev_t = t;
  if (ti == VIDEO && r->video_given_up)
    return;
  if (ti == VIDEO && !r->header_written)
    write_video_header(r, t, f); /* the depacketizer starts video with a keyframe */
  if (!queue_push(&tr->q, t, f->keyframe, f->data, f->len))
    return;
  if (t > r->newest)
    r->newest = t;
  mux(r, false);
}

static void on_audio_frame(void *ud, const depkt_frame *f) { on_frame(ud, AUDIO, f); }
static void on_video_frame(void *ud, const depkt_frame *f) { on_frame(ud, VIDEO, f); }

static void pop_and_write(recorder *r, int ti) {
  frame_queue *q = &r->t[ti].q;
  const qframe *f = queue_head(q);
  write_block(r, ti, f, (const uint8_t *)q->data.data + f->off);
  q->head++;
}

/* Before the header, audio waits (the oldest beyond PRE_KEY_AUDIO_MS is dropped). */
static void trim_pre_key_audio(recorder *r) {
  frame_queue *q = &r->t[AUDIO].q;
  for (const qframe *f = queue_head(q); f && r->newest - f->t > PRE_KEY_AUDIO_MS;
       f = queue_head(q))
    q->head++;
}

/* Writes queued frames in time order; a frame waits up to MUX_WAIT_MS for the other
 * track, unless drain (closing). */
static void mux(recorder *r, bool drain) {
  if (!r->header_written) {
    trim_pre_key_audio(r);
    return;
  }
  int64_t now = (int64_t)uv_now(r->loop);
  int64_t horizon = (r->newest > now ? r->newest : now) - MUX_WAIT_MS;
  for (;;) {
    const qframe *a = queue_head(&r->t[AUDIO].q), *v = queue_head(&r->t[VIDEO].q);
    if (a && v) {
      pop_and_write(r, a->t <= v->t ? AUDIO : VIDEO);
      continue;
    }
    if (!a && !v)
      return;
    int only = a ? AUDIO : VIDEO;
    bool other_live = only == AUDIO ? has_video(r) : r->t[AUDIO].active;
    if (!drain && other_live && queue_head(&r->t[only].q)->t > horizon)
      return;
    pop_and_write(r, only);
  }
}

/* ---- the loop side ---- */

static void request_keyframe(recorder *r) {
  r->last_key_request_ms = (int64_t)uv_now(r->loop);
  r->stats.keyframe_requests++;
  if (r->cb.on_keyframe_needed)
    r->cb.on_keyframe_needed(r->ud);
}

static void keyframe_duty(recorder *r, uint64_t now) {
  if (!has_video(r))
    return;
  bool awaiting = depacketizer_awaiting_keyframe(r->t[VIDEO].dep);
  if (r->key_request_pending ||
      (awaiting && (int64_t)now - r->last_key_request_ms >= KEYFRAME_RETRY_MS))
    request_keyframe(r);
  r->key_request_pending = false;
  if (!r->header_written && r->t[AUDIO].active && queue_head(&r->t[AUDIO].q) &&
      now - r->open_ms >= VIDEO_GIVE_UP_MS) {
    log_warn("recorder", "recording %s: no video keyframe in %d ms, recording audio only",
             r->path, VIDEO_GIVE_UP_MS);
    r->video_given_up = true;
    write_header(r, INT64_MAX, 0, 0, NULL, 0);
  }
}

static void on_tick(uv_timer_t *t) {
  recorder *r = t->data;
  if (r->closing || r->failed) {
    io_next(r);
    return;
  }
  uint64_t now = uv_now(r->loop);
  keyframe_duty(r, now);
  mux(r, false);
  if (r->cluster_open && now - r->cluster_opened_ms >= CLUSTER_MS)
    close_cluster(r); /* media stalled: still get what we have onto the disk */
  if (r->unsynced && now - r->last_fsync_ms >= FSYNC_MS) {
    enqueue(r, OP_FSYNC, 0, NULL);
    r->unsynced = 0;
    r->last_fsync_ms = now;
  }
  io_next(r);
}

recorder *recorder_open(uv_loop_t *loop, const char *path, const recorder_tracks *tracks,
                        recorder_callbacks cb, void *ud) {
  recorder *r = xcalloc(1, sizeof *r);
  r->path = xstrdup(path);
  r->loop = loop;
  r->cb = cb;
  r->ud = ud;
  r->fd = -1;
  r->video_codec = tracks->video;
  r->audio_channels = tracks->audio_channels > 0 ? tracks->audio_channels : 2;
  r->open_ms = uv_now(loop);
  r->open_wall_ms = wall_ms();
  r->last_fsync_ms = r->open_ms;
  r->last_key_request_ms = INT64_MIN / 2; /* the first tick asks at once */
  static const rtp_codec map[] = {RTP_CODEC_OPUS, RTP_CODEC_OPUS, RTP_CODEC_VP8,
                                  RTP_CODEC_VP9, RTP_CODEC_H264};
  rec_codec codecs[2] = {
      tracks->audio == REC_CODEC_OPUS ? REC_CODEC_OPUS : REC_CODEC_NONE,
      tracks->video >= REC_CODEC_VP8 && tracks->video <= REC_CODEC_H264 ? tracks->video
                                                                        : REC_CODEC_NONE};
  uint32_t clocks[2] = {tracks->audio_clock ? tracks->audio_clock : 48000,
                        tracks->video_clock ? tracks->video_clock : 90000};
  depkt_frame_fn fns[2] = {on_audio_frame, on_video_frame};
  for (int i = 0; i < 2; i++) {
    track *tr = &r->t[i];
    tr->clock = clocks[i];
    tr->last_t = -1;
    tr->active = codecs[i] != REC_CODEC_NONE;
    if (tr->active)
      tr->dep = depacketizer_new(map[codecs[i]], fns[i], r);
  }
  if (!r->t[AUDIO].active && !r->t[VIDEO].active) {
    snprintf(r->error, sizeof r->error, "nothing to record: no audio or video track");
    r->failed = true;
  }
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_tick, 0, TICK_MS);
  r->req.data = r;
  if (!r->failed) {
    r->io_busy = true;
    uv_fs_open(loop, &r->req, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644,
               on_open);
  }
  return r; /* a failure so far is reported from the first tick, never from here */
}

void recorder_on_rtp(recorder *r, bool video, const uint8_t *pkt, size_t len) {
  track *tr = &r->t[video ? VIDEO : AUDIO];
  if (!tr->active || r->closing || r->failed)
    return;
  if (!tr->anchored) {
    anchor(r, tr, pkt, len);
    align_by_sender_reports(r);
  }
  depacketizer_push(tr->dep, pkt, len, uv_now(r->loop));
  if (!r->failed && r->io_head && !r->io_busy)
    io_next(r); /* starts a write; never reports from inside this call */
  if (video && depacketizer_take_keyframe_request(tr->dep) && !r->key_request_pending) {
    r->key_request_pending = true; /* asked from the loop, not from inside this call */
    uv_timer_start(&r->timer, on_tick, 0, TICK_MS);
  }
}

void recorder_on_sender_report(recorder *r, bool video, uint64_t ntp, uint32_t rtp_ts) {
  track *tr = &r->t[video ? VIDEO : AUDIO];
  if (!tr->active || r->closing || r->failed)
    return;
  tr->have_sr = true;
  tr->sr_ntp = ntp;
  tr->sr_rtp = rtp_ts;
  align_by_sender_reports(r);
}

/* Cues, then the header patches, each after the data they describe is queued. */
static void queue_finalisation(recorder *r) {
  close_cluster(r);
  enqueue(r, OP_FSYNC, 0, NULL);
  uint64_t cues_at = r->file_end;
  buf cues = {0};
  webm_write_cues(&cues, r->cues, r->n_cues,
                  has_video(r) ? WEBM_VIDEO_TRACK : WEBM_AUDIO_TRACK);
  append_file(r, &cues);
  enqueue(r, OP_FSYNC, 0, NULL);
  uint8_t seekhead[WEBM_SEEKHEAD_SPACE], duration[WEBM_DURATION_SPACE], size[8];
  webm_seekhead(seekhead, &r->layout, cues_at);
  webm_duration(duration, (double)r->end_ms);
  webm_segment_size(size, &r->layout, r->file_end);
  patch_file(r, r->layout.seekhead_at, seekhead, sizeof seekhead);
  patch_file(r, r->layout.duration_at, duration, sizeof duration);
  patch_file(r, r->layout.segment_size_at, size, sizeof size);
  enqueue(r, OP_FSYNC, 0, NULL);
}

void recorder_close(recorder *r) {
  if (r->closing)
    return;
  r->closing = true;
  r->stopped_wall_ms = wall_ms();
  if (r->failed)
    return; /* the failure is being reported */
  for (int i = 0; i < 2; i++)
    if (r->t[i].active)
      depacketizer_flush(r->t[i].dep);
  if (!r->header_written && queue_head(&r->t[AUDIO].q)) {
    r->video_given_up = true; /* no keyframe ever came: keep the audio */
    write_header(r, INT64_MAX, 0, 0, NULL, 0);
  }
  if (r->header_written) {
    mux(r, true);
    queue_finalisation(r);
  } else {
    /* An orderly end that found nothing to keep: the empty file goes. */
    snprintf(r->error, sizeof r->error, "no media was recorded%s",
             r->t[VIDEO].active ? " (no video keyframe arrived)" : "");
    r->empty = true;
  }
  enqueue(r, OP_CLOSE, 0, NULL);
  if (r->empty)
    enqueue(r, OP_UNLINK, 0, NULL);
  uv_timer_start(&r->timer, on_tick, 0, TICK_MS); /* io_next from the loop */
}

recorder_stats recorder_get_stats(const recorder *r) {
  recorder_stats s = r->stats;
  for (int i = 0; i < 2; i++) {
    if (!r->t[i].dep)
      continue;
    depkt_stats d = depacketizer_stats(r->t[i].dep);
    s.packets[i] = d.packets;
    s.lost[i] = d.lost;
    s.frames[i] = d.frames;
    s.frames_dropped[i] = d.frames_dropped;
  }
  s.bytes_queued = r->bytes_queued;
  return s;
}
