/* webm_reader — a tolerant reader of Parley's own recording files, as a crash may leave
 * them: the header's layout and tracks, then every complete block up to the first damage.
 */
#ifndef PARLEY_WEBM_READER_H
#define PARLEY_WEBM_READER_H

#include "media/webm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*webm_block_fn)(void *ud, int track, int64_t time_ms, bool keyframe,
                              const uint8_t *data, size_t len);

typedef struct {
  int number, type; /* type 1 video, 2 audio */
  char codec[32];
  int width, height, channels;
  size_t codec_private_len;
} webm_track_info;

typedef struct {
  bool webm_doctype; /* "webm", else "matroska" */
  webm_layout layout;
  bool segment_size_known;
  uint64_t segment_size;
  double duration_ms; /* 0 while the Duration is still a Void */
  int64_t date_unix_ms;
  webm_track_info tracks[2];
  int n_tracks;
  uint64_t file_size;
  uint64_t clusters, blocks, keyframes;
  int64_t first_ms, last_ms; /* block times over all tracks; last_ms -1 if no block */
  int64_t end_ms;            /* last block time plus that track's last frame interval */
  uint64_t good_end;         /* end of the last complete cluster, or complete block */
  uint64_t cut_cluster_at; /* a cluster cut short whose complete blocks are kept, or 0 */
  uint64_t cues_at;        /* a Cues element after the clusters, 0 if none */
  webm_cue *cues;          /* cue points recovery would write (caller frees) */
  size_t n_cues;
} webm_scan;

/* Reads the file; 0, or -1 and why in err if even the header is unusable. on_block (may
 * be NULL) sees every complete block in file order. */
int webm_scan_file(int fd, webm_scan *s, webm_block_fn on_block, void *ud, char *err,
                   size_t err_len);
void webm_scan_free(webm_scan *s);

#endif
