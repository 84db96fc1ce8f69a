/* ps_internal — the publish/subscribe core's structures, shared by its files
 * (ps_session.c: registry and life cycle; ps_media.c: feeds and connections). */
#ifndef PARLEY_PS_INTERNAL_H
#define PARLEY_PS_INTERNAL_H

#include "core/hmap.h"
#include "core/ids.h"
#include "core/list.h"
#include "pubsub/ps_media.h"
#include "rtc/sdp_offer.h"

#define PS_KEY_MAX (64 + 1 + PS_MAX_ID + 1)

struct ps_core {
  uv_loop_t *loop;
  ps_config cfg;
  hmap *sessions;   /* "cid\nsid" -> ps_session */
  hmap *by_token;   /* session_token -> ps_participant */
  hmap *accounts;   /* cid -> ps_account, while it has participants */
  hmap *calls;      /* media call uuid -> ps_participant (publish and subscribe calls) */
  list_node kept;   /* participants without a link, oldest first (deadlines ascend) */
  uv_timer_t timer; /* fires at the oldest kept participant's deadline */
  media_engine *media;
  struct ps_recorder *recorder; /* ps_recording.c; NULL without recording */
  ps_counters n;
};

struct ps_session {
  ps_core *core;
  char key[PS_KEY_MAX]; /* "cid\nsid" */
  size_t key_len;
  char cid[64], sid[PS_MAX_ID + 1];
  int64_t room_key;            /* its media calls' placement (a hash of key) */
  hmap *by_uid;                /* uid -> ps_participant */
  hmap *feeds;                 /* feed_id -> ps_feed */
  list_node members;           /* in join order */
  list_node all_feeds;         /* in publish order */
  char speaker[PS_MAX_ID + 1]; /* uid of the active speaker, "" before one */
  size_t n_members;
};

/* One published feed: the publish call's streams that carry it. */
typedef struct ps_feed {
  char id[PS_ID_MAX + 1];
  ps_participant *owner;
  ps_feed_type type;
  int audio_stream, video_stream; /* STREAM_* of media/session.h, -1 none */
  char audio_mid[32], video_mid[32];
  list_node node; /* in the session's all_feeds */
} ps_feed;

/* One server offer of the subscribe connection not answered yet. */
typedef struct ps_offer {
  sdp_offer_track tracks[SDP_MAX_MEDIA];
  media_track media[SDP_MAX_MEDIA];
  char feed_of[SDP_MAX_MEDIA][PS_ID_MAX + 1];
  size_t n;
  char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
  uint32_t version;
  struct ps_offer *next;
} ps_offer;

struct ps_participant {
  ps_session *s;
  list_node node; /* in s->members */
  list_node kept; /* in core->kept while there is no link */
  uint64_t kept_until_ms;
  char uid[PS_MAX_ID + 1];
  char token[IDS_TOKEN_LEN + 1];
  char *name;
  json_t *meta; /* or NULL */
  pubsub_identity who;
  ps_link link;
  void *link_ud; /* NULL: no link (kept for resume) */
  uint64_t data_window_ms;
  int data_in_window;
  /* media (ps_media.c) */
  media_call *pub;   /* the publish connection, NULL before the first publish */
  bool pub_added;    /* the media loop has it */
  ps_feed *feeds[3]; /* by ps_feed_type: one camera, one screen, one microphone */
  media_call *sub;   /* the subscribe connection as last answered, NULL before */
  bool sub_added;
  ps_offer latest;   /* the newest offer made (what the next one builds on) */
  ps_offer *pending; /* offers awaiting answers, oldest first */
  uint64_t offer_session_id;
  uint32_t next_mid;
};

/* ps_session.c */
void ps_emit(ps_participant *p, const char *ev, json_t *data);
void ps_broadcast(ps_session *s, const ps_participant *except, const char *ev,
                  json_t *data);
/* ps_media.c */
json_t *ps_media_feeds_json(const ps_session *s, const ps_participant *except);
/* The participant leaves: its feeds go (publisher_left), its calls end. */
void ps_media_participant_gone(ps_participant *p);

#endif
