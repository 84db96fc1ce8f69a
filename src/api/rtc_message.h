/* rtc_message — the /api/rtc/v1 envelope (docs/PUBSUB.md): one JSON text frame parsed
 * and checked into a typed request, and replies and events built. Pure; fuzzed. */
#ifndef PARLEY_RTC_MESSAGE_H
#define PARLEY_RTC_MESSAGE_H

#include "core/refusal.h"
#include "pubsub/ps_errors.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_MAX_FRAME (64 * 1024)   /* larger: the socket closes with 1009 */
#define RTC_MAX_PAYLOAD (16 * 1024) /* a data op's payload, encoded */
#define RTC_MAX_META (4 * 1024)     /* a join's meta, encoded */
#define RTC_MAX_NAME 128
#define RTC_MAX_FEED_IDS 32 /* per subscribe / unsubscribe */
#define RTC_MAX_MIDS 2      /* per publish: one audio and one video m-line */
#define RTC_MAX_REC_IDS 32  /* per record_stop */
#define RTC_MAX_URL 2048    /* record_start's upload_url and webhook_url */
#define RTC_MAX_ID_VALUE 9007199254740991.0 /* 2^53-1: what JavaScript counts exactly */

typedef enum {
  RTC_OP_PING,
  RTC_OP_JOIN,
  RTC_OP_PUBLISH,
  RTC_OP_UNPUBLISH,
  RTC_OP_PUBLISH_UPDATE,
  RTC_OP_SUBSCRIBE,
  RTC_OP_UNSUBSCRIBE,
  RTC_OP_ANSWER,
  RTC_OP_LAYER,
  RTC_OP_TRICKLE,
  RTC_OP_ICE_RESTART,
  RTC_OP_DATA,
  RTC_OP_RESUME,
  RTC_OP_LEAVE,
  RTC_OP_RECORD_START,
  RTC_OP_RECORD_STOP,
} rtc_op;

/* Why a frame was refused: why.code is a PS_E_*; the reply names id when it had one. */
typedef struct {
  refusal why;
  bool has_id;
  uint64_t id;
} rtc_error;

/* A parsed request. Strings and JSON values point into root and live as long as it;
 * an optional field absent (or null) is NULL, -1 for numbers. */
typedef struct {
  rtc_op op;
  uint64_t id;
  json_t *root;
  const char *sid, *uid, *name, *key, *jwt, *session_token; /* join, resume */
  const json_t *meta;                                       /* join: any JSON */
  const char *sdp;                                          /* publish(_update), answer */
  const char *feed_type; /* publish: "video" | "screen" | "audio" */
  const char *mids[RTC_MAX_MIDS];
  int n_mids;
  const char *feed_id;                    /* unpublish, layer */
  const char *feed_ids[RTC_MAX_FEED_IDS]; /* record_start: 0 = every feed */
  int n_feed_ids;
  const char *upload_url, *webhook_url; /* record_start */
  const char *rec_ids[RTC_MAX_REC_IDS]; /* record_stop: 0 = every recording */
  int n_rec_ids;
  int width, height, paused; /* layer: -1 absent; paused 0/1 */
  const char *pc;            /* trickle, ice_restart: "pub" | "sub" */
  const char *candidate;     /* trickle: "" ends candidates */
  const char *to;            /* data: a uid, NULL for all others */
  const json_t *payload;     /* data */
  size_t payload_len;        /* its encoded size */
} rtc_request;

/* 0 and a request to free with rtc_message_free, or -1 with err filled. */
int rtc_message_parse(const char *text, size_t len, rtc_request *out, rtc_error *err);
void rtc_message_free(rtc_request *r);
const char *rtc_op_name(rtc_op op);
/* Whether s is a valid sid / uid / feed_id (1..PS_MAX_ID of [A-Za-z0-9_.:-]). */
bool rtc_message_id_ok(const char *s);
/* The HTTP class of a PS_E_* code (400 for an unknown one). */
int rtc_message_status(const char *code);

/* Outgoing frames as malloc'd text. data is stolen; NULL sends {}. */
char *rtc_message_reply(uint64_t id, json_t *data);
char *rtc_message_error(bool has_id, uint64_t id, const char *code, const char *message);
char *rtc_message_event(const char *ev, json_t *data);

#endif
