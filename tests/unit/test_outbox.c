/* test_outbox — uploads and webhooks through the durable outbox to a real node HTTP sink:
 * retries with backoff, permanent failures, Retry-After, downtime, restarts, signatures,
 * crash recovery, and the destination rules. */
#include "check.h"
#include "delivery/destination.h"
#include "delivery/outbox.h"
#include "delivery/recording_journal.h"
#include "delivery/webhook.h"
#include "sink.h"

#include <sys/stat.h>

static uv_loop_t loop;
static store *st;
static http_client *http;
static sink sk;
static char dir[] = "/tmp/parley-outbox-XXXXXX";

static outbox_config test_config(void) {
  outbox_config c;
  outbox_config_defaults(&c);
  c.base_backoff_ms = 20;
  c.max_backoff_ms = 150;
  c.upload_retry_s = 60;
  c.webhook_retry_s = 60;
  c.self_host_port = "127.0.0.1:8080";
  c.allow_private_destinations = true; /* the sink listens on loopback */
  return c;
}

static bool nothing_pending(void *ud) { return outbox_pending(ud) == 0; }

static bool log_has(void *ud) { return sink_log_count(&sk) >= (size_t)(intptr_t)ud; }

static void close_outbox(outbox *ob) {
  outbox_free(ob);
  uv_run(&loop, UV_RUN_NOWAIT);
}

static void write_file(const char *path, size_t size) {
  FILE *f = fopen(path, "wb");
  for (size_t i = 0; i < size; i++)
    fputc((int)(i % 251), f);
  fclose(f);
}

static recording_row recording(const char *rec_id, char *path, size_t pathlen,
                               char *upload_url, char *webhook_url) {
  snprintf(path, pathlen, "%s/%s.webm", dir, rec_id);
  snprintf(upload_url, 128, "%s/uploads/%s.webm", sk.base, rec_id);
  snprintf(webhook_url, 128, "%s/hooks", sk.base);
  recording_row r = {.rec_id = rec_id,
                     .session_id = "sess-1",
                     .client_id = "agent-7",
                     .account = "acct",
                     .path = path,
                     .upload_url = upload_url,
                     .webhook_url = webhook_url,
                     .webhook_secret = "s3cret",
                     .started_at_ms = 1700000000000,
                     .first_frame_at_ms = 1700000000250,
                     .stopped_at_ms = 1700000060000,
                     .size_bytes = 0,
                     .duration_ms = 59750};
  return r;
}

static json_t *entries(const char *method) {
  json_t *log = sink_log(&sk), *out = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(log, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "method")), method) == 0)
      json_array_append(out, e);
  }
  json_decref(log);
  return out;
}

static const char *field(json_t *e, const char *name) {
  return json_string_value(json_object_get(e, name));
}

static json_t *body_of(json_t *e) { return json_loads(field(e, "body"), 0, NULL); }

