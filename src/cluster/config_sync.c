/* config_sync — publishing the management node's configuration and applying it on the
 * other nodes. Redis commands are asynchronous on the loop (credis); the store work
 * (serialising, applying: tens of ms for a thousand rooms) runs on libuv's threadpool
 * through a connection of our own, which the loop does not touch while it runs. */
#include "cluster/config_sync.h"

#include "cluster/config_body.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/db.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct csync {
  uv_loop_t *loop;
  credis *r;
  store *st; /* our own connection */
  bool management;
  uv_timer_t timer;
  int64_t data_version; /* management: the store's, when last looked at */
  int64_t version;      /* published (management) or applied (others) */
  char digest[CBODY_DIGEST_HEX + 1];
  /* One exchange with Redis at a time; a request meanwhile is remembered. */
  bool busy, again, again_force;
  bool owed;       /* management: a publish failed; retried on the next tick */
  int64_t refused; /* others: a version whose body was refused (logged once) */
  char *body;      /* management: the body being published */
  size_t body_len;
  char body_digest[CBODY_DIGEST_HEX + 1];
  int64_t publishing;    /* its version */
  uint64_t serialise_ns; /* how long reading the store took */
  /* The store work on the threadpool: while working, only the worker uses st. */
  uv_work_t work;
  bool working, closing, force;
  struct {
    char *body; /* management: out (serialised); others: in (from Redis) */
    size_t len;
    int64_t version;
    char digest[CBODY_DIGEST_HEX + 1];
    char err[300];
    int rc;         /* 0 done; -1 failed */
    bool same;      /* others: the body is the one applied already */
    bool malformed; /* others: refused by the parser or the store (not a lock) */
    cbody_counts counts;
    uint64_t ns;
  } w;
  uint64_t applied_total, published_total, refused_total;
};

static int64_t wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A reply's integer, from an integer or a decimal string; -1 when it is neither. */
static int64_t reply_int(const redisReply *rep) {
  if (!rep)
    return -1;
  if (rep->type == REDIS_REPLY_INTEGER)
    return rep->integer;
  if (rep->type != REDIS_REPLY_STRING || rep->len == 0 || rep->len > 19)
    return -1;
  int64_t v = 0;
  for (size_t i = 0; i < rep->len; i++) {
    if (rep->str[i] < '0' || rep->str[i] > '9')
      return -1;
    v = v * 10 + (rep->str[i] - '0');
  }
  return v;
}

static bool reply_failed(const redisReply *rep, const char *what) {
  if (!rep) {
    log_warn("cluster", "config: %s: Redis unavailable", what);
    return true;
  }
  if (rep->type == REDIS_REPLY_ERROR) {
    log_error("cluster", "config: %s: %.*s", what, (int)rep->len, rep->str);
    return true;
  }
  return false;
}

/* ---- management node: publish -------------------------------------------------------
 */

static void publish(csync *s, bool force);

static void publish_done(csync *s, bool ok) {
  free(s->body);
  s->body = NULL;
  s->busy = false;
  s->owed = !ok;
  if (ok && s->again) {
    s->again = false;
    publish(s, s->again_force);
  }
}

static void on_published(redisReply *rep, void *ud) {
  csync *s = ud;
  /* The hash holds the version already: a lost PUBLISH is made up by the 5 s polls. */
  if (reply_failed(rep, "PUBLISH"))
    log_warn("cluster", "config version %" PRId64 " stored but not announced",
             s->publishing);
  publish_done(s, true);
}

static void on_stored(redisReply *rep, void *ud) {
  csync *s = ud;
  if (reply_failed(rep, "HSET")) {
    publish_done(s, false);
    return;
  }
  char err[300];
  s->version = s->publishing;
  snprintf(s->digest, sizeof s->digest, "%s", s->body_digest);
  s->published_total++;
  if (cbody_state_set(s->st, "published", s->version, s->digest, err, sizeof err) != 0)
    log_error("cluster", "config: cannot record the published version: %s", err);
  log_info("cluster",
           "config version %" PRId64 " published (%zu bytes, serialised in %.1f ms)",
           s->version, s->body_len, (double)s->serialise_ns / 1e6);
  char v[24];
  snprintf(v, sizeof v, "%" PRId64, s->version);
  const char *argv[] = {"PUBLISH", CSYNC_KEY, v};
  size_t lens[] = {7, strlen(CSYNC_KEY), strlen(v)};
  credis_command(s->r, on_published, s, 3, argv, lens); /* cb runs, even if refused */
}

