/* leave — a participant leaving for any reason: its own streams learn why and end,
 * the others see participant_delete, and an empty room is forgotten. */
#include "conf/call.h"
#include "conf/internal.h"

#include "core/log.h"

#include <string.h>

static void finish_sinks(participant *p) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->sinks) {
    event_sink *s = list_entry(pos, event_sink, link);
    conf_unsubscribe(s);
    s->finish(s);
  }
}

void conf_leave(participant *p, const char *reason) {
  if (p->leaving)
    return;
  p->leaving = true;
  room *r = p->room;
  conf_core *core = r->core;
  room_emit(r, "disconnect", json_pack("{s:s}", "reason", reason), p, NULL);
  finish_sinks(p);
  conf_calls_end_all(p, reason);
  bool was_presenting = r->presenter == p;
  room_remove_participant(r, p);
  hmap_remove(core->participants, p->uuid, IDS_UUID_LEN);
  token_revoke_all(core, p);
  core->counters.leaves++;
  log_info("conf", "leave room=%s participant=%s reason=\"%s\"", r->cfg->aliases[0],
           p->uuid, reason);
  if (was_presenting)
    room_emit(r, "presentation_stop", NULL, NULL, NULL);
  room_emit(r, "participant_delete", json_pack("{s:s}", "uuid", p->uuid), NULL, NULL);
  if (r->n_participants > 0) {
    room_emit_stage_and_layout(r);
    room_check_hosts(r);
  }
  participant_free(p);
  room_forget_if_empty(r);
}
