/* core — the conference core's life: creation, the housekeeping timer (token and
 * PIN-window expiry, store changes), and shutdown that tells everyone why. */
#include "conf/call.h"
#include "conf/internal.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>

#define HOUSEKEEPING_MS 1000

static void housekeeping(uv_timer_t *t) {
  conf_core *core = t->data;
  token_sweep(core);
  pin_guard_sweep(core, false);
  conf_calls_sweep(core);
  /* Notices rooms removed or changed by parleyctl even when nobody asks. */
  directory_refresh(core);
}

conf_core *conf_create(uv_loop_t *loop, const config *cfg, struct store *st) {
  conf_core *core = xcalloc(1, sizeof *core);
  core->loop = loop;
  core->cfg = cfg;
  core->store = st;
  core->rooms = hmap_new();
  core->participants = hmap_new();
  core->tokens = hmap_new();
  core->pin_failures = hmap_new();
  core->calls = hmap_new();
  core->adhoc_rooms = hmap_new();
  core->adhoc_aliases = hmap_new();
  directory_refresh(core);
  uv_timer_init(loop, &core->housekeeping);
  core->housekeeping.data = core;
  uv_timer_start(&core->housekeeping, housekeeping, HOUSEKEEPING_MS, HOUSEKEEPING_MS);
  uv_unref((uv_handle_t *)&core->housekeeping);
  return core;
}

void conf_shutdown(conf_core *core, const char *reason) {
  core->shutting_down = true;
  uv_timer_stop(&core->housekeeping);
  participant *p;
  size_t pos;
  /* conf_leave changes the map, so restart the scan after each one. */
  while ((pos = 0, p = hmap_next(core->participants, &pos)))
    conf_leave(p, reason);
}

static room *room_of_key(conf_core *core, const char *room_key) {
  const room_record *rec = conf_find_alias(core, room_key);
  if (!rec || rec->test_call)
    return NULL;
  return hmap_get(core->rooms, &rec->id, sizeof rec->id);
}

bool conf_room_active(conf_core *core, const char *room_key) {
  const room *r = room_of_key(core, room_key);
  return r && r->n_participants > 0;
}

unsigned conf_participant_count(const conf_core *core) {
  return (unsigned)hmap_count(core->participants);
}

void conf_end_room(conf_core *core, const char *room_key, const char *reason) {
  room *r = room_of_key(core, room_key);
  if (!r)
    return;
  log_info("conf", "room %s ended here: %s", room_key, reason);
  /* conf_leave of the last participant may free the room: stop at the count. */
  for (size_t n = r->n_participants; n > 0; n--) {
    room *again = room_of_key(core, room_key);
    if (!again || list_empty(&again->participants))
      break;
    conf_leave(list_entry(again->participants.next, participant, link), reason);
  }
}

static void free_core(uv_handle_t *h) {
  conf_core *core = h->data;
  pin_guard_sweep(core, true);
  hmap_free(core->pin_failures);
  hmap_free(core->calls);
  hmap_free(core->tokens);
  hmap_free(core->participants);
  hmap_free(core->rooms);
  hmap_free(core->adhoc_rooms);
  hmap_free(core->adhoc_aliases);
  directory_free(core);
  free(core);
}

void conf_destroy(conf_core *core) {
  conf_shutdown(core, "Signaling node disconnected");
  uv_close((uv_handle_t *)&core->housekeeping, free_core);
}
