/* policy_response — the policy server's JSON answers (client API §E) read into structs:
 * what is usable, what is refused, and why anything else falls back to the store. */
#include "policy/policy_response.h"

#include "core/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The envelope: a JSON object whose "status" is "success" (§E.1: anything else is a
 * failed request). Returns the parsed root or NULL with why. */
static json_t *envelope(const char *body, size_t len, char *why, size_t n) {
  json_error_t e;
  json_t *root = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e) : NULL;
  if (!root) {
    snprintf(why, n, "not JSON");
    return NULL;
  }
  const char *status = json_string_value(json_object_get(root, "status"));
  if (!json_is_object(root) || !status || strcmp(status, "success") != 0) {
    snprintf(why, n, "status is not \"success\"");
    json_decref(root);
    return NULL;
  }
  return root;
}

static bool action_is(const json_t *root, const char *want) {
  const char *a = json_string_value(json_object_get(root, "action"));
  return a && strcmp(a, want) == 0;
}

/* A string field; "" and null read as absent. Returns NULL if absent; sets *bad when
 * present with another type. */
static const char *opt_string(const json_t *o, const char *key, bool *bad) {
  const json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v))
    return NULL;
  if (!json_is_string(v)) {
    *bad = true;
    return NULL;
  }
  const char *s = json_string_value(v);
  return *s ? s : NULL;
}

/* A boolean field: JSON true/false, or Pexip's "True"/"False"/"yes"/"no" text. */
static bool opt_bool(const json_t *o, const char *key, bool dflt, bool *bad) {
  const json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v))
    return dflt;
  if (json_is_boolean(v))
    return json_is_true(v);
  const char *s = json_string_value(v);
  if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0))
    return true;
  if (s && (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0))
    return false;
  *bad = true;
  return dflt;
}

static void copy_field(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

/* PINs as Pexip sends them: a string of digits, or a number. */
static char *pin_value(const json_t *o, const char *key, bool *bad) {
  const json_t *v = json_object_get(o, key);
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    return xstrdup(text);
  }
  const char *s = opt_string(o, key, bad);
  return s ? xstrdup(s) : NULL;
}

void policy_parse_service(const char *body, size_t len, const char *local_alias,
                          policy_service *out) {
  memset(out, 0, sizeof *out);
  json_t *root = envelope(body, len, out->why, sizeof out->why);
  out->invalid = !root;
  if (!root)
    return;
  const json_t *result = json_object_get(root, "result");
  const char *type = json_string_value(json_object_get(result, "service_type"));
  bool usable = json_is_object(result) && type;
  if (!usable) {
    /* No service data: then (only then) the action counts (§E.2). */
    if (action_is(root, "reject"))
      out->verdict = POLICY_REJECT;
    else
      snprintf(out->why, sizeof out->why, "no service data (action continue)");
    json_decref(root);
    return;
  }
  bool conference = strcmp(type, "conference") == 0,
       lecture = strcmp(type, "lecture") == 0, test_call = strcmp(type, "test_call") == 0;
  if (!conference && !lecture && !test_call) {
    snprintf(out->why, sizeof out->why, "service_type \"%.60s\" is not offered here",
             type);
    json_decref(root);
    return;
  }
  bool bad = false;
  const char *name = opt_string(result, "name", &bad);
  const char *tag = opt_string(result, "service_tag", &bad);
  copy_field(out->service_tag, sizeof out->service_tag, tag);
  room_record *rec = xcalloc(1, sizeof *rec);
  rec->adhoc = true;
  rec->lecture = lecture;
  rec->test_call = test_call;
  rec->name = name ? xstrdup(name) : NULL;
  rec->pin = pin_value(result, "pin", &bad);
  rec->guest_pin = pin_value(result, "guest_pin", &bad);
  rec->allow_guests = opt_bool(result, "allow_guests", false, &bad);
  rec->locked = opt_bool(result, "locked", false, &bad);
  rec->guests_cannot_present = !opt_bool(result, "guests_can_present", true, &bad);
  if (local_alias && *local_alias)
    rec->aliases[rec->n_aliases++] = xstrdup(local_alias);
  /* Pexip's rules where the store's are stricter: guests without a host PIN are
   * everyone a host (nobody can tell them apart); a guest PIN without guests is
   * unused. */
  if (rec->allow_guests && !rec->pin) {
    rec->allow_guests = false;
    snprintf(out->why, sizeof out->why, "allow_guests without a pin: everyone is a host");
  }
  if (!rec->allow_guests && rec->guest_pin) {
    free(rec->guest_pin);
    rec->guest_pin = NULL;
  }
  if (test_call) { /* a test call takes no PIN or lock */
    free(rec->pin);
    free(rec->guest_pin);
    rec->pin = rec->guest_pin = NULL;
    rec->locked = rec->allow_guests = false;
  }
  char err[160];
  out->invalid = true;
  if (bad) {
    snprintf(out->why, sizeof out->why, "a field has the wrong type");
  } else if (!name) {
    snprintf(out->why, sizeof out->why, "no \"name\"");
  } else if (room_record_validate(rec, err, sizeof err) != 0) {
    snprintf(out->why, sizeof out->why, "%s", err);
  } else {
    out->verdict = POLICY_USE;
    out->invalid = false;
    out->rec = rec;
    json_decref(root);
    return;
  }
  room_record_free(rec);
  json_decref(root);
}

