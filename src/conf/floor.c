/* floor — who presents: one presenter at a time; taking the floor from someone
 * tells them by presentation_start, as the client API's presenters expect (§D.3). */
#include "conf/call.h"
#include "conf/internal.h"

#include "core/log.h"

refusal conf_take_floor(participant *actor, participant *target) {
  if (actor != target)
    return refusal_of(403, "Only the participant itself can take the floor");
  if (actor->waiting)
    return refusal_of(403, "Not admitted to the conference yet");
  room *r = actor->room;
  if (actor->role == ROLE_GUEST && !r->guests_can_present)
    return refusal_of(403, "Guests cannot present in this conference");
  if (r->presenter == actor)
    return REFUSAL_NONE;
  participant *previous = r->presenter;
  conf_slides_clear(r); /* a new presenter starts with no slide */
  if (previous) {
    previous->presenting = false;
    room_emit_participant_update(previous);
  }
  r->presenter = actor;
  actor->presenting = true;
  room_emit_participant_update(actor);
  /* The previous presenter's separate presentation call ends (client API §D.3 B). */
  if (previous)
    conf_calls_end_presenting(previous, "Presentation taken by another participant");
  /* Never to the presenter itself: the JS client would stop its own share. */
  room_emit(r, "presentation_start", conf_presentation_start_json(actor), NULL, actor);
  log_info("conf", "floor room=%s presenter=%s", r->cfg->aliases[0], actor->uuid);
  return REFUSAL_NONE;
}

refusal conf_release_floor(participant *actor, participant *target) {
  if (!participant_may_control(actor, target))
    return refusal_of(403, "Only a host can do that");
  room *r = target->room;
  if (r->presenter != target)
    return REFUSAL_NONE;
  r->presenter = NULL;
  conf_slides_clear(r);
  target->presenting = false;
  room_emit_participant_update(target);
  room_emit(r, "presentation_stop", NULL, NULL, target);
  return REFUSAL_NONE;
}
