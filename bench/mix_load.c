/* mix_load — the whole conference audio path of parleyd: N Opus participants (real ICE +
 * DTLS + SRTP, RFC 6464 levels) in one room, S of them talking, everyone hearing its mix.
 */
#include "audio_peer.h"
#include "httpc.h"

#include <curl/curl.h>
#include <math.h>
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME 960 /* 20 ms at 48 kHz */
#define FRAME_NS 20000000ULL
#define OPUS_MAX 1275
#define LOOP_FRAMES 50    /* one second of audio, sent round and round */
#define TONE_LEVEL 15     /* -dBov of the tone below, what a loud talker's browser says */
#define CONSENT_TICKS 250 /* a consent check every 5 s per peer, as browsers do */
#define WARMUP_S 2        /* the mixer's smoothed levels settle on the new talkers */
#define SOCKET_BUFFER (256 * 1024)

typedef struct {
  uint8_t data[LOOP_FRAMES][OPUS_MAX];
  size_t len[LOOP_FRAMES];
} opus_loop;

static opus_loop tone, quiet;
static audio_peer *peers;
static int n_peers, http_port, ep;

/* One second of a 440 Hz tone (an integer number of cycles, so it loops without a
 * click) or of digital silence, encoded as Chrome does speech: mono, 32 kbit/s, FEC. */
static void encode_loop(opus_loop *out, double amplitude) {
  int err;
  OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
  int16_t pcm[FRAME];
  for (int f = 0; f < LOOP_FRAMES; f++) {
    for (int i = 0; i < FRAME; i++)
      pcm[i] = (int16_t)(amplitude * sin(2 * M_PI * 440.0 * (f * FRAME + i) / 48000.0));
    int n = opus_encode(enc, pcm, FRAME, out->data[f], OPUS_MAX);
    out->len[f] = n > 0 ? (size_t)n : 0;
  }
  opus_encoder_destroy(enc);
}

/* Decrypts and counts what the server sends: its mix (Opus RTP), and the rest. */
static void classify(audio_peer *a, uint8_t *pkt, int len) {
  bool rtp_or_rtcp = len >= 12 && pkt[0] >= 128 && pkt[0] <= 191;
  uint8_t pt = pkt[1] & 0x7f;
  if (!rtp_or_rtcp || (pt >= 64 && pt <= 95)) { /* STUN replies, RTCP (RFC 5761) */
    a->rx_other++;
    return;
  }
  if (srtp_session_unprotect_rtp(&a->rtc.srtp, pkt, &len) == 0 && pt == a->answer_pt)
    a->rx_audio++;
  else
    a->rx_bad++;
}

static void receive_ready(audio_peer *a) {
  enum { BATCH = 32 };
  static uint8_t bufs[BATCH][1500];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (;;) {
    for (int k = 0; k < BATCH; k++) {
      iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
      msgs[k].msg_hdr = (struct msghdr){.msg_iov = &iov[k], .msg_iovlen = 1};
    }
    int n = recvmmsg(a->rtc.fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int k = 0; k < n; k++)
      classify(a, bufs[k], (int)msgs[k].msg_len);
  }
}

static void poll_receivers(int timeout_ms) {
  struct epoll_event evs[256];
  int n = epoll_wait(ep, evs, 256, timeout_ms);
  for (int k = 0; k < n; k++)
    receive_ready(evs[k].data.ptr);
}

static void drain_all(int upto) {
  for (int i = 0; i < upto; i++)
    receive_ready(&peers[i]);
}

/* A loaded server may miss every ICE check of a join (rtc_peer_connect gives up after
 * 2 s): then that participant joins again, as a browser would retry the call. */
static int join_one(audio_peer *a, const char *alias, dtls_context *ctx, int i) {
  for (int attempt = 0; attempt < 3; attempt++) {
    if (attempt) {
      fprintf(stderr, "participant %d: joining again\n", i);
      if (a->rtc.fd > 0)
        close(a->rtc.fd);
      memset(a, 0, sizeof *a);
    }
    if (audio_peer_negotiate(a, http_port, alias, ctx, i) == 0 &&
        rtc_peer_connect(&a->rtc, ctx) == 0)
      return 0;
  }
  return -1;
}

/* Joins and connects everyone. Those already in hear the mix while the rest join, so
 * their sockets are drained as we go (and kept small: nobody reads them until then). */
