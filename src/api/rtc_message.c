/* rtc_message — parsing and checking /api/rtc/v1 request frames, building replies. */
#include "api/rtc_message.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
    [RTC_OP_PING] = "ping",
    [RTC_OP_JOIN] = "join",
    [RTC_OP_PUBLISH] = "publish",
    [RTC_OP_UNPUBLISH] = "unpublish",
    [RTC_OP_PUBLISH_UPDATE] = "publish_update",
    [RTC_OP_SUBSCRIBE] = "subscribe",
    [RTC_OP_UNSUBSCRIBE] = "unsubscribe",
    [RTC_OP_ANSWER] = "answer",
    [RTC_OP_LAYER] = "layer",
    [RTC_OP_TRICKLE] = "trickle",
    [RTC_OP_ICE_RESTART] = "ice_restart",
    [RTC_OP_DATA] = "data",
    [RTC_OP_RESUME] = "resume",
    [RTC_OP_LEAVE] = "leave",
    [RTC_OP_RECORD_START] = "record_start",
    [RTC_OP_RECORD_STOP] = "record_stop",
};
#define N_OPS (int)(sizeof op_names / sizeof op_names[0])

const char *rtc_op_name(rtc_op op) { return op_names[op]; }

int rtc_message_status(const char *code) { return ps_error_status(code); }

static int fail(rtc_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(rtc_error *err, const char *code, const char *fmt, ...) {
  char message[sizeof err->why.message];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  return refusal_set(&err->why, rtc_message_status(code), code, "%s", message);
}

bool rtc_message_id_ok(const char *s) { return pubsub_id_ok(s); }

/* A string member: absent or null is NULL (an error when required); anything else not
 * a string, or one with a NUL inside, is an error. Required ones must be non-empty. */
static int string_member(const json_t *obj, const char *key, bool required,
                         const char **out, rtc_error *err) {
  json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required)
      return fail(err, PS_E_BAD_REQUEST, "\"%s\" is missing: it must be a string", key);
    return 0;
  }
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
    return fail(err, PS_E_BAD_REQUEST, "\"%s\" must be a string", key);
  *out = json_string_value(v);
  if (required && !**out)
    return fail(err, PS_E_BAD_REQUEST, "\"%s\" must not be empty", key);
  return 0;
}

/* An id member (sid, uid, feed_id, to): a string of the id alphabet. */
static int id_member(const json_t *obj, const char *key, bool required, const char **out,
                     rtc_error *err) {
  if (string_member(obj, key, required, out, err) != 0)
    return -1;
  if (*out && !rtc_message_id_ok(*out))
    return fail(err, PS_E_BAD_REQUEST,
                "\"%s\" must be 1 to %d characters of letters, digits and _.:-", key,
                PS_MAX_ID);
  return 0;
}

/* A list of ids (feed_ids, mids) of 1..cap entries. */
static int id_list(const json_t *obj, const char *key, const char **out, int cap, int *n,
                   bool mid_alphabet, rtc_error *err) {
  json_t *arr = json_object_get(obj, key);
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return fail(err, PS_E_BAD_REQUEST, "\"%s\" must be a non-empty array of strings",
                key);
  if (json_array_size(arr) > (size_t)cap)
    return fail(err, PS_E_LIMIT, "\"%s\" holds at most %d entries", key, cap);
  *n = 0;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    const char *s = json_string_value(v);
    bool ok = s && strlen(s) == json_string_length(v) &&
              (mid_alphabet ? (*s && strlen(s) <= 32 && !strpbrk(s, " \r\n\t"))
                            : rtc_message_id_ok(s));
    if (!ok)
      return fail(err, PS_E_BAD_REQUEST, "\"%s\"[%zu] is not a valid id", key, i);
    for (int j = 0; j < *n; j++)
      if (strcmp(out[j], s) == 0)
        return fail(err, PS_E_BAD_REQUEST, "\"%s\" names \"%s\" twice", key, s);
    out[(*n)++] = s;
  }
  return 0;
}

/* A bounded non-negative integer member; absent or null is -1. */
static int int_member(const json_t *obj, const char *key, int max, int *out,
                      rtc_error *err) {
  json_t *v = json_object_get(obj, key);
  *out = -1;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
    return fail(err, PS_E_BAD_REQUEST, "\"%s\" must be an integer from 0 to %d", key,
                max);
  *out = (int)json_integer_value(v);
  return 0;
}

