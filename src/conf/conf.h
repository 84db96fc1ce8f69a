/* conf — the conference core's interface: join and leave, tokens, event subscription
 * and conference control. It knows nothing of HTTP; src/api translates to and from it. */
#ifndef PARLEY_CONF_H
#define PARLEY_CONF_H

#include "conf/types.h"
#include "core/refusal.h"

#include <jansson.h>

/* Operations answer with a refusal (core/refusal.h): status 0 when done, otherwise
 * the HTTP-like class of failure (400, 403, 404, 409, 429) and a message clients can
 * show. */

conf_core *conf_create(uv_loop_t *loop, const config *cfg, struct store *st);
/* Every participant gets a disconnect event with reason; rooms empty. */
void conf_shutdown(conf_core *core, const char *reason);
void conf_destroy(conf_core *core);

/* The room record for an alias, re-read from the store if it changed. */
const room_record *conf_find_alias(conf_core *core, const char *alias);

/* For cluster mode (src/cluster via parleyd.c); room_key is a room's first alias. */
bool conf_room_active(conf_core *core, const char *room_key); /* has participants */
unsigned conf_participant_count(const conf_core *core);
/* Every participant of the room gets a disconnect event with reason and leaves. */
void conf_end_room(conf_core *core, const char *room_key, const char *reason);

/* Cluster mode: tokens issued from now on carry a MAC over (room key, participant
 * uuid, expiry) with key (auth/cluster_auth.h), so any node can check them. */
void conf_set_token_key(conf_core *core, const uint8_t *key, size_t len);
/* Longest token conf hands out, NUL included (a single node's are IDS_TOKEN_LEN). */
#define CONF_TOKEN_MAX 192

typedef enum {
  JOIN_OK,
  JOIN_PIN_PROMPT,
  JOIN_EXTENSION_PROMPT,
  JOIN_INVALID_PIN,
  JOIN_PIN_RETRIES,
  JOIN_PIN_WAIT, /* this source guessed wrong in a room under guessing pressure */
  JOIN_NOT_FOUND,
  JOIN_FULL, /* the room holds --max-participants */
} join_outcome;

typedef struct {
  const char *alias;
  const char *display_name;
  const char *call_tag;             /* may be NULL */
  const char *pin;                  /* the pin header, NULL if absent */
  const char *conference_extension; /* may be NULL */
  const char *vendor;               /* may be NULL */
  const char *remote_addr;
  bool supports_direct_chat;
  const char *uuid; /* the participant's uuid chosen beforehand (a policy server was
                       told it), or NULL for a new one */
  bool bypass_lock; /* a policy server let this participant past a lock */
} join_request;

typedef struct {
  join_outcome outcome;
  participant *p;
  char token[CONF_TOKEN_MAX];
  bool host_pin_required, guest_pin_required; /* for JOIN_PIN_PROMPT */
  uint32_t retry_after_s;                     /* for JOIN_PIN_WAIT */
} join_result;

void conf_join(conf_core *core, const join_request *req, join_result *res);

/* conf_join in two halves, for a join that asks a policy server in between (src/api
 * policy_join.c). decide: rec is the room the alias names (from the store, or an
 * ad-hoc record from the policy server, rec->adhoc); a reception routes to its target.
 * Fills res unless the PIN let the caller in; then *admit is true with *role, and
 * *target the record to enter (rec or the reception's target, valid until the store is
 * read again: copy it). admit: enters rec with role and fills res. */
void conf_join_decide(conf_core *core, const room_record *rec, const join_request *req,
                      join_result *res, bool *admit, conf_role *role,
                      const room_record **target);
void conf_join_admit(conf_core *core, const room_record *rec, const join_request *req,
                     conf_role role, join_result *res);
/* Ad-hoc rooms (made from a policy server's answers) with people in them. */
size_t conf_adhoc_rooms(const conf_core *core);

/* The participant a token belongs to, if the token is live and alias names the
 * participant's room (or the reception it came through); else NULL. */
participant *conf_authenticate(conf_core *core, const char *alias, const char *token);
/* Issues a new token; the old ones stay valid until their own expiry. */
void conf_refresh_token(participant *p, char out[CONF_TOKEN_MAX]);
participant *conf_find_participant(room *r, const char *uuid);
/* Removes p from its room, telling its own streams why and everyone else
 * participant_delete. */
void conf_leave(participant *p, const char *reason);

/* Adds sink to p's streams; refused (429) when p already holds --max-streams.
 * Then conf_send_snapshot sends it the roster snapshot every stream starts with. */
refusal conf_subscribe(participant *p, event_sink *sink);
void conf_send_snapshot(event_sink *sink);
void conf_unsubscribe(event_sink *sink);
void conf_event_release(conf_event *ev);

/* JSON views (new references). */
json_t *conf_participant_json(const participant *p);
json_t *conf_room_status_json(const room *r);
/* What viewer may see: a waiting participant sees only itself. */
json_t *conf_room_participants_json(const room *r, const participant *viewer);
const char *conf_service_type(const participant *p);
/* A participant may act on itself; a host (not waiting) on anyone. */
bool conf_may_act_on(const participant *actor, const participant *target);
int conf_token_lifetime(const conf_core *core);

/* Conference control; actor is the participant whose token made the request. */
refusal conf_set_locked(participant *actor, bool locked);
refusal conf_start(participant *actor);
refusal conf_mute_guests(participant *actor, bool muted);
refusal conf_set_guests_can_unmute(participant *actor, bool setting);
refusal conf_end_for_all(participant *actor);
refusal conf_chat(participant *actor, participant *target, const char *type,
                  const char *payload);
refusal conf_set_muted(participant *actor, participant *target, bool muted);
refusal conf_set_client_muted(participant *actor, participant *target, bool muted);
refusal conf_set_video_muted(participant *actor, participant *target, bool muted);
refusal conf_set_spotlight(participant *actor, participant *target, bool on);
refusal conf_set_role(participant *actor, participant *target, const char *role);
refusal conf_disconnect(participant *actor, participant *target);
refusal conf_set_buzz(participant *actor, participant *target, bool raised);
refusal conf_clear_all_buzz(participant *actor);
refusal conf_set_overlay_text(participant *actor, participant *target, const char *text);
refusal conf_admit(participant *actor, participant *target);
refusal conf_set_rx_presentation(participant *actor, participant *target, bool allow);
refusal conf_dtmf(participant *actor, participant *target, const char *digits);
refusal conf_take_floor(participant *actor, participant *target);
refusal conf_release_floor(participant *actor, participant *target);
refusal conf_transform_layout(participant *actor, json_t *transforms);
/* Image slides: the floor holder posts a JPEG or PNG frame; a viewer fetches the
 * latest by its id (0: whatever is latest). */
refusal conf_slide_post(participant *actor, const char *data, size_t len,
                        const char *type);
bool conf_slide_get(const room *r, uint64_t id, const char **data, size_t *len,
                    const char **type);
/* The layouts transform_layout accepts. */
const char *const *conf_layouts(size_t *count);

#endif
