/* video_info — bounded bit-level parsers for the few header fields a recording needs
 * (width and height), from VP8 (RFC 6386 §9.1), VP9 (spec §6.2) and H.264 (§7.3.2.1). */
#include "media/video_info.h"

#include <stdbool.h>
#include <string.h>

/* Reads MSB first; reading past the end sets overrun and yields zeros. */
typedef struct {
  const uint8_t *p;
  size_t n, bit;
  bool overrun;
} bits;

static uint32_t get_bits(bits *b, int count) {
  uint32_t v = 0;
  for (int i = 0; i < count; i++) {
    if (b->bit >= b->n * 8) {
      b->overrun = true;
      return 0;
    }
    v = v << 1 | ((b->p[b->bit >> 3] >> (7 - (b->bit & 7))) & 1);
    b->bit++;
  }
  return v;
}

/* Exp-Golomb ue(v); values past 2^31 are treated as corrupt. */
static uint32_t get_ue(bits *b) {
  int zeros = 0;
  while (get_bits(b, 1) == 0) {
    if (b->overrun || ++zeros > 31) {
      b->overrun = true;
      return 0;
    }
  }
  return (uint32_t)((1ULL << zeros) - 1 + get_bits(b, zeros));
}

static int32_t get_se(bits *b) {
  uint32_t k = get_ue(b);
  return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

int vp8_keyframe_size(const uint8_t *f, size_t len, int *width, int *height) {
  /* 3-byte frame tag (bit 0 clear for a key frame), start code, 14-bit sizes. */
  if (len < 10 || (f[0] & 1) != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a)
    return -1;
  *width = (f[6] | f[7] << 8) & 0x3fff;
  *height = (f[8] | f[9] << 8) & 0x3fff;
  return *width && *height ? 0 : -1;
}

/* VP9 color_config (spec §6.2.2), skipped: only its length matters here. */
static void vp9_skip_color_config(bits *b, int profile) {
  if (profile >= 2)
    get_bits(b, 1); /* ten_or_twelve_bit */
  uint32_t color_space = get_bits(b, 3);
  if (color_space != 7) { /* not CS_RGB */
    get_bits(b, 1);       /* color_range */
    if (profile == 1 || profile == 3)
      get_bits(b, 3); /* subsampling_x, subsampling_y, reserved_zero */
  } else if (profile == 1 || profile == 3) {
    get_bits(b, 1); /* reserved_zero */
  }
}

int vp9_keyframe_size(const uint8_t *f, size_t len, int *width, int *height) {
  bits b = {f, len, 0, false};
  if (get_bits(&b, 2) != 2) /* frame_marker */
    return -1;
  int profile = (int)get_bits(&b, 1);
  profile |= (int)get_bits(&b, 1) << 1;
  if (profile == 3)
    get_bits(&b, 1);   /* reserved_zero */
  if (get_bits(&b, 1)) /* show_existing_frame */
    return -1;
  if (get_bits(&b, 1)) /* frame_type: 0 is KEY_FRAME */
    return -1;
  get_bits(&b, 2); /* show_frame, error_resilient_mode */
  if (get_bits(&b, 24) != 0x498342)
    return -1;
  vp9_skip_color_config(&b, profile);
  *width = (int)get_bits(&b, 16) + 1;
  *height = (int)get_bits(&b, 16) + 1;
  return b.overrun ? -1 : 0;
}

/* Removes emulation prevention bytes (00 00 03 -> 00 00) into out; returns its length. */
static size_t unescape_rbsp(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  size_t o = 0, zeros = 0;
  for (size_t i = 0; i < n && o < cap; i++) {
    if (zeros >= 2 && in[i] == 3) {
      zeros = 0;
      continue;
    }
    zeros = in[i] == 0 ? zeros + 1 : 0;
    out[o++] = in[i];
  }
  return o;
}

static void skip_scaling_list(bits *b, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size && !b->overrun; j++) {
    if (next != 0)
      next = (last + get_se(b) + 256) % 256;
    last = next == 0 ? last : next;
  }
}

