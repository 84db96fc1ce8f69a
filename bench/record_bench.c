/* record_bench — CPU cost of recording one 1.5 Mbit/s VP8 + Opus stream: Parley's
 * recorder (RTP in, WebM out) against libavformat's matroska muxer fed the same frames,
 * and what each leaves on disk after kill -9. Usage: record_bench [SECONDS_OF_MEDIA]
 * (default 60). */
#include "media/recorder.h"

#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BITRATE 1500000
#define FPS 30
#define KEY_EVERY 90 /* frames: a keyframe every 3 s */
#define MTU 1200
#define OPUS_BYTES 120 /* ~48 kbit/s */

typedef struct {
  uint8_t data[MTU + 32];
  uint16_t len;
  bool video;
  int64_t t_ms; /* capture time */
} packet;

typedef struct {
  uint8_t *data;
  size_t len;
  bool video, key;
  int64_t t_ms;
} frame;

static packet *packets;
static size_t n_packets;
static frame *frames;
static size_t n_frames;

static void fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

static void rtp_header(uint8_t *p, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                       uint32_t ssrc) {
  p[0] = 0x90; /* with a one-byte header extension block, as browsers send */
  p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
  p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
  for (int i = 0; i < 4; i++)
    p[4 + i] = (uint8_t)(ts >> (24 - 8 * i)), p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  static const uint8_t ext[8] = {0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0x00, 0x00};
  memcpy(p + 12, ext, 8);
}

static void add_frame(bool video, bool key, int64_t t, const uint8_t *d, size_t n) {
  frame *f = &frames[n_frames++];
  f->data = malloc(n);
  memcpy(f->data, d, n);
  *f = (frame){f->data, n, video, key, t};
}

static void video_frame(int i, uint16_t *seq) {
  static uint8_t f[200000];
  size_t avg = BITRATE / 8 / FPS;
  bool key = i % KEY_EVERY == 0;
  size_t n =
      key ? avg * 5 : avg * (KEY_EVERY - 5) / (KEY_EVERY - 1); /* 1.5 Mbit/s overall */
  fill(f, n, (uint32_t)i);
  f[0] = key ? 0x10 : 0x11;
  if (key) {
    f[3] = 0x9d, f[4] = 0x01, f[5] = 0x2a, f[6] = 0x00, f[7] = 0x05, f[8] = 0xd0,
    f[9] = 0x02;
  }
  int64_t t = i * 1000 / FPS;
  add_frame(true, key, t, f, n);
  for (size_t off = 0; off < n; off += MTU - 4) {
    size_t chunk = n - off < MTU - 4 ? n - off : MTU - 4;
    packet *p = &packets[n_packets++];
    rtp_header(p->data, 96, off + chunk == n, (*seq)++, 3000u * (uint32_t)i, 0x1111);
    uint8_t desc[4] = {(uint8_t)(0x80 | (off == 0 ? 0x10 : 0)), 0x80,
                       (uint8_t)(0x80 | i >> 8), (uint8_t)i};
    memcpy(p->data + 20, desc, 4);
    memcpy(p->data + 24, f + off, chunk);
    p->len = (uint16_t)(24 + chunk);
    p->video = true;
    p->t_ms = t;
  }
}

static void audio_frame(int i) {
  packet *p = &packets[n_packets++];
  rtp_header(p->data, 111, false, (uint16_t)i, 960u * (uint32_t)i, 0x2222);
  fill(p->data + 20, OPUS_BYTES, (uint32_t)i);
  p->data[20] = 0xfc; /* TOC: CELT fullband 20 ms, stereo */
  p->len = 20 + OPUS_BYTES;
  p->t_ms = i * 20;
  add_frame(false, true, p->t_ms, p->data + 20, OPUS_BYTES);
}

static void make_session(int seconds) {
  int nv = seconds * FPS, na = seconds * 50;
  packets = calloc((size_t)nv * 40 + (size_t)na, sizeof *packets);
  frames = calloc((size_t)(nv + na), sizeof *frames);
  uint16_t vseq = 0;
  for (int a = 0, v = 0; a < na || v < nv;) {
    if (a < na && (v >= nv || a * 20 * FPS <= v * 1000))
      audio_frame(a++);
    else
      video_frame(v++, &vseq);
  }
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru); /* all threads: the loop and libuv's threadpool */
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- Parley ---- */

static void on_closed(void *ud, const recorder_result *r) { *(recorder_result *)ud = *r; }

/* Records packets [0, upto); with kill_after, the process SIGKILLs itself instead of
 * closing (the writes queued by then having completed). */
static void parley_record(const char *path, size_t upto, bool kill_after) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  recorder_result res = {0};
  recorder_tracks tr = {REC_CODEC_OPUS, REC_CODEC_VP8, 48000, 90000, 2};
  recorder_callbacks cb = {NULL, NULL, on_closed};
  recorder *r = recorder_open(&loop, path, &tr, cb, &res);
  uv_run(&loop, UV_RUN_NOWAIT);
  for (size_t i = 0; i < upto; i++) {
    recorder_on_rtp(r, packets[i].video, packets[i].data, packets[i].len);
    if (i % 64 == 0)
      uv_run(&loop, UV_RUN_NOWAIT);
  }
  if (kill_after) {
    for (int i = 0; i < 200 && recorder_get_stats(r).bytes_queued; i++) {
      uv_run(&loop, UV_RUN_NOWAIT);
      usleep(1000);
    }
    raise(SIGKILL);
  }
  recorder_close(r);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (!res.ok)
    fprintf(stderr, "parley: %s\n", res.error);
}

/* ---- libavformat ---- */