/* The version in Redis now: ours goes above it, above our own last one and is at least
 * the wall clock in ms, so it keeps increasing across restarts of either. */
static void on_previous(redisReply *rep, void *ud) {
  csync *s = ud;
  if (reply_failed(rep, "HGET version")) {
    publish_done(s, false);
    return;
  }
  int64_t prev = reply_int(rep); /* -1: nil, nothing published yet */
  int64_t v = wall_ms();
  if (prev + 1 > v)
    v = prev + 1;
  if (s->version + 1 > v)
    v = s->version + 1;
  s->publishing = v;
  char vs[24];
  snprintf(vs, sizeof vs, "%" PRId64, v);
  const char *argv[] = {"HSET", CSYNC_KEY, "version", vs, "body", s->body};
  size_t lens[] = {4, strlen(CSYNC_KEY), 7, strlen(vs), 4, s->body_len};
  credis_command(s->r, on_stored, s, 6, argv, lens);
}

/* On the threadpool: the store as a body, and its digest. */
static void serialise_work(uv_work_t *w) {
  csync *s = w->data;
  uint64_t t0 = uv_hrtime();
  s->w.body = cbody_serialise(s->st, &s->w.len, s->w.err, sizeof s->w.err);
  s->w.rc = s->w.body ? 0 : -1;
  if (s->w.body)
    cbody_digest(s->w.body, s->w.len, s->w.digest);
  s->w.ns = uv_hrtime() - t0;
}

static void after_serialise(uv_work_t *w, int status) {
  csync *s = w->data;
  s->working = false;
  char *body = s->w.body;
  s->w.body = NULL;
  if (s->closing || status != 0) {
    free(body);
    s->busy = false;
    return;
  }
  if (!body) {
    log_error("cluster", "config: cannot serialise the store: %s", s->w.err);
    s->busy = false;
    s->owed = true;
    return;
  }
  if (!s->force && strcmp(s->w.digest, s->digest) == 0) {
    free(body); /* a commit that changed nothing we publish */
    s->owed = false;
    publish_done(s, true);
    return;
  }
  if (!credis_up(s->r)) {
    free(body);
    s->busy = false;
    s->owed = true; /* on_up publishes */
    return;
  }
  s->body = body;
  s->body_len = s->w.len;
  s->serialise_ns = s->w.ns;
  snprintf(s->body_digest, sizeof s->body_digest, "%s", s->w.digest);
  const char *argv[] = {"HGET", CSYNC_KEY, "version"};
  size_t lens[] = {4, strlen(CSYNC_KEY), 7};
  credis_command(s->r, on_previous, s, 3, argv, lens);
}

/* force: publish even when the body is what we published last (Redis may have restarted
 * empty). */
static void publish(csync *s, bool force) {
  if (s->closing)
    return;
  if (s->busy) {
    s->again = true;
    s->again_force |= force;
    return;
  }
  s->again_force = false;
  s->busy = true;
  s->working = true;
  s->force = force;
  s->work.data = s;
  uv_queue_work(s->loop, &s->work, serialise_work, after_serialise);
}

/* ---- other nodes: apply -------------------------------------------------------------
 */

static void fetch(csync *s);

static void fetch_done(csync *s) {
  s->busy = false;
  if (s->again) {
    s->again = false;
    fetch(s);
  }
}

/* On the threadpool: the body checked and written, or only its version recorded when it
 * is the body applied already (the management node republished it after a reconnect). */
