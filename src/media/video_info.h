/* video_info — picture size from a keyframe's own bitstream: the VP8 key frame header,
 * the VP9 uncompressed header, and the H.264 sequence parameter set. */
#ifndef PARLEY_VIDEO_INFO_H
#define PARLEY_VIDEO_INFO_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 0 and the display size, or -1 if the data is not a parsable keyframe. */
int vp8_keyframe_size(const uint8_t *frame, size_t len, int *width, int *height);
int vp9_keyframe_size(const uint8_t *frame, size_t len, int *width, int *height);
/* sps is one NAL unit (header byte included, emulation prevention bytes still in). */
int h264_sps_size(const uint8_t *sps, size_t len, int *width, int *height);

#endif
