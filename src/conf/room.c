/* room — a room with people in it: its runtime state, roster, admission from the
 * waiting room, the hosted-conference rules of lecture rooms, and its JSON views. */
#include "conf/internal.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define STAGE_MAX 9 /* speakers listed in stage/layout events */

static bool adhoc_shared(const room_record *rec) { return rec->adhoc && !rec->test_call; }

room *room_find(conf_core *core, const room_record *rec) {
  if (adhoc_shared(rec))
    return rec->name ? hmap_get(core->adhoc_rooms, rec->name, strlen(rec->name)) : NULL;
  return rec->test_call ? NULL : hmap_get(core->rooms, &rec->id, sizeof rec->id);
}

/* An ad-hoc room answers to every alias it was joined through (while it lives). */
static void adhoc_add_aliases(room *r, const room_record *rec) {
  for (size_t i = 0; i < rec->n_aliases; i++) {
    const char *a = rec->aliases[i];
    size_t k = 0;
    while (k < r->cfg->n_aliases && strcmp(r->cfg->aliases[k], a) != 0)
      k++;
    if (k == r->cfg->n_aliases) {
      if (k == ROOM_MAX_ALIASES)
        continue;
      r->cfg->aliases[r->cfg->n_aliases++] = xstrdup(a);
    }
    const char *key = r->cfg->aliases[k];
    room *was = hmap_get(r->core->adhoc_aliases, key, strlen(key));
    if (was == r)
      continue;
    if (was) /* another ad-hoc room had it: the newest answer wins; its key goes too */
      hmap_remove(r->core->adhoc_aliases, key, strlen(key));
    hmap_put(r->core->adhoc_aliases, key, strlen(key), r);
  }
}

static void adhoc_forget(room *r) {
  conf_core *core = r->core;
  const char *name = r->cfg->name;
  if (hmap_get(core->adhoc_rooms, name, strlen(name)) == r)
    hmap_remove(core->adhoc_rooms, name, strlen(name));
  for (size_t i = 0; i < r->cfg->n_aliases; i++) {
    const char *a = r->cfg->aliases[i];
    if (hmap_get(core->adhoc_aliases, a, strlen(a)) == r)
      hmap_remove(core->adhoc_aliases, a, strlen(a));
  }
}

room *room_enter(conf_core *core, const room_record *rec) {
  room *r = room_find(core, rec);
  if (r) {
    if (adhoc_shared(rec))
      adhoc_add_aliases(r, rec);
    return r;
  }
  /* A test call is private, as Pexip's test call service is: each caller gets a
   * room of its own, keyed below zero where no store id lives. An ad-hoc room (a
   * policy server's) is keyed there too, and found by its service name. */
  int64_t key = rec->test_call || rec->adhoc ? --core->last_private_key : rec->id;
  r = xcalloc(1, sizeof *r);
  r->core = core;
  r->cfg = room_record_copy(rec);
  if (rec->adhoc)
    r->cfg->id = key;
  r->key = key;
  r->by_uuid = hmap_new();
  LIST_INIT(&r->participants);
  r->locked = rec->locked;
  r->started = !rec->lecture;
  r->guests_can_unmute = true;
  r->guests_can_present = !rec->guests_cannot_present;
  strcpy(r->layout, "1:0");
  strcpy(r->host_layout, "1:0");
  strcpy(r->guest_layout, "1:0");
  r->overlay_text_enabled = true;
  uv_timer_init(core->loop, &r->guests_only_timer);
  r->guests_only_timer.data = r;
  hmap_put(core->rooms, &r->key, sizeof r->key, r);
  if (adhoc_shared(rec)) {
    hmap_put(core->adhoc_rooms, r->cfg->name, strlen(r->cfg->name), r);
    adhoc_add_aliases(r, r->cfg);
  }
  log_info("conf", "room %s active%s", rec->aliases[0],
           rec->adhoc ? " (ad-hoc, from the policy server)" : "");
  return r;
}

static void free_room(uv_handle_t *h) {
  room *r = h->data;
  conf_slides_clear(r);
  room_roster_changed(r);
  hmap_free(r->by_uuid);
  room_record_free(r->cfg);
  free(r);
}

void room_forget_if_empty(room *r) {
  if (r->n_participants > 0)
    return;
  log_info("conf", "room %s idle", r->cfg->aliases[0]);
  hmap_remove(r->core->rooms, &r->key, sizeof r->key);
  if (adhoc_shared(r->cfg))
    adhoc_forget(r);
  uv_timer_stop(&r->guests_only_timer);
  uv_close((uv_handle_t *)&r->guests_only_timer, free_room);
}

void room_replace_config(room *r, const room_record *rec) {
  room_record *old = r->cfg;
  r->cfg = room_record_copy(rec);
  room_record_free(old);
  r->guests_can_present = !rec->guests_cannot_present; /* parleyctl changed it */
}

static void on_guests_only_timeout(uv_timer_t *t) {
  room *r = t->data;
  if (room_active_hosts(r) > 0)
    return;
  log_info("conf", "room %s: no host came back; ending for guests", r->cfg->aliases[0]);
  r->started = false;
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &r->participants) {
    participant *p = list_entry(pos, participant, link);
    if (p->role == ROLE_GUEST)
      conf_leave(p, "All conference hosts departed hosted conference");
  }
  /* conf_leave may have emptied and freed the room: nothing may touch r now. */
}

