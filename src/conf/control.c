/* control — conference control (client API §B.1/§B.2): lock, admission, mutes,
 * chat, spotlight, roles, hands, floor and layout, each emitting its events. */
#include "conf/internal.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static const refusal HOST_ONLY = {.status = 403, .message = "Only a host can do that"};
static const refusal NOT_ADMITTED = {.status = 403,
                                     .message = "Not admitted to the conference yet"};

static bool is_host(const participant *p) { return p->role == ROLE_HOST && !p->waiting; }

#define REQUIRE_HOST(actor)                                                              \
  do {                                                                                   \
    if (!is_host(actor))                                                                 \
      return (actor)->waiting ? NOT_ADMITTED : HOST_ONLY;                                \
  } while (0)
#define REQUIRE_SELF_OR_HOST(actor, target)                                              \
  do {                                                                                   \
    if (!participant_may_control(actor, target))                                         \
      return (actor)->waiting ? NOT_ADMITTED : HOST_ONLY;                                \
  } while (0)

refusal conf_set_locked(participant *actor, bool locked) {
  REQUIRE_HOST(actor);
  room *r = actor->room;
  r->locked = locked;
  if (!locked) {
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->participants) {
      participant *p = list_entry(pos, participant, link);
      if (p->waiting && (r->started || p->role == ROLE_HOST))
        room_admit(p);
    }
  }
  room_emit_conference_update(r);
  return REFUSAL_NONE;
}

refusal conf_start(participant *actor) {
  REQUIRE_HOST(actor);
  room *r = actor->room;
  if (!r->started) {
    r->started = true;
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->participants) {
      participant *p = list_entry(pos, participant, link);
      if (p->waiting && !r->locked)
        room_admit(p);
    }
    room_emit_conference_update(r);
  }
  return REFUSAL_NONE;
}

refusal conf_mute_guests(participant *actor, bool muted) {
  REQUIRE_HOST(actor);
  room *r = actor->room;
  r->guests_muted = muted;
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &r->participants) {
    participant *p = list_entry(pos, participant, link);
    if (p->role != ROLE_GUEST || (p->muted == muted))
      continue;
    if (!muted && !p->muted_by_host)
      continue; /* a guest who muted itself stays muted */
    p->muted = muted;
    p->muted_by_host = muted;
    room_emit_participant_update(p);
  }
  room_emit_conference_update(r);
  return REFUSAL_NONE;
}

refusal conf_set_guests_can_unmute(participant *actor, bool setting) {
  REQUIRE_HOST(actor);
  actor->room->guests_can_unmute = setting;
  room_emit_conference_update(actor->room);
  return REFUSAL_NONE;
}

refusal conf_end_for_all(participant *actor) {
  REQUIRE_HOST(actor);
  room *r = actor->room;
  log_info("conf", "room %s ended by %s", r->cfg->aliases[0], actor->uuid);
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &r->participants) conf_leave(
      list_entry(pos, participant, link), "Conference terminated by another participant");
  return REFUSAL_NONE;
}

static bool chat_type_ok(const char *type) {
  static const char *const allowed[] = {"text/plain", "application/json"};
  for (size_t i = 0; i < 2; i++) {
    size_t n = strlen(allowed[i]);
    if (strncmp(type, allowed[i], n) == 0 && (type[n] == '\0' || type[n] == ';'))
      return true;
  }
  return false;
}

/* A token bucket per participant: --chat-rate messages a second after a burst of
 * --chat-burst (default 5/s, 10), so one participant cannot flood every stream of
 * the room (each message is one event to each of them). */
static bool chat_allowed(participant *p) {
  const config *cfg = p->room->core->cfg;
  if (cfg->chat_rate <= 0)
    return true;
  uint64_t now = uv_now(p->room->core->loop);
  p->chat_tokens += (double)(now - p->chat_refill_ms) * cfg->chat_rate / 1000.0;
  if (p->chat_tokens > cfg->chat_burst)
    p->chat_tokens = cfg->chat_burst;
  p->chat_refill_ms = now;
  if (p->chat_tokens < 1)
    return false;
  p->chat_tokens -= 1;
  return true;
}

refusal conf_chat(participant *actor, participant *target, const char *type,
                  const char *payload) {
  if (actor->waiting)
    return NOT_ADMITTED;
  if (target && target->waiting) /* the waiting room gets no chat (§F) */
    return refusal_of(403, "That participant is not admitted yet");
  if (!chat_type_ok(type))
    return refusal_of(400, "type must be text/plain or application/json");
  if (!chat_allowed(actor))
    return refusal_of(429, "Too many chat messages: slow down");
  json_t *msg =
      json_pack("{s:s, s:s, s:s, s:s, s:b}", "origin", actor->display_name, "uuid",
                actor->uuid, "type", type, "payload", payload, "direct", target != NULL);
  if (target)
    room_emit(actor->room, "message_received", msg, target, NULL);
  else
    room_emit(actor->room, "message_received", msg, NULL, actor);
  return REFUSAL_NONE;
}

