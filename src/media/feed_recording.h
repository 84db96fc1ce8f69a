/* feed_recording — pub/sub feeds of a publish call, each into its own recorder: the
 * call's feed_tap hands it every received RTP packet; simulcast video records its
 * highest layer. Files are finalised off the loop, events go to the control loop. */
#ifndef PARLEY_FEED_RECORDING_H
#define PARLEY_FEED_RECORDING_H

#include "media/recorder.h"
#include "media/session.h"

/* Records streams audio_stream and video_stream (STREAM_*, -1 when absent) of s into
 * path (a new file) as rec_id: MEDIA_EVENT_RECORDING_STARTED once the first frame is
 * written, MEDIA_EVENT_RECORDING_CLOSED when the file is closed (always, also when it
 * cannot start: a stream already recorded, or none recordable). */
void feed_recording_start(media_session *s, const char *rec_id, const char *path,
                          int audio_stream, int video_stream);
/* Finalises rec_id (NULL: every recording of s); RECORDING_CLOSED follows. */
void feed_recording_stop(media_session *s, const char *rec_id);
/* s goes: its recordings are finalised (they outlive it until closed). */
void feed_recording_leave(media_session *s);
/* Recordings open on this loop (for stats). */
size_t feed_recording_open(void);

#endif
