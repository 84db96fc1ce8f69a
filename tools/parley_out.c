/* parley_out — the CLI's roster and its human or JSON lines. */
#include "parley_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void emit(json_t *obj) { /* one JSON object per line, flushed */
  char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
  if (s) {
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
  }
  fflush(stdout);
  json_decref(obj);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

static const char *str(json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

static const char *role_word(json_t *p) {
  return strcmp(str(p, "role"), "chair") == 0 ? "host" : "guest";
}

void out_init(out_state *o, bool json, const char *self_uuid) {
  memset(o, 0, sizeof *o);
  o->json = json;
  o->roster = json_object();
  snprintf(o->self, sizeof o->self, "%s", self_uuid ? self_uuid : "");
}

void out_free(out_state *o) {
  json_decref(o->roster);
  json_decref(o->sync);
  json_decref(o->conf);
  o->roster = o->sync = o->conf = NULL;
}

void out_joined(out_state *o, const char *alias, const char *target, json_t *token,
                size_t tried, double elapsed_ms) {
  const char *service = str(token, "current_service_type");
  o->waiting = strcmp(service, "waiting_room") == 0;
  if (o->json) {
    emit(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:f}", "type", "joined",
                   "alias", alias, "target", target, "participant_uuid",
                   str(token, "participant_uuid"), "display_name",
                   str(token, "display_name"), "role", str(token, "role"), "service_type",
                   service, "targets_tried", (json_int_t)tried, "elapsed_ms",
                   elapsed_ms));
    if (o->waiting)
      emit(json_pack("{s:s}", "type", "waiting"));
    return;
  }
  say("joined %s via %s as %s (%s)", alias, target, str(token, "display_name"),
      strcmp(str(token, "role"), "HOST") == 0 ? "host" : "guest");
  if (o->waiting)
    say("waiting: the conference is locked; a host must let you in");
}

static void print_participant_line(json_t *p) {
  const char *service = str(p, "service_type");
  say("  %s (%s%s%s) %s", str(p, "display_name"), role_word(p),
      strcmp(service, "waiting_room") == 0 ? ", waiting" : "",
      strcmp(str(p, "is_muted"), "YES") == 0 ? ", muted" : "", str(p, "uuid"));
}

void out_roster(out_state *o, json_t *list) {
  json_t *arr = list ? json_incref(list) : json_array();
  if (!list) {
    const char *k;
    json_t *v;
    json_object_foreach(o->roster, k, v) json_array_append(arr, v);
  }
  if (o->json) {
    emit(json_pack("{s:s, s:O}", "type", "roster", "participants", arr));
  } else {
    say("roster: %zu participant%s", json_array_size(arr),
        json_array_size(arr) == 1 ? "" : "s");
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p) print_participant_line(p);
  }
  json_decref(arr);
}

static void joined_line(out_state *o, json_t *p) {
  if (o->json)
    emit(json_pack("{s:s, s:O}", "type", "participant_joined", "participant", p));
  else
    say("+ %s joined (%s%s)", str(p, "display_name"), role_word(p),
        strcmp(str(p, "service_type"), "waiting_room") == 0 ? ", waiting" : "");
}

static void left_line(out_state *o, json_t *p) {
  if (o->json)
    emit(json_pack("{s:s, s:O}", "type", "participant_left", "participant", p));
  else
    say("- %s left", str(p, "display_name"));
}

