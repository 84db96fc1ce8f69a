/* rtm — Realtime Messaging sessions as the core sees them (no HTTP here): the session
 * life cycle and its termination causes, recordings, supervisors, and their webhooks. */
#ifndef PARLEY_RTM_H
#define PARLEY_RTM_H

#include "auth/credentials.h"
#include "core/buf.h"
#include "core/refusal.h"
#include "media/engine.h"
#include "rtm/rtm_errors.h"
#include "store/db.h"

#include <jansson.h>
#include <uv.h>

typedef struct outbox outbox;
typedef struct rtm_core rtm_core;
typedef struct rtm_session rtm_session;

typedef struct {
  int ping_timeout_s;      /* no ping for this long: CONN_ERROR */
  int no_packet_timeout_s; /* ACTIVE without RTP for this long: NO_PACKET_RECEIVED */
  int setup_timeout_s;     /* SETUP that never reaches ACTIVE: PEERCONN_FAILED */
  int max_duration_s;      /* 0: no limit; else MAX_DURATION */
  int reserve_timeout_s;   /* an INIT reservation nobody claims is dropped */
  /* Unclaimed reservations one client, and one account, may hold (0: no limit). */
  int max_reservations_client, max_reservations_account;
  const char *recordings_dir;
} rtm_config;

typedef enum { RTM_INIT, RTM_SETUP, RTM_ACTIVE, RTM_SHUTDOWN, RTM_TERMINATED } rtm_state;

/* How a session reaches its client; the API layer's WebSocket implements it. */
typedef struct {
  /* One message to the client; data is stolen. */
  void (*send)(void *ud, const char *type, const char *session_id, json_t *data);
  /* The session is TERMINATED (for cause) and forgets the link: no more sends. */
  void (*detached)(void *ud, const char *cause);
} rtm_link;

/* A client message is refused with a refusal (core/refusal.h) whose code is an RTM_E_*
 * of rtm/rtm_errors.h: nothing changed (rtm.md "error"). rtm_refuse fills why with the
 * code, its HTTP class and msg, and returns false. */
bool rtm_refuse(refusal *why, const char *code, const char *msg);

rtm_core *rtm_core_new(uv_loop_t *loop, store *st, media_engine *media, outbox *ob,
                       const rtm_config *cfg);
/* Ends every session with SERVICE_SHUTDOWN; done runs once their recordings are
 * closed and handed to the outbox (or after grace_ms). */
void rtm_core_shutdown(rtm_core *core, uint64_t grace_ms, void (*done)(void *ud),
                       void *ud);
void rtm_core_free(rtm_core *core);
/* The media loop's events for RTM calls (others are ignored). */
void rtm_on_media_event(const media_event *ev, void *core);
typedef struct {
  uint64_t sessions_started, recordings_started, recordings_failed;
  size_t sessions, recordings_open; /* now */
} rtm_counters;
void rtm_core_counters(const rtm_core *core, rtm_counters *out);

/* POST /api/rtm/v1/session: reserves a session (INIT) for the identity's client.
 * Refused with 429 (RTM_E_TOO_MANY) past the client's or the account's limit. */
int rtm_reserve(rtm_core *core, const rtm_identity *who, const char *client_id,
                char session_id[40], refusal *why);

/* session_start / supervisor_join_session. On success *out is the new session, which
 * has already sent its state and answer through the link; a session that ends at
 * once (TWO_TIMER, SDP_ERROR, NO_ACTIVE_AGENT, ...) is also returned, terminated. -1
 * only for a refusal that creates nothing. */
int rtm_session_start(rtm_core *core, const rtm_identity *who, const char *client_id,
                      const char *session_id, const char *offer, const char *webhook_url,
                      rtm_link link, void *link_ud, rtm_session **out, refusal *why);
int rtm_supervisor_join(rtm_core *core, const rtm_identity *who, const char *client_id,
                        const char *monitor_session_id, const char *offer,
                        const char *webhook_url, rtm_link link, void *link_ud,
                        rtm_session **out, refusal *why);

const char *rtm_session_id(const rtm_session *s);
const char *rtm_session_client_id(const rtm_session *s);
rtm_state rtm_session_state(const rtm_session *s);
bool rtm_session_is_supervisor(const rtm_session *s);
/* Whether a session of that id (any state, a reservation too) is held here. */
bool rtm_session_known(const rtm_core *core, const char *session_id);
/* Each agent session here that is reserved or live (INIT, SETUP, ACTIVE): its id and
 * its account (cluster mode registers them in Redis, src/api/rtm_cluster.c). */
void rtm_core_each_agent(rtm_core *core,
                         void (*cb)(const char *session_id, const char *cid, void *ud),
                         void *ud);

int rtm_session_offer(rtm_session *s, const char *sdp, refusal *why);
/* Trickled candidates: ICE-lite learns the peer's addresses from its checks, so they
 * are checked for shape and counted, not used. */
int rtm_session_candidate(rtm_session *s, const char *candidate, refusal *why);
int rtm_session_ping(rtm_session *s);
int rtm_recording_start(rtm_session *s, const char *upload_url, const char *webhook_url,
                        refusal *why);
int rtm_recording_stop(rtm_session *s, refusal *why);
/* session_stop: TERM_BY_CLIENT. */
void rtm_session_stop(rtm_session *s);
/* The link is gone: a clean close ends with TERM_BY_CLIENT, any other CONN_ERROR. */
void rtm_session_link_lost(rtm_session *s, bool clean);

const char *rtm_state_name(rtm_state st);

#endif