refusal conf_set_muted(participant *actor, participant *target, bool muted) {
  REQUIRE_SELF_OR_HOST(actor, target);
  if (!muted && !is_host(actor) && target->muted_by_host &&
      !actor->room->guests_can_unmute)
    return refusal_of(403, "Guests cannot unmute themselves in this conference");
  if (target->muted == muted && (muted || !target->muted_by_host))
    return REFUSAL_NONE;
  target->muted = muted;
  target->muted_by_host = muted && actor != target;
  room_emit_participant_update(target);
  room_emit_conference_update(target->room);
  return REFUSAL_NONE;
}

refusal conf_set_client_muted(participant *actor, participant *target, bool muted) {
  if (actor != target)
    return refusal_of(403, "Only the participant itself can set its client mute");
  if (target->client_muted != muted) {
    target->client_muted = muted;
    room_emit_participant_update(target);
  }
  return REFUSAL_NONE;
}

refusal conf_set_video_muted(participant *actor, participant *target, bool muted) {
  REQUIRE_SELF_OR_HOST(actor, target);
  if (target->video_muted != muted) {
    target->video_muted = muted;
    room_emit_participant_update(target);
  }
  return REFUSAL_NONE;
}

refusal conf_set_spotlight(participant *actor, participant *target, bool on) {
  REQUIRE_HOST(actor);
  double value = on ? conf_now_epoch() : 0;
  if ((target->spotlight > 0) != on) {
    target->spotlight = value;
    room_emit_participant_update(target);
    room_emit_stage_and_layout(target->room);
  }
  return REFUSAL_NONE;
}

refusal conf_set_role(participant *actor, participant *target, const char *role) {
  REQUIRE_HOST(actor);
  conf_role want;
  if (strcmp(role, "chair") == 0)
    want = ROLE_HOST;
  else if (strcmp(role, "guest") == 0)
    want = ROLE_GUEST;
  else
    return refusal_of(400, "Invalid role");
  if (target->role != want) {
    target->role = want;
    if (want == ROLE_HOST && target->waiting)
      room_admit(target);
    room_emit_participant_update(target);
    /* Clients learn their own new role from refresh_token's result. */
    room_emit(target->room, "refresh_token", NULL, target, NULL);
    room_check_hosts(target->room);
  }
  return REFUSAL_NONE;
}

refusal conf_disconnect(participant *actor, participant *target) {
  REQUIRE_SELF_OR_HOST(actor, target);
  conf_leave(target, actor == target ? "Call disconnected"
                                     : "Disconnected by another participant");
  return REFUSAL_NONE;
}

refusal conf_set_buzz(participant *actor, participant *target, bool raised) {
  if (raised ? actor != target : !participant_may_control(actor, target))
    return actor->waiting ? NOT_ADMITTED : HOST_ONLY;
  double value = raised ? conf_now_epoch() : 0;
  if ((target->buzz_time > 0) != raised) {
    target->buzz_time = value;
    room_emit_participant_update(target);
  }
  return REFUSAL_NONE;
}

refusal conf_clear_all_buzz(participant *actor) {
  REQUIRE_HOST(actor);
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &actor->room->participants) {
    participant *p = list_entry(pos, participant, link);
    if (p->buzz_time > 0) {
      p->buzz_time = 0;
      room_emit_participant_update(p);
    }
  }
  return REFUSAL_NONE;
}

refusal conf_set_overlay_text(participant *actor, participant *target, const char *text) {
  REQUIRE_SELF_OR_HOST(actor, target);
  free(target->overlay_text);
  target->overlay_text = xstrdup(text);
  room_emit_participant_update(target);
  return REFUSAL_NONE;
}

refusal conf_admit(participant *actor, participant *target) {
  REQUIRE_HOST(actor);
  room_admit(target);
  return REFUSAL_NONE;
}

refusal conf_set_rx_presentation(participant *actor, participant *target, bool allow) {
  REQUIRE_SELF_OR_HOST(actor, target);
  if (target->rx_presentation_denied == allow) {
    target->rx_presentation_denied = !allow;
    room_emit_participant_update(target);
  }
  return REFUSAL_NONE;
}

refusal conf_dtmf(participant *actor, participant *target, const char *digits) {
  REQUIRE_SELF_OR_HOST(actor, target);
  for (const char *c = digits; *c; c++)
    if (!strchr("0123456789*#ABCD", *c))
      return refusal_of(400, "digits may contain only 0-9, *, #, A-D");
  if (!*digits)
    return refusal_of(400, "digits is empty");
  /* Media routes DTMF to calls (RFC 4733) once a participant has one. */
  log_info("conf", "dtmf participant=%s digits=%s by=%s", target->uuid, digits,
           actor->uuid);
  return REFUSAL_NONE;
}
