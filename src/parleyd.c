/* parleyd — the Parley daemon: reads its settings, opens the store, and runs the
 * control loop (HTTP, SSE, conference core) until SIGINT or SIGTERM; SIGHUP reloads
 * the TLS certificate. */
#include "api/api.h"
#include "api/rtm_cluster.h"
#include "api/whip.h"
#include "cluster/cluster.h"
#include "cluster/config_sync.h"
#include "conf/call.h"
#include "conf/conf.h"
#include "core/config.h"
#include "core/host_addr.h"
#include "core/log.h"
#include "delivery/outbox.h"
#include "http/server.h"
#include "http/sse.h"
#include "http/tls.h"
#include "media/recorder.h"
#include "policy/policy.h"
#include "pubsub/ps_media.h"
#include "pubsub/ps_recording.h"
#include "rtm/rtm.h"
#include "store/db.h"
#include "store/sync.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Static so that everything still open at exit stays reachable (clean LSan). */
static config cfg;
static api front;
static store *db;
static media_engine *media;
static rtm_core *rtm;
static ps_recorder *ps_rec;   /* pub/sub recordings: outlives front.ps while they close */
static int shutdowns_pending; /* RTM's and pub/sub's recordings closing */
static outbox *deliveries;
static store_sync *db_sync;
static cluster *clu;
static csync *config_sync; /* --cluster: configuration from the management node */
static char recordings_dir[600];
static char media_bind[HOST_ADDR_LEN];
static uv_signal_t sigint_watch, sigterm_watch, sighup_watch;
static uv_timer_t drain_timer;
static uint64_t drain_deadline;

static void on_drain_tick(uv_timer_t *t) {
  if (sse_count() == 0 || uv_now(t->loop) >= drain_deadline) {
    log_info("parleyd", "stopped");
    uv_stop(t->loop);
  }
}

/* RTM sessions have ended and their recordings are journaled for upload: the rest of
 * the daemon can go. */
static void after_rtm_shutdown(void *ud) {
  uv_loop_t *loop = ud;
  conf_core *core = front.core;
  front.core = NULL; /* requests from here on get 503 */
  conf_destroy(core);
  /* Calls were ended above; the media loop finishes their commands, then stops. */
  media_engine_stop(media);
  /* Give streams a moment to deliver their disconnect events. */
  drain_deadline = uv_now(loop) + (uint64_t)cfg.shutdown_grace_ms;
  uv_timer_init(loop, &drain_timer);
  uv_timer_start(&drain_timer, on_drain_tick, 0, 10);
}

/* One of RTM and pub/sub has its recordings closed and journaled. */
static void recordings_closed(void *ud) {
  if (--shutdowns_pending == 0)
    after_rtm_shutdown(ud);
}

static void on_signal(uv_signal_t *w, int signum) {
  uv_signal_stop(&sigint_watch);
  uv_signal_stop(&sigterm_watch);
  /* SIGHUP stays handled: a certificate reload during the drain is harmless, its
   * default action would end the drain. */
  log_info("parleyd", "signal %d: shutting down", signum);
  http_server_stop_accepting(front.srv);
  if (front.metrics_srv)
    http_server_stop_accepting(front.metrics_srv);
  front.rtm = NULL; /* RTM messages from here on are refused */
  ps_core *ps = front.ps;
  front.ps = NULL; /* pub/sub sockets are told to go (1001), new ones refused */
  shutdowns_pending = 2;
  /* Open recordings are finalised and queued for upload first (RTM: SERVICE_SHUTDOWN). */
  ps_recorder_shutdown(ps_rec, 10000, recordings_closed, w->loop);
  ps_core_free(ps); /* ends every WHIP participant too */
  whip *wh = front.whip;
  front.whip = NULL; /* WHIP requests from here on get 503 */
  whip_free(wh);
  rtm_core_shutdown(rtm, 10000, recordings_closed, w->loop);
}

/* --tls-cert/--tls-key: the HTTPS context, logged with its pin. */
static SSL_CTX *load_tls(char *err, size_t errlen) {
  SSL_CTX *ctx = tls_server_ctx_new(cfg.tls_cert, cfg.tls_key, err, errlen);
  char pin[TLS_PIN_LEN];
  if (ctx && tls_ctx_pin(ctx, pin) == 0)
    log_info("parleyd", "TLS certificate %s, key %s, spki-sha256 %s", cfg.tls_cert,
             cfg.tls_key, pin);
  return ctx;
}

