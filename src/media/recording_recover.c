/* recording_recover — finalises a recording a crash left open: keeps every complete
 * block, truncates the rest, and writes the same Cues, SeekHead, Duration and size as a
 * close. */
#include "media/recorder.h"

#include "media/ebml.h"
#include "media/webm.h"
#include "media/webm_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int pwrite_all(int fd, const void *data, size_t n, uint64_t at) {
  const uint8_t *p = data;
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, (off_t)at);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w, n -= (size_t)w, at += (uint64_t)w;
  }
  return 0;
}

/* Rewrites a cluster cut short so that its size covers only its complete blocks. */
static int shrink_cut_cluster(int fd, const webm_scan *s) {
  if (!s->cut_cluster_at)
    return 0;
  uint8_t size[8];
  ebml_size8(size, s->good_end - s->cut_cluster_at - 12);
  return pwrite_all(fd, size, 8, s->cut_cluster_at + 4);
}

static int finalise(int fd, const webm_scan *s, uint64_t *size_out) {
  uint64_t end = s->good_end;
  if (shrink_cut_cluster(fd, s) != 0 || ftruncate(fd, (off_t)end) != 0)
    return -1;
  bool video = false;
  for (int i = 0; i < s->n_tracks; i++)
    video |= s->tracks[i].number == WEBM_VIDEO_TRACK;
  buf cues = {0};
  webm_write_cues(&cues, s->cues, s->n_cues, video ? WEBM_VIDEO_TRACK : WEBM_AUDIO_TRACK);
  uint8_t seekhead[WEBM_SEEKHEAD_SPACE], duration[WEBM_DURATION_SPACE], size[8];
  webm_seekhead(seekhead, &s->layout, end);
  webm_duration(duration, (double)(s->end_ms > 0 ? s->end_ms : 0));
  webm_segment_size(size, &s->layout, end + cues.len);
  /* Cues first: until the header names them, a crash here leaves a file as readable as
   * before (the next recovery cuts them off again). */
  int rc =
      pwrite_all(fd, cues.data, cues.len, end) != 0 || fsync(fd) != 0 ||
              pwrite_all(fd, seekhead, sizeof seekhead, s->layout.seekhead_at) != 0 ||
              pwrite_all(fd, duration, sizeof duration, s->layout.duration_at) != 0 ||
              pwrite_all(fd, size, 8, s->layout.segment_size_at) != 0 || fsync(fd) != 0
          ? -1
          : 0;
  *size_out = end + cues.len;
  buf_free(&cues);
  return rc;
}

int recording_recover(const char *path, recorder_result *out) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(out->error, sizeof out->error, "open %s: %s", path, strerror(errno));
    return -1;
  }
  webm_scan s;
  char err[120];
  int rc = -1;
  if (webm_scan_file(fd, &s, NULL, NULL, err, sizeof err) != 0) {
    snprintf(out->error, sizeof out->error, "not recoverable: %s", err);
  } else if (s.blocks == 0) {
    snprintf(out->error, sizeof out->error, "not recoverable: no complete frame");
  } else if (finalise(fd, &s, &out->size_bytes) != 0) {
    snprintf(out->error, sizeof out->error, "finalising: %s", strerror(errno));
  } else {
    rc = 0;
    out->ok = true;
    out->duration_ms = (uint64_t)(s.end_ms > 0 ? s.end_ms : 0);
    out->first_frame_unix_ms = s.date_unix_ms;
    out->stopped_unix_ms = s.date_unix_ms + (int64_t)out->duration_ms;
  }
  webm_scan_free(&s);
  close(fd);
  return rc;
}
