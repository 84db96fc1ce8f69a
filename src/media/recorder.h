/* recorder — one recording on a media loop: depacketised Opus and VP8/VP9/H.264 frames
 * written as WebM/Matroska as media arrives, finalised or recovered after a crash. */
#ifndef PARLEY_RECORDER_H
#define PARLEY_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef enum {
  REC_CODEC_NONE,
  REC_CODEC_OPUS,
  REC_CODEC_VP8,
  REC_CODEC_VP9,
  REC_CODEC_H264
} rec_codec;
typedef struct {
  rec_codec audio;      /* REC_CODEC_OPUS or REC_CODEC_NONE */
  rec_codec video;      /* VP8/VP9/H264 or NONE */
  uint32_t audio_clock; /* 48000 */
  uint32_t video_clock; /* 90000 */
  int audio_channels;   /* 2 for WebRTC Opus */
} recorder_tracks;
typedef struct {
  bool ok;
  char error[160]; /* why, when !ok */
  uint64_t size_bytes, duration_ms;
  int64_t first_frame_unix_ms; /* wall clock when the first frame was written */
  int64_t stopped_unix_ms;
} recorder_result;
typedef struct {
  void (*on_started)(void *ud, int64_t first_frame_unix_ms); /* first frame written */
  void (*on_keyframe_needed)(
      void *ud); /* please send a PLI upstream (caller rate-limits) */
  void (*on_closed)(void *ud,
                    const recorder_result *res); /* finalised, or failed; the recorder is
                                                    freed after this returns */
} recorder_callbacks;
typedef struct recorder recorder;
/* Starts a recording into path (created; must not exist). Never blocks: file I/O goes
 * through libuv's threadpool on `loop`. A failure to create/write is reported through
 * on_closed with ok=false; never NULL (core/mem.h).
 * Callbacks are never called from inside recorder_* calls: always later, on the loop.
 * After on_closed (success or failure) the recorder is gone: do not call
 * recorder_on_rtp, recorder_on_sender_report or recorder_close with it again. */
recorder *recorder_open(uv_loop_t *loop, const char *path, const recorder_tracks *tracks,
                        recorder_callbacks cb, void *ud);
/* A plain RTP packet of the audio (video=false) or video track, header included (may have
 * header extensions, padding, CSRCs). Out-of-order, lost, duplicated packets all happen.
 */
void recorder_on_rtp(recorder *r, bool video, const uint8_t *pkt, size_t len);
/* An RTCP sender report for that track: maps RTP time to NTP (wall) time for A/V
 * alignment. */
void recorder_on_sender_report(recorder *r, bool video, uint64_t ntp, uint32_t rtp_ts);
/* Stops: finalises the file asynchronously, then calls on_closed on the loop. */
void recorder_close(recorder *r);
/* Finalises in place a file a crashed recorder left unfinished (blocking; call it from a
 * threadpool or at start-up). Keeps every complete frame; 0 on success. */
int recording_recover(const char *path, recorder_result *out);

/* Counters for logs and metrics. */
typedef struct {
  uint64_t packets[2], lost[2], frames[2], frames_dropped[2]; /* [0] audio, [1] video */
  uint64_t bytes_queued, clusters, keyframe_requests;
} recorder_stats;
recorder_stats recorder_get_stats(const recorder *r);

#endif