/* SIGHUP: a renewed certificate (e.g. from certbot) for new connections; open ones,
 * event streams among them, keep theirs. Reading two small PEM files and building the
 * context blocks the control loop for 5-9 ms on the 2-core test VM (mostly OpenSSL 3.0
 * setting up a context), once per reload, i.e. every few weeks: acceptable. A file
 * that does not load leaves the current certificate in place. */
static void on_sighup(uv_signal_t *w, int signum) {
  (void)w;
  (void)signum;
  if (!http_server_is_tls(front.srv)) {
    log_info("parleyd", "SIGHUP: no TLS certificate to reload");
    return;
  }
  char err[1024];
  SSL_CTX *ctx = load_tls(err, sizeof err);
  if (!ctx) {
    log_error("parleyd", "SIGHUP: TLS reload failed, keeping the old certificate: %s",
              err);
    return;
  }
  http_server_set_tls(front.srv, ctx);
  log_info("parleyd", "SIGHUP: TLS certificate reloaded");
}

static int start_tls(char *err, size_t errlen) {
  if (!cfg.tls_cert[0] && !cfg.tls_key[0])
    return 0;
  if (!cfg.tls_cert[0] || !cfg.tls_key[0]) {
    snprintf(err, errlen, "--tls-cert and --tls-key go together");
    return -1;
  }
  SSL_CTX *ctx = load_tls(err, errlen);
  if (!ctx)
    return -1;
  http_server_set_tls(front.srv, ctx);
  return 0;
}

/* The media loop's events go to whichever core owns the call. */
static void on_media_event(const media_event *ev, void *ud) {
  (void)ud;
  if (front.core)
    conf_on_media_event(ev, front.core);
  if (rtm)
    rtm_on_media_event(ev, rtm);
  if (front.ps)
    ps_on_media_event(ev, front.ps);
  if (ps_rec)
    ps_recording_on_media_event(ev, ps_rec);
}

/* The outbox's crash recovery, done by the recorder's own reader. */
static int finalise_recording(const char *path, void *out) {
  recorder_result res;
  int rc = recording_recover(path, &res);
  finalised_recording *f = out;
  *f = (finalised_recording){.ok = res.ok && rc == 0,
                             .size_bytes = res.size_bytes,
                             .duration_ms = res.duration_ms,
                             .first_frame_unix_ms = res.first_frame_unix_ms,
                             .stopped_unix_ms = res.stopped_unix_ms};
  snprintf(f->error, sizeof f->error, "%s", res.error);
  return rc;
}

static int start_rtm(uv_loop_t *loop, char *err, size_t errlen) {
  if (cfg.recordings_dir[0])
    snprintf(recordings_dir, sizeof recordings_dir, "%s", cfg.recordings_dir);
  else
    snprintf(recordings_dir, sizeof recordings_dir, "%s/recordings", cfg.data_dir);
  if (mkdir(recordings_dir, 0750) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %.400s: %s", recordings_dir, strerror(errno));
    return -1;
  }
  deliveries =
      outbox_start(loop, db, &cfg, http_server_port(front.srv), finalise_recording);
  if (!deliveries) {
    snprintf(err, errlen, "cannot start the outbox");
    return -1;
  }
  rtm_config rc = {.ping_timeout_s = cfg.rtm_ping_timeout_s,
                   .no_packet_timeout_s = cfg.rtm_no_packet_timeout_s,
                   .setup_timeout_s = cfg.rtm_setup_timeout_s,
                   .max_duration_s = cfg.rtm_max_duration_s,
                   .max_reservations_client = cfg.rtm_max_reservations_client,
                   .max_reservations_account = cfg.rtm_max_reservations_account,
                   .recordings_dir = recordings_dir};
  rtm = front.rtm = rtm_core_new(loop, db, media, deliveries, &rc);
  ps_config pc = {.resume_s = cfg.rtc_resume_timeout_s,
                  .max_participants = cfg.rtc_max_session_participants,
                  .max_per_account = cfg.rtc_max_account_participants,
                  .max_feeds = 8,
                  .data_per_s = 50};
  front.ps = ps_core_new(loop, &pc);
  ps_core_set_media(front.ps, media);
  front.whip = whip_new();
  ps_rec = front.ps_rec =
      ps_recorder_new(front.ps, db, media, deliveries, recordings_dir, 32);
  front.ob = deliveries;
  return 0;
}

/* Where media listens: --media-bind, or else the --http address. A wildcard --http
 * ("0.0.0.0" or "[::]") binds "::" when the host has IPv6, one dual-stack port per
 * loop, so IPv6 browsers reach media even when the operator only thought of IPv4. */