static void apply_work(uv_work_t *w) {
  csync *s = w->data;
  uint64_t t0 = uv_hrtime();
  cbody_digest(s->w.body, s->w.len, s->w.digest);
  s->w.same = strcmp(s->w.digest, s->digest) == 0;
  s->w.malformed = false;
  memset(&s->w.counts, 0, sizeof s->w.counts);
  if (s->w.same) {
    s->w.rc = cbody_state_set(s->st, "applied", s->w.version, s->w.digest, s->w.err,
                              sizeof s->w.err);
    return;
  }
  cbody *b = cbody_parse(s->w.body, s->w.len, s->w.err, sizeof s->w.err);
  if (!b) {
    s->w.rc = -1;
    s->w.malformed = true;
    return;
  }
  cbody_count(b, &s->w.counts);
  s->w.rc = cbody_apply(s->st, b, s->w.version, s->w.digest, s->w.err, sizeof s->w.err);
  /* A lock held by another writer passes; a body the store refuses does not. */
  if (s->w.rc != 0 && sqlite3_errcode(s->st->db) != SQLITE_BUSY)
    s->w.malformed = true;
  cbody_free(b);
  s->w.ns = uv_hrtime() - t0;
}

static void after_apply(uv_work_t *w, int status) {
  csync *s = w->data;
  s->working = false;
  free(s->w.body);
  s->w.body = NULL;
  if (s->closing || status != 0) {
    s->busy = false;
    return;
  }
  int64_t v = s->w.version;
  if (s->w.rc != 0) {
    s->refused_total++;
    if (s->w.malformed)
      s->refused = v;
    log_error("cluster",
              "config version %" PRId64 " %s (%zu bytes): %s; keeping version %" PRId64,
              v, s->w.malformed ? "refused" : "not applied", s->w.len, s->w.err,
              s->version);
  } else if (s->w.same) {
    s->version = v;
  } else {
    const cbody_counts *c = &s->w.counts;
    s->version = v;
    snprintf(s->digest, sizeof s->digest, "%s", s->w.digest);
    s->applied_total++;
    log_info("cluster",
             "config version %" PRId64 " applied: %zu rooms, %zu aliases, %zu accounts, "
             "%zu API keys (%zu bytes, %.1f ms off the loop)",
             v, c->rooms, c->aliases, c->accounts, c->api_keys, s->w.len,
             (double)s->w.ns / 1e6);
  }
  fetch_done(s);
}

static void on_body(redisReply *rep, void *ud) {
  csync *s = ud;
  if (!reply_failed(rep, "HMGET version body") && rep->type == REDIS_REPLY_ARRAY &&
      rep->elements == 2) {
    int64_t v = reply_int(rep->element[0]);
    const redisReply *body = rep->element[1];
    if (v > s->version && v != s->refused) {
      if (body->type == REDIS_REPLY_STRING && !s->closing) {
        s->w.body = xmalloc(body->len + 1);
        memcpy(s->w.body, body->str, body->len);
        s->w.body[body->len] = '\0';
        s->w.len = body->len;
        s->w.version = v;
        s->working = true;
        s->work.data = s;
        uv_queue_work(s->loop, &s->work, apply_work, after_apply); /* stays busy */
        return;
      }
      s->refused = v;
      s->refused_total++;
      log_error("cluster", "config version %" PRId64 " has no body; keeping %" PRId64, v,
                s->version);
    }
  }
  fetch_done(s);
}

static void fetch_body(csync *s) {
  const char *argv[] = {"HMGET", CSYNC_KEY, "version", "body"};
  size_t lens[] = {5, strlen(CSYNC_KEY), 7, 4};
  credis_command(s->r, on_body, s, 4, argv, lens);
}

static void on_version(redisReply *rep, void *ud) {
  csync *s = ud;
  if (reply_failed(rep, "HGET version")) {
    fetch_done(s);
    return;
  }
  int64_t v = reply_int(rep);
  if (v > s->version && v != s->refused)
    fetch_body(s); /* stays busy */
  else
    fetch_done(s);
}

/* Reads the published version and, when it is newer than ours, the body. */
static void fetch(csync *s) {
  if (s->closing)
    return;
  if (s->busy) {
    s->again = true;
    return;
  }
  if (!credis_up(s->r))
    return;
  s->busy = true;
  const char *argv[] = {"HGET", CSYNC_KEY, "version"};
  size_t lens[] = {4, strlen(CSYNC_KEY), 7};
  credis_command(s->r, on_version, s, 3, argv, lens);
}

static void on_message(const char *data, size_t len, void *ud) {
  csync *s = ud;
  redisReply r = {.type = REDIS_REPLY_STRING, .str = (char *)data, .len = len};
  int64_t v = reply_int(&r);
  if (s->closing)
    return;
  if (v >= 0 && (v <= s->version || v == s->refused))
    return; /* an announcement of what we have */
  if (s->busy) {
    s->again = true;
    return;
  }
  s->busy = true;
  fetch_body(s);
}

