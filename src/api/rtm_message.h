/* rtm_message — the RTM envelope: one JSON text frame parsed and checked into a typed
 * message, and replies built the same way. Pure (no I/O); fuzzed in fuzz/. */
#ifndef PARLEY_RTM_MESSAGE_H
#define PARLEY_RTM_MESSAGE_H

#include "core/refusal.h"
#include "rtm/rtm_errors.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define RTM_MAX_MESSAGE (256 * 1024)

typedef enum {
  RTM_SESSION_START,
  RTM_SUPERVISOR_JOIN,
  RTM_SDP_UPDATE,
  RTM_CANDIDATE,
  RTM_RECORDING_START,
  RTM_RECORDING_STOP,
  RTM_SESSION_STOP,
  RTM_PING,
} rtm_type;

/* Why a frame was refused: why.code is one of the RTM_E_* strings (rtm/rtm_errors.h). */
typedef struct {
  refusal why;
  char ref_type[40]; /* the frame's type when it had a readable one */
} rtm_error;

/* A parsed frame. The strings point into root and live as long as it. */
typedef struct {
  rtm_type type;
  json_t *root;
  const char *client_id, *session_id; /* NULL when absent */
  const char *sdp_type, *sdp;         /* session_start, supervisor join, sdp_update */
  const char *webhook_url, *upload_url;
  const char *monitor_session_id; /* supervisor_join_session */
  const char *candidate, *sdp_mid, *ufrag;
  int mline_index; /* -1 when absent */
} rtm_message;

/* 0 and a message to free with rtm_message_free, or -1 with err filled. */
int rtm_message_parse(const char *text, size_t len, rtm_message *out, rtm_error *err);
void rtm_message_free(rtm_message *m);
const char *rtm_type_name(rtm_type t);

/* One outgoing frame as text (malloc'd); data is stolen, NULL sends {}. */
char *rtm_message_build(const char *type, const char *client_id, const char *session_id,
                        json_t *data);

#endif