/* What changed between two versions of a participant, as words and as key names. */
static void updated_line(out_state *o, json_t *old, json_t *p) {
  static const char *const keys[] = {"display_name", "role",           "service_type",
                                     "is_muted",     "is_presenting",  "buzz_time",
                                     "spotlight",    "is_video_muted", "is_client_muted"};
  json_t *changed = json_array();
  char words[512] = "";
  size_t wl = 0;
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    json_t *a = json_object_get(old, keys[i]), *b = json_object_get(p, keys[i]);
    if (json_equal(a, b) || (!a && !b))
      continue;
    json_array_append_new(changed, json_string(keys[i]));
    const char *w = NULL;
    char buf[160];
    if (strcmp(keys[i], "is_muted") == 0)
      w = strcmp(str(p, "is_muted"), "YES") == 0 ? "muted" : "unmuted";
    else if (strcmp(keys[i], "role") == 0)
      w = strcmp(str(p, "role"), "chair") == 0 ? "now host" : "now guest";
    else if (strcmp(keys[i], "service_type") == 0)
      w = strcmp(str(p, "service_type"), "waiting_room") == 0     ? "waiting"
          : strcmp(str(old, "service_type"), "waiting_room") == 0 ? "admitted"
                                                                  : NULL;
    else if (strcmp(keys[i], "buzz_time") == 0)
      w = json_number_value(b) > 0 ? "raised a hand" : "lowered the hand";
    else if (strcmp(keys[i], "is_presenting") == 0)
      w = strcmp(str(p, "is_presenting"), "YES") == 0 ? "presenting"
                                                      : "stopped presenting";
    else if (strcmp(keys[i], "display_name") == 0) {
      snprintf(buf, sizeof buf, "renamed from %s", str(old, "display_name"));
      w = buf;
    }
    if (w) {
      int n = snprintf(words + wl, sizeof words - wl, "%s%s", wl ? ", " : "", w);
      if (n > 0 && (size_t)n < sizeof words - wl)
        wl += (size_t)n;
    }
  }
  if (json_array_size(changed) == 0) {
    json_decref(changed);
    return;
  }
  if (o->json)
    emit(json_pack("{s:s, s:O, s:o}", "type", "participant_updated", "participant", p,
                   "changed", changed));
  else {
    json_decref(changed);
    if (wl)
      say("~ %s: %s", str(p, "display_name"), words);
  }
}

static void self_update(out_state *o, json_t *p) {
  bool waiting = strcmp(str(p, "service_type"), "waiting_room") == 0;
  if (o->waiting && !waiting) {
    o->waiting = false;
    if (o->json)
      emit(json_pack("{s:s}", "type", "admitted"));
    else
      say("admitted: you are in the conference");
  }
}

static void conference_line(out_state *o, json_t *c) {
  if (o->json) {
    json_t *e = json_deep_copy(c);
    if (!json_is_object(e)) {
      json_decref(e);
      e = json_object();
    }
    json_object_set_new(e, "type", json_string("conference"));
    emit(e);
  } else {
    static const char *const flags[][3] = {
        {"locked", "conference locked", "conference unlocked"},
        {"guests_muted", "guests muted", "guests unmuted"}};
    for (size_t i = 0; i < 2; i++) {
      json_t *now = json_object_get(c, flags[i][0]);
      json_t *was = o->conf ? json_object_get(o->conf, flags[i][0]) : NULL;
      if (!json_is_boolean(now) || (was && json_equal(now, was)))
        continue;
      if (!was && !json_is_true(now))
        continue; /* the first state: only what is on is news */
      say("* %s", json_is_true(now) ? flags[i][1] : flags[i][2]);
    }
  }
  json_decref(o->conf);
  o->conf = json_incref(c);
}

