/* test_http_stream — the client's streaming mode against a tiny libuv HTTP server in
 * this file: headers before the body, 4 MiB delivered in order through pauses and
 * resumes, a server that dies mid-stream (an error after the head), and a cancel from
 * inside the data callback. */
#include "check.h"
#include "core/mem.h"
#include "http/client.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define TOTAL (4u << 20)
#define CHUNK 65536u

/* ---- the server: one connection at a time; mode chosen by the request path ---- */
typedef struct {
  uv_tcp_t listener;
  uv_tcp_t *conn;
  bool cut; /* close after the first chunk, without the chunked terminator */
  size_t sent;
  char req[4096];
  size_t req_len;
  bool answered;
} server;

static unsigned char pattern(size_t i) { return (unsigned char)((i * 131u) >> 2); }

static void on_conn_closed(uv_handle_t *h) { free(h); }

static void on_written(uv_write_t *w, int status);

static void write_more(server *s) {
  uv_tcp_t *conn = s->conn;
  if (!conn)
    return;
  if (s->sent >= TOTAL || (s->cut && s->sent > 0)) {
    if (s->cut) {
      uv_close((uv_handle_t *)conn, on_conn_closed);
      s->conn = NULL;
      return;
    }
    uv_write_t *w = xcalloc(1, sizeof *w + 8);
    char *end = (char *)(w + 1);
    memcpy(end, "0\r\n\r\n", 5);
    uv_buf_t b = uv_buf_init(end, 5);
    w->data = NULL;
    uv_write(w, (uv_stream_t *)conn, &b, 1, on_written);
    s->sent = TOTAL + 1;
    return;
  }
  size_t n = CHUNK;
  uv_write_t *w = xcalloc(1, sizeof *w + n + 32);
  char *p = (char *)(w + 1);
  size_t h = (size_t)snprintf(p, 32, "%zx\r\n", n);
  for (size_t i = 0; i < n; i++)
    p[h + i] = (char)pattern(s->sent + i);
  memcpy(p + h + n, "\r\n", 2);
  s->sent += n;
  w->data = s;
  uv_buf_t b = uv_buf_init(p, (unsigned)(h + n + 2));
  uv_write(w, (uv_stream_t *)conn, &b, 1, on_written);
}

static void on_written(uv_write_t *w, int status) {
  server *s = w->data;
  free(w);
  if (s && status == 0)
    write_more(s);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  server *s = h->data;
  (void)hint;
  b->base = s->req + s->req_len;
  b->len = sizeof s->req - s->req_len - 1;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  server *s = st->data;
  (void)b;
  if (n < 0) {
    if (s->conn == (uv_tcp_t *)st) {
      uv_close((uv_handle_t *)st, on_conn_closed);
      s->conn = NULL;
    }
    return;
  }
  s->req_len += (size_t)n;
  s->req[s->req_len] = '\0';
  if (s->answered || !strstr(s->req, "\r\n\r\n"))
    return;
  s->answered = true;
  s->cut = strstr(s->req, "GET /cut ") != NULL;
  static const char head[] = "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             "X-Test: yes\r\nConnection: close\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n";
  uv_write_t *w = xcalloc(1, sizeof *w);
  uv_buf_t hb = uv_buf_init((char *)head, sizeof head - 1);
  w->data = NULL;
  uv_write(w, st, &hb, 1, on_written);
  write_more(s);
}

static void on_connection(uv_stream_t *l, int status) {
  server *s = l->data;
  if (status != 0)
    return;
  uv_tcp_t *conn = xcalloc(1, sizeof *conn);
  uv_tcp_init(l->loop, conn);
  conn->data = s;
  if (uv_accept(l, (uv_stream_t *)conn) != 0 || s->conn) {
    uv_close((uv_handle_t *)conn, on_conn_closed);
    return;
  }
  s->conn = conn;
  s->req_len = 0;
  s->sent = 0;
  s->answered = false;
  uv_read_start((uv_stream_t *)conn, alloc_cb, on_read);
}

