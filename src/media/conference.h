/* conference — the conference router of one room on a media loop: everyone's audio
 * through the mixer, the active speaker's video forwarded to everyone else (the speaker
 * sees the previous one) or, to multistream calls, the last N speakers one per tile
 * slot, each at the simulcast layer its tile needs; switched on keyframes, and the
 * speaker and each call's slot mapping reported upward. */
#ifndef PARLEY_CONFERENCE_H
#define PARLEY_CONFERENCE_H

#include "media/session.h"

typedef struct media_room media_room;

media_room *media_room_new(int64_t key);
void media_room_free(media_room *r);
size_t media_room_size(const media_room *r);
/* The key's storage, for maps keyed by room. */
const int64_t *media_room_key(const media_room *r);

/* Adds a session to the room; returns the sink for its transport. */
transport_sink conference_join(media_room *r, media_session *s);
void conference_leave(media_room *r, media_session *s);
/* The session's agreement changed (renegotiation): its slots follow. */
void conference_update(media_session *s);
/* New tile size hints (call->hint_width/height): layers are chosen again. */
void conference_set_hints(media_session *s, const media_call *call);
/* New mute, video mute, spotlight and role (from prefs). */
void conference_set_prefs(media_session *s, const media_call *prefs);
/* Every 20 ms: mixes and sends audio, and follows who speaks. */
void media_room_tick(media_room *r, uint64_t now);

#endif
