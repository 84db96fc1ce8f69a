/* parley_out — what the parley CLI prints: the roster it keeps from the event stream and
 * each change, chat, conference state and command results, as human lines or as one JSON
 * object per line (--json). */
#ifndef PARLEY_OUT_H
#define PARLEY_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  bool json;
  json_t *roster; /* uuid -> participant object */
  json_t *sync;   /* the snapshot being read between participant_sync_begin and _end */
  bool synced_once;
  char self[64];
  bool waiting; /* this participant is held in the waiting room */
  json_t *conf; /* last conference_update */
} out_state;

void out_init(out_state *o, bool json, const char *self_uuid);
void out_free(out_state *o);
/* The token was granted: where, as whom, and whether the conference holds us; how many
 * targets were tried and how long discovery and request_token took (JSON only). */
void out_joined(out_state *o, const char *alias, const char *target, json_t *token,
                size_t tried, double elapsed_ms);
/* One event from the stream; prints what changed. */
void out_event(out_state *o, const char *name, json_t *data);
/* Prints a roster: list (a participants array) or, when NULL, the one kept. */
void out_roster(out_state *o, json_t *list);
void out_result(out_state *o, const char *command, bool ok, const char *message);
/* The one-line reason parley exits with an error: stderr (and stdout as JSON). */
void out_fatal(out_state *o, const char *message);
/* The uuid of the participant named by a uuid or a display name in list (or the kept
 * roster when NULL); NULL with why in err when none or several match. */
const char *out_find(out_state *o, json_t *list, const char *who, char *err, size_t n);

#endif
