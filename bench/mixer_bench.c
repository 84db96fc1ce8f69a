/* mixer_bench — conference audio mixing cost: N participants (talkers send a tone
 * with RFC 6464 levels, the rest silence), one mixer tick per 20 ms frame; reports
 * the cost of a tick and how many participants one core could mix in real time. */
#include "media/mixer.h"

#include <math.h>
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TICKS 500

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t out_bytes;
static void on_out(void *owner, const uint8_t *opus, size_t len, bool shared, void *ud) {
  (void)owner, (void)opus, (void)shared, (void)ud;
  out_bytes += len;
}

/* Pre-encoded 20 ms frames: the senders' encoding is not the server's cost. */
static size_t frame(bool tone, int index, uint8_t *out) {
  static OpusEncoder *enc;
  int err;
  if (!enc)
    enc = opus_encoder_create(MIXER_RATE, 1, OPUS_APPLICATION_VOIP, &err);
  int16_t pcm[MIXER_FRAME];
  for (int i = 0; i < MIXER_FRAME; i++)
    pcm[i] = tone ? (int16_t)(6000 * sin(2 * M_PI * 440 * (index * MIXER_FRAME + i) /
                                         MIXER_RATE))
                  : 0;
  return (size_t)opus_encode(enc, pcm, MIXER_FRAME, out, MIXER_MAX_PACKET);
}

static double run(int participants, int talkers) {
  static uint8_t tone[50][MIXER_MAX_PACKET], quiet[MIXER_MAX_PACKET];
  static size_t tone_len[50], quiet_len;
  if (!quiet_len) {
    quiet_len = frame(false, 0, quiet);
    for (int i = 0; i < 50; i++)
      tone_len[i] = frame(true, i, tone[i]);
  }
  mixer *m = mixer_new();
  mixer_source **src = calloc((size_t)participants, sizeof *src);
  for (int i = 0; i < participants; i++)
    src[i] = mixer_add(m, NULL);
  double t0 = 0;
  for (int t = 0; t < TICKS + 10; t++) {
    if (t == 10)
      t0 = now_s(); /* after the jitter buffers have filled */
    for (int i = 0; i < participants; i++) {
      if (i < talkers)
        mixer_push(src[i], tone[t % 50], tone_len[t % 50], (uint16_t)t, 20);
      else
        mixer_push(src[i], quiet, quiet_len, (uint16_t)t, 127);
    }
    mixer_tick(m, on_out, NULL);
  }
  double per_tick = (now_s() - t0) / TICKS;
  mixer_free(m);
  free(src);
  return per_tick;
}

int main(void) {
  printf("mixer: %d ticks of 20 ms per case, one core\n", TICKS);
  printf("%12s %8s %14s %14s %22s\n", "participants", "talking", "us per tick",
         "% of a core", "participants per core");
  int sizes[] = {100, 300, 1000};
  int talkers[] = {1, 3, 10};
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      double t = run(sizes[a], talkers[b]);
      printf("%12d %8d %14.1f %13.1f%% %22.0f\n", sizes[a], talkers[b], t * 1e6,
             100 * t / 0.020, sizes[a] * 0.020 / t);
    }
  return 0;
}