static void choose_media_bind(void) {
  bool explicit_bind = cfg.media_bind[0] != '\0';
  host_addr_unbracket(explicit_bind ? cfg.media_bind : cfg.http_host, media_bind);
  if (!explicit_bind && host_addr_is_wildcard(media_bind) && host_addr_ipv6_available())
    snprintf(media_bind, sizeof media_bind, "::");
}

/* What the candidates announce: --media-ip's list (NAT), or a specific bind address
 * itself, or for a wildcard every interface address but loopback and link-local (a
 * remote browser reaches none of those); 127.0.0.1 only when the host has no other. */
static int choose_announced(host_addr_list *announce, char *err, size_t errlen) {
  char why[200];
  if (cfg.media_ip[0]) {
    if (host_addr_parse_list(cfg.media_ip, announce, why, sizeof why) == 0)
      return 0;
    snprintf(err, errlen, "--media-ip: %s", why);
    return -1;
  }
  announce->n = 0;
  if (!host_addr_is_wildcard(media_bind)) {
    snprintf(announce->addr[0], HOST_ADDR_LEN, "%s", media_bind);
    announce->n = 1;
    return 0;
  }
  host_addr_of_host(host_addr_is_ipv6(media_bind), announce);
  if (announce->n == 0) {
    log_warn("parleyd", "no address but loopback to announce for media; browsers on "
                        "other machines will not reach it (see --media-ip)");
    snprintf(announce->addr[0], HOST_ADDR_LEN, "127.0.0.1");
    announce->n = 1;
  }
  return 0;
}

static int start_media(uv_loop_t *loop, char *err, size_t errlen) {
  host_addr_list announce;
  choose_media_bind();
  if (choose_announced(&announce, err, errlen) != 0)
    return -1;
  media_config mc = {.bind_address = media_bind,
                     .port = cfg.media_port,
                     .announce = &announce,
                     .srtp_profiles = cfg.srtp_profiles,
                     .consent_timeout_s = cfg.consent_timeout_s,
                     .loops = cfg.media_loops,
                     .ice_tcp = cfg.ice_tcp != 0};
  media = media_engine_start(loop, &mc, on_media_event, NULL, err, errlen);
  if (!media)
    return -1;
  conf_set_media(front.core, media);
  front.media = media;
  return 0;
}

/* --metrics-listen: /metrics (and /healthz) on an address of their own, e.g. one
 * only the monitoring network reaches; the client API's listener stops serving it. */
static int start_metrics_listener(uv_loop_t *loop, char *err, size_t errlen) {
  char host[64];
  int port;
  if (!cfg.metrics_listen[0])
    return 0;
  if (config_split_hostport(cfg.metrics_listen, host, sizeof host, &port) != 0) {
    snprintf(err, errlen, "--metrics-listen wants ADDR:PORT");
    return -1;
  }
  front.metrics_srv = http_server_start(loop, host, port, 1u << 16, NULL,
                                        admin_listener_handle, &front, err, errlen);
  if (!front.metrics_srv)
    return -1;
  log_always("parleyd", "metrics on http://%s:%d/metrics", host,
             http_server_port(front.metrics_srv));
  return 0;
}

/* --- cluster mode: the conference's side of the cluster's questions --- */
static bool cluster_room_active(const char *room_key, void *ud) {
  (void)ud;
  return front.core && conf_room_active(front.core, room_key);
}

static unsigned cluster_participants(void *ud) {
  (void)ud;
  return front.core ? conf_participant_count(front.core) : 0;
}

/* Another node holds the room now: its participants here rejoin through it. The reason
 * is Pexip's own for a lost conferencing node, which its clients (and ours) answer by
 * joining again rather than by ending the call. */
static void cluster_lease_lost(const char *room_key, void *ud) {
  (void)ud;
  if (front.core)
    conf_end_room(front.core, room_key, "Media node disconnected");
}

