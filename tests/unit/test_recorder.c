/* test_recorder — drives recorders on a real libuv loop with synthetic RTP sessions and
 * reads the files back: layout, timing across loss and wrap, A/V alignment, crash copies
 * recovered, and (when ffprobe is installed) what ffprobe sees. */
#include "check.h"
#include "media/recorder.h"
#include "media/webm_reader.h"
#include "media_packets.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/parley-rec-XXXXXX";

typedef struct {
  int started, closed, key_requests;
  int64_t first_frame_unix_ms;
  recorder_result res;
} events;

static void on_started(void *ud, int64_t t) {
  events *e = ud;
  e->started++;
  e->first_frame_unix_ms = t;
}
static void on_key(void *ud) { ((events *)ud)->key_requests++; }
static void on_closed(void *ud, const recorder_result *res) {
  events *e = ud;
  e->closed++;
  e->res = *res;
}
static const recorder_callbacks callbacks = {on_started, on_key, on_closed};

/* A synthetic call: Opus every 20 ms and video at 30 fps with a keyframe every 2 s. */
typedef struct {
  rec_codec video;
  double seconds;
  uint32_t audio_ts0, video_ts0;
  uint16_t audio_seq0, video_seq0;
  int lose_video_frame; /* drop one packet of this frame number, or -1 */
  bool sender_reports;  /* video captured 200 ms after audio, per the SRs */
  int crash_copy_at_s;  /* copy the file as a crash would leave it at this second, or 0 */
  const char *crash_copy;
  int pace_ms;      /* real time to let pass after each video frame (for hole timeouts) */
  int sr_jitter_ms; /* then SRs every 500 ms too, their NTP times off by up to this */
} session;

static size_t video_frame_packets(const session *s, int i, uint16_t seq, mp_packet *p,
                                  size_t max) {
  static uint8_t frame[40000];
  bool key = i % 60 == 0;
  size_t n = key ? 20000 : 3000 + (size_t)(i % 7) * 100;
  uint32_t ts = s->video_ts0 + 3000u * (uint32_t)i;
  if (s->video == REC_CODEC_VP8) {
    mp_vp8_frame(frame, n, key, 1280, 720, (uint32_t)i);
    return mp_vp8_packets(p, max, seq, ts, (uint16_t)i, frame, n);
  }
  if (s->video == REC_CODEC_VP9) {
    mp_vp9_frame(frame, n, key, 960, 540, (uint32_t)i);
    return mp_vp9_packets(p, max, seq, ts, (uint16_t)i, 0, key, true, 1, 960, 540, frame,
                          n);
  }
  static uint8_t sps[64], pps[4] = {0x68, 0xce, 0x3c, 0x80};
  size_t sps_len = mp_h264_sps(sps, 1280, 720, 100);
  mp_fill(frame, n, (uint32_t)i);
  frame[0] = key ? 0x65 : 0x41;
  const uint8_t *nals[3] = {sps, pps, frame};
  size_t lens[3] = {sps_len, sizeof pps, n};
  return key ? mp_h264_packets(p, max, seq, ts, nals, lens, 3, true)
             : mp_h264_packets(p, max, seq, ts, nals + 2, lens + 2, 1, false);
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  char b[65536];
  size_t n;
  while (in && out && (n = fread(b, 1, sizeof b, in)) > 0)
    fwrite(b, 1, n, out);
  if (in)
    fclose(in);
  if (out)
    fclose(out);
}

/* Runs the loop until the recorder has nothing queued for the disk. */
static void settle(uv_loop_t *loop, recorder *r) {
  for (int i = 0; i < 1000; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (recorder_get_stats(r).bytes_queued == 0 && i > 5)
      return;
    usleep(1000);
  }
}

static uint64_t ntp_of_ms(uint64_t ms) {
  return (ms / 1000) << 32 | ((ms % 1000) << 32) / 1000;
}

/* A sender's reports every 500 ms (at audio frame a), their NTP times off by a
 * pseudo-random amount within ±sr_jitter_ms, as a busy sender's clock reads are. */
static void jittered_reports(recorder *r, const session *s, int a) {
  static uint32_t seed = 12345;
  int j[2];
  for (int i = 0; i < 2; i++) {
    seed = seed * 1103515245u + 12345u;
    j[i] = (int)((seed >> 16) % (uint32_t)(2 * s->sr_jitter_ms + 1)) - s->sr_jitter_ms;
  }
  uint64_t ms = 3900000000000ULL + (uint64_t)a * 20;
  recorder_on_sender_report(r, false, ntp_of_ms((uint64_t)((int64_t)ms + j[0])),
                            s->audio_ts0 + 960u * (uint32_t)a);
  recorder_on_sender_report(r, true, ntp_of_ms((uint64_t)((int64_t)ms + 200 + j[1])),
                            s->video_ts0 + 90u * 20u * (uint32_t)a);
}

