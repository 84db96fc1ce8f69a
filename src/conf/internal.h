/* internal — functions the conference core's files share with each other and
 * nobody else: event fan-out, room life cycle, tokens, PIN guard, directory. */
#ifndef PARLEY_CONF_INTERNAL_H
#define PARLEY_CONF_INTERNAL_H

#include "conf/conf.h"

/* event.c: data is stolen (NULL means JSON null). only/except filter recipients. */
void room_emit(room *r, const char *name, json_t *data, const participant *only,
               const participant *except);
void room_emit_participant_update(participant *p);
void room_emit_conference_update(room *r);
void room_emit_stage_and_layout(room *r);
void sink_send(event_sink *sink, room *r, const char *name, json_t *data);
/* Emits already serialised data (copied). */
void room_emit_text(room *r, const char *name, const char *text, const participant *only,
                    const participant *except);
/* p was just admitted: its streams get the whole roster snapshot it did not see. */
void room_send_snapshots(participant *p);
/* Someone joined, left or changed: the shared roster snapshot is rebuilt. */
void room_roster_changed(room *r);
/* The participant object as JSON text, cached until the participant changes. */
const char *participant_json_text(participant *p);

/* room.c */
/* The room rec names, if it has people in it (test calls: never). */
room *room_find(conf_core *core, const room_record *rec);
room *room_enter(conf_core *core, const room_record *rec);
void room_forget_if_empty(room *r);
void room_add_participant(room *r, participant *p);
void room_remove_participant(room *r, participant *p);
void room_admit(participant *p);
void room_check_hosts(room *r);
size_t room_active_hosts(const room *r);
json_t *room_layout_json(const room *r);
json_t *room_stage_json(const room *r);
void room_replace_config(room *r, const room_record *rec);

/* participant.c */
participant *participant_new(room *r, const join_request *req, conf_role role);
void participant_free(participant *p);
bool participant_may_control(const participant *actor, const participant *target);
void participant_arm_lapse(participant *p, uint64_t delay_ms);

/* token.c */
void token_issue(conf_core *core, participant *p, char out[CONF_TOKEN_MAX]);
participant *token_resolve(conf_core *core, const char *token);
void token_revoke_all(conf_core *core, participant *p);
void token_sweep(conf_core *core);

/* pin_guard.c: whether a PIN from addr is looked at now (TRY), after *wait_s
 * seconds (WAIT), or not before this source's window ends (LOCKED). */
typedef enum { PIN_GUARD_TRY, PIN_GUARD_WAIT, PIN_GUARD_LOCKED } pin_guard_verdict;
pin_guard_verdict pin_guard_check(conf_core *core, int64_t room_id, const char *addr,
                                  uint32_t *wait_s);
void pin_guard_failure(conf_core *core, int64_t room_id, const char *addr);
void pin_guard_sweep(conf_core *core, bool all);

/* directory.c */
void directory_refresh(conf_core *core);
/* Without a refresh, so records already in hand stay valid. */
const room_record *directory_lookup(conf_core *core, const char *alias);
void directory_free(conf_core *core);

double conf_now_epoch(void);
/* Drops the image slide (the floor was released or the presenter left). */
void conf_slides_clear(room *r);
/* The media loop says p is the active speaker: the stage follows. */
void conf_on_speaker(participant *p);
json_t *conf_presentation_start_json(const participant *presenter);

#endif
