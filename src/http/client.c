/* client — libcurl's multi interface on a libuv loop: curl tells us which sockets to
 * watch (uv_poll) and when to wake it (uv_timer); completions are read after each step.
 */
#include "http/client.h"

#include "core/mem.h"
#include "http/retry_after.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct http_call {
  http_client *client;
  CURL *easy;
  struct curl_slist *headers;
  struct curl_slist *resolve;
  http_done_cb cb;
  void *ud;
  int fd; /* body file, or -1 */
  int64_t file_size, offset;
  int retry_after_s;
  char *resp;
  size_t resp_len, resp_max;
  bool failed_early; /* reported from the defer timer, never added to curl */
  bool (*addr_ok)(const struct sockaddr *sa, void *ud, char *why, size_t n);
  void *addr_ud;
  bool addr_passed;       /* addr_ok let an address through */
  char addr_refused[256]; /* why addr_ok refused the last address it refused */
  char errbuf[CURL_ERROR_SIZE];
  /* Streaming (http_client_stream): the callbacks, the header block being read, and
   * whether we are inside a callback (a cancel there is deferred to its return). */
  const http_stream_cbs *stream;
  char *head;      /* header lines of the current response, NUL-separated */
  size_t head_len; /* bytes in head */
  size_t n_lines;
  int head_status;
  bool head_done, paused, in_cb, cancelled;
  http_call *prev, *next;
};

#define HEAD_MAX 16384 /* a response's header block, at most */
#define HEAD_LINES 64

struct http_client {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer; /* curl's own timeout */
  uv_timer_t defer; /* reports failures found inside http_client_send */
  http_call *calls;
  size_t n_calls;
  int open_handles; /* uv handles not yet closed; the struct goes when it reaches 0 */
};

typedef struct {
  uv_poll_t poll;
  curl_socket_t fd;
  http_client *client;
} watched_socket;

static void link_call(http_client *c, http_call *call) {
  call->next = c->calls;
  if (c->calls)
    c->calls->prev = call;
  c->calls = call;
  c->n_calls++;
}

static void unlink_call(http_call *call) {
  http_client *c = call->client;
  if (call->prev)
    call->prev->next = call->next;
  else
    c->calls = call->next;
  if (call->next)
    call->next->prev = call->prev;
  c->n_calls--;
}

/* Removes the call from everything and frees it (no callback). */
static void drop_call(http_call *call) {
  unlink_call(call);
  if (call->easy) {
    curl_multi_remove_handle(call->client->multi, call->easy);
    curl_easy_cleanup(call->easy);
  }
  curl_slist_free_all(call->headers);
  curl_slist_free_all(call->resolve);
  if (call->fd >= 0)
    close(call->fd);
  free(call->resp);
  free(call->head);
  free(call);
}

static void report_as(http_call *call, int status, const char *error,
                      bool not_connected) {
  bool refused = status == 0 && call->addr_refused[0] && !call->addr_passed;
  http_result res = {.status = status,
                     .not_connected = status == 0 && not_connected,
                     .error = refused ? call->addr_refused : error,
                     .refused = refused,
                     .retry_after_s = call->retry_after_s,
                     .body = call->resp ? call->resp : "",
                     .body_len = call->resp_len};
  http_done_cb cb = call->cb;
  void *ud = call->ud;
  if (call->easy) /* out of curl before the callback, which may start new requests */
    curl_multi_remove_handle(call->client->multi, call->easy);
  if (!call->cancelled)
    cb(&res, ud);
  drop_call(call);
}

static void report(http_call *call, int status, const char *error) {
  report_as(call, status, error, false);
}

static void finish(http_call *call, CURLcode result) {
  long code = 0;
  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &code);
  /* A 2xx cut short is not a success; a final error status that arrived before the
   * transfer broke (a server refusing an upload early) is still the server's answer. */
  int status = result == CURLE_OK ? (int)code : (code >= 300 ? (int)code : 0);
  const char *error = "";
  if (status == 0)
    error = call->errbuf[0] ? call->errbuf : curl_easy_strerror(result);
  report_as(call, status, error, result == CURLE_COULDNT_CONNECT);
}