static void test_upload_retried_then_ready(void) {
  sink_control(&sk, "{\"reset\":true,\"secret\":\"s3cret\"}");
  sink_control(&sk, "{\"fail\":{\"status\":500,\"count\":2}}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char path[512], up[128], hook[128];
  recording_row r = recording("rec-ok", path, sizeof path, up, hook);
  write_file(path, 700000);
  r.size_bytes = 700000;
  outbox_recording_done(ob, &r);
  CHECK(outbox_pending(ob) == 1);
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *puts = entries("PUT"), *posts = entries("POST");
  CHECK(json_array_size(puts) == 3);
  json_t *last = json_array_get(puts, 2);
  CHECK(json_integer_value(json_object_get(last, "status")) == 201);
  CHECK(json_integer_value(json_object_get(last, "length")) == 700000);
  CHECK(json_integer_value(json_object_get(last, "content_length")) == 700000);
  CHECK(json_array_size(posts) == 1);
  json_t *hookreq = json_array_get(posts, 0), *body = body_of(hookreq);
  CHECK(json_is_true(json_object_get(hookreq, "signature_ok")));
  CHECK_STR(field(body, "status"), "upload_ready");
  CHECK_STR(field(body, "rec_id"), "rec-ok");
  CHECK_STR(field(body, "client_id"), "agent-7");
  CHECK_STR(field(body, "session_id"), "sess-1");
  CHECK_STR(field(body, "recording_started_at"), "2023-11-14T22:13:20.000Z");
  CHECK_STR(field(body, "recording_first_frame_written_at"), "2023-11-14T22:13:20.250Z");
  CHECK_STR(field(body, "recording_stopped_at"), "2023-11-14T22:14:20.000Z");
  CHECK(json_integer_value(json_object_get(body, "recording_file_size_bytes")) == 700000);
  CHECK(json_integer_value(json_object_get(body, "recording_file_duration_ms")) == 59750);
  json_t *headers = json_object_get(hookreq, "headers");
  CHECK_STR(field(headers, "content-type"), "application/json");
  CHECK(field(headers, "webhook-id") && strlen(field(headers, "webhook-id")) == 36);
  json_decref(body);
  json_decref(puts);
  json_decref(posts);
  run_for(&loop, 50); /* the unlink runs on the threadpool */
  struct stat sb;
  CHECK(stat(path, &sb) != 0); /* deleted once uploaded */
  recording_row *row = store_recording_get(st, "rec-ok");
  CHECK(row && strcmp(row->state, "uploaded") == 0);
  recording_row_free(row);
  close_outbox(ob);
}

static void test_upload_404_fails_at_once(void) {
  sink_control(&sk, "{\"reset\":true,\"secret\":\"s3cret\"}");
  sink_control(&sk, "{\"fail\":{\"status\":404}}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char path[512], up[128], hook[128];
  recording_row r = recording("rec-404", path, sizeof path, up, hook);
  write_file(path, 1000);
  outbox_recording_done(ob, &r);
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *puts = entries("PUT"), *posts = entries("POST");
  CHECK(json_array_size(puts) == 1);
  CHECK(json_array_size(posts) == 1);
  json_t *body = body_of(json_array_get(posts, 0));
  CHECK_STR(field(body, "status"), "upload_failed");
  CHECK_STR(field(body, "rec_id"), "rec-404");
  CHECK(json_integer_value(json_object_get(body, "upload_status_code")) == 404);
  CHECK(field(body, "msg") && strstr(field(body, "msg"), "404"));
  json_decref(body);
  json_decref(puts);
  json_decref(posts);
  struct stat sb;
  CHECK(stat(path, &sb) == 0); /* kept */
  recording_row *row = store_recording_get(st, "rec-404");
  CHECK(row && strcmp(row->state, "failed") == 0);
  recording_row_free(row);
  close_outbox(ob);
}

static bool recording_failed(void *rec_id) {
  recording_row *row = store_recording_get(st, rec_id);
  bool failed = row && strcmp(row->state, "failed") == 0;
  recording_row_free(row);
  return failed;
}

static void test_upload_gives_up_after_retry_period(void) {
  sink_control(&sk, "{\"reset\":true}");
  sink_control(&sk, "{\"fail\":{\"status\":503,\"count\":100000}}");
  outbox_config cfg = test_config();
  cfg.upload_retry_s = 1;
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char path[512], up[128], hook[128];
  recording_row r = recording("rec-slow", path, sizeof path, up, hook);
  write_file(path, 1000);
  outbox_recording_done(ob, &r);
  CHECK(run_until(&loop, recording_failed, "rec-slow", 10000));
  json_t *puts = entries("PUT");
  CHECK(json_array_size(puts) >= 3); /* retried for about a second */
  json_decref(puts);
  /* its upload_failed webhook waits for the sink to heal */
  sink_control(&sk, "{\"reset\":true}");
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *posts = entries("POST");
  CHECK(json_array_size(posts) == 1);
  json_t *body = body_of(json_array_get(posts, 0));
  CHECK_STR(field(body, "status"), "upload_failed");
  CHECK(json_integer_value(json_object_get(body, "upload_status_code")) == 503);
  json_decref(body);
  json_decref(posts);
  close_outbox(ob);
}

/* A name that resolves to loopback is refused when curl is about to connect, at once and
 * for good: no PUT reaches the sink, and upload_failed says why. The webhook goes to
 * 127.0.0.1 because the webhook allow-list names that address. */
static void test_upload_to_name_resolving_to_loopback_refused(void) {
  sink_control(&sk, "{\"reset\":true}");
  static const char *const hook_allow[] = {"127.0.0.1", NULL};
  outbox_config cfg = test_config();
  cfg.allow_private_destinations = false;
  cfg.webhook_allow = hook_allow;
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char path[512], up[128], hook[128], why[200];
  recording_row r = recording("rec-name", path, sizeof path, up, hook);
  snprintf(up, sizeof up, "http://localhost:%d/uploads/rec-name.webm", sk.port);
  CHECK(outbox_check_url(ob, false, up, why, sizeof why) == 0); /* a name: no DNS here */
  CHECK(outbox_check_url(ob, false, hook, why, sizeof why) == -1);
  CHECK(strstr(why, "loopback") != NULL);
  write_file(path, 1000);
  outbox_recording_done(ob, &r);
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *puts = entries("PUT"), *posts = entries("POST");
  CHECK(json_array_size(puts) == 0);
  CHECK(json_array_size(posts) == 1);
  json_t *body = body_of(json_array_get(posts, 0));
  CHECK_STR(field(body, "status"), "upload_failed");
  const char *msg = field(body, "msg");
  CHECK(msg && strstr(msg, "is a loopback address, refused") != NULL);
  json_decref(body);
  json_decref(puts);
  json_decref(posts);
  recording_row *row = store_recording_get(st, "rec-name");
  CHECK(row && strcmp(row->state, "failed") == 0);
  recording_row_free(row);
  close_outbox(ob);
}

static void test_webhook_survives_downtime(void) {
  sink_control(&sk, "{\"reset\":true}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/down", sk.base);
  sink_control(&sk, "{\"down_ms\":700}");
  usleep(100 * 1000);
  uint64_t t0 = uv_now(&loop);
  outbox_webhook(ob, url, "", "{\"event\":\"down\"}");
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  uv_update_time(&loop);
  CHECK(uv_now(&loop) - t0 >= 500); /* only after the sink came back */
  json_t *posts = entries("POST");
  CHECK(json_array_size(posts) == 1);
  CHECK_STR(field(json_array_get(posts, 0), "body"), "{\"event\":\"down\"}");
  CHECK(json_object_get(json_object_get(json_array_get(posts, 0), "headers"),
                        "webhook-signature") == NULL); /* no secret, no signature */
  json_decref(posts);
  close_outbox(ob);
}

static int64_t at_ms(json_t *e) {
  return json_integer_value(json_object_get(e, "at_ms"));
}

static void test_retry_after_honoured(void) {
  sink_control(&sk, "{\"reset\":true}");
  sink_control(&sk, "{\"fail\":{\"status\":429,\"retry_after\":\"1\"}}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/later", sk.base);
  outbox_webhook(ob, url, "k", "{}");
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *posts = entries("POST");
  CHECK(json_array_size(posts) == 2);
  json_t *a = json_array_get(posts, 0), *b = json_array_get(posts, 1);
  CHECK(at_ms(b) - at_ms(a) >= 950); /* max backoff is 150 ms: only Retry-After waits */
  CHECK_STR(field(json_object_get(a, "headers"), "webhook-id"),
            field(json_object_get(b, "headers"), "webhook-id"));
  json_decref(posts);
  close_outbox(ob);
}

static void test_restart_resumes(void) {
  sink_control(&sk, "{\"reset\":true,\"secret\":\"topsecret\"}");
  sink_control(&sk, "{\"fail\":{\"status\":503,\"retry_after\":\"1\"}}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/resume", sk.base);
  outbox_webhook(ob, url, "topsecret", "{\"n\":1}");
  CHECK(run_until(&loop, log_has, (void *)1, 5000));
  close_outbox(ob); /* the job waits for its Retry-After in SQLite */
  char err[256];
  store_close(st);
  st = store_open(dir, err, sizeof err); /* a new process would do just this */
  CHECK(st != NULL);
  ob = outbox_new(&loop, st, http, &cfg);
  CHECK(outbox_pending(ob) == 1);
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *posts = entries("POST");
  CHECK(json_array_size(posts) == 2);
  json_t *b = json_array_get(posts, 1);
  CHECK(json_integer_value(json_object_get(b, "status")) == 200);
  CHECK(json_is_true(json_object_get(b, "signature_ok")));
  CHECK_STR(field(json_object_get(json_array_get(posts, 0), "headers"), "webhook-id"),
            field(json_object_get(b, "headers"), "webhook-id"));
  json_decref(posts);
  close_outbox(ob);
}

static void test_signature(void) {
  /* A wrong secret must not verify at the sink (its check is node's own HMAC). */
  sink_control(&sk, "{\"reset\":true,\"secret\":\"right\"}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/sig", sk.base);
  outbox_webhook(ob, url, "wrong", "{\"x\":1}");
  outbox_webhook(ob, url, "right", "{\"x\":2}");
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *posts = entries("POST");
  CHECK(json_array_size(posts) == 2);
  size_t i;
  json_t *e;
  json_array_foreach(posts, i, e) {
    bool right = strcmp(field(e, "body"), "{\"x\":2}") == 0;
    CHECK(json_is_true(json_object_get(e, "signature_ok")) == right);
  }
  json_decref(posts);
  /* A fixed vector, computed independently with
   * node's crypto.createHmac('sha256', 'whsec').update('id1.1700000000.{}') */
  char sig[WEBHOOK_SIGNATURE_LEN];
  webhook_sign("whsec", "id1", 1700000000, "{}", sig);
  CHECK_STR(sig, "v1,Sfi46432Z5GOtZ93y3uKAKGeu2h16GOLfkN4H6osoSU=");
  close_outbox(ob);
}

static void test_webhook_4xx_dropped(void) {
  sink_control(&sk, "{\"reset\":true}");
  sink_control(&sk, "{\"fail\":{\"status\":410}}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/gone", sk.base);
  outbox_webhook(ob, url, "", "{}");
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  run_for(&loop, 100);
  CHECK(sink_log_count(&sk) == 1);
  close_outbox(ob);
}

static int fake_finalise(const char *path, void *out) {
  finalised_recording *res = out;
  struct stat sb;
  res->ok = stat(path, &sb) == 0;
  res->size_bytes = res->ok ? (uint64_t)sb.st_size : 0;
  res->duration_ms = 4321;
  res->first_frame_unix_ms = 1700000001000;
  return res->ok ? 0 : -1;
}

static void test_crash_recovery(void) {
  sink_control(&sk, "{\"reset\":true}");
  char path[512], up[128], hook[128];
  recording_row r = recording("rec-crash", path, sizeof path, up, hook);
  r.stopped_at_ms = 0;
  write_file(path, 12345);
  CHECK(store_recording_begin(st, &r) == 0);
  recording_row gone = recording("rec-gone", path + 256, 256, up, hook);
  CHECK(store_recording_begin(st, &gone) == 0); /* its file never existed */
  outbox_config cfg = test_config();
  cfg.finalise = fake_finalise;
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  outbox_recover(ob);
  run_for(&loop, 100);
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *puts = entries("PUT"), *posts = entries("POST");
  CHECK(json_array_size(puts) == 1);
  CHECK(json_integer_value(json_object_get(json_array_get(puts, 0), "length")) == 12345);
  CHECK(json_array_size(posts) == 2);
  size_t i;
  json_t *e;
  int ready = 0, failed = 0;
  json_array_foreach(posts, i, e) {
    json_t *body = body_of(e);
    if (strcmp(field(body, "status"), "upload_ready") == 0) {
      ready++;
      CHECK_STR(field(body, "rec_id"), "rec-crash");
      CHECK(json_integer_value(json_object_get(body, "recording_file_duration_ms")) ==
            4321);
      CHECK(json_integer_value(json_object_get(body, "recording_file_size_bytes")) ==
            12345);
      CHECK_STR(field(body, "recording_first_frame_written_at"),
                "2023-11-14T22:13:21.000Z");
      CHECK(json_is_string(json_object_get(body, "recording_stopped_at")));
    } else {
      failed++;
      CHECK_STR(field(body, "rec_id"), "rec-gone");
      CHECK(json_integer_value(json_object_get(body, "upload_status_code")) == 0);
    }
    json_decref(body);
  }
  CHECK(ready == 1 && failed == 1);
  json_decref(puts);
  json_decref(posts);
  close_outbox(ob);
}

static void test_url_rules(void) {
  const char *allow[] = {"hooks.example.com", "*.example.org", NULL};
  outbox_config cfg = test_config();
  cfg.webhook_allow = allow;
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char why[200];
  CHECK(outbox_check_url(ob, true, "file:///etc/passwd", why, sizeof why) == -1);
  CHECK(strstr(why, "http") != NULL);
  CHECK(outbox_check_url(ob, true, "ftp://hooks.example.com/x", why, sizeof why) == -1);
  CHECK(outbox_check_url(ob, true, "https://hooks.example.com/x", why, sizeof why) == 0);
  CHECK(outbox_check_url(ob, true, "https://HOOKS.example.com:8443/x", why, sizeof why) ==
        0);
  CHECK(outbox_check_url(ob, true, "https://a.b.example.org/", why, sizeof why) == 0);
  CHECK(outbox_check_url(ob, true, "https://example.org/", why, sizeof why) == -1);
  CHECK(outbox_check_url(ob, true, "https://evil.com/x", why, sizeof why) == -1);
  CHECK(strstr(why, "allow-list") != NULL);
  CHECK(outbox_check_url(ob, true, "https://hooks.example.com.evil.com/", why,
                         sizeof why) == -1);
  CHECK(outbox_check_url(ob, true, "https://u:p@hooks.example.com/", why, sizeof why) ==
        -1);
  CHECK(outbox_check_url(ob, true, "not a url", why, sizeof why) == -1);
  /* uploads have no allow-list here: any host but parleyd itself */
  CHECK(outbox_check_url(ob, false, "https://evil.com/x", why, sizeof why) == 0);
  CHECK(outbox_check_url(ob, false, "http://127.0.0.1:8080/api", why, sizeof why) == -1);
  CHECK(strstr(why, "this server") != NULL);
  CHECK(outbox_check_url(ob, false, "http://localhost:8080/", why, sizeof why) == -1);
  CHECK(outbox_check_url(ob, false, "http://[::1]:8080/", why, sizeof why) == -1);
  CHECK(outbox_check_url(ob, false, "http://127.0.0.1:8081/", why, sizeof why) == 0);
  /* a queued job whose URL breaks the rules is refused when it is due, not sent */
  sink_control(&sk, "{\"reset\":true}");
  char url[128];
  snprintf(url, sizeof url, "%s/not-allowed", sk.base);
  outbox_webhook(ob, url, "", "{}");
  CHECK(run_until(&loop, nothing_pending, ob, 5000));
  CHECK(sink_log_count(&sk) == 0);
  close_outbox(ob);

  char **list = destination_list_parse(" a.com, *.b.org ,c.net");
  CHECK(list && strcmp(list[0], "a.com") == 0 && strcmp(list[1], "*.b.org") == 0 &&
        strcmp(list[2], "c.net") == 0 && list[3] == NULL);
  free(list);
  CHECK(destination_list_parse("") == NULL);
}

/* recording_journal: the row journaled at begin (what crash recovery finds), then an ok
 * close uploads it with one webhook, a failed one is journaled failed and not sent. */
static void test_recording_journal(void) {
  sink_control(&sk, "{\"reset\":true,\"secret\":\"whsec_c2VjcmV0\"}");
  outbox_config cfg = test_config();
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char up[256], hook[128];
  snprintf(up, sizeof up, "%s/uploads/j1.webm", sk.base);
  snprintf(hook, sizeof hook, "%s/hooks", sk.base);
  recording_spec spec = {.rec_id = "j1",
                         .session_id = "room",
                         .client_id = "ann",
                         .account = "acct",
                         .dir = dir,
                         .extension = "webm",
                         .upload_url = up,
                         .webhook_url = hook,
                         .webhook_secret = "whsec_c2VjcmV0"};
  recording_journal *j = recording_journal_begin(st, &spec);
  CHECK(j && strcmp(recording_journal_id(j), "j1") == 0);
  char path[600];
  snprintf(path, sizeof path, "%s/j1.webm", dir);
  CHECK_STR(recording_journal_path(j), path);
  recording_row *row = store_recording_get(st, "j1");
  CHECK(row && strcmp(row->state, "recording") == 0 && row->started_at_ms > 0);
  recording_row_free(row);
  write_file(path, 5000);
  recording_journal_first_frame(j, 1700000000250);
  recording_outcome ok = {.ok = true, .size_bytes = 5000, .duration_ms = 4000};
  recording_journal_closed(j, st, ob, &ok);
  CHECK(run_until(&loop, nothing_pending, ob, 10000));
  json_t *puts = entries("PUT"), *posts = entries("POST");
  CHECK(json_array_size(puts) == 1 && json_array_size(posts) == 1);
  json_t *body = body_of(json_array_get(posts, 0));
  CHECK(json_is_true(json_object_get(json_array_get(posts, 0), "signature_ok")));
  CHECK_STR(field(body, "rec_id"), "j1");
  CHECK_STR(field(body, "client_id"), "ann");
  CHECK_STR(field(body, "session_id"), "room");
  CHECK_STR(field(body, "recording_first_frame_written_at"), "2023-11-14T22:13:20.250Z");
  CHECK(json_integer_value(json_object_get(body, "recording_file_duration_ms")) == 4000);
  json_decref(body);
  json_decref(puts);
  json_decref(posts);
  /* A failed file: journaled failed, nothing sent; a made id when none is given. */
  spec.rec_id = NULL;
  j = recording_journal_begin(st, &spec);
  CHECK(j && strlen(recording_journal_id(j)) == 36);
  char id[40];
  snprintf(id, sizeof id, "%s", recording_journal_id(j));
  recording_outcome bad = {.ok = false, .error = "nothing was recorded"};
  recording_journal_closed(j, st, ob, &bad);
  row = store_recording_get(st, id);
  CHECK(row && strcmp(row->state, "failed") == 0);
  recording_row_free(row);
  CHECK(outbox_pending(ob) == 0);
  /* URLs: too long, or a destination the outbox never delivers to. */
  char reason[200], longer[RECORDING_JOURNAL_MAX_URL + 16];
  memset(longer, 'a', sizeof longer - 1);
  memcpy(longer, "https://x/", 10);
  longer[sizeof longer - 1] = 0;
  CHECK(recording_journal_check_url(ob, false, longer, reason, sizeof reason) == -1);
  CHECK(strstr(reason, "longer") != NULL);
  CHECK(recording_journal_check_url(ob, true, "ftp://x/", reason, sizeof reason) == -1);
  CHECK(recording_journal_check_url(ob, false, up, reason, sizeof reason) == 0);
  close_outbox(ob);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  CHECK(mkdtemp(dir) != NULL);
  char err[256];
  st = store_open(dir, err, sizeof err);
  if (!st || sink_start(&sk, dir) != 0) {
    fprintf(stderr, "setup failed: %s\n", st ? "cannot start http_sink.mjs" : err);
    return 1;
  }
  uv_loop_init(&loop);
  http = http_client_new(&loop);
  test_url_rules();
  test_upload_retried_then_ready();
  test_upload_404_fails_at_once();
  test_upload_gives_up_after_retry_period();
  test_upload_to_name_resolving_to_loopback_refused();
  test_webhook_survives_downtime();
  test_retry_after_honoured();
  test_restart_resumes();
  test_signature();
  test_webhook_4xx_dropped();
  test_crash_recovery();
  test_recording_journal();
  http_client_free(http);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  store_close(st);
  sink_stop(&sk);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
