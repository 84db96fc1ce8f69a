/* webhook — HMAC-SHA256 signatures (OpenSSL) and the recording webhook bodies
 * (jansson), kept apart from the outbox that delivers them. */
#include "delivery/webhook.h"

#include "core/ids.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t webhook_key(const char *secret, uint8_t *key, size_t cap) {
  size_t n = strlen(secret), p = sizeof IDS_WEBHOOK_PREFIX - 1;
  if (strncmp(secret, IDS_WEBHOOK_PREFIX, p) == 0 && (n - p) % 4 == 0 &&
      (n - p) / 4 * 3 <= cap) {
    const char *b64 = secret + p;
    size_t len = n - p;
    int got = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)len);
    if (got >= 0) { /* EVP_DecodeBlock counts the bytes that the padding stands for */
      size_t k = (size_t)got;
      for (size_t i = len; i > 0 && b64[i - 1] == '=' && k > 0; i--)
        k--;
      return k;
    }
  }
  /* Secrets made before: the text itself is the key. */
  if (n > cap)
    n = cap;
  memcpy(key, secret, n);
  return n;
}

void webhook_sign(const char *secret, const char *id, int64_t timestamp_s,
                  const char *body, char out[WEBHOOK_SIGNATURE_LEN]) {
  uint8_t key[WEBHOOK_MAX_KEY];
  size_t key_len = webhook_key(secret, key, sizeof key);
  char ts[24];
  snprintf(ts, sizeof ts, "%lld", (long long)timestamp_s);
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                         OSSL_PARAM_construct_end()};
  unsigned char digest[32];
  size_t dlen = 0;
  EVP_MAC_init(ctx, key, key_len, params);
  EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id));
  EVP_MAC_update(ctx, (const unsigned char *)".", 1);
  EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts));
  EVP_MAC_update(ctx, (const unsigned char *)".", 1);
  EVP_MAC_update(ctx, (const unsigned char *)body, strlen(body));
  EVP_MAC_final(ctx, digest, &dlen, sizeof digest);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  memcpy(out, "v1,", 3);
  EVP_EncodeBlock((unsigned char *)out + 3, digest, (int)dlen);
}

void webhook_iso8601(int64_t unix_ms, char out[32]) {
  time_t secs = (time_t)(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(unix_ms % 1000));
}

static json_t *time_or_null(int64_t unix_ms) {
  if (unix_ms <= 0)
    return json_null();
  char text[32];
  webhook_iso8601(unix_ms, text);
  return json_string(text);
}

static json_t *common_fields(const recording_row *r, const char *status,
                             const char *msg) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", status, "msg", msg, "rec_id",
                   r->rec_id ? r->rec_id : "", "client_id",
                   r->client_id ? r->client_id : "", "session_id",
                   r->session_id ? r->session_id : "");
}

static char *dump(json_t *o) {
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

char *webhook_upload_ready_body(const recording_row *r) {
  json_t *o = common_fields(r, "upload_ready", "recording uploaded");
  json_object_set_new(o, "recording_started_at", time_or_null(r->started_at_ms));
  json_object_set_new(o, "recording_first_frame_written_at",
                      time_or_null(r->first_frame_at_ms));
  json_object_set_new(o, "recording_stopped_at", time_or_null(r->stopped_at_ms));
  json_object_set_new(o, "recording_file_size_bytes",
                      json_integer((json_int_t)r->size_bytes));
  json_object_set_new(o, "recording_file_duration_ms",
                      json_integer((json_int_t)r->duration_ms));
  return dump(o);
}

char *webhook_upload_failed_body(const recording_row *r, int upload_status_code,
                                 const char *msg) {
  json_t *o = common_fields(r, "upload_failed", msg);
  json_object_set_new(o, "upload_status_code", json_integer(upload_status_code));
  return dump(o);
}

char *webhook_session_finished_body(bool supervisor, const char *session_id,
                                    const char *client_id, const char *cause,
                                    int64_t started_ms, int64_t stopped_ms) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "status",
                        supervisor ? "supervisor_session_finished" : "session_finished",
                        "session_id", session_id, "client_id", client_id, "state",
                        "TERMINATED", "termination_cause", cause ? cause : "");
  json_object_set_new(o, "started_at", time_or_null(started_ms));
  json_object_set_new(o, "stopped_at", time_or_null(stopped_ms));
  return dump(o);
}
