/* rtm_internal — what the RTM core's files (sessions, recordings) share with each
 * other and nobody else. */
#ifndef PARLEY_RTM_INTERNAL_H
#define PARLEY_RTM_INTERNAL_H

#include "core/hmap.h"
#include "delivery/recording_journal.h"
#include "rtm/rtm.h"

#define RTM_MAX_SUPERVISORS 3
/* Upload and webhook URLs: longer ones are refused, never cut. */
#define RTM_MAX_URL RECORDING_JOURNAL_MAX_URL

typedef struct rtm_recording rtm_recording;

struct rtm_core {
  uv_loop_t *loop;
  store *st;
  media_engine *media;
  outbox *ob;
  rtm_config cfg;
  char recordings_dir[512];
  hmap *sessions;   /* session id -> rtm_session */
  hmap *by_call;    /* media call uuid -> rtm_session */
  hmap *live;       /* "cid\nclient_id" -> the agent session in SETUP or ACTIVE */
  hmap *recordings; /* rec id -> rtm_recording, from start until its file is closed */
  hmap *reserved;   /* "cid" and "cid\nclient_id" -> rtm_tally of INIT reservations */
  rtm_counters counters;
  uv_timer_t sweep;
  bool shutting_down;
  uint64_t shutdown_deadline;
  void (*shutdown_done)(void *ud);
  void *shutdown_ud;
};

struct rtm_session {
  rtm_core *core;
  char id[40];
  char client_id[128];
  char live_key[200];
  rtm_identity who;
  bool supervisor;
  rtm_state state;
  bool reserved; /* an INIT reservation counted in core->reserved */
  const char *cause;
  media_call media;
  bool media_added;
  char webhook_url[RTM_MAX_URL];
  int64_t started_unix_ms, stopped_unix_ms;
  uint64_t created_ms, setup_ms, last_ping_ms, shutdown_ms;
  rtm_link link;
  void *link_ud;
  rtm_recording *recording; /* open: not yet closed */
  rtm_session *agent;
  rtm_session *supervisors[RTM_MAX_SUPERVISORS];
  int n_supervisors;
  unsigned candidates;
};

/* rtm_session.c */
void rtm_send(rtm_session *s, const char *type, json_t *data);
void rtm_terminate(rtm_session *s, const char *cause);
/* The session's last open recording is closed: SHUTDOWN can complete. */
void rtm_session_recording_closed(rtm_session *s);
int64_t rtm_wall_ms(void);

/* rtm_reserve.c: counts s (an INIT reservation, its who and client_id set) against
 * its client's and account's limits, or refuses it (429, RTM_E_TOO_MANY). */
bool rtm_reservation_take(rtm_core *core, rtm_session *s, refusal *why);
/* s is claimed or dropped: it no longer counts. */
void rtm_reservation_release(rtm_session *s);
void rtm_reservations_free(rtm_core *core);

/* rtm_recording.c */
/* An upload or webhook URL a client gave: refused (INVALID_URL) when too long or when
 * the outbox would never deliver to it. */
bool rtm_check_url(rtm_core *core, bool webhook, const char *url, refusal *why);
void rtm_recording_on_started(rtm_core *core, const media_event *ev);
void rtm_recording_on_closed(rtm_core *core, const media_event *ev);
/* Its session stops waiting for it: the close is still journaled and uploaded. */
void rtm_recording_forget_session(rtm_recording *r);

#endif
