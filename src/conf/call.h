/* call — a participant's WebRTC calls as the conference core sees them: offer in,
 * answer out, commands to the media loop, and the media loop's news turned into events.
 */
#ifndef PARLEY_CALL_H
#define PARLEY_CALL_H

#include "conf/conf.h"
#include "core/buf.h"
#include "media/engine.h"

typedef enum { CALL_MAIN, CALL_PRESENT_SEND, CALL_PRESENT_RECEIVE } call_kind;

typedef struct conf_call {
  char uuid[IDS_UUID_LEN + 1];
  participant *owner;
  list_node link; /* in owner->calls */
  call_kind kind;
  bool connected, acked;
  uint64_t setup_deadline_ms; /* loop time; not connected by then, the call ends */
  bool has_audio, has_video;
  media_call media; /* what the media loop was last told */
  uint64_t dtmf_received;
} conf_call;

/* Lets the core start calls; without an engine, calls answer 503. */
void conf_set_media(conf_core *core, media_engine *engine);

/* Creates a call from an offer. On success *answer holds the SDP answer. A 400
 * status carries the reason the SDP cannot be used. */
refusal conf_call_create(participant *p, const char *sdp, const char *present,
                         conf_call **out, buf *answer);
/* Renegotiation; a changed ice-ufrag is an ICE restart and gets new credentials. */
refusal conf_call_update(conf_call *c, const char *sdp, buf *answer);
conf_call *conf_call_find(participant *p, const char *uuid);
/* Ends a call. server_side: the client did not ask, so it hears call_disconnected. */
void conf_call_end(conf_call *c, const char *reason, bool server_side);
refusal conf_call_dtmf(conf_call *c, const char *digits);
/* A tile size hint (issue 13 §1): the size a client draws the slot on mid at. */
typedef struct {
  const char *mid;
  uint16_t width, height;
} conf_stream_hint;
/* The client's tile sizes for its call's video slots; a slot not named is not shown
 * (width 0). 400 for a mid that is not one of the call's tile slots. */
refusal conf_call_hints(conf_call *c, const conf_stream_hint *hints, size_t n);
/* Ends p's presentation-sending calls: someone else took the floor. */
void conf_calls_end_presenting(participant *p, const char *reason);
/* Every call of a leaving participant. */
void conf_calls_end_all(participant *p, const char *reason);
/* Tells the media loop when a participant's server mute, video mute or spotlight
 * changed, whatever changed it (called for every participant update). */
void conf_calls_sync(participant *p);
/* What the participant object reports (client API §C.4): any call, and whether its
 * main call carries audio only or video. */
void conf_call_flags(const participant *p, bool *has_media, bool *audio_only,
                     bool *video);
/* Ends calls whose media did not connect within --call-setup-timeout (called
 * each second by the housekeeping timer). */
void conf_calls_sweep(conf_core *core);
/* The media loop's events, delivered on the control loop. */
void conf_on_media_event(const media_event *ev, void *core);

#endif
