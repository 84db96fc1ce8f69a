/* sse — Server-Sent Event streams over libh2o (HTTP/1.1 and HTTP/2). */
#include "http/sse.h"

#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/shared.h"
#include "http/server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* What a stream holds unsent: references to shared bytes, in order. */
typedef struct {
  shared_bytes **v;
  size_t n, cap;
  size_t bytes; /* their total length, counted per stream */
} seg_queue;

struct sse_stream {
  h2o_generator_t gen; /* first: h2o hands this pointer back */
  h2o_req_t *req;      /* NULL once h2o is done with the request */
  list_node link;      /* in all_streams, for keep-alives */
  seg_queue sending;   /* handed to h2o, kept until it calls proceed */
  seg_queue pending;   /* queued while a write is in flight */
  h2o_iovec_t *iov;    /* sending's bytes as h2o wants them */
  size_t iov_cap;
  size_t limit;
  uint64_t in_flight_since; /* loop time of the write h2o has not finished */
  bool in_flight, finishing, aborted, final_sent;
  sse_closed_cb on_closed;
  void *ud;
};

/* A reader "cannot keep up" when more than the bound waits behind a write that has
 * not completed for this long; a burst the kernel takes at once completes in one loop
 * turn. Past HARD_FACTOR times the bound a stream is cut at once: memory stays bounded.
 */
#define STALL_MS 1000
#define HARD_FACTOR 8

static uv_loop_t *sse_loop;
static list_node all_streams = {&all_streams, &all_streams};
static size_t n_streams;
static uint64_t n_overflows;
static uv_timer_t keepalive_timer;
/* Bytes held unsent by all streams together, each shared run counted once (its
 * `queued` says how many queues hold it), and the bound on them. */
static size_t total_queued, total_limit;
static uv_timer_t relief_timer;
static bool relief_armed;

static void queue_push(seg_queue *q, shared_bytes *b) {
  if (q->n == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 8;
    q->v = xrealloc(q->v, q->cap * sizeof *q->v);
  }
  q->v[q->n++] = shared_bytes_ref(b);
  q->bytes += b->len;
  if (b->queued++ == 0)
    total_queued += b->len;
}

static void queue_clear(seg_queue *q) {
  for (size_t i = 0; i < q->n; i++) {
    shared_bytes *b = q->v[i];
    if (--b->queued == 0)
      total_queued -= b->len;
    shared_bytes_unref(b);
  }
  q->n = 0;
  q->bytes = 0;
}

/* A snapshot's many segments must not pin their array for the stream's life. */
#define IDLE_SEGMENTS_MAX 64

static void queue_trim(seg_queue *q) {
  if (q->n == 0 && q->cap > IDLE_SEGMENTS_MAX) {
    free(q->v);
    q->v = NULL;
    q->cap = 0;
  }
}

static void notify_closed(sse_stream *s) {
  if (s->on_closed) {
    sse_closed_cb cb = s->on_closed;
    s->on_closed = NULL;
    cb(s->ud);
  }
}

static void flush(sse_stream *s) {
  if (s->in_flight || !s->req || s->final_sent)
    return;
  if (s->aborted)
    queue_clear(&s->pending);
  if (s->pending.n == 0 && !s->finishing && !s->aborted)
    return;
  seg_queue tmp = s->sending;
  s->sending = s->pending;
  s->pending = tmp;
  if (s->iov_cap < s->sending.n) {
    s->iov_cap = s->sending.cap;
    s->iov = xrealloc(s->iov, s->iov_cap * sizeof *s->iov);
  }
  for (size_t i = 0; i < s->sending.n; i++)
    s->iov[i] = h2o_iovec_init(s->sending.v[i]->data, s->sending.v[i]->len);
  h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
  if (s->finishing || s->aborted) {
    state = H2O_SEND_STATE_FINAL;
    s->final_sent = true;
  }
  s->in_flight = true;
  s->in_flight_since = uv_now(sse_loop);
  h2o_send(s->req, s->iov, s->sending.n, state);
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req) {
  (void)req;
  sse_stream *s = (sse_stream *)gen;
  s->in_flight = false;
  queue_clear(&s->sending);
  queue_trim(&s->sending);
  if (s->iov_cap > IDLE_SEGMENTS_MAX) {
    free(s->iov);
    s->iov = NULL;
    s->iov_cap = 0;
  }
  /* Nothing after flush: a final send can complete at once (an HTTP/1.0 reader, whose
   * connection closes), and then h2o disposes the request, s with it (fuzz_request
   * found it). The emptied array trimmed above is the one flush swaps into pending. */
  flush(s);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req) {
  (void)req;
  sse_stream *s = (sse_stream *)gen;
  s->req = NULL;
  notify_closed(s);
}

/* Runs when h2o frees the request's memory: the stream's last moment. */
static void on_dispose(void *p) {
  sse_stream *s = p;
  notify_closed(s);
  list_unlink(&s->link);
  n_streams--;
  queue_clear(&s->sending);
  queue_clear(&s->pending);
  free(s->sending.v);
  free(s->pending.v);
  free(s->iov);
}

sse_stream *sse_start(h2o_req_t *req, size_t queue_limit, sse_closed_cb on_closed,
                      void *ud) {
  sse_stream *s = h2o_mem_alloc_shared(&req->pool, sizeof *s, on_dispose);
  memset(s, 0, sizeof *s);
  s->gen.proceed = on_proceed;
  s->gen.stop = on_stop;
  s->req = req;
  s->limit = queue_limit;
  s->on_closed = on_closed;
  s->ud = ud;
  list_push_back(&all_streams, &s->link);
  n_streams++;
  req->res.status = 200;
  req->res.reason = "OK";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                 H2O_STRLIT("text/event-stream"));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                 H2O_STRLIT("no-cache"));
  h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0,
                        NULL, H2O_STRLIT("no"));
  http_add_common_headers(req);
  h2o_start_response(req, &s->gen);
  return s;
}

