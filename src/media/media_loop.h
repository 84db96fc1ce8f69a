/* media_loop — one media loop: its own thread and libuv loop with one UDP port and the
 * calls placed on it. The engine (engine.c) owns the loops and places calls. */
#ifndef PARLEY_MEDIA_LOOP_H
#define PARLEY_MEDIA_LOOP_H

#include "media/engine.h"
#include "rtc/dtls.h"

typedef struct media_loop media_loop;

/* Binds the port (errors are reported here, not later) and starts the thread; events
 * are delivered on control_loop. shared_dtls is shared by every loop (read-only once
 * made). NULL with err on failure. */
media_loop *media_loop_start(uv_loop_t *control_loop, const media_config *cfg, int port,
                             dtls_context *shared_dtls, media_event_cb cb, void *ud,
                             char *err, size_t errlen);
/* Tells the loop to close every call, then joins its thread. */
void media_loop_stop(media_loop *l);
int media_loop_port(const media_loop *l);

/* Commands (control loop side). The call is copied. */
void media_loop_add_call(media_loop *l, const media_call *call);
void media_loop_update_call(media_loop *l, const media_call *call);
void media_loop_remove_call(media_loop *l, const char *call_uuid);
void media_loop_send_dtmf(media_loop *l, const char *call_uuid, const char *digits);
void media_loop_start_recording(media_loop *l, const char *call_uuid, const char *rec_id,
                                const char *path);
void media_loop_stop_recording(media_loop *l, const char *call_uuid);
void media_loop_start_feed_recording(media_loop *l, const char *call_uuid,
                                     const char *rec_id, const char *path,
                                     int audio_stream, int video_stream);
void media_loop_stop_feed_recording(media_loop *l, const char *call_uuid,
                                    const char *rec_id);
void media_loop_set_prefs(media_loop *l, const media_call *call);
void media_loop_set_hints(media_loop *l, const media_call *call);
/* Media loop side: hands an event to the control loop (routers use it for events that
 * outlive their session, such as a recording closing); `loop` is a session's engine. */
void media_loop_post(void *loop, const media_event *ev);
/* A snapshot, at most a second old. */
void media_loop_stats(media_loop *l, media_stats *out);
/* The calls' estimates in the same snapshot; up to max, returns how many. */
size_t media_loop_estimates(media_loop *l, media_estimate *out, size_t max);

#endif
