/* test_http_client — the libcurl-on-libuv client against a real node HTTP server:
 * streamed PUTs with Content-Length, POSTs, Retry-After, transport errors, cancel, and
 * its rules. */
#include "check.h"
#include "http/client.h"
#include "http/retry_after.h"
#include "sink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
  bool done, refused;
  int status, retry_after_s;
  char error[256], body[256];
} outcome;

static void on_done(const http_result *r, void *ud) {
  outcome *o = ud;
  o->done = true;
  o->status = r->status;
  o->refused = r->refused;
  o->retry_after_s = r->retry_after_s;
  snprintf(o->error, sizeof o->error, "%s", r->error);
  snprintf(o->body, sizeof o->body, "%s", r->body);
}

static bool is_done(void *ud) { return ((outcome *)ud)->done; }

static outcome send_and_wait(uv_loop_t *loop, http_client *c, const http_request *req) {
  outcome o = {0};
  http_client_send(c, req, on_done, &o);
  CHECK(!o.done); /* never called back from inside send */
  CHECK(run_until(loop, is_done, &o, 10000));
  return o;
}

static void test_retry_after_parsing(void) {
  time_t now = 1700000000;
  CHECK(retry_after_value("120", 3, now) == 120);
  CHECK(retry_after_value("  7 \r\n", 6, now) == 7);
  CHECK(retry_after_value("99999999999999999999", 20, now) == RETRY_AFTER_MAX_S);
  CHECK(retry_after_value("12a", 3, now) == -1);
  CHECK(retry_after_value("", 0, now) == -1);
  CHECK(retry_after_value("-5", 2, now) == -1);
  /* 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT */
  const char *date = "Tue, 14 Nov 2023 22:14:00 GMT";
  CHECK(retry_after_value(date, strlen(date), now) == 40);
  const char *past = "Wed, 21 Oct 2015 07:28:00 GMT";
  CHECK(retry_after_value(past, strlen(past), now) == 0);
  const char *junk = "tomorrow-ish";
  CHECK(retry_after_value(junk, strlen(junk), now) == -1);
  int s = 0;
  const char *line = "Retry-After: 3\r\n";
  CHECK(retry_after_header(line, strlen(line), now, &s) == 1 && s == 3);
  const char *other = "Content-Type: text/plain\r\n";
  CHECK(retry_after_header(other, strlen(other), now, &s) == 0);
}

static int make_file(const char *path, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  for (size_t i = 0; i < size; i++)
    fputc((int)((i * 7919) >> 3 & 0xff), f);
  return fclose(f);
}

static bool same_file(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  bool same = fa && fb;
  while (same) {
    int ca = fgetc(fa), cb = fgetc(fb);
    same = ca == cb;
    if (ca == EOF)
      break;
  }
  if (fa)
    fclose(fa);
  if (fb)
    fclose(fb);
  return same;
}

static json_t *last_entry(const sink *s, json_t **log) {
  *log = sink_log(s);
  size_t n = json_array_size(*log);
  return n ? json_array_get(*log, n - 1) : NULL;
}

static void test_put_streams_file(uv_loop_t *loop, http_client *c, const sink *s,
                                  const char *dir) {
  char path[512], url[128];
  snprintf(path, sizeof path, "%s/body.webm", dir);
  const size_t size = 3 * 1024 * 1024 + 17; /* many 64 KiB chunks, and a ragged end */
  CHECK(make_file(path, size) == 0);
  snprintf(url, sizeof url, "%s/up/rec.webm", s->base);
  const char *headers[] = {"Content-Type: video/webm", NULL};
  http_request req = {.method = "PUT", .url = url, .headers = headers, .body_path = path};
  outcome o = send_and_wait(loop, c, &req);
  CHECK(o.status == 201);
  CHECK_STR(o.error, "");
  json_t *log, *e = last_entry(s, &log);
  CHECK_STR(json_string_value(json_object_get(e, "method")), "PUT");
  CHECK(json_integer_value(json_object_get(e, "content_length")) == (json_int_t)size);
  CHECK(json_integer_value(json_object_get(e, "length")) == (json_int_t)size);
  CHECK_STR(
      json_string_value(json_object_get(json_object_get(e, "headers"), "content-type")),
      "video/webm");
  CHECK(same_file(path, json_string_value(json_object_get(e, "file"))));
  json_decref(log);
}

static void test_post_and_response(uv_loop_t *loop, http_client *c, const sink *s) {
  char url[128];
  snprintf(url, sizeof url, "%s/hook", s->base);
  const char *headers[] = {"Content-Type: application/json", "X-Test: yes", NULL};
  const char body[] = "{\"a\":1}";
  http_request req = {.method = "POST",
                      .url = url,
                      .headers = headers,
                      .body = body,
                      .body_len = sizeof body - 1,
                      .timeout_ms = 5000,
                      .max_response_bytes = 100};
  outcome o = send_and_wait(loop, c, &req);
  CHECK(o.status == 200);
  CHECK(o.retry_after_s == -1);
  CHECK_STR(o.body, "200\n");
  json_t *log, *e = last_entry(s, &log);
  CHECK_STR(json_string_value(json_object_get(e, "body")), body);
  CHECK_STR(json_string_value(json_object_get(json_object_get(e, "headers"), "x-test")),
            "yes");
  json_decref(log);
}

