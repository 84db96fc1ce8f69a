/* outbox — a scheduler over the SQLite outbox table: due jobs are sent through the HTTP
 * client, successes delete them, failures back off (equal jitter, Retry-After) or give
 * up.
 */
#include "delivery/outbox.h"

#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/destination.h"
#include "delivery/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct attempt {
  outbox *ob;
  outbox_job *job;
  recording_row *rec; /* uploads */
  http_call *call;
  char *headers[6];
  struct attempt *prev, *next;
} attempt;

struct outbox {
  uv_loop_t *loop;
  store *st;
  http_client *http;
  http_client *own_http; /* when the outbox made its own client */
  outbox_config cfg;
  char **upload_allow, **webhook_allow; /* copies */
  char *self_host_port;
  uv_timer_t wake;
  attempt *flying;
  int n_uploads, n_webhooks;
  int recovering; /* finalise jobs on the threadpool */
  bool closing, timer_closed;
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_upload(const outbox_job *j) { return strcmp(j->kind, "upload") == 0; }

static void pump(uv_timer_t *t);

/* Runs the scheduler on the next loop turn (never re-entered from a callback). */
static void kick(outbox *ob) {
  if (!ob->closing)
    uv_timer_start(&ob->wake, pump, 0, 0);
}

/* ---- configuration ---- */

void outbox_config_defaults(outbox_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->upload_retry_s = 86400;
  cfg->webhook_retry_s = 86400;
  cfg->base_backoff_ms = 1000;
  cfg->max_backoff_ms = 600000;
}

static char **copy_list(const char *const *list) {
  if (!list)
    return NULL;
  size_t count = 0, bytes = 0;
  for (const char *const *p = list; *p; p++, count++)
    bytes += strlen(*p) + 1;
  char **copy = xcalloc(1, (count + 1) * sizeof *copy + bytes);
  char *text = (char *)(copy + count + 1);
  for (size_t i = 0; i < count; i++) {
    copy[i] = strcpy(text, list[i]);
    text += strlen(list[i]) + 1;
  }
  return copy;
}

static void apply_defaults(outbox_config *c) {
  outbox_config d;
  outbox_config_defaults(&d);
  if (c->upload_retry_s <= 0)
    c->upload_retry_s = d.upload_retry_s;
  if (c->webhook_retry_s <= 0)
    c->webhook_retry_s = d.webhook_retry_s;
  if (c->base_backoff_ms <= 0)
    c->base_backoff_ms = d.base_backoff_ms;
  if (c->max_backoff_ms < c->base_backoff_ms)
    c->max_backoff_ms =
        c->base_backoff_ms > d.max_backoff_ms ? c->base_backoff_ms : d.max_backoff_ms;
  if (c->max_uploads <= 0)
    c->max_uploads = 2;
  if (c->max_webhooks <= 0)
    c->max_webhooks = 16;
  if (c->webhook_timeout_ms <= 0)
    c->webhook_timeout_ms = 15000;
  if (c->upload_stall_s <= 0)
    c->upload_stall_s = 60;
}

static destination_rules rules_for(const outbox *ob, bool webhook) {
  return (destination_rules){
      .allow = (const char *const *)(webhook ? ob->webhook_allow : ob->upload_allow),
      .allow_private = ob->cfg.allow_private_destinations,
      .self_host_port = ob->self_host_port};
}

int outbox_check_url(const outbox *ob, bool webhook, const char *url, char *reason,
                     size_t n) {
  destination_rules rules = rules_for(ob, webhook);
  return destination_check(url, &rules, reason, n);
}

/* The HTTP client's hook: every address curl is about to connect to, after it resolved
 * the URL's name, so that a name resolving to a refused address is refused too. */
static bool address_ok(const struct sockaddr *sa, void *ud, char *why, size_t n) {
  const attempt *a = ud;
  destination_rules rules = rules_for(a->ob, !is_upload(a->job));
  return destination_check_addr(sa, &rules, why, n) == 0;
}

/* ---- queueing ---- */

static int queue_webhook(outbox *ob, const char *url, const char *secret,
                         const char *body) {
  char id[IDS_UUID_LEN + 1];
  ids_uuid(id);
  int64_t now = now_ms();
  outbox_job j = {.kind = "webhook",
                  .url = url,
                  .body = body,
                  .secret = secret ? secret : "",
                  .webhook_id = id,
                  .next_attempt_at_ms = now,
                  .deadline_ms = now + (int64_t)ob->cfg.webhook_retry_s * 1000};
  if (store_job_add(ob->st, &j) < 0) {
    log_error("outbox", "cannot queue webhook to %s: %s", url, store_error(ob->st));
    return -1;
  }
  return 0;
}

void outbox_webhook(outbox *ob, const char *url, const char *secret,
                    const char *body_json) {
  if (!url || !*url || !body_json)
    return;
  queue_webhook(ob, url, secret, body_json);
  kick(ob);
}

static bool has_text(const char *s) { return s && *s; }

/* Inside a transaction: the recording's final webhook, when it has a webhook URL. */
static int queue_recording_webhook(outbox *ob, const recording_row *r, bool uploaded,
                                   int status_code, const char *msg) {
  if (!has_text(r->webhook_url))
    return 0;
  char *body = uploaded ? webhook_upload_ready_body(r)
                        : webhook_upload_failed_body(r, status_code, msg);
  int rc = queue_webhook(ob, r->webhook_url, r->webhook_secret, body);
  free(body);
  return rc;
}

/* Ends a transaction begun with store_tx_begin: commits when every write in it (ok)
 * succeeded, else (or when COMMIT fails) rolls it back and logs why. */
static int end_tx(outbox *ob, bool ok, const char *what, const char *rec_id) {
  if (ok && store_tx_commit(ob->st) == 0)
    return 0;
  log_error("outbox", "cannot record %s rec_id=%s: %s", what, rec_id ? rec_id : "?",
            store_error(ob->st));
  store_tx_rollback(ob->st);
  return -1;
}

static bool tx_begin(outbox *ob, const char *what, const char *rec_id) {
  if (store_tx_begin(ob->st) == 0)
    return true;
  log_error("outbox", "cannot record %s rec_id=%s: %s", what, rec_id ? rec_id : "?",
            store_error(ob->st));
  return false;
}

void outbox_recording_done(outbox *ob, const recording_row *finished) {
  int64_t now = now_ms();
  if (!tx_begin(ob, "finished recording", finished->rec_id))
    return;
  int rc = store_recording_finish(ob->st, finished);
  if (rc == 0 && has_text(finished->upload_url)) {
    outbox_job j = {.kind = "upload",
                    .rec_id = finished->rec_id,
                    .url = finished->upload_url,
                    .next_attempt_at_ms = now,
                    .deadline_ms = now + (int64_t)ob->cfg.upload_retry_s * 1000};
    rc = store_job_add(ob->st, &j) < 0 ? -1 : 0;
  }
  if (end_tx(ob, rc == 0, "finished recording", finished->rec_id) != 0)
    return;
  if (!has_text(finished->upload_url))
    log_warn("outbox", "recording rec_id=%s has no upload_url; kept at %s",
             finished->rec_id, finished->path);
  kick(ob);
}

size_t outbox_pending(const outbox *ob) {
  int64_t n = store_jobs_pending_count(ob->st);
  return n < 0 ? 0 : (size_t)n;
}

/* ---- outcomes ---- */

static void unlink_done(uv_fs_t *req) {
  if (req->result < 0)
    log_warn("outbox", "cannot delete uploaded file %s: %s", req->path,
             uv_strerror((int)req->result));
  uv_fs_req_cleanup(req);
  free(req);
}

static void upload_succeeded(outbox *ob, attempt *a, int status) {
  recording_row *r = a->rec;
  if (!tx_begin(ob, "upload of", r->rec_id))
    return;
  bool ok = store_recording_set_state(ob->st, r->rec_id, "uploaded") == 0 &&
            store_job_delete(ob->st, a->job->id) == 0 &&
            queue_recording_webhook(ob, r, true, status, NULL) == 0;
  if (end_tx(ob, ok, "upload of", r->rec_id) != 0)
    return;
  log_info("outbox", "uploaded rec_id=%s status=%d bytes=%llu", r->rec_id, status,
           (unsigned long long)r->size_bytes);
  /* Only after the commit: a crash in between re-uploads rather than loses the file. */
  uv_fs_t *req = xmalloc(sizeof *req);
  if (uv_fs_unlink(ob->loop, req, r->path, unlink_done) != 0)
    free(req);
}

static void upload_failed(outbox *ob, attempt *a, int status, const char *why) {
  recording_row *r = a->rec;
  char msg[300];
  snprintf(msg, sizeof msg, "upload failed: %s", why);
  if (tx_begin(ob, "failed upload of", a->job->rec_id)) {
    bool ok = store_job_fail(ob->st, a->job->id, a->job->attempts, status, why) == 0;
    if (ok && r)
      ok = store_recording_set_state(ob->st, r->rec_id, "failed") == 0 &&
           queue_recording_webhook(ob, r, false, status, msg) == 0;
    end_tx(ob, ok, "failed upload of", a->job->rec_id);
  }
  log_warn("outbox", "upload of rec_id=%s failed for good: %s (file kept)",
           a->job->rec_id ? a->job->rec_id : "?", why);
}

static void give_up(outbox *ob, attempt *a, int status, const char *why) {
  if (is_upload(a->job)) {
    upload_failed(ob, a, status, why);
    return;
  }
  if (store_job_fail(ob->st, a->job->id, a->job->attempts, status, why) != 0)
    log_error("outbox", "cannot record failed webhook %s: %s", a->job->webhook_id,
              store_error(ob->st));
  log_warn("outbox", "webhook %s to %s failed for good: %s", a->job->webhook_id,
           a->job->url, why);
}

static bool retryable(int status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

/* Equal jitter: a uniform wait in [cap/2, cap], cap = min(max, base * 2^(attempts-1)).
 * Half the cap is always waited (full jitter could retry a failing store at once);
 * the other half spreads the retries of many uploads that failed together. */
static int64_t backoff_ms(const outbox_config *c, int attempts) {
  int64_t cap = c->base_backoff_ms;
  for (int i = 1; i < attempts && cap < c->max_backoff_ms; i++)
    cap *= 2;
  if (cap > c->max_backoff_ms)
    cap = c->max_backoff_ms;
  uint64_t r;
  ids_random(&r, sizeof r);
  return cap / 2 + (int64_t)(r % (uint64_t)(cap / 2 + 1));
}

static void retry_later(outbox *ob, attempt *a, const http_result *res, const char *why) {
  int64_t now = now_ms(), wait = backoff_ms(&ob->cfg, a->job->attempts);
  bool told = res->retry_after_s >= 0 && (int64_t)res->retry_after_s * 1000 > wait;
  if (told)
    wait = (int64_t)res->retry_after_s * 1000;
  int64_t next = now + wait;
  if (now >= a->job->deadline_ms || (told && next > a->job->deadline_ms)) {
    char msg[400];
    snprintf(msg, sizeof msg, "%.300s, after %d attempts", why, a->job->attempts);
    give_up(ob, a, res->status, msg);
    return;
  }
  if (next > a->job->deadline_ms) /* one last attempt at the deadline */
    next = a->job->deadline_ms;
  if (store_job_retry(ob->st, a->job->id, a->job->attempts, next, res->status, why) != 0)
    log_error("outbox", "cannot record the retry of job %lld: %s", (long long)a->job->id,
              store_error(ob->st));
  log_info("outbox", "%s %s attempt %d failed (%s); next in %lld ms", a->job->kind,
           is_upload(a->job) ? a->job->rec_id : a->job->webhook_id, a->job->attempts, why,
           (long long)(next - now));
}

/* ---- attempts ---- */

static void attempt_free(attempt *a) {
  outbox *ob = a->ob;
  if (a->prev)
    a->prev->next = a->next;
  else
    ob->flying = a->next;
  if (a->next)
    a->next->prev = a->prev;
  if (is_upload(a->job))
    ob->n_uploads--;
  else
    ob->n_webhooks--;
  for (size_t i = 0; i < sizeof a->headers / sizeof a->headers[0]; i++)
    free(a->headers[i]);
  outbox_job_free(a->job);
  recording_row_free(a->rec);
  free(a);
}

static void on_attempt_done(const http_result *res, void *ud) {
  attempt *a = ud;
  outbox *ob = a->ob;
  a->call = NULL;
  a->job->attempts++;
  char why[300];
  if (res->status == 0)
    snprintf(why, sizeof why, "%s", res->error);
  else
    snprintf(why, sizeof why, "HTTP %d", res->status);
  if (res->status >= 200 && res->status < 300) {
    if (is_upload(a->job))
      upload_succeeded(ob, a, res->status);
    else if (store_job_delete(ob->st, a->job->id) != 0)
      log_error("outbox", "cannot delete delivered webhook %s: %s", a->job->webhook_id,
                store_error(ob->st));
  } else if (retryable(res->status) && !res->refused) { /* refused: by our own rules */
    retry_later(ob, a, res, why);
  } else {
    give_up(ob, a, res->status, why);
  }
  attempt_free(a);
  kick(ob);
}

static char *header(const char *name, const char *value) {
  size_t n = strlen(name) + strlen(value) + 3;
  char *h = xmalloc(n);
  snprintf(h, n, "%s: %s", name, value);
  return h;
}

static void send_webhook(outbox *ob, attempt *a) {
  char ts[24], sig[WEBHOOK_SIGNATURE_LEN];
  int64_t now_s = now_ms() / 1000;
  snprintf(ts, sizeof ts, "%lld", (long long)now_s);
  a->headers[0] = header("Content-Type", "application/json");
  a->headers[1] = header("webhook-id", a->job->webhook_id);
  a->headers[2] = header("webhook-timestamp", ts);
  if (has_text(a->job->secret)) {
    webhook_sign(a->job->secret, a->job->webhook_id, now_s, a->job->body, sig);
    a->headers[3] = header("webhook-signature", sig);
  }
  http_request req = {.method = "POST",
                      .url = a->job->url,
                      .headers = (const char *const *)a->headers,
                      .body = a->job->body,
                      .body_len = strlen(a->job->body),
                      .timeout_ms = ob->cfg.webhook_timeout_ms,
                      .addr_ok = address_ok,
                      .addr_ud = a};
  a->call = http_client_send(ob->http, &req, on_attempt_done, a);
}

static const char *media_type(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && strcmp(dot, ".webm") == 0)
    return "video/webm";
  if (dot && strcmp(dot, ".mkv") == 0)
    return "video/x-matroska";
  return "application/octet-stream";
}

/* Returns false when the upload cannot even start (its record or file is gone). */
static bool send_upload(outbox *ob, attempt *a, char *why, size_t n) {
  a->rec = store_recording_get(ob->st, a->job->rec_id);
  struct stat sb;
  if (!a->rec) {
    snprintf(why, n, "no recording %s in the store", a->job->rec_id);
    return false;
  }
  if (stat(a->rec->path, &sb) != 0) { /* a missing file will not come back: no retries */
    snprintf(why, n, "recording file %s: %s", a->rec->path, strerror(errno));
    return false;
  }
  a->headers[0] = header("Content-Type", media_type(a->rec->path));
  http_request req = {.method = "PUT",
                      .url = a->job->url,
                      .headers = (const char *const *)a->headers,
                      .body_path = a->rec->path,
                      .stall_timeout_s = ob->cfg.upload_stall_s,
                      .addr_ok = address_ok,
                      .addr_ud = a};
  a->call = http_client_send(ob->http, &req, on_attempt_done, a);
  return true;
}

static void start_attempt(outbox *ob, const outbox_job *j) {
  attempt *a = xcalloc(1, sizeof *a);
  a->ob = ob;
  a->job = outbox_job_copy(j);
  a->next = ob->flying;
  if (ob->flying)
    ob->flying->prev = a;
  ob->flying = a;
  bool upload = is_upload(j);
  if (upload)
    ob->n_uploads++;
  else
    ob->n_webhooks++;
  char why[300];
  /* The rules are checked again at sending time: the allow-list may have changed since
   * the job was queued. */
  bool ok = outbox_check_url(ob, !upload, j->url, why, sizeof why) == 0;
  if (ok)
    ok = upload ? send_upload(ob, a, why, sizeof why) : (send_webhook(ob, a), true);
  if (!ok) {
    a->job->attempts++;
    give_up(ob, a, 0, why);
    attempt_free(a);
  }
}

static bool in_flight(const outbox *ob, int64_t id) {
  for (const attempt *a = ob->flying; a; a = a->next)
    if (a->job->id == id)
      return true;
  return false;
}

typedef struct {
  outbox *ob;
  int64_t now, wake_at; /* wake_at: the earliest future job, or 0 */
  outbox_job *due[64];
  int n_due, uploads_free, webhooks_free;
} scan;

static bool scan_job(const outbox_job *j, void *ud) {
  scan *s = ud;
  if (in_flight(s->ob, j->id))
    return true;
  if (j->next_attempt_at_ms > s->now) {
    s->wake_at = j->next_attempt_at_ms;
    return false; /* ordered by time: the rest are later still */
  }
  int *slots = is_upload(j) ? &s->uploads_free : &s->webhooks_free;
  if (*slots > 0) {
    (*slots)--;
    s->due[s->n_due++] = outbox_job_copy(j);
  }
  /* Stop when every slot is taken (completions kick the next pump) or the batch is full
   * (the pump after it comes at once). */
  return (s->uploads_free > 0 || s->webhooks_free > 0) &&
         s->n_due < (int)(sizeof s->due / sizeof s->due[0]);
}

/* Starts what is due and has a free slot; sleeps until the next job's time. Completions
 * kick it again, so a full pipeline needs no timer. */
static void pump(uv_timer_t *t) {
  outbox *ob = t->data;
  if (ob->closing)
    return;
  scan s = {.ob = ob,
            .now = now_ms(),
            .uploads_free = ob->cfg.max_uploads - ob->n_uploads,
            .webhooks_free = ob->cfg.max_webhooks - ob->n_webhooks};
  if (s.uploads_free > 0 || s.webhooks_free > 0)
    store_jobs_pending_each(ob->st, scan_job, &s);
  for (int i = 0; i < s.n_due; i++) {
    start_attempt(ob, s.due[i]);
    outbox_job_free(s.due[i]);
  }
  if (s.n_due == (int)(sizeof s.due / sizeof s.due[0])) {
    kick(ob);
    return;
  }
  if (s.wake_at && !ob->closing && !uv_is_active((uv_handle_t *)&ob->wake))
    uv_timer_start(&ob->wake, pump, (uint64_t)(s.wake_at - s.now), 0);
}

/* ---- life cycle ---- */

outbox *outbox_new(uv_loop_t *loop, store *st, http_client *http,
                   const outbox_config *cfg) {
  outbox *ob = xcalloc(1, sizeof *ob);
  ob->loop = loop;
  ob->st = st;
  ob->http = http;
  ob->cfg = *cfg;
  apply_defaults(&ob->cfg);
  ob->upload_allow = copy_list(cfg->upload_allow);
  ob->webhook_allow = copy_list(cfg->webhook_allow);
  ob->cfg.upload_allow = ob->cfg.webhook_allow = NULL;
  ob->self_host_port = cfg->self_host_port ? xstrdup(cfg->self_host_port) : NULL;
  ob->cfg.self_host_port = NULL;
  uv_timer_init(loop, &ob->wake);
  ob->wake.data = ob;
  uv_timer_start(&ob->wake, pump, 0, 0); /* resume what SQLite holds */
  return ob;
}

static void release(outbox *ob) {
  if (!ob->timer_closed || ob->recovering > 0)
    return;
  http_client_free(ob->own_http);
  free(ob->upload_allow);
  free(ob->webhook_allow);
  free(ob->self_host_port);
  free(ob);
}

static void on_wake_closed(uv_handle_t *h) {
  outbox *ob = h->data;
  ob->timer_closed = true;
  release(ob);
}

void outbox_free(outbox *ob) {
  if (!ob)
    return;
  ob->closing = true;
  while (ob->flying) {
    http_call_cancel(ob->flying->call);
    attempt_free(ob->flying);
  }
  uv_close((uv_handle_t *)&ob->wake, on_wake_closed);
}

/* ---- crash recovery ---- */

typedef struct {
  uv_work_t work;
  outbox *ob;
  recording_row *rec;
  int (*finalise)(const char *path, void *result_out);
  finalised_recording result;
  int64_t finished_at_ms;
} recovery;

static void recover_work(uv_work_t *w) {
  recovery *r = w->data;
  finalised_recording *res = &r->result;
  if (r->finalise) {
    if (r->finalise(r->rec->path, res) != 0 && res->error[0] == '\0')
      snprintf(res->error, sizeof res->error, "the recorder could not finalise the file");
  } else {
    struct stat sb;
    res->ok = stat(r->rec->path, &sb) == 0;
    if (res->ok)
      res->size_bytes = (uint64_t)sb.st_size;
    else
      snprintf(res->error, sizeof res->error, "%s", strerror(errno));
  }
  r->finished_at_ms = now_ms();
}

static void recover_done(uv_work_t *w, int status) {
  recovery *r = w->data;
  outbox *ob = r->ob;
  ob->recovering--;
  if (!ob->closing && status == 0) {
    recording_row *row = r->rec;
    const finalised_recording *res = &r->result;
    if (res->ok) {
      row->size_bytes = res->size_bytes;
      row->duration_ms = res->duration_ms;
      if (res->first_frame_unix_ms)
        row->first_frame_at_ms = res->first_frame_unix_ms;
      row->stopped_at_ms =
          res->stopped_unix_ms ? res->stopped_unix_ms : r->finished_at_ms;
      log_always("outbox", "recovered unfinished recording rec_id=%s bytes=%llu",
                 row->rec_id, (unsigned long long)row->size_bytes);
      outbox_recording_done(ob, row);
    } else {
      char msg[300];
      snprintf(msg, sizeof msg, "recording could not be finalised after a restart: %s",
               res->error);
      log_warn("outbox", "rec_id=%s: %s (file kept)", row->rec_id, msg);
      if (tx_begin(ob, "unrecoverable recording", row->rec_id)) {
        bool ok = store_recording_set_state(ob->st, row->rec_id, "failed") == 0 &&
                  queue_recording_webhook(ob, row, false, 0, msg) == 0;
        end_tx(ob, ok, "unrecoverable recording", row->rec_id);
      }
      kick(ob);
    }
  }
  recording_row_free(r->rec);
  free(r);
  release(ob); /* frees the outbox if outbox_free came first and this was the last */
}

static void recover_one(const recording_row *row, void *ud) {
  outbox *ob = ud;
  recovery *r = xcalloc(1, sizeof *r);
  r->ob = ob;
  r->rec = recording_row_copy(row);
  r->finalise = ob->cfg.finalise;
  r->work.data = r;
  ob->recovering++;
  if (uv_queue_work(ob->loop, &r->work, recover_work, recover_done) != 0) {
    ob->recovering--;
    recording_row_free(r->rec);
    free(r);
  }
}

void outbox_recover(outbox *ob) { store_recordings_unfinished(ob->st, recover_one, ob); }

/* ---- parleyd's one call ---- */

outbox *outbox_start(uv_loop_t *loop, store *st, const config *cfg, int http_port,
                     int (*finalise)(const char *path, void *result_out)) {
  http_client *http = http_client_new(loop);
  if (!http)
    return NULL;
  outbox_config oc;
  outbox_config_defaults(&oc);
  oc.upload_retry_s = cfg->upload_retry_s;
  oc.webhook_retry_s = cfg->webhook_retry_s;
  oc.allow_private_destinations = cfg->allow_private_destinations != 0;
  char **upload_allow = destination_list_parse(cfg->upload_allow);
  char **webhook_allow = destination_list_parse(cfg->webhook_allow);
  oc.upload_allow = (const char *const *)upload_allow;
  oc.webhook_allow = (const char *const *)webhook_allow;
  char self[128];
  snprintf(self, sizeof self, "%s:%d", cfg->http_host, http_port);
  oc.self_host_port = self;
  oc.finalise = finalise;
  outbox *ob = outbox_new(loop, st, http, &oc); /* copies the lists and self */
  free(upload_allow);
  free(webhook_allow);
  ob->own_http = http;
  outbox_recover(ob);
  return ob;
}