static void read_completions(http_client *c) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    http_call *call = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
    finish(call, msg->data.result);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watched_socket *ws = h->data;
  http_client *c = ws->client;
  int flags = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  else
    flags = ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
            ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
  int running;
  curl_multi_socket_action(c->multi, ws->fd, flags, &running);
  read_completions(c);
}

static void maybe_free_client(http_client *c) {
  if (c->open_handles == 0 && !c->multi)
    free(c);
}

static void on_socket_closed(uv_handle_t *h) {
  watched_socket *ws = h->data;
  http_client *c = ws->client;
  free(ws);
  c->open_handles--;
  maybe_free_client(c);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  http_client *c = userp;
  watched_socket *ws = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (ws) {
      curl_multi_assign(c->multi, fd, NULL);
      uv_poll_stop(&ws->poll);
      uv_close((uv_handle_t *)&ws->poll, on_socket_closed);
    }
    return 0;
  }
  if (!ws) {
    ws = xcalloc(1, sizeof *ws);
    ws->fd = fd;
    ws->client = c;
    if (uv_poll_init_socket(c->loop, &ws->poll, fd) != 0) {
      free(ws);
      return -1;
    }
    ws->poll.data = ws;
    c->open_handles++;
    curl_multi_assign(c->multi, fd, ws);
  }
  int events = ((what & CURL_POLL_IN) ? UV_READABLE : 0) |
               ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
  return uv_poll_start(&ws->poll, events, on_poll) == 0 ? 0 : -1;
}

static void on_timeout(uv_timer_t *t) {
  http_client *c = t->data;
  int running;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  read_completions(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
  http_client *c = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&c->timer);
  else /* even 0: curl must not be re-entered from inside its own callback */
    uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

static void on_defer(uv_timer_t *t) {
  http_client *c = t->data;
  for (;;) {
    http_call *call = c->calls;
    while (call && !call->failed_early)
      call = call->next;
    if (!call)
      return;
    report(call, 0, call->errbuf);
  }
}

static void on_client_handle_closed(uv_handle_t *h) {
  http_client *c = h->data;
  c->open_handles--;
  maybe_free_client(c);
}

http_client *http_client_new(uv_loop_t *loop) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return NULL;
  http_client *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->multi = curl_multi_init();
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  uv_timer_init(loop, &c->timer);
  uv_timer_init(loop, &c->defer);
  c->timer.data = c->defer.data = c;
  c->open_handles = 2;
  return c;
}

void http_client_free(http_client *c) {
  if (!c)
    return;
  while (c->calls)
    drop_call(c->calls);
  /* Closing cached connections may still call on_socket, so the multi goes first. */
  curl_multi_cleanup(c->multi);
  c->multi = NULL;
  uv_close((uv_handle_t *)&c->timer, on_client_handle_closed);
  uv_close((uv_handle_t *)&c->defer, on_client_handle_closed);
  curl_global_cleanup();
}

size_t http_client_in_flight(const http_client *c) { return c->n_calls; }

void http_call_cancel(http_call *call) {
  if (!call)
    return;
  if (call->in_cb) { /* curl is on the stack: stop when the callback returns */
    call->cancelled = true;
    return;
  }
  drop_call(call);
}

void http_call_resume(http_call *call) {
  if (!call || !call->paused || !call->easy || call->cancelled)
    return;
  call->paused = false;
  /* curl may hand the held bytes to on_data right here, and arms its timer to go on. */
  curl_easy_pause(call->easy, CURLPAUSE_CONT);
}

/* ---- one request ---- */

/* Streaming: collects one response's header lines and hands them over at its blank
 * line, unless it was a 1xx (then the next response starts afresh). */