static void test_retry_after_and_no_redirects(uv_loop_t *loop, http_client *c,
                                              const sink *s) {
  char url[128];
  snprintf(url, sizeof url, "%s/hook", s->base);
  http_request req = {.method = "POST", .url = url, .body = "{}", .body_len = 2};
  sink_control(s, "{\"fail\":{\"status\":503,\"count\":1,\"retry_after\":\"7\"}}");
  outcome o = send_and_wait(loop, c, &req);
  CHECK(o.status == 503 && o.retry_after_s == 7);

  char date[64], ctl[160];
  time_t later = time(NULL) + 100;
  struct tm tm;
  gmtime_r(&later, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  snprintf(ctl, sizeof ctl, "{\"fail\":{\"status\":429,\"retry_after\":\"%s\"}}", date);
  sink_control(s, ctl);
  o = send_and_wait(loop, c, &req);
  CHECK(o.status == 429 && o.retry_after_s >= 97 && o.retry_after_s <= 100);

  sink_control(s, "{\"fail\":{\"status\":302}}");
  o = send_and_wait(loop, c, &req);
  CHECK(o.status == 302); /* reported, not followed */
}

static void test_transport_errors(uv_loop_t *loop, http_client *c, const char *dir) {
  /* a port nobody listens on: bind one, learn it, close it */
  uv_tcp_t tcp;
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_init(loop, &tcp);
  uv_tcp_bind(&tcp, (const struct sockaddr *)&sa, 0);
  int len = sizeof sa;
  uv_tcp_getsockname(&tcp, (struct sockaddr *)&sa, &len);
  uv_close((uv_handle_t *)&tcp, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(sa.sin_port));
  http_request req = {.method = "GET", .url = url, .timeout_ms = 3000};
  outcome o = send_and_wait(loop, c, &req);
  CHECK(o.status == 0 && o.error[0] != '\0');

  http_request file_url = {.method = "GET", .url = "file:///etc/passwd"};
  o = send_and_wait(loop, c, &file_url);
  CHECK(o.status == 0 && o.error[0] != '\0');

  char missing[512];
  snprintf(missing, sizeof missing, "%s/no-such-file", dir);
  http_request no_file = {.method = "PUT", .url = url, .body_path = missing};
  o = send_and_wait(loop, c, &no_file);
  CHECK(o.status == 0 && strstr(o.error, "cannot open") != NULL);

  http_request bad_method = {.method = "get me", .url = url};
  o = send_and_wait(loop, c, &bad_method);
  CHECK(o.status == 0);
}

static void test_proxy_env_ignored_and_cancel(uv_loop_t *loop, http_client *c,
                                              const sink *s) {
  char url[128];
  snprintf(url, sizeof url, "%s/hook", s->base);
  setenv("http_proxy", "http://127.0.0.1:1", 1);
  setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
  http_request req = {.method = "POST", .url = url, .body = "{}", .body_len = 2};
  outcome o = send_and_wait(loop, c, &req);
  CHECK(o.status == 200);
  unsetenv("http_proxy");
  unsetenv("ALL_PROXY");

  size_t before = sink_log_count(s);
  outcome never_called = {0};
  http_call *call = http_client_send(c, &req, on_done, &never_called);
  CHECK(http_client_in_flight(c) == 1);
  http_call_cancel(call);
  CHECK(http_client_in_flight(c) == 0);
  run_for(loop, 200);
  CHECK(!never_called.done);
  CHECK(sink_log_count(s) == before);
}

typedef struct {
  int asked;
  bool allow;
  char last[INET6_ADDRSTRLEN];
} addr_judge;

static bool judge_addr(const struct sockaddr *sa, void *ud, char *why, size_t n) {
  addr_judge *j = ud;
  j->asked++;
  const void *a = sa->sa_family == AF_INET
                      ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                      : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
  inet_ntop(sa->sa_family, a, j->last, sizeof j->last);
  if (!j->allow)
    snprintf(why, n, "%s is not for us", j->last);
  return j->allow;
}

/* The hook sees the address curl resolved a name to, before connecting: refused, nothing
 * reaches the server and the result says why; allowed, the request goes as usual. */
static void test_address_hook(uv_loop_t *loop, http_client *c, const sink *s) {
  char url[128];
  snprintf(url, sizeof url, "http://localhost:%d/hook", s->port);
  size_t before = sink_log_count(s);
  addr_judge no = {.allow = false};
  http_request req = {.method = "POST",
                      .url = url,
                      .body = "{}",
                      .body_len = 2,
                      .addr_ok = judge_addr,
                      .addr_ud = &no};
  outcome o = send_and_wait(loop, c, &req);
  CHECK(no.asked >= 1);
  CHECK(strcmp(no.last, "127.0.0.1") == 0 || strcmp(no.last, "::1") == 0);
  CHECK(o.status == 0 && o.refused);
  CHECK(strstr(o.error, "is not for us") != NULL);
  CHECK(sink_log_count(s) == before);

  addr_judge yes = {.allow = true};
  req.addr_ud = &yes;
  o = send_and_wait(loop, c, &req);
  CHECK(yes.asked >= 1 && o.status == 200 && !o.refused);
  CHECK(sink_log_count(s) == before + 1);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  test_retry_after_parsing();
  char dir[] = "/tmp/parley-httpc-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  sink s;
  if (sink_start(&s, dir) != 0) {
    fprintf(stderr, "cannot start tests/tools/http_sink.mjs (is node on PATH?)\n");
    return 1;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  http_client *c = http_client_new(&loop);
  test_put_streams_file(&loop, c, &s, dir);
  test_post_and_response(&loop, c, &s);
  test_retry_after_and_no_redirects(&loop, c, &s);
  test_transport_errors(&loop, c, dir);
  test_proxy_env_ignored_and_cancel(&loop, c, &s);
  test_address_hook(&loop, c, &s);
  http_client_free(c);
  uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks free the client */
  CHECK(uv_loop_close(&loop) == 0);
  sink_stop(&s);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