size_t room_active_hosts(const room *r) {
  size_t n = 0;
  const list_node *pos;
  for (pos = r->participants.next; pos != &r->participants; pos = pos->next) {
    const participant *p = list_entry(pos, participant, link);
    n += (p->role == ROLE_HOST && !p->waiting);
  }
  return n;
}

/* Lecture rooms are hosted: guests wait for a host, and are sent away a while
 * after the last host leaves (client API §F). */
void room_check_hosts(room *r) {
  if (!r->cfg->lecture)
    return;
  if (room_active_hosts(r) > 0) {
    uv_timer_stop(&r->guests_only_timer);
    return;
  }
  if (r->started && r->n_participants > 0 &&
      !uv_is_active((uv_handle_t *)&r->guests_only_timer))
    uv_timer_start(&r->guests_only_timer, on_guests_only_timeout,
                   (uint64_t)r->core->cfg->guests_only_timeout_s * 1000, 0);
}

void room_add_participant(room *r, participant *p) {
  list_push_back(&r->participants, &p->link);
  hmap_put(r->by_uuid, p->uuid, IDS_UUID_LEN, p);
  r->n_participants++;
  room_roster_changed(r);
}

void conf_on_speaker(participant *p) {
  room *r = p->room;
  p->last_spoken = conf_now_epoch();
  free(p->json_text); /* last_spoken_time changed */
  p->json_text = NULL;
  room_roster_changed(r);
  r->speaker = p;
  room_emit_stage_and_layout(r);
}

void room_remove_participant(room *r, participant *p) {
  if (r->speaker == p)
    r->speaker = NULL;
  list_unlink(&p->link);
  hmap_remove(r->by_uuid, p->uuid, IDS_UUID_LEN);
  r->n_participants--;
  room_roster_changed(r);
  if (r->presenter == p) {
    r->presenter = NULL;
    conf_slides_clear(r);
  }
}

void room_admit(participant *p) {
  if (!p->waiting)
    return;
  p->waiting = false;
  room_emit_participant_update(p);
  room_send_snapshots(p);
  room_check_hosts(p->room);
}

participant *conf_find_participant(room *r, const char *uuid) {
  return hmap_get(r->by_uuid, uuid, strlen(uuid));
}

json_t *conf_room_status_json(const room *r) {
  bool all_muted = r->n_participants > 0;
  const list_node *pos;
  for (pos = r->participants.next; pos != &r->participants; pos = pos->next)
    if (!list_entry(pos, participant, link)->muted)
      all_muted = false;
  return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "locked",
                   r->locked, "guests_muted", r->guests_muted, "started", r->started,
                   "all_muted", all_muted, "presentation_allowed", true, "direct_media",
                   false, "live_captions_available", false, "breakout_rooms", false,
                   "guests_can_unmute", r->guests_can_unmute, "guests_can_present",
                   r->guests_can_present);
}

json_t *conf_room_participants_json(const room *r, const participant *viewer) {
  json_t *a = json_array();
  if (viewer && viewer->waiting) { /* the waiting room sees only itself (§F) */
    json_array_append_new(a, conf_participant_json(viewer));
    return a;
  }
  const list_node *pos;
  for (pos = r->participants.next; pos != &r->participants; pos = pos->next)
    json_array_append_new(a, conf_participant_json(list_entry(pos, participant, link)));
  return a;
}

/* Who is on stage: spotlighted participants by spotlight time, then the others in
 * join order (the voice-activity order replaces join order once media exists). */
static size_t stage_order(const room *r, const participant **out) {
  size_t n = 0;
  const list_node *pos;
  for (pos = r->participants.next; pos != &r->participants; pos = pos->next) {
    const participant *p = list_entry(pos, participant, link);
    if (p->spotlight <= 0 || p->waiting)
      continue;
    size_t i;
    if (n < STAGE_MAX)
      i = n++;
    else if (out[n - 1]->spotlight > p->spotlight)
      i = n - 1;
    else
      continue;
    while (i > 0 && out[i - 1]->spotlight > p->spotlight) {
      out[i] = out[i - 1];
      i--;
    }
    out[i] = p;
  }
  /* Then the others, the most recent speaker first (join order among the rest). */
  size_t first = n;
  for (pos = r->participants.next; pos != &r->participants; pos = pos->next) {
    const participant *p = list_entry(pos, participant, link);
    if (p->spotlight > 0 || p->waiting)
      continue;
    size_t i;
    if (n < STAGE_MAX)
      i = n++;
    else if (out[n - 1]->last_spoken < p->last_spoken)
      i = n - 1;
    else
      continue;
    while (i > first && out[i - 1]->last_spoken < p->last_spoken) {
      out[i] = out[i - 1];
      i--;
    }
    out[i] = p;
  }
  return n;
}

json_t *room_stage_json(const room *r) {
  const participant *order[STAGE_MAX] = {0};
  size_t n = stage_order(r, order);
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_pack("{s:s, s:i, s:i}", "participant_uuid",
                                       order[i]->uuid, "stage_index", (int)i, "vad",
                                       order[i] == r->speaker ? 100 : 0));
  return a;
}

json_t *room_layout_json(const room *r) {
  const participant *order[STAGE_MAX] = {0};
  size_t n = stage_order(r, order);
  json_t *uuids = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(uuids, json_string(order[i]->uuid));
  return json_pack("{s:s, s:o, s:{s:{s:s, s:s}}, s:b, s:n}", "view", r->layout,
                   "participants", uuids, "requested_layout", "primary_screen",
                   "chair_layout", r->host_layout, "guest_layout", r->guest_layout,
                   "overlay_text_enabled", r->overlay_text_enabled, "pres_slot_coords");
}