/* ---- the client side ---- */
typedef struct {
  uv_loop_t *loop;
  http_call *call;
  uv_timer_t resume;
  int status, head_status, pauses;
  bool done, x_test, bad_byte, cancel_in_data;
  size_t got, data_calls;
  char error[256];
} reader;

static void on_head(int status, const char *const *lines, size_t n, void *ud) {
  reader *r = ud;
  r->head_status = status;
  for (size_t i = 0; i < n; i++)
    if (strcmp(lines[i], "X-Test: yes") == 0)
      r->x_test = true;
}

static void do_resume(uv_timer_t *t) {
  reader *r = t->data;
  http_call_resume(r->call);
}

static bool on_data(const char *data, size_t len, void *ud) {
  reader *r = ud;
  r->data_calls++;
  if (r->cancel_in_data) {
    http_call_cancel(r->call);
    r->done = true; /* done must not run after a cancel */
    return true;
  }
  if (r->data_calls % 3 == 0) { /* a slow reader now and then */
    r->pauses++;
    uv_timer_start(&r->resume, do_resume, 2, 0);
    return false;
  }
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)data[i] != pattern(r->got + i))
      r->bad_byte = true;
  r->got += len;
  return true;
}

static void on_done(const http_result *res, void *ud) {
  reader *r = ud;
  CHECK(!r->done);
  r->done = true;
  r->status = res->status;
  snprintf(r->error, sizeof r->error, "%s", res->error);
}

static const http_stream_cbs cbs = {on_head, on_data};

static void run(uv_loop_t *loop, reader *r) {
  uint64_t end = uv_now(loop) + 15000;
  while (!r->done && uv_now(loop) < end)
    uv_run(loop, UV_RUN_ONCE);
}

static void test_stream(uv_loop_t *loop, http_client *c, int port, const char *path,
                        reader *r) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  const char *headers[] = {"Expect: 100-continue", NULL};
  http_request req = {.method = "GET",
                      .url = url,
                      .headers = headers,
                      .stall_timeout_s = -1,
                      .connect_timeout_ms = 2000};
  r->loop = loop;
  uv_timer_init(loop, &r->resume);
  r->resume.data = r;
  r->call = http_client_stream(c, &req, &cbs, on_done, r);
  run(loop, r);
  uv_close((uv_handle_t *)&r->resume, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  server s = {0};
  uv_tcp_init(&loop, &s.listener);
  s.listener.data = &s;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  CHECK(uv_tcp_bind(&s.listener, (struct sockaddr *)&a, 0) == 0);
  CHECK(uv_listen((uv_stream_t *)&s.listener, 8, on_connection) == 0);
  struct sockaddr_in bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&s.listener, (struct sockaddr *)&bound, &blen);
  int port = ntohs(bound.sin_port);
  http_client *c = http_client_new(&loop);

  reader whole = {0};
  test_stream(&loop, c, port, "/whole", &whole);
  CHECK(whole.done && whole.status == 200);
  CHECK(whole.head_status == 200 && whole.x_test); /* the 100 Continue was skipped */
  CHECK(whole.got == TOTAL && !whole.bad_byte);
  CHECK(whole.pauses > 3);

  reader cut = {0};
  test_stream(&loop, c, port, "/cut", &cut);
  CHECK(cut.done && cut.head_status == 200);
  CHECK(cut.status == 0 && cut.error[0]); /* a stream cut short is an error */
  CHECK(cut.got < TOTAL);

  reader cancelled = {.cancel_in_data = true};
  test_stream(&loop, c, port, "/whole", &cancelled);
  CHECK(cancelled.done && cancelled.status == 0 && cancelled.data_calls == 1);
  for (int i = 0; i < 20; i++) /* curl finishes the aborted transfer: no callback */
    uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(http_client_in_flight(c) == 0);

  http_client_free(c);
  if (s.conn)
    uv_close((uv_handle_t *)s.conn, on_conn_closed);
  uv_close((uv_handle_t *)&s.listener, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  CHECK_DONE();
}