static int join_all(const char *alias) {
  char err[200];
  dtls_context *ctx =
      dtls_context_new("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", err, sizeof err);
  if (!ctx)
    return fprintf(stderr, "dtls: %s\n", err), -1;
  ep = epoll_create1(0);
  for (int i = 0; i < n_peers; i++) {
    audio_peer *a = &peers[i];
    if (join_one(a, alias, ctx, i))
      return fprintf(stderr, "participant %d could not join\n", i), -1;
    if (!a->level_id)
      return fprintf(stderr, "the answer dropped the audio-level extension\n"), -1;
    int size = SOCKET_BUFFER;
    setsockopt(a->rtc.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = a};
    epoll_ctl(ep, EPOLL_CTL_ADD, a->rtc.fd, &ev);
    if (i % 25 == 24)
      drain_all(i + 1);
  }
  return 0;
}

typedef struct {
  unsigned long long rtp_in, rtp_out;
} server_counters;

static size_t keep(char *p, size_t size, size_t n, void *ud) {
  char **text = ud;
  size_t old = *text ? strlen(*text) : 0;
  *text = realloc(*text, old + size * n + 1);
  memcpy(*text + old, p, size * n);
  (*text)[old + size * n] = '\0';
  return size * n;
}

static unsigned long long metric_value(const char *text, const char *name) {
  char key[96];
  snprintf(key, sizeof key, "\n%s ", name);
  const char *at = text ? strstr(text, key) : NULL;
  return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

/* GET /metrics (about a millisecond on loopback, so it may run between sends). */
static server_counters read_metrics(void) {
  CURL *c = curl_easy_init();
  char url[128], *text = NULL;
  snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", http_port);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &text);
  curl_easy_perform(c);
  curl_easy_cleanup(c);
  server_counters sc = {metric_value(text, "parley_rtp_in_total"),
                        metric_value(text, "parley_rtp_out_total")};
  free(text);
  return sc;
}

/* One 20 ms frame from peer i: the tone with a loud level from a talker, else silence
 * marked 127 as Chrome sends it when the microphone is quiet. */
static void send_frame(int i, uint64_t tick, int speakers, uint64_t *sent) {
  audio_peer *a = &peers[i];
  bool talking = i < speakers;
  const opus_loop *src = talking ? &tone : &quiet;
  int f = (int)(tick % LOOP_FRAMES);
  uint8_t pkt[64 + OPUS_MAX + SRTP_SESSION_OVERHEAD];
  size_t n = audio_peer_packet(a, pkt, src->data[f], src->len[f],
                               talking ? TONE_LEVEL : AUDIO_PEER_SILENT, talking);
  int len = (int)n;
  srtp_session_protect_rtp(&a->rtc.srtp, pkt, &len);
  if (sendto(a->rtc.fd, pkt, (size_t)len, 0, (struct sockaddr *)&a->rtc.server,
             sizeof a->rtc.server) > 0)
    (*sent)++;
  if ((tick + (uint64_t)i) % CONSENT_TICKS == 0)
    audio_peer_send_consent(a);
}

typedef struct {
  int speakers;
  uint64_t tick; /* frames each peer has sent since the start */
  int next;      /* the peer whose frame is due next in this tick */
  uint64_t t0;   /* when tick 0 began */
  uint64_t sent;
} sender;

/* Each peer sends every 20 ms, offset by i/N of a frame so the load is spread over the
 * tick as it is with independent browsers. Waits for receptions until the next send. */
static void run_until(sender *s, uint64_t deadline) {
  for (;;) {
    uint64_t now = now_ns();
    if (now >= deadline)
      return;
    uint64_t due =
        s->t0 + s->tick * FRAME_NS + (uint64_t)s->next * FRAME_NS / (uint64_t)n_peers;
    if (now >= due) {
      send_frame(s->next, s->tick, s->speakers, &s->sent);
      if (++s->next == n_peers)
        s->next = 0, s->tick++;
      continue;
    }
    uint64_t wait = (due < deadline ? due : deadline) - now;
    poll_receivers(wait >= 1000000 ? (int)(wait / 1000000) : 0);
  }
}

/* Waits (sending and receiving) for parleyd's next stats snapshot, taken every 500 ms,
 * so the counters and the CPU time are read at the same moment. */
static server_counters await_snapshot(sender *s, double *cpu, int pid, uint64_t *when) {
  server_counters first = read_metrics(), now = first;
  for (int tries = 0; tries < 40 && now.rtp_in == first.rtp_in; tries++) {
    run_until(s, now_ns() + 25000000ULL);
    now = read_metrics();
  }
  *cpu = proc_cpu_seconds(pid);
  *when = now_ns();
  return now;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void measure(sender *s, int seconds, int pid, double idle_cores) {
  run_until(s, now_ns() + WARMUP_S * 1000000000ULL);
  double cpu0, cpu1;
  uint64_t t0, t1;
  server_counters m0 = await_snapshot(s, &cpu0, pid, &t0);
  for (int i = 0; i < n_peers; i++)
    peers[i].window_audio = peers[i].rx_audio;
  uint64_t sent0 = s->sent;
  run_until(s, t0 + (uint64_t)seconds * 1000000000ULL);
  server_counters m1 = await_snapshot(s, &cpu1, pid, &t1);
  double elapsed = (double)(t1 - t0) / 1e9;
  double *rates = malloc((size_t)n_peers * sizeof *rates);
  for (int i = 0; i < n_peers; i++)
    rates[i] = (double)(peers[i].rx_audio - peers[i].window_audio) / elapsed;
  qsort(rates, (size_t)n_peers, sizeof *rates, by_value);
  double cores = (cpu1 - cpu0) / elapsed, net = cores - idle_cores;
  printf("N %d S %d: %.1f s; sent %.0f/s; parleyd in %.0f/s out %.0f/s; per receiver "
         "min %.1f median %.1f max %.1f pkt/s; parleyd %.1f%% of a core (%.1f%% net of "
         "idle); %.0f participants per core\n",
         n_peers, s->speakers, elapsed, (double)(s->sent - sent0) / elapsed,
         (double)(m1.rtp_in - m0.rtp_in) / elapsed,
         (double)(m1.rtp_out - m0.rtp_out) / elapsed, rates[0], rates[n_peers / 2],
         rates[n_peers - 1], 100 * cores, 100 * net, n_peers / (net > 0 ? net : cores));
  fflush(stdout);
  free(rates);
}

/* parleyd's own cost with nobody in it (timers, stats): subtracted from every window. */
static double idle_cores(int pid, int seconds) {
  double c0 = proc_cpu_seconds(pid);
  uint64_t t0 = now_ns();
  sleep((unsigned)seconds);
  return (proc_cpu_seconds(pid) - c0) / ((double)(now_ns() - t0) / 1e9);
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: mix_load HTTP_PORT ALIAS N SPEAKERS[,SPEAKERS...] SECONDS "
                    "PARLEYD_PID\n");
    return 2;
  }
  http_port = atoi(argv[1]);
  n_peers = atoi(argv[3]);
  int seconds = atoi(argv[5]), pid = atoi(argv[6]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  srtp_session_global_init();
  encode_loop(&tone, 10000.0);
  encode_loop(&quiet, 0.0);
  printf("Opus frames: tone %zu bytes, silence %zu bytes (after the first)\n",
         tone.len[1], quiet.len[1]);
  double idle = idle_cores(pid, 3);
  printf("parleyd idle (empty): %.2f%% of a core\n", 100 * idle);
  long rss_empty = proc_rss_kib(pid);
  peers = calloc((size_t)n_peers, sizeof *peers);
  uint64_t j0 = now_ns();
  if (join_all(argv[2]))
    return 1;
  printf("%d participants joined (ICE + DTLS + SRTP) in %.1f s\n", n_peers,
         (double)(now_ns() - j0) / 1e9);
  fflush(stdout);
  sender s = {.t0 = now_ns()};
  for (char *list = argv[4], *tok; (tok = strtok(list, ",")); list = NULL) {
    s.speakers = atoi(tok) < n_peers ? atoi(tok) : n_peers;
    measure(&s, seconds, pid, idle);
  }
  long rss = proc_rss_kib(pid);
  printf("parleyd VmRSS: empty %ld KiB, with %d participants %ld KiB: %.1f KiB each\n",
         rss_empty, n_peers, rss, (double)(rss - rss_empty) / n_peers);
  return 0;
}
