/* fuzz_body — libFuzzer harness for request bodies: body_parse under a content type
 * and size limit picked by the first byte, then the typed field readers on common keys.
 */
#include "api/body.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What clients send, what they should not, and near misses of the JSON rule. */
static const char *const content_types[] = {
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json;charset=UTF-8",
    "application/jsonp",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    NULL,
};
#define N_TYPES (sizeof content_types / sizeof content_types[0])

static const char *const string_keys[] = {
    "display_name",         "type",    "payload",   "role", "digits", "text", "call_tag",
    "conference_extension", "setting", "transforms"};
static const char *const bool_keys[] = {"setting", "supports_direct_chat", "transforms",
                                        "display_name", "direct_media"};

static void check_error(const refusal *err, int rc) {
  CHECK(strnlen(err->message, sizeof err->message) < sizeof err->message);
  if (rc == 0)
    return;
  CHECK(err->status == 400 || err->status == 413 || err->status == 415);
  CHECK(err->message[0] != '\0');
}

static void read_fields(const json_t *body) {
  refusal err;
  for (size_t i = 0; i < sizeof string_keys / sizeof *string_keys; i++) {
    const char *s = (const char *)1;
    memset(&err, 0, sizeof err);
    int rc = body_string(body, string_keys[i], i % 2 == 0, &s, &err);
    check_error(&err, rc);
    CHECK(rc == 0 || s == NULL);
    if (rc == 0 && s) {
      json_t *v = json_object_get(body, string_keys[i]);
      CHECK(strlen(s) == json_string_length(v)); /* no hidden NULs get through */
    }
  }
  for (size_t i = 0; i < sizeof bool_keys / sizeof *bool_keys; i++) {
    bool b = false;
    memset(&err, 0, sizeof err);
    check_error(&err, body_bool(body, bool_keys[i], i % 2 == 1, &b, &err));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const char *ct = content_types[data[0] % N_TYPES];
  /* The top bit picks a tight limit so the 413 path is reached too. */
  size_t max = (data[0] & 0x80) ? 64 : 65536;
  size_t len = size - 1;
  char *body = malloc(len ? len : 1); /* exact size: h2o's entity has no NUL */
  if (len)
    memcpy(body, data + 1, len);
  char *ctcopy = ct ? strdup(ct) : NULL;
  json_t *out = (json_t *)1;
  refusal err;
  int rc = body_parse(body, len, ctcopy, ct ? strlen(ct) : 0, max, &out, &err);
  check_error(&err, rc);
  if (rc != 0)
    CHECK(out == NULL);
  else if (len == 0)
    CHECK(out == NULL);
  else
    CHECK(json_is_object(out) && len <= max);
  read_fields(out);
  json_decref(out);
  free(ctcopy);
  free(body);
  return 0;
}
