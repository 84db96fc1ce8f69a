/* webm — Parley's recording file layout in Matroska terms: the header (EBML header,
 * live Segment, reserved SeekHead, Info, Tracks), clusters of SimpleBlocks, Cues, and
 * the patches that finalise a file. Shared by the recorder and by crash recovery. */
#ifndef PARLEY_WEBM_H
#define PARLEY_WEBM_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBM_AUDIO_TRACK 1
#define WEBM_VIDEO_TRACK 2
#define WEBM_SEEKHEAD_SPACE 128 /* SeekHead (Info, Tracks, Cues) plus Void padding */
#define WEBM_DURATION_SPACE                                                              \
  11 /* Duration element: 2-byte id, 1-byte size, 8-byte float */
/* A block lasts until the next of its track; the last one, or one before a gap, counts
 * for at most this much in the Duration. */
#define WEBM_MAX_FRAME_MS 100
#define WEBM_MAX_CLUSTER (64u << 20) /* recovery refuses larger clusters as corrupt */

/* Matroska element ids used here. */
enum {
  MKV_EBML = 0x1a45dfa3,
  MKV_SEGMENT = 0x18538067,
  MKV_SEEKHEAD = 0x114d9b74,
  MKV_SEEK = 0x4dbb,
  MKV_SEEK_ID = 0x53ab,
  MKV_SEEK_POS = 0x53ac,
  MKV_INFO = 0x1549a966,
  MKV_TIMECODE_SCALE = 0x2ad7b1,
  MKV_DURATION = 0x4489,
  MKV_DATE = 0x4461,
  MKV_MUXING_APP = 0x4d80,
  MKV_WRITING_APP = 0x5741,
  MKV_TRACKS = 0x1654ae6b,
  MKV_TRACK_ENTRY = 0xae,
  MKV_TRACK_NUMBER = 0xd7,
  MKV_TRACK_UID = 0x73c5,
  MKV_TRACK_TYPE = 0x83,
  MKV_CODEC_ID = 0x86,
  MKV_CODEC_PRIVATE = 0x63a2,
  MKV_CODEC_DELAY = 0x56aa,
  MKV_SEEK_PRE_ROLL = 0x56bb,
  MKV_VIDEO = 0xe0,
  MKV_PIXEL_WIDTH = 0xb0,
  MKV_PIXEL_HEIGHT = 0xba,
  MKV_AUDIO = 0xe1,
  MKV_SAMPLING_FREQ = 0xb5,
  MKV_CHANNELS = 0x9f,
  MKV_CLUSTER = 0x1f43b675,
  MKV_TIMECODE = 0xe7,
  MKV_SIMPLE_BLOCK = 0xa3,
  MKV_CUES = 0x1c53bb6b,
  MKV_CUE_POINT = 0xbb,
  MKV_CUE_TIME = 0xb3,
  MKV_CUE_TRACK_POSITIONS = 0xb7,
  MKV_CUE_TRACK = 0xf7,
  MKV_CUE_CLUSTER_POS = 0xf1,
  MKV_VOID = 0xec
};

typedef enum {
  WEBM_VIDEO_NONE,
  WEBM_VIDEO_VP8,
  WEBM_VIDEO_VP9,
  WEBM_VIDEO_H264
} webm_video;

typedef struct {
  bool audio; /* an Opus track */
  int audio_channels;
  int audio_rate; /* 48000 */
  webm_video video;
  int width, height;
  const uint8_t *codec_private; /* H.264: avcC */
  size_t codec_private_len;
  int64_t date_unix_ms; /* DateUTC: when the recording starts */
} webm_tracks;

/* Where the patchable parts of a file are (absolute file offsets). */
typedef struct {
  uint64_t segment_size_at; /* the Segment's 8-byte size field */
  uint64_t segment_data;    /* first byte of the Segment's children */
  uint64_t seekhead_at;     /* WEBM_SEEKHEAD_SPACE bytes: SeekHead + Void */
  uint64_t info_at, tracks_at;
  uint64_t duration_at; /* WEBM_DURATION_SPACE bytes: Void until finalised */
  uint64_t header_end;  /* where the first Cluster goes */
} webm_layout;

typedef struct {
  uint64_t time_ms;
  uint64_t cluster_pos; /* relative to segment_data, as CueClusterPosition is */
} webm_cue;

/* The whole header; fills layout (offsets from 0, the start of the file). */
void webm_write_header(buf *out, const webm_tracks *t, webm_layout *layout);
/* avcC (ISO 14496-15 AVCDecoderConfigurationRecord) from one SPS and one PPS. */
void webm_avcc(buf *out, const uint8_t *sps, size_t sps_len, const uint8_t *pps,
               size_t pps_len);

/* A cluster: begin returns where its 8-byte size is; blocks; end patches the size. */
size_t webm_cluster_begin(buf *b, uint64_t timecode_ms);
void webm_simple_block(buf *b, int track, int16_t rel_ms, bool keyframe,
                       const uint8_t *data, size_t len);
void webm_cluster_end(buf *b, size_t size_at);

/* Finalising: the Cues element (track: which track's cues they are). */
void webm_write_cues(buf *out, const webm_cue *cues, size_t n, int track);
/* The three in-place patches: a SeekHead naming Info, Tracks and Cues (cues_at 0: none),
 * the Duration, and the Segment's size once end (the file's length) is known. */
void webm_seekhead(uint8_t out[WEBM_SEEKHEAD_SPACE], const webm_layout *l,
                   uint64_t cues_at);
void webm_duration(uint8_t out[WEBM_DURATION_SPACE], double duration_ms);
void webm_segment_size(uint8_t out[8], const webm_layout *l, uint64_t end);

#endif
