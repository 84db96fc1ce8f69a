/* parleyd — the Parley daemon: reads its settings, opens the store, and runs the
 * control loop (HTTP, SSE, conference core) until SIGINT or SIGTERM. */
#include "api/api.h"
#include "conf/call.h"
#include "conf/conf.h"
#include "core/config.h"
#include "core/log.h"
#include "http/server.h"
#include "http/sse.h"
#include "store/db.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Static so that everything still open at exit stays reachable (clean LSan). */
static config cfg;
static api front;
static store *db;
static media_engine *media;
static uv_signal_t sigint_watch, sigterm_watch;
static uv_timer_t drain_timer;
static uint64_t drain_deadline;

static void on_drain_tick(uv_timer_t *t) {
  if (sse_count() == 0 || uv_now(t->loop) >= drain_deadline) {
    log_info("parleyd", "stopped");
    uv_stop(t->loop);
  }
}

static void on_signal(uv_signal_t *w, int signum) {
  uv_signal_stop(&sigint_watch);
  uv_signal_stop(&sigterm_watch);
  log_info("parleyd", "signal %d: shutting down", signum);
  http_server_stop_accepting(front.srv);
  conf_core *core = front.core;
  front.core = NULL; /* requests from here on get 503 */
  conf_destroy(core);
  /* Calls were ended above; the media loop finishes their commands, then stops. */
  media_engine_stop(media);
  /* Give streams a moment to deliver their disconnect events. */
  drain_deadline = uv_now(w->loop) + (uint64_t)cfg.shutdown_grace_ms;
  uv_timer_init(w->loop, &drain_timer);
  uv_timer_start(&drain_timer, on_drain_tick, 0, 10);
}

static const char *media_bind_address(void) {
  return cfg.media_bind[0] ? cfg.media_bind : cfg.http_host;
}

static int start_media(uv_loop_t *loop, char *err, size_t errlen) {
  const char *bind = media_bind_address();
  const char *any = strchr(bind, ':') ? "::" : "0.0.0.0";
  const char *announce = cfg.media_ip[0]          ? cfg.media_ip
                         : strcmp(bind, any) != 0 ? bind
                                                  : "127.0.0.1";
  media_config mc = {.bind_address = bind,
                     .port = cfg.media_port,
                     .announce_address = announce,
                     .srtp_profiles = cfg.srtp_profiles,
                     .consent_timeout_s = cfg.consent_timeout_s};
  media = media_engine_start(loop, &mc, conf_on_media_event, front.core, err, errlen);
  if (!media)
    return -1;
  conf_set_media(front.core, media);
  front.media = media;
  return 0;
}

int main(int argc, char **argv) {
  char err[512];
  config_defaults(&cfg);
  int rc = config_parse_args(&cfg, argc, argv, err, sizeof err);
  if (rc == 1)
    return 0;
  if (rc != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 2;
  }
  log_level level;
  log_parse_level(cfg.log_level, &level);
  log_set_level(level);
  signal(SIGPIPE, SIG_IGN);

  db = store_open(cfg.data_dir, err, sizeof err);
  if (!db) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  uv_loop_t *loop = uv_default_loop();
  front.cfg = &cfg;
  front.core = conf_create(loop, &cfg, db);
  if (start_media(loop, err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  sse_init(loop, (unsigned)cfg.keepalive_s);
  http_set_cors_origin(cfg.cors_origin);
  /* h2o buffers bodies up to this size; between max-body and it we answer a JSON
   * 413 ourselves, beyond it h2o answers a plain-text 413 and closes. */
  size_t max_entity = (size_t)cfg.max_body_bytes * 4;
  if (max_entity < (1u << 20))
    max_entity = 1u << 20;
  front.srv = http_server_start(loop, cfg.http_host, cfg.http_port, max_entity,
                                cfg.web_dir[0] ? cfg.web_dir : NULL, api_handle, &front,
                                err, sizeof err);
  if (!front.srv) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  uv_signal_init(loop, &sigint_watch);
  uv_signal_init(loop, &sigterm_watch);
  uv_signal_start(&sigint_watch, on_signal, SIGINT);
  uv_signal_start(&sigterm_watch, on_signal, SIGTERM);
  /* The one line shown at every log level: callers of --http ADDR:0 and
   * --media-port 0 learn the ports from it. */
  log_always("parleyd", "listening on http://%s:%d media udp %s:%d data-dir=%s",
             cfg.http_host, http_server_port(front.srv), media_bind_address(),
             media_engine_port(media), cfg.data_dir);
  uv_run(loop, UV_RUN_DEFAULT);
  store_close(db);
  db = NULL;
  return 0;
}
