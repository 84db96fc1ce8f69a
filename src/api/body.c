/* body — request body parsing and field access. */
#include "api/body.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(refusal *err, int status, const char *fmt, const char *arg) {
  err->status = status;
  snprintf(err->message, sizeof err->message, fmt, arg);
  return -1;
}

static bool is_json_type(const char *ct, size_t len) {
  static const char json[] = "application/json";
  size_t n = sizeof json - 1;
  if (len < n || strncasecmp(ct, json, n) != 0)
    return false;
  /* Parameters such as "; charset=utf-8" may follow. */
  return len == n || ct[n] == ';' || ct[n] == ' ';
}

int body_parse(const char *data, size_t len, const char *content_type, size_t ct_len,
               size_t max, json_t **out, refusal *err) {
  *out = NULL;
  err->status = 0;
  err->message[0] = '\0';
  if (len > max) {
    char limit[32];
    snprintf(limit, sizeof limit, "%zu", max);
    return fail(err, 413, "Request body too large (limit %s bytes)", limit);
  }
  if (len == 0)
    return 0;
  if (!content_type || !is_json_type(content_type, ct_len))
    return fail(err, 415, "%s", "Content-Type must be application/json");
  json_error_t jerr;
  json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!v) {
    err->status = 400;
    snprintf(err->message, sizeof err->message, "Malformed JSON: %s (line %d, column %d)",
             jerr.text, jerr.line, jerr.column);
    return -1;
  }
  if (!json_is_object(v)) {
    json_decref(v);
    return fail(err, 400, "%s", "Request body must be a JSON object");
  }
  *out = v;
  return 0;
}

int body_string(const json_t *body, const char *key, bool required, const char **out,
                refusal *err) {
  json_t *v = body ? json_object_get(body, key) : NULL;
  *out = NULL;
  if (!v || json_is_null(v))
    return required ? fail(err, 400, "Missing field \"%s\"", key) : 0;
  if (!json_is_string(v))
    return fail(err, 400, "Field \"%s\" must be a string", key);
  const char *s = json_string_value(v);
  if (strlen(s) != json_string_length(v))
    return fail(err, 400, "Field \"%s\" must not contain NUL characters", key);
  *out = s;
  return 0;
}

int body_bool(const json_t *body, const char *key, bool required, bool *out,
              refusal *err) {
  json_t *v = body ? json_object_get(body, key) : NULL;
  if (!v || json_is_null(v))
    return required ? fail(err, 400, "Missing field \"%s\"", key) : 0;
  if (!json_is_boolean(v))
    return fail(err, 400, "Field \"%s\" must be true or false", key);
  *out = json_is_true(v);
  return 0;
}