static AVFormatContext *lavf_open(const char *path) {
  AVFormatContext *oc = NULL;
  avformat_alloc_output_context2(&oc, NULL, "webm", path);
  AVStream *v = avformat_new_stream(oc, NULL), *a = avformat_new_stream(oc, NULL);
  v->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
  v->codecpar->codec_id = AV_CODEC_ID_VP8;
  v->codecpar->width = 1280;
  v->codecpar->height = 720;
  v->time_base = (AVRational){1, 1000};
  a->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
  a->codecpar->codec_id = AV_CODEC_ID_OPUS;
  a->codecpar->sample_rate = 48000;
  a->codecpar->ch_layout = (AVChannelLayout)AV_CHANNEL_LAYOUT_STEREO;
  static const uint8_t head[19] = {'O', 'p', 'u',  's',  'H', 'e', 'a', 'd', 1, 2,
                                   0,   0,   0x80, 0xbb, 0,   0,   0,   0,   0};
  a->codecpar->extradata = av_mallocz(sizeof head + AV_INPUT_BUFFER_PADDING_SIZE);
  memcpy(a->codecpar->extradata, head, sizeof head);
  a->codecpar->extradata_size = sizeof head;
  a->time_base = (AVRational){1, 1000};
  if (avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0 ||
      avformat_write_header(oc, NULL) < 0) {
    fprintf(stderr, "libavformat: cannot open %s\n", path);
    exit(1);
  }
  return oc;
}

static void lavf_record(const char *path, size_t upto_frames, bool kill_after) {
  AVFormatContext *oc = lavf_open(path);
  AVPacket *pkt = av_packet_alloc();
  for (size_t i = 0; i < upto_frames; i++) {
    frame *f = &frames[i];
    pkt->data = f->data; /* frames arrive interleaved in time order: no queue needed */
    pkt->size = (int)f->len;
    pkt->pts = pkt->dts = f->t_ms;
    pkt->stream_index = f->video ? 0 : 1;
    pkt->flags = f->key ? AV_PKT_FLAG_KEY : 0;
    av_write_frame(oc, pkt);
  }
  if (kill_after)
    raise(SIGKILL);
  av_write_trailer(oc);
  av_packet_free(&pkt);
  avio_closep(&oc->pb);
  avformat_free_context(oc);
}

/* ---- reporting ---- */

static void report(const char *name, double cpu, double media_s, size_t units,
                   const char *unit) {
  printf("%-28s %8.1f ns/%s  %6.3f%% of a core per stream  ~%.0f streams per core\n",
         name, cpu * 1e9 / (double)units, unit, cpu / media_s * 100, media_s / cpu);
}

static void probe(const char *label, const char *path) {
  char cmd[600], out[512] = "";
  snprintf(cmd, sizeof cmd,
           "ffprobe -v error -count_packets -show_entries "
           "format=duration:stream=codec_name,nb_read_packets -of csv=p=0 '%s' "
           "2>&1 | grep -v 'Error parsing Opus' | tr '\\n' ' '",
           path);
  FILE *p = popen(cmd, "r");
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  out[n] = '\0';
  if (p)
    pclose(p);
  printf("  %-40s ffprobe: %s\n", label, n ? out : "(no output)");
}

/* Forks a writer that kills itself after 5 s of media, then shows what ffprobe reads. */
static void crash_test(const char *dir) {
  size_t pk = 0, fr = 0;
  while (pk < n_packets && packets[pk].t_ms < 5000)
    pk++;
  while (fr < n_frames && frames[fr].t_ms < 5000)
    fr++;
  char path[300];
  for (int which = 0; which < 2; which++) {
    snprintf(path, sizeof path, "%s/crash-%s.webm", dir, which ? "lavf" : "parley");
    unlink(path);
    pid_t pid = fork();
    if (pid == 0) {
      if (which)
        lavf_record(path, fr, true);
      else
        parley_record(path, pk, true);
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("kill -9 after 5 s of media, %s:\n", which ? "libavformat" : "parley");
    probe("as left", path);
    if (!which) {
      recorder_result rr;
      int rc = recording_recover(path, &rr);
      printf("  recording_recover: %s, %llu ms kept\n", rc == 0 ? "ok" : rr.error,
             (unsigned long long)rr.duration_ms);
      probe("after recording_recover", path);
    }
  }
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 60;
  make_session(seconds);
  char dir[] = "/tmp/parley-record-bench-XXXXXX";
  if (!mkdtemp(dir))
    return 1;
  printf("media: %d s, %zu RTP packets (VP8 1.5 Mbit/s %d fps, keyframe every %d s; Opus "
         "20 ms), %zu frames\n",
         seconds, n_packets, FPS, KEY_EVERY / FPS, n_frames);
  char path[300];
  snprintf(path, sizeof path, "%s/parley.webm", dir);
  double c0 = cpu_seconds();
  parley_record(path, n_packets, false);
  double parley = cpu_seconds() - c0;
  snprintf(path, sizeof path, "%s/lavf.webm", dir);
  c0 = cpu_seconds();
  lavf_record(path, n_frames, false);
  double lavf = cpu_seconds() - c0;
  report("parley recorder (RTP in)", parley, seconds, n_packets, "packet");
  report("libavformat mux (frames in)", lavf, seconds, n_frames, "frame");
  printf("  (parley per frame: %.1f ns; libavformat gets frames already depacketised)\n",
         parley * 1e9 / (double)n_frames);
  snprintf(path, sizeof path, "%s/parley.webm", dir);
  probe("parley, closed", path);
  snprintf(path, sizeof path, "%s/lavf.webm", dir);
  probe("libavformat, closed", path);
  crash_test(dir);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : 1;
}
