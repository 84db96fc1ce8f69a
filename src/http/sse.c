/* sse — Server-Sent Event streams over libh2o. */
#include "http/sse.h"

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "http/server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct sse_stream {
  h2o_generator_t gen; /* first: h2o hands this pointer back */
  h2o_req_t *req;      /* NULL once h2o is done with the request */
  list_node link;      /* in all_streams, for keep-alives */
  buf sending;         /* bytes handed to h2o, kept until it calls proceed */
  buf pending;         /* bytes queued while a write is in flight */
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
    buf_reset(&s->pending);
  if (s->pending.len == 0 && !s->finishing && !s->aborted)
    return;
  buf tmp = s->sending;
  s->sending = s->pending;
  s->pending = tmp;
  buf_reset(&s->pending);
  h2o_iovec_t iov = h2o_iovec_init(s->sending.data, s->sending.len);
  h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
  if (s->finishing || s->aborted) {
    state = H2O_SEND_STATE_FINAL;
    s->final_sent = true;
  }
  s->in_flight = true;
  s->in_flight_since = uv_now(sse_loop);
  h2o_send(s->req, &iov, 1, state);
}

#define IDLE_BUFFER_MAX 16384

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req) {
  (void)req;
  sse_stream *s = (sse_stream *)gen;
  s->in_flight = false;
  /* A large snapshot must not pin its buffer for the stream's whole life. */
  if (s->sending.cap > IDLE_BUFFER_MAX)
    buf_free(&s->sending);
  else
    buf_reset(&s->sending);
  flush(s);
  if (!s->in_flight && s->pending.cap > IDLE_BUFFER_MAX && s->pending.len == 0)
    buf_free(&s->pending);
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
  buf_free(&s->sending);
  buf_free(&s->pending);
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
 * read on the dead socket fails and it disposes the request the usual way. */
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

int sse_write(sse_stream *s, const char *bytes, size_t len) {
  if (!s->req || s->final_sent || s->finishing || s->aborted)
    return -1;
  size_t queued = s->sending.len + s->pending.len + len;
  bool stalled = s->in_flight && uv_now(sse_loop) - s->in_flight_since >= STALL_MS;
  if (queued > s->limit * HARD_FACTOR || (queued > s->limit && stalled)) {
    abort_stream(s, queued);
    return -1;
  }
  buf_append(&s->pending, bytes, len);
  flush(s);
  return 0;
}

void sse_write_unbounded(sse_stream *s, const char *bytes, size_t len) {
  if (!s->req || s->final_sent || s->finishing || s->aborted)
    return;
  buf_append(&s->pending, bytes, len);
  flush(s);
}

void sse_finish(sse_stream *s) {
  if (!s->req || s->final_sent)
    return;
  s->finishing = true;
  flush(s);
}

static void on_keepalive(uv_timer_t *t) {
  (void)t;
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &all_streams) {
    sse_stream *s = list_entry(pos, sse_stream, link);
    sse_write(s, ":\n\n", 3);
  }
}

void sse_init(uv_loop_t *loop, unsigned keepalive_s) {
  sse_loop = loop;
  uv_timer_init(loop, &keepalive_timer);
  uv_timer_start(&keepalive_timer, on_keepalive, keepalive_s * 1000ULL,
                 keepalive_s * 1000ULL);
  uv_unref((uv_handle_t *)&keepalive_timer);
}

size_t sse_count(void) { return n_streams; }

uint64_t sse_overflows(void) { return n_overflows; }