static size_t stream_header(http_call *call, const char *line, size_t len) {
  if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    call->head_len = call->n_lines = 0;
    const char *sp = memchr(line, ' ', len);
    call->head_status = sp && (size_t)(sp - line) + 4 <= len ? atoi(sp + 1) : 0;
    return len;
  }
  size_t l = len;
  while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
    l--;
  if (l == 0) { /* the end of the header block */
    if (call->head_status < 200 || call->head_done)
      return len;
    call->head_done = true;
    const char *lines[HEAD_LINES];
    size_t k = 0;
    for (size_t off = 0; off < call->head_len && k < HEAD_LINES; k++) {
      lines[k] = call->head + off;
      off += strlen(call->head + off) + 1;
    }
    call->in_cb = true;
    call->stream->on_head(call->head_status, lines, k, call->ud);
    call->in_cb = false;
    return call->cancelled ? 0 : len;
  }
  if (call->n_lines >= HEAD_LINES || call->head_len + l + 1 > HEAD_MAX ||
      memchr(line, '\0', l))
    return len; /* past the bounds, or not text: left out */
  memcpy(call->head + call->head_len, line, l);
  call->head_len += l;
  call->head[call->head_len++] = '\0';
  call->n_lines++;
  return len;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud) {
  http_call *call = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(line, "HTTP/", 5) == 0)
    call->retry_after_s = -1; /* a new response (after a 100 Continue) starts afresh */
  else
    retry_after_header(line, len, time(NULL), &call->retry_after_s);
  if (call->stream)
    return stream_header(call, line, len);
  return len;
}

static size_t stream_body(http_call *call, const char *data, size_t len) {
  if (call->cancelled)
    return 0;
  call->in_cb = true;
  bool taken = call->stream->on_data(data, len, call->ud);
  call->in_cb = false;
  if (call->cancelled)
    return 0; /* curl stops the transfer; report() drops the call without a callback */
  if (taken)
    return len;
  call->paused = true;
  return CURL_WRITEFUNC_PAUSE;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  http_call *call = ud;
  if (call->stream)
    return stream_body(call, data, size * n);
  size_t len = size * n, room = call->resp_max - call->resp_len;
  size_t take = len < room ? len : room;
  if (take) {
    memcpy(call->resp + call->resp_len, data, take);
    call->resp_len += take;
    call->resp[call->resp_len] = '\0';
  }
  return len; /* the rest is read and dropped */
}

/* Called by curl when the socket can take more: at most one buffer (64 KiB) per call. */
static size_t read_file_chunk(char *buf, size_t size, size_t n, void *ud) {
  http_call *call = ud;
  size_t want = size * n;
  if ((int64_t)want > call->file_size - call->offset)
    want = (size_t)(call->file_size - call->offset);
  if (want == 0)
    return 0;
  ssize_t got;
  do
    got = pread(call->fd, buf, want, call->offset);
  while (got < 0 && errno == EINTR);
  if (got <= 0) { /* an error, or the file shrank below its Content-Length */
    snprintf(call->errbuf, sizeof call->errbuf, "reading the body file: %s",
             got < 0 ? strerror(errno) : "file shorter than when the upload began");
    return CURL_READFUNC_ABORT;
  }
  call->offset += got;
  return (size_t)got;
}

static int seek_file(void *ud, curl_off_t offset, int origin) {
  http_call *call = ud;
  if (origin != SEEK_SET || offset < 0 || offset > call->file_size)
    return CURL_SEEKFUNC_CANTSEEK;
  call->offset = offset;
  return CURL_SEEKFUNC_OK;
}

static int set_file_body(http_call *call, const http_request *req) {
  call->fd = open(req->body_path, O_RDONLY | O_CLOEXEC);
  struct stat sb;
  if (call->fd < 0 || fstat(call->fd, &sb) != 0) {
    snprintf(call->errbuf, sizeof call->errbuf, "cannot open %s: %s", req->body_path,
             strerror(errno));
    return -1;
  }
  call->file_size = sb.st_size;
  CURL *e = call->easy;
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sb.st_size);
  curl_easy_setopt(e, CURLOPT_READFUNCTION, read_file_chunk);
  curl_easy_setopt(e, CURLOPT_READDATA, call);
  curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_file);
  curl_easy_setopt(e, CURLOPT_SEEKDATA, call);
  if (strcmp(req->method, "PUT") != 0)
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
  return 0;
}

