/* floor — who presents: one presenter at a time; taking the floor from someone
 * tells them by presentation_start, as the client API's presenters expect (§D.3). */
#include "conf/call.h"
#include "conf/internal.h"

#include "core/log.h"

conf_status conf_take_floor(participant *actor, participant *target) {
  if (actor != target)
    return (conf_status){403, "Only the participant itself can take the floor"};
  if (actor->waiting)
    return (conf_status){403, "Not admitted to the conference yet"};
  room *r = actor->room;
  if (actor->role == ROLE_GUEST && !r->guests_can_present)
    return (conf_status){403, "Guests cannot present in this conference"};
  if (r->presenter == actor)
    return CONF_OK;
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
  return CONF_OK;
}

conf_status conf_release_floor(participant *actor, participant *target) {
  if (!participant_may_control(actor, target))
    return (conf_status){403, "Only a host can do that"};
  room *r = target->room;
  if (r->presenter != target)
    return CONF_OK;
  r->presenter = NULL;
  conf_slides_clear(r);
  target->presenting = false;
  room_emit_participant_update(target);
  room_emit(r, "presentation_stop", NULL, NULL, target);
  return CONF_OK;
}
