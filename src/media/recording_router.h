/* recording_router — an RTM session's router on a media loop: the agent's audio and
 * video into its recorder and out, unchanged but rewritten, to up to 3 supervisors. */
#ifndef PARLEY_RECORDING_ROUTER_H
#define PARLEY_RECORDING_ROUTER_H

#include "media/engine.h"
#include "media/recorder.h"
#include "media/session.h"

/* Sets up an agent's streams; returns the sink for its transport. */
transport_sink recording_router_join_agent(media_session *agent);
/* Attaches a supervisor to its agent and asks the agent for a keyframe. NULL sink
 * callbacks are never returned: a full agent is refused by the control loop first. */
transport_sink recording_router_join_supervisor(media_session *sup, media_session *agent);
/* Either role leaves: an agent's recording is closed (finalised off the loop) and its
 * supervisors are detached; a supervisor is taken off its agent. */
void recording_router_leave(media_session *s);
/* Starts recording an agent into path; a recording already open is left alone. */
void recording_router_start(media_session *agent, const char *rec_id, const char *path);
void recording_router_stop(media_session *agent);
/* The file name extension of a recording of a call with this agreement: "mkv" when its
 * video is H.264 (Matroska), else "webm" (Opus with VP8/VP9). RTM and pub/sub alike. */
const char *recording_extension(const sdp_agreement *agreed);
/* What the recorder is to write a video stream as (REC_CODEC_NONE: nothing it records).
 */
rec_codec recording_video_codec(const session_stream *st);
/* MEDIA_EVENT_RECORDING_CLOSED for a closed file (call_uuid and rec_id left to fill). */
media_event recording_closed_event(const recorder_result *res);
/* Periodic work: the no-RTP timeout and keyframe requests for waiting supervisors. */
void recording_router_tick(media_session *s, uint64_t now);

#endif
