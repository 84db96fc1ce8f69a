/* ps_session — publish/subscribe sessions as the core sees them (no HTTP here): the
 * registry cid → sid → uid → feed_id, join / leave / resume, data between
 * participants, and events to each participant through the ps_link its WebSocket
 * implements (as rtm_link does for RTM). docs/PUBSUB.md is the protocol. */
#ifndef PARLEY_PS_SESSION_H
#define PARLEY_PS_SESSION_H

#include "auth/credentials.h"
#include "core/refusal.h"
#include "pubsub/ps_errors.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct ps_core ps_core;
typedef struct ps_session ps_session;
typedef struct ps_participant ps_participant;

/* How a participant reaches its client; the API layer's WebSocket implements it. */
typedef struct {
  /* One event {ev, data} to the client; data is stolen. */
  void (*event)(void *ud, const char *ev, json_t *data);
  /* The participant forgets this link (it resumed on another socket, or the server is
   * shutting down): no more events; the socket should close with code and reason. */
  void (*detached)(void *ud, int code, const char *reason);
  /* Optional (NULL: nothing): the publish connection ended on the media side (ICE
   * consent lost, DTLS failed) and its feeds were removed. A WHIP participant, which has
   * no other way back, leaves here: the callback may call ps_leave. */
  void (*publish_ended)(void *ud, const char *why);
} ps_link;

typedef struct {
  int resume_s;         /* a participant whose link dropped is kept this long */
  int max_participants; /* per session */
  int max_per_account;  /* participants of one account, all sessions (kept ones too) */
  int max_feeds;        /* per participant */
  int data_per_s;       /* data ops per participant per second */
} ps_config;

typedef struct {
  size_t sessions, participants, feeds; /* now */
  uint64_t sessions_started, joins, resumes, data_sent, data_limited;
} ps_counters;

ps_core *ps_core_new(uv_loop_t *loop, const ps_config *cfg);
/* Detaches every link (1001) and frees every session; the loop must still run so the
 * core's timer can close. */
void ps_core_free(ps_core *core);
void ps_core_counters(const ps_core *core, ps_counters *out);

/* join: the session (cid of who, sid) is created on its first join. uid NULL: one is
 * made. On success *out is the participant and *reply the join reply's data (cid, sid,
 * uid, session_token, participants, feeds; the caller adds ice_servers). Refusals:
 * FORBIDDEN (the credential's sid or uid differ), ALREADY_JOINED (uid live or kept for
 * resume), LIMIT (session or account full). */
int ps_join(ps_core *core, const pubsub_identity *who, const char *sid, const char *uid,
            const char *name, const json_t *meta, ps_link link, void *link_ud,
            ps_participant **out, json_t **reply, refusal *why);
/* resume: the participant kept since its link dropped (or still linked: the old link
 * is detached) takes this link; NOT_FOUND when there is none with that sid, uid and
 * token (past the resume time, or never). *reply as for join. */
int ps_resume(ps_core *core, const char *sid, const char *uid, const char *token,
              ps_link link, void *link_ud, ps_participant **out, json_t **reply,
              refusal *why);
/* leave: the participant goes now; the others hear publisher_left for each of its
 * feeds and participant_left. The session ends when it was the last. */
void ps_leave(ps_participant *p);
/* The link is gone without a leave: the participant is kept for resume_s (others
 * notice nothing), then leaves. */
void ps_link_lost(ps_participant *p);

/* data: payload to uid `to` (NULL: every other participant) as event data {from,
 * payload}. LIMIT past data_per_s, NOT_FOUND for an unknown `to`. */
int ps_data(ps_participant *p, const char *to, const json_t *payload, refusal *why);

const char *ps_participant_uid(const ps_participant *p);
const char *ps_participant_cid(const ps_participant *p);
const char *ps_participant_sid(const ps_participant *p);
const pubsub_identity *ps_participant_identity(const ps_participant *p);

#endif