/* Feeds the session into a recorder writing path; returns the close events. */
static events record(const char *path, const session *s) {
  events ev = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  recorder_tracks tr = {REC_CODEC_OPUS, s->video, 48000, 90000, 2};
  recorder *r = recorder_open(&loop, path, &tr, callbacks, &ev);
  uv_run(&loop, UV_RUN_NOWAIT); /* the file opens */
  int audio_frames = (int)(s->seconds * 50), video_frames = (int)(s->seconds * 30);
  int a = 0, v = 0, sr_at = 0;
  uint16_t aseq = s->audio_seq0, vseq = s->video_seq0;
  mp_packet p[64];
  while (a < audio_frames || v < video_frames) {
    if (s->sender_reports && a == 0 && v == 0) { /* before any media: applied at once */
      recorder_on_sender_report(r, false, ntp_of_ms(3900000000000ULL), s->audio_ts0);
      recorder_on_sender_report(r, true, ntp_of_ms(3900000000200ULL), s->video_ts0);
    }
    if (s->sr_jitter_ms && a > 0 && a % 25 == 0 && a != sr_at)
      jittered_reports(r, s, sr_at = a);
    /* Interleave by capture time: audio frame a at 20a ms, video frame v at 33.3v ms. */
    if (a < audio_frames && (v >= video_frames || a * 20 * 3 <= v * 100)) {
      mp_opus(&p[0], aseq++, s->audio_ts0 + 960u * (uint32_t)a, 120, (uint32_t)a);
      recorder_on_rtp(r, false, p[0].data, p[0].len);
      a++;
    } else {
      size_t n = video_frame_packets(s, v, vseq, p, 64);
      for (size_t i = 0; i < n; i++)
        if (!(v == s->lose_video_frame && i == n / 2))
          recorder_on_rtp(r, true, p[i].data, p[i].len);
      vseq = (uint16_t)(vseq + n);
      v++;
      if (s->pace_ms)
        usleep((useconds_t)s->pace_ms * 1000);
      uv_run(&loop, UV_RUN_NOWAIT); /* timers and writes get their turn */
    }
    if (s->crash_copy_at_s && a == s->crash_copy_at_s * 50 && v >= a * 30 / 50) {
      settle(&loop, r);
      copy_file(path, s->crash_copy);
    }
  }
  recorder_close(r);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return ev;
}

typedef struct {
  int64_t first[3], last[3];
  int count[3], keys;
  bool monotonic;
  bool first_video_matches;
  uint8_t first_video[16];
} blocks;

static void on_block(void *ud, int track, int64_t t, bool key, const uint8_t *d,
                     size_t n) {
  blocks *b = ud;
  if (b->count[track] == 0)
    b->first[track] = t;
  else if (t < b->last[track])
    b->monotonic = false;
  if (track == 2 && b->count[2] == 0)
    b->first_video_matches = n >= 16 && memcmp(d, b->first_video, 16) == 0;
  b->last[track] = t;
  b->count[track]++;
  b->keys += key && track == 2;
}

static int scan(const char *path, webm_scan *s, blocks *b) {
  int fd = open(path, O_RDONLY);
  char err[120] = "";
  memset(b, 0, sizeof *b);
  b->monotonic = true;
  mp_vp8_frame(b->first_video, sizeof b->first_video, true, 1280, 720, 0);
  int rc = fd >= 0 ? webm_scan_file(fd, s, on_block, b, err, sizeof err) : -1;
  if (rc != 0)
    fprintf(stderr, "scan %s: %s\n", path, err);
  if (fd >= 0)
    close(fd);
  return rc;
}

static const webm_track_info *track_of(const webm_scan *s, int number) {
  for (int i = 0; i < s->n_tracks; i++)
    if (s->tracks[i].number == number)
      return &s->tracks[i];
  return NULL;
}

static bool near(double a, double b, double tol) { return a >= b - tol && a <= b + tol; }

static void check_finalised(const webm_scan *s) {
  CHECK(s->segment_size_known);
  CHECK(s->segment_size == s->file_size - s->layout.segment_data);
  CHECK(s->cues_at > 0 && s->good_end == s->cues_at);
  CHECK(s->cut_cluster_at == 0);
}

static void path_in(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", dir, name);
}