/* Cuts the connection under h2o, then ends the response: h2o's next write or
 * read on the dead socket fails and it disposes the request the usual way. Over
 * HTTP/2 that takes the connection's other requests along: h2o 2.2.5 resets a
 * stream only through http2_internal.h, which Debian ships without the khash.h it
 * includes. A reader stalls a stream alone only by not reading it while reading the
 * rest (its flow-control window); one that stops reading stalls them all anyway. */
static void abort_stream(sse_stream *s, size_t queued) {
  n_overflows++;
  log_warn("sse", "stream closed: reader fell %zu bytes behind", queued);
  notify_closed(s);
  h2o_socket_t *sock = s->req->conn->callbacks->get_socket(s->req->conn);
  int fd = sock ? h2o_socket_get_fd(sock) : -1;
  if (fd >= 0)
    shutdown(fd, SHUT_RDWR);
  s->aborted = true;
  flush(s);
}

static bool stalled(const sse_stream *s, uint64_t now) {
  return s->in_flight && now - s->in_flight_since >= STALL_MS;
}

/* Over the total bound: every reader stalled for a second is cut. Run from a timer,
 * never inside a write: cutting a stream frees its sink, which the fan-out that is
 * writing may be about to visit. */
static void on_relief(uv_timer_t *t) {
  (void)t;
  relief_armed = false;
  uint64_t now = uv_now(sse_loop);
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &all_streams) {
    sse_stream *s = list_entry(pos, sse_stream, link);
    if (s->req && !s->aborted && !s->final_sent && stalled(s, now))
      abort_stream(s, s->sending.bytes + s->pending.bytes);
  }
}

static void arm_relief(void) {
  if (relief_armed)
    return;
  relief_armed = true;
  uv_timer_start(&relief_timer, on_relief, 0, 0);
}

/* Whether b may join s's queue. bounded: a live event (the snapshot is not). */
static bool admit(sse_stream *s, const shared_bytes *b, bool bounded) {
  uint64_t now = uv_now(sse_loop);
  size_t queued = s->sending.bytes + s->pending.bytes + b->len;
  if (bounded &&
      (queued > s->limit * HARD_FACTOR || (queued > s->limit && stalled(s, now)))) {
    abort_stream(s, queued);
    return false;
  }
  size_t would = total_queued + (b->queued ? 0 : b->len);
  if (total_limit == 0 || would <= total_limit)
    return true;
  arm_relief();
  /* Memory is short: a reader stuck for a second is cut rather than given more;
   * one that keeps up completes its writes within a loop turn and passes. */
  if (bounded && stalled(s, now)) {
    abort_stream(s, queued);
    return false;
  }
  return true;
}

static int write_shared(sse_stream *s, shared_bytes *b, bool bounded) {
  if (!s->req || s->final_sent || s->finishing || s->aborted)
    return -1;
  if (!admit(s, b, bounded))
    return -1;
  queue_push(&s->pending, b);
  flush(s);
  return 0;
}

int sse_write_shared(sse_stream *s, shared_bytes *b) { return write_shared(s, b, true); }

void sse_write_shared_unbounded(sse_stream *s, shared_bytes *b) {
  write_shared(s, b, false);
}

int sse_write(sse_stream *s, const char *bytes, size_t len) {
  shared_bytes *b = shared_bytes_new(bytes, len);
  int rc = write_shared(s, b, true);
  shared_bytes_unref(b);
  return rc;
}

void sse_finish(sse_stream *s) {
  if (!s->req || s->final_sent)
    return;
  s->finishing = true;
  flush(s);
}

static void on_keepalive(uv_timer_t *t) {
  (void)t;
  shared_bytes *comment = shared_bytes_new(":\n\n", 3); /* one for every stream */
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &all_streams) {
    sse_stream *s = list_entry(pos, sse_stream, link);
    sse_write_shared(s, comment);
  }
  shared_bytes_unref(comment);
}

void sse_init(uv_loop_t *loop, unsigned keepalive_s, size_t total_bytes) {
  sse_loop = loop;
  total_limit = total_bytes;
  uv_timer_init(loop, &relief_timer);
  uv_unref((uv_handle_t *)&relief_timer);
  uv_timer_init(loop, &keepalive_timer);
  uv_timer_start(&keepalive_timer, on_keepalive, keepalive_s * 1000ULL,
                 keepalive_s * 1000ULL);
  uv_unref((uv_handle_t *)&keepalive_timer);
}

size_t sse_count(void) { return n_streams; }

uint64_t sse_overflows(void) { return n_overflows; }

size_t sse_queued_bytes(void) { return total_queued; }

void sse_id_scan_feed(sse_id_scan *s, const char *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char ch = data[i];
    if (ch == '\n' || ch == '\r') {
      if (!s->too_long && s->len > 4 && memcmp(s->line, "id: ", 4) == 0) {
        s->line[s->len] = '\0';
        s->last_id = strtoull(s->line + 4, NULL, 10);
      }
      s->len = 0;
      s->too_long = false;
    } else if (s->len < sizeof s->line - 1) {
      s->line[s->len++] = ch;
    } else {
      s->too_long = true;
    }
  }
}
