/* join — request_token's decision: reception routing, PIN checks and throttling,
 * the participant's role, and whether it waits (lock, or a lecture without host). */
#include "conf/internal.h"

#include "core/log.h"

#include <stdint.h>
#include <string.h>

typedef enum { PIN_HOST, PIN_GUEST, PIN_PROMPT, PIN_WRONG } pin_verdict;

static bool pin_matches(const char *given, const char *pin) {
  return pin && ids_secret_equal(given, strlen(given), pin, strlen(pin));
}

/* Client API §F: no host PIN means everyone is a host; "none" (or a blank PIN)
 * means "join as guest" where the guest PIN is not required. */
static pin_verdict check_pin(const room_record *rec, const char *given) {
  if (!rec->pin)
    return PIN_HOST;
  if (!given)
    return PIN_PROMPT;
  bool blank = !*given || strcmp(given, "none") == 0;
  if (!blank && pin_matches(given, rec->pin))
    return PIN_HOST;
  if (rec->allow_guests && !rec->guest_pin && blank)
    return PIN_GUEST;
  if (!blank && rec->allow_guests && pin_matches(given, rec->guest_pin))
    return PIN_GUEST;
  return blank ? PIN_PROMPT : PIN_WRONG;
}

static bool must_wait(const room *r, conf_role role, bool policy_bypass) {
  bool bypasses_lock = policy_bypass || (role == ROLE_HOST && r->cfg->pin);
  if (r->locked && !bypasses_lock)
    return true;
  return r->cfg->lecture && !r->started && role == ROLE_GUEST;
}

/* A host arriving starts a lecture: everyone the lock does not hold comes in. */
static void start_if_host(room *r, const participant *p) {
  if (!r->cfg->lecture || r->started || p->role != ROLE_HOST || p->waiting)
    return;
  r->started = true;
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &r->participants) {
    participant *w = list_entry(pos, participant, link);
    if (w->waiting && !r->locked)
      room_admit(w);
  }
  room_emit_conference_update(r);
}

/* A test call's room is private: it never fills. */
static bool room_full(conf_core *core, const room_record *rec) {
  if (rec->test_call)
    return false;
  const room *r = room_find(core, rec);
  return r && r->n_participants >= (size_t)core->cfg->max_participants;
}

void conf_join_admit(conf_core *core, const room_record *rec, const join_request *req,
                     conf_role role, join_result *res) {
  memset(res, 0, sizeof *res);
  /* Every participant is in each stream's snapshot: the bound keeps one room's
   * snapshot (~1 KB a participant) and its fan-out finite. */
  if (room_full(core, rec)) {
    res->outcome = JOIN_FULL;
    return;
  }
  room *r = room_enter(core, rec);
  participant *p = participant_new(r, req, role);
  p->waiting = must_wait(r, role, req->bypass_lock);
  if (role == ROLE_GUEST && r->guests_muted)
    p->muted = p->muted_by_host = true;
  room_add_participant(r, p);
  hmap_put(core->participants, p->uuid, IDS_UUID_LEN, p);
  token_issue(core, p, res->token);
  core->counters.joins++;
  room_emit_text(r, "participant_create", participant_json_text(p), NULL, p);
  start_if_host(r, p);
  room_check_hosts(r);
  room_emit_stage_and_layout(r);
  res->outcome = JOIN_OK;
  res->p = p;
  log_info("conf", "join room=%s participant=%s name=\"%s\" role=%s waiting=%d",
           rec->aliases[0], p->uuid, p->display_name,
           role == ROLE_HOST ? "host" : "guest", p->waiting);
}

static const room_record *route_reception(conf_core *core, const room_record *rec,
                                          const join_request *req, join_result *res) {
  if (!rec->reception)
    return rec;
  if (!req->conference_extension || !*req->conference_extension) {
    res->outcome = JOIN_EXTENSION_PROMPT;
    return NULL;
  }
  const room_record *target = directory_lookup(core, req->conference_extension);
  if (!target || target->reception) {
    res->outcome = JOIN_NOT_FOUND;
    return NULL;
  }
  return target;
}

/* Wrong PINs are counted per room: a store room by its id, an ad-hoc room (a policy
 * server's, no id yet) by its name, hashed (FNV-1a) below every id in use. */
static int64_t guard_key(const room_record *rec) {
  if (!rec->adhoc)
    return rec->id;
  uint64_t h = 1469598103934665603u;
  for (const char *s = rec->name ? rec->name : ""; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211u;
  return INT64_MIN / 2 - (int64_t)(h >> 8);
}

void conf_join_decide(conf_core *core, const room_record *rec, const join_request *req,
                      join_result *res, bool *admit, conf_role *role,
                      const room_record **target) {
  memset(res, 0, sizeof *res);
  *admit = false;
  *role = ROLE_GUEST;
  rec = route_reception(core, rec, req, res);
  *target = rec;
  if (!rec)
    return;
  const char *addr = req->remote_addr ? req->remote_addr : "";
  int64_t guard_id = guard_key(rec);
  pin_guard_verdict guard =
      rec->pin ? pin_guard_check(core, guard_id, addr, &res->retry_after_s)
               : PIN_GUARD_TRY;
  if (guard != PIN_GUARD_TRY) {
    core->counters.pin_lockouts++;
    res->outcome = guard == PIN_GUARD_WAIT ? JOIN_PIN_WAIT : JOIN_PIN_RETRIES;
    return;
  }
  pin_verdict verdict = check_pin(rec, req->pin);
  switch (verdict) {
  case PIN_PROMPT:
    res->outcome = JOIN_PIN_PROMPT;
    res->host_pin_required = true;
    res->guest_pin_required = !rec->allow_guests || rec->guest_pin;
    return;
  case PIN_WRONG:
    pin_guard_failure(core, guard_id, addr);
    log_info("conf", "wrong PIN for room %s from %s", rec->aliases[0], addr);
    res->outcome = JOIN_INVALID_PIN;
    return;
  case PIN_HOST:
  case PIN_GUEST:
    *admit = true;
    *role = verdict == PIN_HOST ? ROLE_HOST : ROLE_GUEST;
    return;
  }
}

void conf_join(conf_core *core, const join_request *req, join_result *res) {
  memset(res, 0, sizeof *res);
  const room_record *rec = conf_find_alias(core, req->alias);
  if (!rec) {
    res->outcome = JOIN_NOT_FOUND;
    return;
  }
  bool admit;
  conf_role role;
  conf_join_decide(core, rec, req, res, &admit, &role, &rec);
  if (admit)
    conf_join_admit(core, rec, req, role, res);
}

participant *conf_authenticate(conf_core *core, const char *alias, const char *token) {
  participant *p = token_resolve(core, token);
  if (!p || p->leaving)
    return NULL;
  if (strcmp(alias, p->joined_alias) == 0)
    return p;
  for (size_t i = 0; i < p->room->cfg->n_aliases; i++)
    if (strcmp(alias, p->room->cfg->aliases[i]) == 0)
      return p;
  return NULL;
}