static bool have_ffprobe(void) { return access("/usr/bin/ffprobe", X_OK) == 0; }

/* ffprobe's view: "codec_name=..." lines for each stream, then the format duration. */
static void ffprobe(const char *path, char *out, size_t n) {
  char cmd[600];
  snprintf(
      cmd, sizeof cmd,
      "ffprobe -v error -show_entries stream=codec_name,width,height:format=duration "
      "-of default=nw=1 '%s' 2>/dev/null",
      path);
  FILE *f = popen(cmd, "r");
  size_t got = f ? fread(out, 1, n - 1, f) : 0;
  out[got] = '\0';
  if (f)
    pclose(f);
}

static double ffprobe_duration(const char *text) {
  const char *d = strstr(text, "duration=");
  return d ? atof(d + 9) : -1;
}

static void test_vp8_opus_and_crash_copy(void) {
  char path[256], crash[256];
  path_in(path, sizeof path, "vp8.webm");
  path_in(crash, sizeof crash, "vp8-crash.webm");
  session s = {REC_CODEC_VP8, 6.0, 1000, 5000, 100, 200, -1, false, 4, crash, 0, 0};
  events ev = record(path, &s);
  CHECK(ev.closed == 1 && ev.res.ok && ev.started == 1);
  CHECK(ev.key_requests >= 1); /* asked for at open */
  CHECK(ev.res.first_frame_unix_ms == ev.first_frame_unix_ms &&
        ev.first_frame_unix_ms > 0);
  CHECK(ev.res.stopped_unix_ms >= ev.res.first_frame_unix_ms);
  CHECK(near((double)ev.res.duration_ms, 6000, 60));
  webm_scan sc;
  blocks b;
  CHECK(scan(path, &sc, &b) == 0);
  CHECK(sc.webm_doctype && sc.n_tracks == 2);
  CHECK((uint64_t)ev.res.size_bytes == sc.file_size);
  const webm_track_info *v = track_of(&sc, 2), *a = track_of(&sc, 1);
  CHECK(v && strcmp(v->codec, "V_VP8") == 0 && v->width == 1280 && v->height == 720);
  CHECK(a && strcmp(a->codec, "A_OPUS") == 0 && a->channels == 2 &&
        a->codec_private_len == 19);
  check_finalised(&sc);
  CHECK(near(sc.duration_ms, 6000, 60) && (uint64_t)sc.duration_ms == ev.res.duration_ms);
  CHECK(b.count[1] == 300 && b.count[2] == 180 && b.keys == 3 && sc.n_cues == 3);
  CHECK(b.monotonic && b.first[1] == 0 && b.first[2] == 0 && b.first_video_matches);
  CHECK(near((double)b.last[2], 179 * 100.0 / 3, 2) &&
        near((double)b.last[1], 299 * 20, 2));
  CHECK(sc.date_unix_ms == ev.res.first_frame_unix_ms);
  webm_scan_free(&sc);

  /* What a kill -9 at 4 s leaves: complete clusters up to the last second or so. */
  CHECK(scan(crash, &sc, &b) == 0);
  CHECK(!sc.segment_size_known && sc.duration_ms == 0 && sc.cues_at == 0);
  CHECK(b.last[1] >= 2900);
  webm_scan_free(&sc);
  recorder_result rr;
  CHECK(recording_recover(crash, &rr) == 0 && rr.ok);
  CHECK(scan(crash, &sc, &b) == 0);
  check_finalised(&sc);
  CHECK(sc.duration_ms >= 2900 && (uint64_t)sc.duration_ms == rr.duration_ms);
  CHECK(rr.size_bytes == sc.file_size &&
        rr.first_frame_unix_ms == ev.res.first_frame_unix_ms);
  CHECK(b.keys == 2 && sc.n_cues == 2);
  webm_scan_free(&sc);

  /* Recovery again changes nothing. */
  recorder_result again;
  CHECK(recording_recover(crash, &again) == 0 && again.size_bytes == rr.size_bytes &&
        again.duration_ms == rr.duration_ms);

  if (have_ffprobe()) {
    char out[1024];
    ffprobe(path, out, sizeof out);
    CHECK(strstr(out, "codec_name=vp8") && strstr(out, "codec_name=opus"));
    CHECK(strstr(out, "width=1280") && strstr(out, "height=720"));
    CHECK(near(ffprobe_duration(out), 6.0, 0.5));
    ffprobe(crash, out, sizeof out);
    CHECK(strstr(out, "codec_name=vp8") &&
          near(ffprobe_duration(out), (double)rr.duration_ms / 1000.0, 0.1));
  } else {
    fprintf(stderr, "test_recorder: ffprobe not installed, skipping the ffprobe checks "
                    "(apt-get install ffmpeg)\n");
  }
}

