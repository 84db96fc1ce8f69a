/* webm — builds the bytes of Parley's recording files: a header written once, clusters
 * with a known size each, and the Cues, SeekHead, Duration and Segment size written last.
 */
#include "media/webm.h"

#include "media/ebml.h"

#include <string.h>

#define NS_PER_MS 1000000ULL
#define OPUS_SEEK_PRE_ROLL_NS 80000000ULL /* WebM: 80 ms for Opus */
#define UNIX_TO_2001_MS 978307200000LL    /* Matroska dates count from 2001-01-01 */

static void ebml_header(buf *b, bool webm) {
  size_t at = ebml_open(b, MKV_EBML);
  ebml_put_uint(b, 0x4286, 1); /* EBMLVersion */
  ebml_put_uint(b, 0x42f7, 1); /* EBMLReadVersion */
  ebml_put_uint(b, 0x42f2, 4); /* EBMLMaxIDLength */
  ebml_put_uint(b, 0x42f3, 8); /* EBMLMaxSizeLength */
  ebml_put_string(b, 0x4282, webm ? "webm" : "matroska");
  ebml_put_uint(b, 0x4287, 4); /* DocTypeVersion */
  ebml_put_uint(b, 0x4285, 2); /* DocTypeReadVersion */
  ebml_close(b, at);
}

static void put_date(buf *b, int64_t unix_ms) {
  int64_t ns = (unix_ms - UNIX_TO_2001_MS) * (int64_t)NS_PER_MS;
  uint8_t v[8];
  for (int i = 0; i < 8; i++)
    v[i] = (uint8_t)((uint64_t)ns >> (8 * (7 - i)));
  ebml_put_binary(b, MKV_DATE, v, 8); /* a date is always 8 bytes */
}

static void info(buf *b, const webm_tracks *t, webm_layout *l) {
  l->info_at = b->len;
  size_t at = ebml_open(b, MKV_INFO);
  ebml_put_uint(b, MKV_TIMECODE_SCALE, NS_PER_MS); /* block timecodes in ms */
  ebml_put_string(b, MKV_MUXING_APP, "parley");
  ebml_put_string(b, MKV_WRITING_APP, "parley");
  put_date(b, t->date_unix_ms);
  l->duration_at = b->len; /* until finalised, a Void of the Duration's size */
  ebml_put_void(b, WEBM_DURATION_SPACE);
  ebml_close(b, at);
}

/* RFC 7845 §5.1 identification header; pre-skip 0 because a recording joins a running
 * encoder, whose start-up samples were never sent to us. */