static void set_method_and_body(http_call *call, const http_request *req) {
  CURL *e = call->easy;
  if (req->body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    if (strcmp(req->method, "POST") != 0)
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
  } else if (strcmp(req->method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(req->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
  }
}

static int method_ok(const char *m) {
  if (!m || !*m || strlen(m) > 16)
    return 0;
  for (; *m; m++)
    if (*m < 'A' || *m > 'Z')
      return 0;
  return 1;
}

/* curl's socket opener, with the caller's look at the address first: curl has resolved
 * the name by now, so a name that resolves to a refused address is refused too. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose,
                                 struct curl_sockaddr *addr) {
  http_call *call = ud;
  (void)purpose;
  if (call->addr_ok) {
    char why[sizeof call->addr_refused];
    if (!call->addr_ok(&addr->addr, call->addr_ud, why, sizeof why)) {
      snprintf(call->addr_refused, sizeof call->addr_refused, "%s", why);
      return CURL_SOCKET_BAD;
    }
    call->addr_passed = true;
  }
  return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Rules every request follows whoever asked: only http(s), no redirects, no proxy from
 * the environment, no signals, bounded time. */
static void set_common(http_call *call, const http_request *req) {
  CURL *e = call->easy;
  curl_easy_setopt(e, CURLOPT_URL, req->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROXY, ""); /* "" overrides http_proxy and friends */
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "parley");
  curl_easy_setopt(e, CURLOPT_PRIVATE, call);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, call);
  long connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000;
  if (req->timeout_ms > 0) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    if (req->timeout_ms < connect_ms)
      connect_ms = req->timeout_ms;
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  if (req->stall_timeout_s >= 0) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                     (long)(req->stall_timeout_s > 0 ? req->stall_timeout_s : 60));
  }
  for (const char *const *h = req->headers; h && *h; h++)
    call->headers = curl_slist_append(call->headers, *h);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
  for (const char *const *r = req->resolve; r && *r; r++)
    call->resolve = curl_slist_append(call->resolve, *r);
  if (call->resolve)
    curl_easy_setopt(e, CURLOPT_RESOLVE, call->resolve);
  if (req->ca_file)
    curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
  if (req->insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

static void fail_early(http_call *call) {
  call->failed_early = true;
  uv_timer_start(&call->client->defer, on_defer, 0, 0);
}

static http_call *start(http_client *c, const http_request *req,
                        const http_stream_cbs *stream, http_done_cb cb, void *ud) {
  http_call *call = xcalloc(1, sizeof *call);
  call->stream = stream;
  if (stream)
    call->head = xmalloc(HEAD_MAX);
  call->client = c;
  call->cb = cb;
  call->ud = ud;
  call->fd = -1;
  call->retry_after_s = -1;
  call->resp_max = stream ? 0 : req->max_response_bytes;
  call->addr_ok = req->addr_ok;
  call->addr_ud = req->addr_ud;
  if (call->resp_max)
    call->resp = xcalloc(1, call->resp_max + 1);
  link_call(c, call);
  if (!method_ok(req->method) || !req->url) {
    snprintf(call->errbuf, sizeof call->errbuf, "bad request method or no URL");
    fail_early(call);
    return call;
  }
  call->easy = curl_easy_init();
  set_common(call, req);
  if (req->body_path) {
    if (set_file_body(call, req) != 0) {
      curl_easy_cleanup(call->easy);
      call->easy = NULL;
      fail_early(call);
      return call;
    }
  } else {
    set_method_and_body(call, req);
  }
  if (curl_multi_add_handle(c->multi, call->easy) != CURLM_OK) {
    snprintf(call->errbuf, sizeof call->errbuf, "curl refused the request");
    curl_easy_cleanup(call->easy);
    call->easy = NULL;
    fail_early(call);
  }
  return call;
}

http_call *http_client_send(http_client *c, const http_request *req, http_done_cb cb,
                            void *ud) {
  return start(c, req, NULL, cb, ud);
}

http_call *http_client_stream(http_client *c, const http_request *req,
                              const http_stream_cbs *cbs, http_done_cb done, void *ud) {
  return start(c, req, cbs, done, ud);
}