void policy_parse_participant(const char *body, size_t len, policy_participant *out) {
  memset(out, 0, sizeof *out);
  out->bypass_lock = -1;
  json_t *root = envelope(body, len, out->why, sizeof out->why);
  out->invalid = !root;
  if (!root)
    return;
  const json_t *result = json_object_get(root, "result");
  bool bad = false;
  if (action_is(root, "reject")) {
    out->verdict = POLICY_REJECT;
    if (json_is_object(result))
      copy_field(out->reject_reason, sizeof out->reject_reason,
                 opt_string(result, "reject_reason", &bad));
    json_decref(root);
    return;
  }
  if (!json_is_object(result)) {
    out->invalid = true;
    snprintf(out->why, sizeof out->why, "no result object");
    json_decref(root);
    return;
  }
  const char *role = opt_string(result, "preauthenticated_role", &bad);
  if (role && strcmp(role, "chair") == 0)
    out->role = POLICY_ROLE_HOST;
  else if (role && strcmp(role, "guest") == 0)
    out->role = POLICY_ROLE_GUEST;
  else if (role)
    bad = true;
  if (json_object_get(result, "bypass_lock") &&
      !json_is_null(json_object_get(result, "bypass_lock")))
    out->bypass_lock = opt_bool(result, "bypass_lock", false, &bad) ? 1 : 0;
  const char *name = opt_string(result, "remote_display_name", &bad);
  const char *tag = opt_string(result, "call_tag", &bad);
  if ((name && strlen(name) >= sizeof out->display_name) ||
      (tag && strlen(tag) >= sizeof out->call_tag))
    bad = true;
  if (bad) {
    out->role = POLICY_ROLE_KEEP;
    out->bypass_lock = -1;
    out->invalid = true;
    snprintf(out->why, sizeof out->why, "a field has the wrong type or size");
  } else {
    copy_field(out->display_name, sizeof out->display_name, name);
    copy_field(out->call_tag, sizeof out->call_tag, tag);
    out->verdict = POLICY_USE;
  }
  json_decref(root);
}

static bool add_overflow(policy_location *out, const json_t *v) {
  const char *s = json_string_value(v);
  if (!s || !*s || strlen(s) >= sizeof out->overflow[0])
    return false;
  if (out->n_overflow < sizeof out->overflow / sizeof out->overflow[0])
    copy_field(out->overflow[out->n_overflow++], sizeof out->overflow[0], s);
  return true;
}

void policy_parse_location(const char *body, size_t len, policy_location *out) {
  memset(out, 0, sizeof *out);
  json_t *root = envelope(body, len, out->why, sizeof out->why);
  out->invalid = !root;
  if (!root)
    return;
  const json_t *result = json_object_get(root, "result");
  bool bad = false;
  const char *loc = json_is_object(result) ? opt_string(result, "location", &bad) : NULL;
  if (!loc || bad || strlen(loc) >= sizeof out->location) {
    out->invalid = true;
    snprintf(out->why, sizeof out->why, "no usable \"location\"");
    json_decref(root);
    return;
  }
  copy_field(out->location, sizeof out->location, loc);
  const json_t *list = json_object_get(result, "overflow_locations");
  size_t i;
  const json_t *v;
  if (json_is_array(list)) {
    json_array_foreach(list, i, v) {
      if (!add_overflow(out, v))
        break;
    }
  }
  for (int k = 0; k < 2; k++) { /* the older two-field form */
    v = json_object_get(result,
                        k ? "secondary_overflow_location" : "primary_overflow_location");
    if (json_is_string(v))
      add_overflow(out, v);
  }
  out->verdict = POLICY_USE;
  json_decref(root);
}

bool policy_is_jpeg(const void *data, size_t len) {
  const unsigned char *b = data;
  return len >= 4 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}