static void opus_head(buf *b, const webm_tracks *t) {
  uint8_t h[19] = {'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, (uint8_t)t->audio_channels};
  uint32_t rate = (uint32_t)t->audio_rate;
  for (int i = 0; i < 4; i++)
    h[12 + i] = (uint8_t)(rate >> (8 * i));
  ebml_put_binary(b, MKV_CODEC_PRIVATE, h, sizeof h);
}

static void audio_track(buf *b, const webm_tracks *t) {
  size_t at = ebml_open(b, MKV_TRACK_ENTRY);
  ebml_put_uint(b, MKV_TRACK_NUMBER, WEBM_AUDIO_TRACK);
  ebml_put_uint(b, MKV_TRACK_UID, WEBM_AUDIO_TRACK);
  ebml_put_uint(b, MKV_TRACK_TYPE, 2);
  ebml_put_string(b, MKV_CODEC_ID, "A_OPUS");
  opus_head(b, t);
  ebml_put_uint(b, MKV_CODEC_DELAY, 0); /* equals the pre-skip */
  ebml_put_uint(b, MKV_SEEK_PRE_ROLL, OPUS_SEEK_PRE_ROLL_NS);
  size_t a = ebml_open(b, MKV_AUDIO);
  ebml_put_float(b, MKV_SAMPLING_FREQ, t->audio_rate);
  ebml_put_uint(b, MKV_CHANNELS, (uint64_t)t->audio_channels);
  ebml_close(b, a);
  ebml_close(b, at);
}

static void video_track(buf *b, const webm_tracks *t) {
  static const char *const ids[] = {"", "V_VP8", "V_VP9", "V_MPEG4/ISO/AVC"};
  size_t at = ebml_open(b, MKV_TRACK_ENTRY);
  ebml_put_uint(b, MKV_TRACK_NUMBER, WEBM_VIDEO_TRACK);
  ebml_put_uint(b, MKV_TRACK_UID, WEBM_VIDEO_TRACK);
  ebml_put_uint(b, MKV_TRACK_TYPE, 1);
  ebml_put_string(b, MKV_CODEC_ID, ids[t->video]);
  if (t->codec_private_len)
    ebml_put_binary(b, MKV_CODEC_PRIVATE, t->codec_private, t->codec_private_len);
  size_t v = ebml_open(b, MKV_VIDEO);
  ebml_put_uint(b, MKV_PIXEL_WIDTH, (uint64_t)t->width);
  ebml_put_uint(b, MKV_PIXEL_HEIGHT, (uint64_t)t->height);
  ebml_close(b, v);
  ebml_close(b, at);
}

void webm_write_header(buf *out, const webm_tracks *t, webm_layout *l) {
  memset(l, 0, sizeof *l);
  ebml_header(out, t->video != WEBM_VIDEO_H264);
  ebml_put_id(out, MKV_SEGMENT);
  l->segment_size_at = out->len;
  ebml_put_size(out, EBML_UNKNOWN_SIZE, 8); /* live: the size is patched at the end */
  l->segment_data = out->len;
  l->seekhead_at = out->len;
  /* Offsets of Info and Tracks are known only after writing them: reserve, then fill. */
  ebml_put_void(out, WEBM_SEEKHEAD_SPACE);
  info(out, t, l);
  l->tracks_at = out->len;
  size_t at = ebml_open(out, MKV_TRACKS);
  if (t->audio)
    audio_track(out, t);
  if (t->video != WEBM_VIDEO_NONE)
    video_track(out, t);
  ebml_close(out, at);
  l->header_end = out->len;
  webm_seekhead((uint8_t *)out->data + l->seekhead_at, l, 0);
}

void webm_avcc(buf *out, const uint8_t *sps, size_t sps_len, const uint8_t *pps,
               size_t pps_len) {
  /* version 1, profile, compatibility, level from the SPS; 4-byte NAL lengths. */
  uint8_t head[6] = {1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1};
  uint8_t len[2] = {(uint8_t)(sps_len >> 8), (uint8_t)sps_len};
  buf_append(out, head, sizeof head);
  buf_append(out, len, 2);
  buf_append(out, sps, sps_len);
  uint8_t npps[3] = {1, (uint8_t)(pps_len >> 8), (uint8_t)pps_len};
  buf_append(out, npps, 3);
  buf_append(out, pps, pps_len);
}

size_t webm_cluster_begin(buf *b, uint64_t timecode_ms) {
  size_t at = ebml_open(b, MKV_CLUSTER);
  ebml_put_uint(b, MKV_TIMECODE, timecode_ms);
  return at;
}

void webm_simple_block(buf *b, int track, int16_t rel_ms, bool keyframe,
                       const uint8_t *data, size_t len) {
  uint8_t head[4] = {(uint8_t)(0x80 | track), (uint8_t)((uint16_t)rel_ms >> 8),
                     (uint8_t)rel_ms, keyframe ? 0x80 : 0x00};
  ebml_put_id(b, MKV_SIMPLE_BLOCK);
  ebml_put_size(b, len + 4, 0);
  buf_append(b, head, 4);
  buf_append(b, data, len);
}

void webm_cluster_end(buf *b, size_t size_at) { ebml_close(b, size_at); }

void webm_write_cues(buf *out, const webm_cue *cues, size_t n, int track) {
  size_t at = ebml_open(out, MKV_CUES);
  for (size_t i = 0; i < n; i++) {
    size_t p = ebml_open(out, MKV_CUE_POINT);
    ebml_put_uint(out, MKV_CUE_TIME, cues[i].time_ms);
    size_t tp = ebml_open(out, MKV_CUE_TRACK_POSITIONS);
    ebml_put_uint(out, MKV_CUE_TRACK, (uint64_t)track);
    ebml_put_uint(out, MKV_CUE_CLUSTER_POS, cues[i].cluster_pos);
    ebml_close(out, tp);
    ebml_close(out, p);
  }
  ebml_close(out, at);
}

static void seek_entry(buf *b, uint32_t id, uint64_t pos) {
  size_t at = ebml_open(b, MKV_SEEK);
  uint8_t idb[4] = {(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                    (uint8_t)id};
  ebml_put_binary(b, MKV_SEEK_ID, idb, 4);
  ebml_put_uint(b, MKV_SEEK_POS, pos);
  ebml_close(b, at);
}

void webm_seekhead(uint8_t out[WEBM_SEEKHEAD_SPACE], const webm_layout *l,
                   uint64_t cues_at) {
  buf b = {0};
  size_t at = ebml_open(&b, MKV_SEEKHEAD);
  seek_entry(&b, MKV_INFO, l->info_at - l->segment_data);
  seek_entry(&b, MKV_TRACKS, l->tracks_at - l->segment_data);
  if (cues_at)
    seek_entry(&b, MKV_CUES, cues_at - l->segment_data);
  ebml_close(&b, at);
  ebml_put_void(&b, WEBM_SEEKHEAD_SPACE - b.len);
  memcpy(out, b.data, WEBM_SEEKHEAD_SPACE);
  buf_free(&b);
}

void webm_duration(uint8_t out[WEBM_DURATION_SPACE], double duration_ms) {
  buf b = {0};
  ebml_put_float(&b, MKV_DURATION, duration_ms);
  memcpy(out, b.data, WEBM_DURATION_SPACE);
  buf_free(&b);
}

void webm_segment_size(uint8_t out[8], const webm_layout *l, uint64_t end) {
  ebml_size8(out, end - l->segment_data);
}