static bool high_profile(uint32_t profile_idc) {
  static const uint8_t high[] = {100, 110, 122, 244, 44,  83, 86,
                                 118, 128, 138, 139, 134, 135};
  for (size_t i = 0; i < sizeof high; i++)
    if (profile_idc == high[i])
      return true;
  return false;
}

/* The chroma part of a High-profile SPS; returns chroma_format_idc. */
static uint32_t sps_chroma(bits *b, uint32_t profile_idc, bool *separate_planes) {
  *separate_planes = false;
  if (!high_profile(profile_idc))
    return 1;
  uint32_t chroma = get_ue(b);
  if (chroma == 3)
    *separate_planes = get_bits(b, 1);
  get_ue(b);            /* bit_depth_luma_minus8 */
  get_ue(b);            /* bit_depth_chroma_minus8 */
  get_bits(b, 1);       /* qpprime_y_zero_transform_bypass_flag */
  if (get_bits(b, 1)) { /* seq_scaling_matrix_present_flag */
    int lists = chroma != 3 ? 8 : 12;
    for (int i = 0; i < lists && !b->overrun; i++)
      if (get_bits(b, 1))
        skip_scaling_list(b, i < 6 ? 16 : 64);
  }
  return chroma;
}

static void sps_skip_poc(bits *b) {
  uint32_t poc_type = get_ue(b);
  if (poc_type == 0) {
    get_ue(b); /* log2_max_pic_order_cnt_lsb_minus4 */
  } else if (poc_type == 1) {
    get_bits(b, 1); /* delta_pic_order_always_zero_flag */
    get_se(b);      /* offset_for_non_ref_pic */
    get_se(b);      /* offset_for_top_to_bottom_field */
    uint32_t cycle = get_ue(b);
    for (uint32_t i = 0; i < cycle && i < 256 && !b->overrun; i++)
      get_se(b);
  }
}

int h264_sps_size(const uint8_t *sps, size_t len, int *width, int *height) {
  uint8_t rbsp[256];
  if (len < 4 || (sps[0] & 0x1f) != 7)
    return -1;
  size_t n = unescape_rbsp(sps + 1, len - 1, rbsp, sizeof rbsp);
  bits b = {rbsp, n, 0, false};
  uint32_t profile_idc = get_bits(&b, 8);
  get_bits(&b, 16); /* constraint flags, level_idc */
  get_ue(&b);       /* seq_parameter_set_id */
  bool separate;
  uint32_t chroma = sps_chroma(&b, profile_idc, &separate);
  get_ue(&b); /* log2_max_frame_num_minus4 */
  sps_skip_poc(&b);
  get_ue(&b);      /* max_num_ref_frames */
  get_bits(&b, 1); /* gaps_in_frame_num_value_allowed_flag */
  uint32_t mbs_w = get_ue(&b) + 1, map_h = get_ue(&b) + 1;
  uint32_t frame_mbs_only = get_bits(&b, 1);
  if (!frame_mbs_only)
    get_bits(&b, 1); /* mb_adaptive_frame_field_flag */
  get_bits(&b, 1);   /* direct_8x8_inference_flag */
  uint32_t crop[4] = {0};
  if (get_bits(&b, 1))
    for (int i = 0; i < 4; i++)
      crop[i] = get_ue(&b); /* left, right, top, bottom */
  if (b.overrun || mbs_w > 1024 || map_h > 1024)
    return -1;
  /* §7.4.2.1.1: crop units depend on the chroma format and on field coding. */
  uint32_t chroma_type = separate ? 0 : chroma;
  uint32_t unit_x = chroma_type == 0 || chroma_type == 3 ? 1 : 2;
  uint32_t unit_y = (chroma_type == 1 ? 2 : 1) * (2 - frame_mbs_only);
  int64_t w = (int64_t)mbs_w * 16 - (int64_t)unit_x * (crop[0] + crop[1]);
  int64_t h =
      (int64_t)(2 - frame_mbs_only) * map_h * 16 - (int64_t)unit_y * (crop[2] + crop[3]);
  if (w <= 0 || h <= 0)
    return -1;
  *width = (int)w;
  *height = (int)h;
  return 0;
}