/* A finalised file cut at many points: recovery keeps whole blocks and finalises. */
static void test_recover_truncated(void) {
  char path[256], cut[256];
  path_in(path, sizeof path, "vp8.webm");
  path_in(cut, sizeof cut, "cut.webm");
  struct stat st;
  CHECK(stat(path, &st) == 0);
  webm_scan full;
  blocks fb;
  CHECK(scan(path, &full, &fb) == 0);
  int prev_blocks = 0;
  for (int i = 1; i <= 9; i++) {
    off_t len = st.st_size * i / 10 + 37; /* mid-cluster, mid-block */
    copy_file(path, cut);
    CHECK(truncate(cut, len) == 0);
    recorder_result rr;
    CHECK(recording_recover(cut, &rr) == 0);
    webm_scan sc;
    blocks b;
    CHECK(scan(cut, &sc, &b) == 0);
    check_finalised(&sc);
    int n = b.count[1] + b.count[2];
    CHECK(n > prev_blocks && n < fb.count[1] + fb.count[2]);
    CHECK(b.monotonic && (uint64_t)sc.duration_ms == rr.duration_ms);
    CHECK(rr.size_bytes <= (uint64_t)len + 200);
    prev_blocks = n;
    webm_scan_free(&sc);
  }
  webm_scan_free(&full);
  /* Only the header: nothing to keep. Not a recording at all: refused. */
  copy_file(path, cut);
  CHECK(truncate(cut, (off_t)full.layout.header_end + 5) == 0);
  recorder_result rr;
  CHECK(recording_recover(cut, &rr) == -1 && !rr.ok &&
        strstr(rr.error, "no complete frame"));
  FILE *f = fopen(cut, "wb");
  fputs("not a recording", f);
  fclose(f);
  CHECK(recording_recover(cut, &rr) == -1 && strstr(rr.error, "not recoverable"));
  path_in(cut, sizeof cut, "missing.webm");
  CHECK(recording_recover(cut, &rr) == -1 && strstr(rr.error, "open"));
}

static void test_loss_and_wrap(void) {
  char path[256];
  path_in(path, sizeof path, "loss.webm");
  /* Both RTP clocks wrap about a second in; sequence numbers wrap too; frame 70 loses a
   * packet, so 70..119 are dropped until the keyframe at 120. */
  session s = {REC_CODEC_VP8,
               5.0,
               0xffffffffu - 48000,
               0xffffffffu - 90000,
               65500,
               65000,
               70,
               false,
               0,
               NULL,
               5,
               0};
  events ev = record(path, &s);
  CHECK(ev.res.ok && ev.key_requests >= 2);
  webm_scan sc;
  blocks b;
  CHECK(scan(path, &sc, &b) == 0);
  CHECK(b.count[1] == 250 && b.count[2] == 150 - 50 && b.keys == 3);
  CHECK(b.monotonic && near((double)b.last[1], 249 * 20, 2));
  CHECK(near((double)b.last[2], 149 * 100.0 / 3, 2) && near(sc.duration_ms, 5000, 60));
  webm_scan_free(&sc);
}

static void test_sender_report_alignment(void) {
  char path[256];
  path_in(path, sizeof path, "sr.webm");
  session s = {REC_CODEC_VP8, 3.0, 7777, 123456, 1, 1, -1, true, 0, NULL, 0, 0};
  events ev = record(path, &s);
  CHECK(ev.res.ok);
  webm_scan sc;
  blocks b;
  CHECK(scan(path, &sc, &b) == 0);
  /* Same arrival, but the SRs say video was captured 200 ms after audio. */
  CHECK(b.first[1] == 0 && near((double)b.first[2], 200, 2));
  CHECK(near((double)b.last[2], 200 + 89 * 100.0 / 3, 2));
  webm_scan_free(&sc);
}

/* Jittery SRs (±20 ms, every 500 ms) must not move the video timeline: every frame's time
 * strictly increases and stays within 3 ms of the RTP clock from the first alignment. */
typedef struct {
  int n;
  int64_t prev;
  bool increasing, on_clock;
} video_times;