void out_event(out_state *o, const char *name, json_t *data) {
  if (strcmp(name, "participant_sync_begin") == 0) {
    json_decref(o->sync);
    o->sync = json_object();
  } else if (strcmp(name, "participant_sync_end") == 0) {
    if (!o->sync)
      return;
    if (!o->synced_once) {
      json_decref(o->roster);
      o->roster = o->sync;
      o->sync = NULL;
      o->synced_once = true;
      out_roster(o, NULL);
      return;
    }
    /* A reopened stream: what differs from the roster we had. */
    const char *k;
    json_t *v;
    json_object_foreach(o->roster, k, v) if (!json_object_get(o->sync, k))
        left_line(o, v);
    json_object_foreach(o->sync, k, v) {
      json_t *old = json_object_get(o->roster, k);
      if (!old)
        joined_line(o, v);
      else
        updated_line(o, old, v);
    }
    json_decref(o->roster);
    o->roster = o->sync;
    o->sync = NULL;
  } else if (strcmp(name, "participant_create") == 0 ||
             strcmp(name, "participant_update") == 0) {
    const char *uuid = str(data, "uuid");
    if (!uuid[0])
      return;
    if (o->sync) {
      json_object_set(o->sync, uuid, data);
      return;
    }
    json_t *old = json_object_get(o->roster, uuid);
    if (old) {
      json_incref(old);
      updated_line(o, old, data);
      json_decref(old);
    } else {
      joined_line(o, data);
    }
    json_object_set(o->roster, uuid, data);
    if (strcmp(uuid, o->self) == 0)
      self_update(o, data);
  } else if (strcmp(name, "participant_delete") == 0) {
    const char *uuid = str(data, "uuid");
    json_t *old = json_object_get(o->roster, uuid);
    if (old) {
      left_line(o, old);
      json_object_del(o->roster, uuid);
    }
  } else if (strcmp(name, "message_received") == 0) {
    bool direct = json_is_true(json_object_get(data, "direct"));
    if (o->json)
      emit(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "type", "chat", "origin",
                     str(data, "origin"), "uuid", str(data, "uuid"), "content_type",
                     str(data, "type"), "payload", str(data, "payload"), "direct",
                     direct));
    else
      say("<%s>%s %s", str(data, "origin"), direct ? " (direct)" : "",
          str(data, "payload"));
  } else if (strcmp(name, "conference_update") == 0) {
    conference_line(o, data);
  } else if (strcmp(name, "presentation_start") == 0) {
    if (o->json)
      emit(json_pack("{s:s, s:O}", "type", "presentation_start", "data", data));
    else if (str(data, "presenter_name")[0])
      say("* %s is presenting", str(data, "presenter_name"));
  } else if (strcmp(name, "presentation_stop") == 0) {
    if (o->json)
      emit(json_pack("{s:s}", "type", "presentation_stop"));
    else
      say("* presentation stopped");
  } else if (o->json && strcmp(name, "stage") != 0 && strcmp(name, "layout") != 0) {
    emit(json_pack("{s:s, s:s, s:O}", "type", "event", "event", name, "data", data));
  }
}

void out_result(out_state *o, const char *command, bool ok, const char *message) {
  if (o->json) {
    json_t *e = json_pack("{s:s, s:s, s:b}", "type", ok ? "result" : "error", "command",
                          command, "ok", ok);
    if (message && *message)
      json_object_set_new(e, "message", json_string(message));
    emit(e);
  } else if (ok) {
    say("ok: %s%s%s", command, message && *message ? ": " : "", message ? message : "");
  } else {
    say("error: %s: %s", command, message ? message : "failed");
  }
}

void out_fatal(out_state *o, const char *message) {
  if (o && o->json)
    emit(json_pack("{s:s, s:b, s:s}", "type", "error", "fatal", 1, "message", message));
  fprintf(stderr, "parley: %s\n", message);
  fflush(stderr);
}

const char *out_find(out_state *o, json_t *list, const char *who, char *err, size_t n) {
  json_t *arr = list;
  bool own = false;
  if (!arr) {
    arr = json_array();
    own = true;
    const char *k;
    json_t *v;
    json_object_foreach(o->roster, k, v) json_array_append(arr, v);
  }
  const char *found = NULL;
  size_t matches = 0, i;
  json_t *p;
  json_array_foreach(arr, i, p) {
    if (strcmp(str(p, "uuid"), who) == 0) {
      found = json_string_value(json_object_get(p, "uuid"));
      matches = 1;
      break;
    }
  }
  if (!found) {
    json_array_foreach(arr, i, p) {
      if (strcmp(str(p, "display_name"), who) == 0) {
        found = json_string_value(json_object_get(p, "uuid"));
        matches++;
      }
    }
  }
  if (matches != 1) {
    if (matches)
      snprintf(err, n, "%zu participants are named \"%s\"; give the uuid", matches, who);
    else
      snprintf(err, n, "no participant \"%s\" in the roster", who);
    found = NULL;
  }
  /* The string lives in o->roster or the caller's list, not in arr itself. */
  if (own)
    json_decref(arr);
  return found;
}
