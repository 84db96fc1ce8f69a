/* fuzz_recover — libFuzzer harness for crash recovery: the input is written to a
 * temporary file as a crash might have left it; recovery must refuse it or leave a file
 * that reads back finalised, and recovering that again must change nothing. */
#include "media/recorder.h"
#include "media/webm_reader.h"

#include "check.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_block(void *ud, int track, int64_t t, bool key, const uint8_t *d,
                        size_t n) {
  volatile uint8_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum ^= d[i];
  (void)sum;
  CHECK(track == 1 || track == 2);
  (*(uint64_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/parley-fuzz-recover-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, data, size) == (ssize_t)size);
  close(fd);
  recorder_result r1;
  if (recording_recover(path, &r1) == 0) {
    CHECK(r1.ok && r1.error[0] == '\0');
    fd = open(path, O_RDONLY);
    webm_scan s;
    char err[120];
    uint64_t blocks = 0;
    CHECK(webm_scan_file(fd, &s, check_block, &blocks, err, sizeof err) == 0);
    close(fd);
    CHECK(s.segment_size_known && s.segment_size == s.file_size - s.layout.segment_data);
    CHECK(s.blocks > 0 && blocks == s.blocks && s.cut_cluster_at == 0);
    CHECK(s.file_size == r1.size_bytes && s.cues_at > 0 && s.good_end == s.cues_at);
    webm_scan_free(&s);
    recorder_result r2;
    CHECK(recording_recover(path, &r2) == 0);
    CHECK(r2.size_bytes == r1.size_bytes && r2.duration_ms == r1.duration_ms);
  } else {
    CHECK(!r1.ok && r1.error[0] != '\0');
  }
  unlink(path);
  return 0;
}
