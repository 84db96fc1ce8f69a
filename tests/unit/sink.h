/* sink — unit-test helpers around tests/tools/http_sink.mjs: start it as a child process
 * on a free loopback port, script it and read its log (blocking libcurl, tests only). */
#ifndef PARLEY_TEST_SINK_H
#define PARLEY_TEST_SINK_H

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  pid_t pid;
  int port;
  char base[64]; /* "http://127.0.0.1:PORT" */
} sink;

static inline int sink_start(sink *s, const char *dir) {
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  s->pid = fork();
  if (s->pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("node", "node", FIXTURES "/../tools/http_sink.mjs", "--port", "0", "--dir",
           dir, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char line[512];
  FILE *f = fdopen(fds[0], "r");
  s->port = 0;
  if (fgets(line, sizeof line, f)) {
    json_t *o = json_loads(line, 0, NULL);
    s->port = (int)json_integer_value(json_object_get(o, "port"));
    json_decref(o);
  }
  fclose(f);
  snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
  return s->port > 0 ? 0 : -1;
}

static inline void sink_stop(sink *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
}

static inline size_t sink_collect(char *data, size_t size, size_t n, void *ud) {
  FILE *out = ud;
  return fwrite(data, size, n, out);
}

/* Blocking request to the sink's control API; returns the body (free it) or NULL. */
static char *sink_call(const sink *s, const char *path, const char *json_body) {
  char url[128], *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  snprintf(url, sizeof url, "%s%s", s->base, path);
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
  if (json_body)
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, json_body);
  CURLcode rc = curl_easy_perform(e);
  curl_easy_cleanup(e);
  fclose(out);
  if (rc != CURLE_OK) {
    free(text);
    return NULL;
  }
  return text;
}

static inline void sink_control(const sink *s, const char *json_body) {
  free(sink_call(s, "/_control", json_body));
}

/* The sink's log as a JSON array (json_decref it), or NULL. */
static json_t *sink_log(const sink *s) {
  char *text = sink_call(s, "/_log", NULL);
  json_t *log = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  return log;
}

static inline size_t sink_log_count(const sink *s) {
  json_t *log = sink_log(s);
  size_t n = json_array_size(log);
  json_decref(log);
  return n;
}

static inline void test_tick(uv_timer_t *t) { (void)t; }

/* Runs the loop until done(ud) or timeout_ms; returns done(ud). */
static inline bool run_until(uv_loop_t *loop, bool (*done)(void *ud), void *ud,
                             int timeout_ms) {
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(&tick, test_tick, 10, 10); /* so that UV_RUN_ONCE never blocks long */
  uv_update_time(loop);
  uint64_t end = uv_now(loop) + (uint64_t)timeout_ms;
  bool ok;
  while (!(ok = done(ud)) && uv_now(loop) < end)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return ok;
}

/* Runs the loop for ms milliseconds. */
static inline bool never(void *ud) { return ud == (void *)1; }
static inline void run_for(uv_loop_t *loop, int ms) { run_until(loop, never, NULL, ms); }

#endif
