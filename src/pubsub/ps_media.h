/* ps_media — the media of publish/subscribe sessions on the control loop (issue 15 §2,
 * docs/PUBSUB.md): a participant's publish connection (one MEDIA_PUBSUB_PUB call,
 * answered by negotiate.c) and its feeds, its subscribe connection (one MEDIA_PUBSUB_SUB
 * call, offered by rtc/sdp_offer.c), and the media events that come back. The media
 * loop's side is media/feed_router.c. */
#ifndef PARLEY_PS_MEDIA_H
#define PARLEY_PS_MEDIA_H

#include "core/buf.h"
#include "media/engine.h"
#include "pubsub/ps_session.h"

#ifndef PS_ID_MAX
#define PS_ID_MAX PS_MAX_ID
#endif

typedef enum { PS_FEED_VIDEO, PS_FEED_SCREEN, PS_FEED_AUDIO } ps_feed_type;

/* "video", "screen", "audio" → type; -1 for anything else. */
int ps_feed_type_parse(const char *text);
const char *ps_feed_type_name(ps_feed_type t);

/* The engine calls are placed on (NULL: media ops are refused INTERNAL). */
void ps_core_set_media(ps_core *core, media_engine *engine);

/* The publish connection's whole current offer; mids: the m-lines that make the new feed
 * (n_mids 0: every audio/video m-line not yet in a feed: what WHIP uses). On success the
 * feed id (PS_ID_MAX + 1 bytes) and the SDP answer for the whole connection; everyone in
 * the session hears `publisher`. Refusals: BAD_REQUEST (unusable SDP, unknown mid),
 * LIMIT, FORBIDDEN (can_publish false). */
int ps_publish(ps_participant *p, const char *offer, ps_feed_type type,
               const char *const *mids, size_t n_mids, char *feed_id, buf *answer,
               refusal *why);
/* The feed stops (publisher_left to everyone, an `offer` to each subscriber). */
int ps_unpublish(ps_participant *p, const char *feed_id, refusal *why);
/* A new offer for the publish connection (renegotiation, ICE restart) → answer. */
int ps_publish_update(ps_participant *p, const char *offer, buf *answer, refusal *why);

/* subscribe / unsubscribe / ice_restart {pc: "sub"}: *out is {sdp, tracks} (a new
 * server offer for the subscribe connection). */
int ps_subscribe(ps_participant *p, const char *const *feed_ids, size_t n, json_t **out,
                 refusal *why);
int ps_unsubscribe(ps_participant *p, const char *const *feed_ids, size_t n, json_t **out,
                   refusal *why);
int ps_ice_restart(ps_participant *p, json_t **out, refusal *why);
/* The client's answer to the oldest server offer it has not answered yet. */
int ps_answer(ps_participant *p, const char *sdp, refusal *why);
/* The size a subscriber draws a feed at (paused: not drawn). */
int ps_layer(ps_participant *p, const char *feed_id, int width, int height, bool paused,
             refusal *why);

/* What a feed is on the media side, for recording: the publish call and which of its
 * streams carry the feed (STREAM_AUDIO / STREAM_VIDEO / STREAM_SLIDES of media/session.h,
 * -1 when absent). NOT_FOUND when the session has no such feed. */
typedef struct {
  char call_uuid[40];
  int audio_stream, video_stream;
  char uid[65], type[8];
  char feed_id[PS_ID_MAX + 1];
} ps_feed_media;
int ps_feed_lookup(ps_participant *asker, const char *feed_id, ps_feed_media *out,
                   refusal *why);
/* Feeds of the participant's session, for "record every feed"; returns how many. */
size_t ps_session_feeds(ps_participant *p, ps_feed_media *out, size_t max);

/* Events a participant is owed right after its join or resume reply: the active
 * speaker (`speaker` is sent on changes only). */
void ps_media_greet(ps_participant *p);

/* A media event about a call (parleyd hands every one here): pub/sub calls only. */
void ps_on_media_event(const media_event *ev, void *core);

#endif