static size_t encoded_len(const json_t *v) {
  return json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int join_fields(const json_t *o, rtc_request *r, rtc_error *err) {
  if (id_member(o, "sid", true, &r->sid, err) ||
      id_member(o, "uid", false, &r->uid, err) ||
      string_member(o, "name", false, &r->name, err) ||
      string_member(o, "key", false, &r->key, err) ||
      string_member(o, "jwt", false, &r->jwt, err))
    return -1;
  if (r->name && strlen(r->name) > RTC_MAX_NAME)
    return fail(err, PS_E_LIMIT, "\"name\" is at most %d bytes", RTC_MAX_NAME);
  if ((r->key && *r->key) == (r->jwt && *r->jwt))
    return fail(err, PS_E_UNAUTHORIZED, "join needs exactly one of \"key\" and \"jwt\"");
  json_t *meta = json_object_get(o, "meta");
  if (meta && !json_is_null(meta)) {
    if (encoded_len(meta) > RTC_MAX_META)
      return fail(err, PS_E_LIMIT, "\"meta\" is at most %d bytes of JSON", RTC_MAX_META);
    r->meta = meta;
  }
  return 0;
}

static int publish_fields(const json_t *o, rtc_request *r, rtc_error *err) {
  if (string_member(o, "sdp", true, &r->sdp, err) ||
      string_member(o, "type", true, &r->feed_type, err))
    return -1;
  if (strcmp(r->feed_type, "video") != 0 && strcmp(r->feed_type, "screen") != 0 &&
      strcmp(r->feed_type, "audio") != 0)
    return fail(err, PS_E_BAD_REQUEST,
                "\"type\" must be \"video\", \"screen\" or \"audio\"");
  return id_list(o, "mids", r->mids, RTC_MAX_MIDS, &r->n_mids, true, err);
}

static int pc_member(const json_t *o, rtc_request *r, bool sub_only, rtc_error *err) {
  if (string_member(o, "pc", true, &r->pc, err) != 0)
    return -1;
  if (strcmp(r->pc, "sub") != 0 && (sub_only || strcmp(r->pc, "pub") != 0))
    return fail(err, PS_E_BAD_REQUEST, "\"pc\" must be %s",
                sub_only ? "\"sub\"" : "\"pub\" or \"sub\"");
  return 0;
}

static int layer_fields(const json_t *o, rtc_request *r, rtc_error *err) {
  if (id_member(o, "feed_id", true, &r->feed_id, err) ||
      int_member(o, "width", 16384, &r->width, err) ||
      int_member(o, "height", 16384, &r->height, err))
    return -1;
  json_t *p = json_object_get(o, "paused");
  if (p && !json_is_null(p)) {
    if (!json_is_boolean(p))
      return fail(err, PS_E_BAD_REQUEST, "\"paused\" must be true or false");
    r->paused = json_is_true(p);
  }
  return 0;
}

static int data_fields(const json_t *o, rtc_request *r, rtc_error *err) {
  if (id_member(o, "to", false, &r->to, err) != 0)
    return -1;
  json_t *p = json_object_get(o, "payload");
  if (!p)
    return fail(err, PS_E_BAD_REQUEST, "\"payload\" is missing (any JSON value)");
  r->payload_len = encoded_len(p);
  if (r->payload_len > RTC_MAX_PAYLOAD)
    return fail(err, PS_E_LIMIT, "\"payload\" is at most %d bytes of JSON",
                RTC_MAX_PAYLOAD);
  r->payload = p;
  return 0;
}

/* An optional id list: absent or null is 0 entries (the op then means "all"). */
static int optional_id_list(const json_t *obj, const char *key, const char **out, int cap,
                            int *n, rtc_error *err) {
  json_t *v = json_object_get(obj, key);
  *n = 0;
  if (!v || json_is_null(v))
    return 0;
  return id_list(obj, key, out, cap, n, false, err);
}

/* A URL member: an http(s) URL of at most RTC_MAX_URL - 1 bytes (the server checks the
 * destination itself when it is used). */
static int url_member(const json_t *o, const char *key, bool required, const char **out,
                      rtc_error *err) {
  if (string_member(o, key, required, out, err) != 0)
    return -1;
  if (!*out || !**out) /* "" only when optional: none */
    return 0;
  if (strlen(*out) >= RTC_MAX_URL)
    return fail(err, PS_E_BAD_REQUEST, "\"%s\" is at most %d characters", key,
                RTC_MAX_URL - 1);
  if (strncmp(*out, "http://", 7) != 0 && strncmp(*out, "https://", 8) != 0)
    return fail(err, PS_E_BAD_REQUEST, "\"%s\" must be an http:// or https:// URL", key);
  return 0;
}

static int record_start_fields(const json_t *o, rtc_request *r, rtc_error *err) {
  if (optional_id_list(o, "feed_ids", r->feed_ids, RTC_MAX_FEED_IDS, &r->n_feed_ids,
                       err) != 0 ||
      url_member(o, "upload_url", true, &r->upload_url, err) != 0 ||
      url_member(o, "webhook_url", false, &r->webhook_url, err) != 0)
    return -1;
  if (r->webhook_url && !*r->webhook_url)
    r->webhook_url = NULL;
  return 0;
}

static int op_fields(const json_t *o, rtc_request *r, rtc_error *err) {
  switch (r->op) {
  case RTC_OP_JOIN:
    return join_fields(o, r, err);
  case RTC_OP_PUBLISH:
    return publish_fields(o, r, err);
  case RTC_OP_UNPUBLISH:
    return id_member(o, "feed_id", true, &r->feed_id, err);
  case RTC_OP_PUBLISH_UPDATE:
  case RTC_OP_ANSWER:
    return string_member(o, "sdp", true, &r->sdp, err);
  case RTC_OP_SUBSCRIBE:
  case RTC_OP_UNSUBSCRIBE:
    return id_list(o, "feed_ids", r->feed_ids, RTC_MAX_FEED_IDS, &r->n_feed_ids, false,
                   err);
  case RTC_OP_LAYER:
    return layer_fields(o, r, err);
  case RTC_OP_TRICKLE:
    if (pc_member(o, r, false, err) != 0 ||
        string_member(o, "candidate", false, &r->candidate, err) != 0)
      return -1;
    if (!r->candidate)
      r->candidate = ""; /* absent or null: the end of candidates */
    return 0;
  case RTC_OP_ICE_RESTART:
    return pc_member(o, r, true, err);
  case RTC_OP_DATA:
    return data_fields(o, r, err);
  case RTC_OP_RECORD_START:
    return record_start_fields(o, r, err);
  case RTC_OP_RECORD_STOP:
    return optional_id_list(o, "rec_ids", r->rec_ids, RTC_MAX_REC_IDS, &r->n_rec_ids,
                            err);
  case RTC_OP_RESUME:
    return id_member(o, "sid", true, &r->sid, err) ||
           id_member(o, "uid", true, &r->uid, err) ||
           string_member(o, "session_token", true, &r->session_token, err);
  default:
    return 0;
  }
}

/* The request id: a non-negative integer JavaScript counts exactly. */
static int id_of(const json_t *root, rtc_request *r, rtc_error *err) {
  json_t *v = json_object_get(root, "id");
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      (double)json_integer_value(v) > RTC_MAX_ID_VALUE)
    return fail(err, PS_E_BAD_REQUEST, "\"id\" must be an integer from 0 to 2^53-1");
  r->id = (uint64_t)json_integer_value(v);
  err->has_id = true;
  err->id = r->id;
  return 0;
}

