/* video_slots — a publisher's video to its subscribers, as both routers send it (the
 * conference's tile slots, the pub/sub feed router's subscribe m-lines): per receiver
 * slot a source and a simulcast layer chosen for its size within the downlink estimate
 * (tiles.c, session_bwe.c), switched on keyframes with sequence numbers and timestamps
 * running on, a new receiver's keyframe replayed from the cache, keyframe requests, and
 * each publisher's watch list of the slots it feeds. */
#ifndef PARLEY_VIDEO_SLOTS_H
#define PARLEY_VIDEO_SLOTS_H

#include "media/session.h"

#define VIDEO_SLOTS_LAYER_INTERVAL_MS 500 /* bitrates measured, layers chosen again */

/* A subscriber's slot: whose stream it shows (from), whose it is to show (want),
 * switched on want's keyframe at want_layer; sequence numbers and timestamps run on
 * across switches (rw). A conference's single-video call has one slot, a multistream
 * call one per video m-line, a pub/sub subscribe call one per m-line. */
typedef struct video_slot {
  media_session *from, *want;
  int8_t src;               /* the source's stream: STREAM_VIDEO, _SLIDES (or _AUDIO) */
  int8_t out;               /* rx sends on: -1 its STREAM_VIDEO, k its slot_out[k] */
  int8_t layer, want_layer; /* simulcast layer of from / of want; -1 none yet */
  bool paused;              /* not shown, or no room in the budget: nothing sent */
  bool pausable;            /* the budget may pause it (not a conference's first) */
  uint16_t hint_w, hint_h;  /* the size it is drawn at; w 0: not shown */
  uint64_t up_since_ms;     /* a higher layer has been wanted since then */
  bool draining; /* going down for lack of bandwidth: the old layer is no longer sent */
  uint64_t short_since_ms; /* the estimate has not carried even its lowest layer since */
  rtp_renumber rn;         /* what it sends runs on across switches of source and layer */
  media_session *told_from; /* what the last parley_streams mapping said */
  char told_layer;
} video_slot;

/* An entry of a publisher's watch list: a receiver slot that shows it, or will. */
typedef struct video_watch {
  media_session *rx;
  uint8_t slot;
} video_watch;

/* A fresh slot (random starting numbers, no layer). */
void video_slot_init(video_slot *sl, int8_t src, int8_t out);
session_stream *video_slot_out(media_session *rx, const video_slot *sl);

/* rx can be sent media: DTLS done and a path selected (see video_slots.c). */
bool video_slots_ready(media_session *rx);
/* A slot waiting for a source or layer (switched to on its next keyframe). */
bool video_slot_pending(const video_slot *sl);
/* Layers, watch lists, keyframe requests and mappings after a decision, for every
 * receiver of sessions[0..n). */
void video_slots_settle(media_session **sessions, size_t n, uint64_t now);
/* A receiver's multistream mapping (MEDIA_EVENT_STREAMS), conference calls only. */
void video_slots_report(media_session *rx, bool force);
/* A receiver's sources asked for keyframes at once (before it is ready). */
void video_slots_prefetch(media_session *rx, uint64_t now);
/* rx just became ready: recent keyframes replayed, the others asked for. */
void video_slots_first_ready(media_session *rx, uint64_t now);
/* A received video packet of s (stream st, layer) after counting: kept for NACKs,
 * keyframes noted, forwarded to its watchers. True when a layer's size changed (the
 * layers are to be chosen again). */
bool video_slots_on_video(media_session *s, session_stream *st, int layer,
                          const uint8_t *pkt, size_t len, const rtp_header *h, bool first,
                          uint64_t now);
/* A subscriber's PLI/FIR (or unmendable NACK) on slot sl: to its source's layer. */
void video_slot_keyframe_request(video_slot *sl, uint64_t now);
/* Each video layer's bitrate over the last interval. */
void video_slots_read_meters(media_session *s, uint64_t elapsed_ms);
/* The source's video stream has sent within a second (or has not started yet). */
bool video_slots_flowing(session_stream *st, uint64_t now);
/* gone leaves: the slots of sessions[0..n) that show it forget it. */
void video_slots_forget(media_session **sessions, size_t n, media_session *gone);

#endif