static int start_cluster(uv_loop_t *loop, char *err, size_t errlen) {
  if (!cfg.cluster_url[0])
    return 0;
  if (!cfg.node_url[0]) /* the real port, also when --http asked for port 0 */
    snprintf(cfg.node_url, sizeof cfg.node_url, "%s://%s:%d",
             http_server_is_tls(front.srv) ? "https" : "http", cfg.http_host,
             http_server_port(front.srv));
  clu = cluster_new(loop, &cfg, db, err, errlen);
  if (!clu)
    return -1;
  const host_addr_list *ann = media_engine_announce(media);
  char media_addr[HOST_ADDR_LEN + 16];
  bool v6 = ann->n && host_addr_is_ipv6(ann->addr[0]);
  snprintf(media_addr, sizeof media_addr, "%s%s%s:%d", v6 ? "[" : "",
           ann->n ? ann->addr[0] : "", v6 ? "]" : "", media_engine_port(media));
  cluster_set_media_addr(clu, media_addr);
  cluster_set_rooms(clu, cluster_room_active, cluster_participants, cluster_lease_lost,
                    NULL);
  size_t key_len; /* tokens any node can check (src/api/relay.c) */
  const uint8_t *key = cluster_secret(clu, &key_len);
  conf_set_token_key(front.core, key, key_len);
  front.cluster = clu;
  front.rtmc = rtmc_new(loop, clu, rtm, cfg.node_url); /* where RTM sessions live */
  return 0;
}

int main(int argc, char **argv) {
  char err[1024];
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
  db_sync = store_sync_start(db, loop, cfg.store_sync_ms);
  front.cfg = &cfg;
  front.st = db;
  front.sync = db_sync;
  front.core = conf_create(loop, &cfg, db);
  front.policy = policy_new(loop, &cfg); /* NULL without --policy-url */
  if (start_media(loop, err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  sse_init(loop, (unsigned)cfg.keepalive_s, (size_t)cfg.sse_total_bytes);
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
  http_server_limit_per_address(front.srv, (size_t)cfg.max_conns_per_address);
  if (start_tls(err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  if (http_server_trust_proxies(front.srv, cfg.trust_proxy, err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: --trust-proxy: %s\n", err);
    return 2;
  }
  if (start_metrics_listener(loop, err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  if (start_rtm(loop, err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  if (start_cluster(loop, err, sizeof err) != 0) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 2;
  }
  if (clu &&
      !(config_sync = front.csync = csync_new(loop, cluster_redis(clu), cfg.data_dir,
                                              cfg.management != 0, err, sizeof err))) {
    fprintf(stderr, "parleyd: %s\n", err);
    return 1;
  }
  uv_signal_init(loop, &sigint_watch);
  uv_signal_init(loop, &sigterm_watch);
  uv_signal_start(&sigint_watch, on_signal, SIGINT);
  uv_signal_start(&sigterm_watch, on_signal, SIGTERM);
  uv_signal_init(loop, &sighup_watch);
  uv_signal_start(&sighup_watch, on_sighup, SIGHUP);
  /* The one line shown at every log level: callers of --http ADDR:0 and
   * --media-port 0 learn the ports from it. */
  /* It names the announced addresses too: what remote browsers must reach. */
  bool v6 = host_addr_is_ipv6(media_bind);
  char announced[HOST_ADDR_MAX * (HOST_ADDR_LEN + 2)];
  host_addr_join(media_engine_announce(media), announced, sizeof announced);
  log_always("parleyd",
             "listening on %s://%s:%d media udp %s%s%s:%d (announced as %s) data-dir=%s "
             "media-loops=%d",
             http_server_is_tls(front.srv) ? "https" : "http", cfg.http_host,
             http_server_port(front.srv), v6 ? "[" : "", media_bind, v6 ? "]" : "",
             media_engine_port(media), announced, cfg.data_dir,
             media_engine_loops(media));
  uv_run(loop, UV_RUN_DEFAULT);
  /* A clean stop: the leases are released and the node key deleted now, so the other
   * nodes place this node's rooms elsewhere at once. */
  front.cluster = NULL;
  rtmc_free(front.rtmc); /* before its Redis goes */
  front.rtmc = NULL;
  relay_shutdown();
  policy_free(front.policy);
  front.policy = NULL;
  front.csync = NULL;
  csync_stop(config_sync); /* no new commands: the cluster's Redis goes next */
  cluster_free(clu);
  csync_free(config_sync); /* after its Redis: no callback of it can come later */
  clu = NULL;
  front.ob = NULL;
  front.ps_rec = NULL;
  ps_recorder_free(ps_rec);
  ps_rec = NULL;
  outbox_free(deliveries);
  rtm_core_free(rtm);
  rtm = NULL;
  front.sync = NULL;
  store_sync_stop(db_sync);    /* waits for a checkpoint under way */
  uv_run(loop, UV_RUN_NOWAIT); /* their close callbacks */
  store_close(db);             /* the last connection's close checkpoints what is left */
  db = NULL;
  return 0;
}