static int parse_root(json_t *root, rtc_request *r, rtc_error *err) {
  if (!json_is_object(root))
    return fail(err, PS_E_BAD_REQUEST, "a request is a JSON object");
  if (id_of(root, r, err) != 0)
    return -1;
  const char *op;
  if (string_member(root, "op", true, &op, err) != 0)
    return -1;
  for (int i = 0; i < N_OPS; i++)
    if (strcmp(op_names[i], op) == 0) {
      r->op = (rtc_op)i;
      return op_fields(root, r, err);
    }
  return fail(err, PS_E_BAD_REQUEST, "unknown op \"%.60s\"", op);
}

int rtc_message_parse(const char *text, size_t len, rtc_request *out, rtc_error *err) {
  memset(out, 0, sizeof *out);
  memset(err, 0, sizeof *err);
  out->width = out->height = out->paused = -1;
  if (len > RTC_MAX_FRAME)
    return fail(err, PS_E_LIMIT, "a frame is at most %d bytes", RTC_MAX_FRAME);
  json_error_t jerr;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    return fail(err, PS_E_BAD_REQUEST, "not JSON: %s", jerr.text);
  out->root = root;
  if (parse_root(root, out, err) != 0) {
    rtc_message_free(out);
    return -1;
  }
  return 0;
}

void rtc_message_free(rtc_request *r) {
  json_decref(r->root);
  r->root = NULL;
}

static char *dump(json_t *root) {
  char *text = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  return text;
}

char *rtc_message_reply(uint64_t id, json_t *data) {
  json_t *root = json_object();
  json_object_set_new(root, "id", json_integer((json_int_t)id));
  json_object_set_new(root, "ok", json_true());
  json_object_set_new(root, "data", data ? data : json_object());
  return dump(root);
}

char *rtc_message_error(bool has_id, uint64_t id, const char *code, const char *message) {
  json_t *root = json_object();
  json_object_set_new(root, "id", has_id ? json_integer((json_int_t)id) : json_null());
  json_object_set_new(root, "ok", json_false());
  json_object_set_new(
      root, "err",
      json_pack("{s:s, s:s}", "code", code, "message", message ? message : ""));
  return dump(root);
}

char *rtc_message_event(const char *ev, json_t *data) {
  json_t *root = json_object();
  json_object_set_new(root, "ev", json_string(ev));
  json_object_set_new(root, "data", data ? data : json_object());
  return dump(root);
}