/* ---- both ---------------------------------------------------------------------------
 */

static void on_up(void *ud) {
  csync *s = ud;
  if (s->management)
    publish(s, true);
  else
    fetch(s);
}

static void on_tick(uv_timer_t *t) {
  csync *s = t->data;
  if (!s->management) {
    fetch(s);
    return;
  }
  if (s->busy)
    return; /* the worker may be using the connection; the next tick looks */
  int64_t v = store_data_version(s->st);
  if (v != s->data_version) {
    s->data_version = v;
    publish(s, false);
  } else if (s->owed && credis_up(s->r))
    publish(s, true);
}

csync *csync_new(uv_loop_t *loop, credis *r, const char *data_dir, bool management,
                 char *err, size_t n) {
  store *st = store_open(data_dir, err, n);
  if (!st)
    return NULL;
  /* Commits here do not wait for the disk on the loop: the daemon's checkpoints (store
   * sync) make them durable. A writer holding the store costs at most 100 ms. */
  sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  sqlite3_busy_timeout(st->db, 100);
  csync *s = xcalloc(1, sizeof *s);
  s->loop = loop;
  s->r = r;
  s->st = st;
  s->management = management;
  s->refused = -1;
  if (cbody_state_get(st, management ? "published" : "applied", &s->version, s->digest,
                      sizeof s->digest) != 0) {
    snprintf(err, n, "cannot read the cluster config state: %s", store_error(st));
    store_close(st);
    free(s);
    return NULL;
  }
  if (management)
    s->digest[0] = '\0'; /* publish once on start whatever was published before */
  s->data_version = store_data_version(st);
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  uint64_t every = management ? CSYNC_POLL_STORE_MS : CSYNC_POLL_REDIS_MS;
  uv_timer_start(&s->timer, on_tick, every, every);
  credis_on_up(r, on_up, s);
  if (!management)
    credis_subscribe(r, CSYNC_KEY, on_message, s);
  if (management)
    s->owed = true; /* the first tick (or on_up) publishes */
  if (credis_up(r))
    on_up(s);
  log_info("cluster", "config sync: %s, %s version %" PRId64,
           management ? "management node, publishing"
                      : "applying from the management node",
           management ? "last published" : "applied", s->version);
  return s;
}

static void on_timer_closed(uv_handle_t *h) { free(h->data); }

void csync_stop(csync *s) {
  if (s)
    s->closing = true;
}

void csync_free(csync *s) {
  if (!s)
    return;
  s->closing = true;
  while (s->working) /* the worker owns the connection until it is back */
    uv_run(s->loop, UV_RUN_ONCE);
  free(s->body);
  s->body = NULL;
  store_close(s->st);
  s->st = NULL;
  uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

int64_t csync_version(const csync *s) { return s ? s->version : 0; }

void csync_metrics(const csync *s, buf *b) {
  if (!s)
    return;
  buf_appendf(
      b,
      "# HELP parley_cluster_config_version The configuration version this node %s.\n"
      "# TYPE parley_cluster_config_version gauge\n"
      "parley_cluster_config_version %" PRId64 "\n",
      s->management ? "published last" : "applied last", s->version);
  buf_appendf(
      b,
      "# HELP parley_cluster_config_applied_total Configuration versions applied to "
      "this node's store.\n"
      "# TYPE parley_cluster_config_applied_total counter\n"
      "parley_cluster_config_applied_total %" PRIu64 "\n",
      s->applied_total);
  buf_appendf(b,
              "# HELP parley_cluster_config_published_total Configuration versions this "
              "management node published.\n"
              "# TYPE parley_cluster_config_published_total counter\n"
              "parley_cluster_config_published_total %" PRIu64 "\n",
              s->published_total);
  buf_appendf(b,
              "# HELP parley_cluster_config_refused_total Configuration versions refused "
              "(malformed, or the store would not take them).\n"
              "# TYPE parley_cluster_config_refused_total counter\n"
              "parley_cluster_config_refused_total %" PRIu64 "\n",
              s->refused_total);
}
