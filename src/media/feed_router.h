/* feed_router — the pub/sub router of one session on a media loop (issue 15,
 * docs/PUBSUB.md): each publish call's feeds go to the subscribe calls whose m-lines
 * carry them — video per subscriber m-line at the simulcast layer its size and downlink
 * need (video_slots.c, as the conference's tiles), audio forwarded unmixed with its SSRC
 * rewritten — keyframe requests and NACKs from subscribers reach the publisher, and the
 * active speaker is followed from RFC 6464 levels. */
#ifndef PARLEY_FEED_ROUTER_H
#define PARLEY_FEED_ROUTER_H

#include "media/session.h"

typedef struct feed_room feed_room;

feed_room *feed_room_new(int64_t key);
void feed_room_free(feed_room *r);
size_t feed_room_size(const feed_room *r);
/* The key's storage, for maps keyed by session. */
const int64_t *feed_room_key(const feed_room *r);

/* A publish (MEDIA_PUBSUB_PUB) or subscribe (MEDIA_PUBSUB_SUB) call joins its
 * session's room; returns the sink for its transport. */
transport_sink feed_router_join(feed_room *r, media_session *s);
void feed_router_leave(feed_room *r, media_session *s);
/* The call's agreement (and a subscribe call's tracks, in s->params) changed. */
void feed_router_update(media_session *s);
/* New sizes of a subscribe call's tracks (call->tracks[i].hint_w/h). */
void feed_router_set_hints(media_session *s, const media_call *call);
/* Every 20 ms: layers, speaker, receiver reports. */
void feed_room_tick(feed_room *r, uint64_t now);

#endif