static void on_video_time(void *ud, int track, int64_t t, bool key, const uint8_t *d,
                          size_t n) {
  (void)key, (void)d, (void)n;
  video_times *vt = ud;
  if (track != 2)
    return;
  if (vt->n > 0 && t <= vt->prev)
    vt->increasing = false;
  double want = 200 + vt->n * 100.0 / 3;
  if (!near((double)t, want, 3)) {
    if (vt->on_clock)
      fprintf(stderr, "video frame %d at %lld ms, want %.1f\n", vt->n, (long long)t,
              want);
    vt->on_clock = false;
  }
  vt->prev = t;
  vt->n++;
}

static void test_jittered_sender_reports(void) {
  char path[256];
  path_in(path, sizeof path, "sr-jitter.webm");
  session s = {REC_CODEC_VP8, 6.0, 7777, 123456, 1, 1, -1, true, 0, NULL, 0, 20};
  events ev = record(path, &s);
  CHECK(ev.res.ok);
  int fd = open(path, O_RDONLY);
  webm_scan sc;
  video_times vt = {0, 0, true, true};
  char err[120] = "";
  CHECK(fd >= 0 && webm_scan_file(fd, &sc, on_video_time, &vt, err, sizeof err) == 0);
  if (fd >= 0)
    close(fd);
  CHECK(vt.n == 180 && vt.increasing && vt.on_clock);
  webm_scan_free(&sc);
}

static void test_h264_and_vp9(void) {
  char path[256];
  path_in(path, sizeof path, "h264.mkv");
  session s = {REC_CODEC_H264, 3.0, 0, 0, 0, 0, -1, false, 0, NULL, 0, 0};
  events ev = record(path, &s);
  CHECK(ev.res.ok);
  webm_scan sc;
  blocks b;
  CHECK(scan(path, &sc, &b) == 0);
  const webm_track_info *v = track_of(&sc, 2);
  CHECK(!sc.webm_doctype && v && strcmp(v->codec, "V_MPEG4/ISO/AVC") == 0);
  CHECK(v && v->width == 1280 && v->height == 720 && v->codec_private_len > 11);
  CHECK(b.count[2] == 90 && b.keys == 2);
  webm_scan_free(&sc);
  char out[1024];
  if (have_ffprobe()) {
    ffprobe(path, out, sizeof out);
    CHECK(strstr(out, "codec_name=h264") && strstr(out, "codec_name=opus"));
    CHECK(near(ffprobe_duration(out), 3.0, 0.5));
  }
  path_in(path, sizeof path, "vp9.webm");
  s.video = REC_CODEC_VP9;
  ev = record(path, &s);
  CHECK(ev.res.ok);
  CHECK(scan(path, &sc, &b) == 0);
  v = track_of(&sc, 2);
  CHECK(sc.webm_doctype && v && strcmp(v->codec, "V_VP9") == 0 && v->width == 960 &&
        v->height == 540);
  CHECK(b.count[2] == 90 && b.keys == 2);
  webm_scan_free(&sc);
  if (have_ffprobe()) {
    ffprobe(path, out, sizeof out);
    CHECK(strstr(out, "codec_name=vp9") && near(ffprobe_duration(out), 3.0, 0.5));
  }
}

static void test_no_media_and_existing_file(void) {
  char path[256];
  path_in(path, sizeof path, "empty.webm");
  events ev = {0};
  uv_loop_t loop;
  uv_loop_init(&loop);
  recorder_tracks tr = {REC_CODEC_OPUS, REC_CODEC_VP8, 48000, 90000, 2};
  recorder *r = recorder_open(&loop, path, &tr, callbacks, &ev);
  CHECK(r != NULL && ev.closed == 0);
  recorder_close(r);
  CHECK(ev.closed == 0); /* never from inside the call */
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(ev.closed == 1 && !ev.res.ok && strstr(ev.res.error, "no media") &&
        ev.started == 0);
  CHECK(access(path, F_OK) != 0); /* the empty file is gone */
  /* A path that exists is never overwritten. */
  path_in(path, sizeof path, "vp8.webm");
  struct stat before, after;
  stat(path, &before);
  memset(&ev, 0, sizeof ev);
  r = recorder_open(&loop, path, &tr, callbacks, &ev);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(ev.closed == 1 && !ev.res.ok && strstr(ev.res.error, "create"));
  CHECK(stat(path, &after) == 0 && after.st_size == before.st_size);
  uv_loop_close(&loop);
}

int main(void) {
  if (!mkdtemp(dir))
    return 1;
  test_vp8_opus_and_crash_copy();
  test_recover_truncated();
  test_loss_and_wrap();
  test_sender_report_alignment();
  test_jittered_sender_reports();
  test_h264_and_vp9();
  test_no_media_and_existing_file();
  if (!check_failures) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", dir);
  }
  CHECK_DONE();
}
