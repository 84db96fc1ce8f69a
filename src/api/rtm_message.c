/* rtm_message — parsing and checking RTM frames, building replies. */
#include "api/rtm_message.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    [RTM_SESSION_START] = "session_start",
    [RTM_SUPERVISOR_JOIN] = "supervisor_join_session",
    [RTM_SDP_UPDATE] = "sdp_update",
    [RTM_CANDIDATE] = "candidate",
    [RTM_RECORDING_START] = "recording_start",
    [RTM_RECORDING_STOP] = "recording_stop",
    [RTM_SESSION_STOP] = "session_stop",
    [RTM_PING] = "ping",
};
#define N_TYPES (int)(sizeof type_names / sizeof type_names[0])

const char *rtm_type_name(rtm_type t) { return type_names[t]; }

static int fail(rtm_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(rtm_error *err, const char *code, const char *fmt, ...) {
  char message[sizeof err->why.message];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  int status = strcmp(code, RTM_E_TOO_LARGE) == 0 ? 413 : 400;
  return refusal_set(&err->why, status, code, "%s", message);
}

/* An optional string member: absent or null is NULL; anything else not a string, or
 * a string with a NUL inside, is an error. Required ones must be non-empty. */
static int string_member(const json_t *obj, const char *key, bool required,
                         const char **out, rtm_error *err) {
  json_t *v = obj ? json_object_get(obj, key) : NULL;
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required)
      return fail(err, RTM_E_BAD_MESSAGE, "missing string \"%s\"", key);
    return 0;
  }
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
    return fail(err, RTM_E_BAD_MESSAGE, "\"%s\" must be a string", key);
  *out = json_string_value(v);
  if (required && !**out)
    return fail(err, RTM_E_BAD_MESSAGE, "\"%s\" must not be empty", key);
  return 0;
}

/* data.sdp = {type, sdp}; want is the type this message may carry (NULL: any). */
static int sdp_member(const json_t *data, rtm_message *m, const char *want,
                      rtm_error *err) {
  json_t *sdp = json_object_get(data, "sdp");
  if (!json_is_object(sdp))
    return fail(err, RTM_E_BAD_MESSAGE, "missing object \"sdp\" {type, sdp}");
  if (string_member(sdp, "type", true, &m->sdp_type, err) != 0 ||
      string_member(sdp, "sdp", true, &m->sdp, err) != 0)
    return -1;
  if (want ? strcmp(m->sdp_type, want) != 0
           : strcmp(m->sdp_type, "offer") != 0 && strcmp(m->sdp_type, "answer") != 0)
    return fail(err, RTM_E_BAD_MESSAGE, "sdp.type must be \"%s\"",
                want ? want : "offer\" or \"answer");
  return 0;
}

static int candidate_member(const json_t *data, rtm_message *m, rtm_error *err) {
  json_t *c = json_object_get(data, "candidate");
  if (!json_is_object(c))
    return fail(err, RTM_E_BAD_MESSAGE, "missing object \"candidate\"");
  if (string_member(c, "candidate", false, &m->candidate, err) != 0 ||
      string_member(c, "sdpMid", false, &m->sdp_mid, err) != 0 ||
      string_member(c, "usernameFragment", false, &m->ufrag, err) != 0)
    return -1;
  if (!m->candidate)
    m->candidate = ""; /* absent or null: the end of candidates */
  json_t *idx = json_object_get(c, "sdpMLineIndex");
  if (idx && !json_is_null(idx)) {
    if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
        json_integer_value(idx) > 64)
      return fail(err, RTM_E_BAD_MESSAGE, "\"sdpMLineIndex\" must be a small integer");
    m->mline_index = (int)json_integer_value(idx);
  }
  return 0;
}

static int data_fields(const json_t *data, rtm_message *m, rtm_error *err) {
  switch (m->type) {
  case RTM_SESSION_START:
    return sdp_member(data, m, "offer", err) ||
           string_member(data, "webhook_url", false, &m->webhook_url, err);
  case RTM_SUPERVISOR_JOIN:
    return sdp_member(data, m, "offer", err) ||
           string_member(data, "session_id_to_monitor", true, &m->monitor_session_id,
                         err) ||
           string_member(data, "webhook_url", false, &m->webhook_url, err);
  case RTM_SDP_UPDATE:
    return sdp_member(data, m, NULL, err);
  case RTM_CANDIDATE:
    return candidate_member(data, m, err);
  case RTM_RECORDING_START:
    return string_member(data, "upload_url", true, &m->upload_url, err) ||
           string_member(data, "webhook_url", false, &m->webhook_url, err);
  default:
    return 0;
  }
}

static int find_type(const char *name) {
  for (int i = 0; i < N_TYPES; i++)
    if (strcmp(type_names[i], name) == 0)
      return i;
  return -1;
}

static int parse_root(json_t *root, rtm_message *m, rtm_error *err) {
  const char *type;
  if (!json_is_object(root))
    return fail(err, RTM_E_BAD_MESSAGE, "a message is a JSON object");
  if (string_member(root, "type", true, &type, err) != 0)
    return -1;
  snprintf(err->ref_type, sizeof err->ref_type, "%s", type);
  int t = find_type(type);
  if (t < 0)
    return fail(err, RTM_E_UNKNOWN_TYPE, "unknown message type \"%.60s\"", type);
  m->type = (rtm_type)t;
  if (string_member(root, "client_id", false, &m->client_id, err) != 0 ||
      string_member(root, "session_id", false, &m->session_id, err) != 0)
    return -1;
  json_t *data = json_object_get(root, "data");
  if (data && !json_is_null(data) && !json_is_object(data))
    return fail(err, RTM_E_BAD_MESSAGE, "\"data\" must be an object");
  return data_fields(json_is_object(data) ? data : NULL, m, err);
}

int rtm_message_parse(const char *text, size_t len, rtm_message *out, rtm_error *err) {
  memset(out, 0, sizeof *out);
  memset(err, 0, sizeof *err);
  out->mline_index = -1;
  if (len > RTM_MAX_MESSAGE)
    return fail(err, RTM_E_TOO_LARGE, "a message is at most %d bytes", RTM_MAX_MESSAGE);
  json_error_t jerr;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    return fail(err, RTM_E_BAD_JSON, "not JSON: %s", jerr.text);
  out->root = root;
  if (parse_root(root, out, err) != 0) {
    rtm_message_free(out);
    return -1;
  }
  return 0;
}

void rtm_message_free(rtm_message *m) {
  json_decref(m->root);
  m->root = NULL;
}

char *rtm_message_build(const char *type, const char *client_id, const char *session_id,
                        json_t *data) {
  json_t *root = json_object();
  json_object_set_new(root, "type", json_string(type));
  if (client_id)
    json_object_set_new(root, "client_id", json_string(client_id));
  if (session_id)
    json_object_set_new(root, "session_id", json_string(session_id));
  json_object_set_new(root, "data", data ? data : json_object());
  char *text = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  return text;
}
