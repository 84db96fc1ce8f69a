/* rtm_load — the whole RTM recording path under load: N synthetic agents (WebSocket
 * signalling, ICE, DTLS, SRTP from Parley's own rtc stack) each send Opus + VP8 at
 * exactly 1.5 Mbit/s of media, with sender reports, consent checks and answers to PLI;
 * first without recording (baseline), then recording; then every file is stopped,
 * uploaded to our own HTTP sink and its upload_ready webhook checked. Reports parleyd's
 * CPU
 * (/proc/PID/stat, idle taken out) per stream and what the files hold. */
#include "httpc.h"
#include "rtm_peer.h"
#include "upload_sink.h"

#include "core/ids.h"
#include "rtc/rtcp.h"
#include "rtc/stun.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define FPS 30
#define KEY_EVERY 90   /* frames: a keyframe every 3 s, five times a delta frame's size */
#define CHUNK 1196     /* VP8 payload per packet (1,200 with the payload descriptor) */
#define OPUS_BYTES 120 /* 48 kbit/s of Opus in 20 ms packets */
#define AUDIO_BPS (OPUS_BYTES * 8 * 50)
#define MAX_PACKETS 128
#define NOISE (1 << 18)

typedef enum { TAG_PEER, TAG_WS, TAG_SINK } tag_kind;
typedef struct {
  tag_kind kind;
  int agent;
} tag;

typedef struct {
  peer p;
  uint32_t audio_ssrc;
  ws_client ws;
  tag peer_tag, ws_tag;
  char client_id[32];
  bool active, terminated, started, stopped, failed, uploaded, hooked;
  /* media clock */
  uint64_t t0, next_audio, next_video, next_sr, next_consent, next_ping;
  uint32_t audio_base, video_base;
  uint64_t audio_count, video_frames, gop_start;
  uint16_t audio_seq;
  bool force_key;
  uint64_t packets, octets_audio, octets_video, pkts_audio, pkts_video;
  int32_t lost[2]; /* parleyd's receiver reports: cumulative loss, audio and video */
  uint64_t plis;
  /* the recording */
  uint64_t t_rec_asked, t_stop_asked;
  int64_t file_bytes, file_ms, put_bytes;
  char kept_as[600];
} agent;

static struct {
  int port, pid, n, seconds, baseline_s, idle_s, keep, server_cpu;
  const char *tokens, *keep_dir;
  uint64_t bitrate;
} opt = {.seconds = 30,
         .baseline_s = 10,
         .idle_s = 5,
         .keep = 3,
         .keep_dir = ".",
         .bitrate = 1500000};

static agent *agents;
static int ep;
static bool media_on;
static upload_sink *sink;
static uint8_t noise[NOISE];
static size_t video_avg; /* bytes per video frame */

/* ---- sending ---- */

static size_t rtp_header(uint8_t *p, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                         uint32_t ssrc) {
  p[0] = 0x80;
  p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
  p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
  for (int i = 0; i < 4; i++)
    p[4 + i] = (uint8_t)(ts >> (24 - 8 * i)), p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  return 12;
}

/* Protects and sends n packets of lens[] in one sendmmsg. */
static void send_batch(agent *a, uint8_t (*pkts)[1500], int *lens, int n) {
  struct mmsghdr msgs[MAX_PACKETS];
  struct iovec iov[MAX_PACKETS];
  for (int k = 0; k < n; k++) {
    srtp_session_protect_rtp(&a->p.srtp, pkts[k], &lens[k]);
    iov[k] = (struct iovec){pkts[k], (size_t)lens[k]};
    msgs[k].msg_hdr = (struct msghdr){.msg_name = &a->p.server,
                                      .msg_namelen = sizeof a->p.server,
                                      .msg_iov = &iov[k],
                                      .msg_iovlen = 1};
  }
  for (int done = 0; done < n;) {
    int sent = sendmmsg(a->p.fd, msgs + done, (unsigned)(n - done), 0);
    if (sent <= 0)
      break;
    done += sent;
  }
  a->packets += (uint64_t)n;
}

static void send_audio(agent *a) {
  static uint8_t pkts[1][1500];
  int len =
      (int)rtp_header(pkts[0], 111, false, a->audio_seq++,
                      a->audio_base + 960u * (uint32_t)a->audio_count, a->audio_ssrc);
  memcpy(pkts[0] + len, noise + (a->audio_count * 131) % (NOISE - OPUS_BYTES),
         OPUS_BYTES);
  pkts[0][len] = 0xfc; /* TOC: CELT fullband, 20 ms, one frame */
  len += OPUS_BYTES;
  a->audio_count++;
  a->octets_audio += OPUS_BYTES, a->pkts_audio++;
  send_batch(a, pkts, &len, 1);
}

/* One frame, cut into packets with the VP8 payload descriptor (RFC 7741): a keyframe
 * every KEY_EVERY frames or when asked, with the header the recorder reads (1280x720). */
static void send_video(agent *a) {
  static uint8_t pkts[MAX_PACKETS][1500];
  static int lens[MAX_PACKETS];
  uint64_t f = a->video_frames++;
  if (a->force_key)
    a->gop_start = f, a->force_key = false;
  bool key = (f - a->gop_start) % KEY_EVERY == 0;
  size_t size = key ? video_avg * 5 : video_avg * (KEY_EVERY - 5) / (KEY_EVERY - 1);
  uint32_t ts = a->video_base + 3000u * (uint32_t)f;
  uint16_t pid = (uint16_t)(f & 0x7fff);
  int n = 0;
  for (size_t off = 0; off < size && n < MAX_PACKETS; off += CHUNK, n++) {
    size_t chunk = size - off < CHUNK ? size - off : CHUNK;
    uint8_t *p = pkts[n];
    size_t h =
        rtp_header(p, 96, off + chunk == size, (uint16_t)(a->p.seq++), ts, a->p.ssrc);
    p[h++] = (uint8_t)(0x80 | (off == 0 ? 0x10 : 0)); /* X, and S on the first */
    p[h++] = 0x80;                                    /* I: a picture id follows */
    p[h++] = (uint8_t)(0x80 | pid >> 8), p[h++] = (uint8_t)pid;
    memcpy(p + h, noise + (f * 7919 + off) % (NOISE - CHUNK), chunk);
    if (off == 0 && key) {
      static const uint8_t head[10] = {0x10, 0,    0,    0x9d, 0x01,
                                       0x2a, 0x00, 0x05, 0xd0, 0x02};
      memcpy(p + h, head, sizeof head);
    } else if (off == 0) {
      p[h] = 0x11; /* frame tag: inter frame, shown */
    }
    lens[n] = (int)(h + chunk);
  }
  a->octets_video += size, a->pkts_video += (uint64_t)n;
  send_batch(a, pkts, lens, n);
}

static void ntp_now(uint32_t *sec, uint32_t *frac) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  *sec = (uint32_t)(t.tv_sec + 2208988800u);
  *frac = (uint32_t)(((uint64_t)t.tv_nsec << 32) / 1000000000u);
}

/* A sender report per stream, as browsers send about once a second: the recorder uses
 * them to line audio up with video. */
static void send_reports(agent *a, uint64_t now) {
  uint32_t sec, frac;
  ntp_now(&sec, &frac);
  uint64_t since = now - a->t0;
  uint8_t pkt[256];
  for (int k = 0; k < 2; k++) {
    bool video = k == 1;
    uint32_t ts = video ? a->video_base + (uint32_t)(since * 90 / 1000000)
                        : a->audio_base + (uint32_t)(since * 48 / 1000000);
    size_t n = rtcp_write_sr(
        pkt, sizeof pkt - SRTP_SESSION_OVERHEAD, video ? a->p.ssrc : a->audio_ssrc, sec,
        frac, ts, (uint32_t)(video ? a->pkts_video : a->pkts_audio),
        (uint32_t)(video ? a->octets_video : a->octets_audio), NULL, 0);
    n += rtcp_write_sdes_cname(pkt + n, sizeof pkt - SRTP_SESSION_OVERHEAD - n,
                               video ? a->p.ssrc : a->audio_ssrc, "rtmload");
    int len = (int)n;
    if (srtp_session_protect_rtcp(&a->p.srtp, pkt, &len) == 0)
      sendto(a->p.fd, pkt, (size_t)len, 0, (struct sockaddr *)&a->p.server,
             sizeof a->p.server);
  }
}

/* ICE consent freshness (RFC 7675): without it parleyd ends the call. */
static void send_consent(agent *a) {
  char username[300];
  uint8_t tid[STUN_TID_LEN], buf[512];
  snprintf(username, sizeof username, "%s:%s", a->p.server_ufrag, a->p.ufrag);
  ids_random(tid, sizeof tid);
  size_t n = stun_build_binding_request(buf, sizeof buf, tid, username, 0x6e0001ff, 42,
                                        false, a->p.server_pwd, strlen(a->p.server_pwd));
  sendto(a->p.fd, buf, n, 0, (struct sockaddr *)&a->p.server, sizeof a->p.server);
}

static void send_json(agent *a, json_t *msg) {
  char *text = json_dumps(msg, JSON_COMPACT);
  ws_send_text(&a->ws, text, strlen(text));
  free(text);
  json_decref(msg);
}

static void send_due(agent *a, uint64_t now) {
  if (!a->p.dtls || a->terminated)
    return;
  if (media_on) {
    while (a->next_audio <= now) {
      send_audio(a);
      a->next_audio = a->t0 + a->audio_count * 20000000ULL;
    }
    while (a->next_video <= now) {
      send_video(a);
      a->next_video = a->t0 + a->video_frames * 1000000000ULL / FPS;
    }
    if (a->next_sr <= now)
      send_reports(a, now), a->next_sr = now + 1000000000ULL;
  }
  if (a->next_consent <= now)
    send_consent(a), a->next_consent = now + 5000000000ULL;
  if (a->next_ping <= now) {
    send_json(a, json_pack("{s:s, s:s}", "type", "ping", "client_id", a->client_id));
    a->next_ping = now + 5000000000ULL;
  }
}

/* ---- receiving ---- */

static void on_rtcp_item(const rtcp_item *item, void *ud) {
  agent *a = ud;
  if ((item->kind == RTCP_PLI || item->kind == RTCP_FIR) &&
      item->media_ssrc == a->p.ssrc) {
    a->force_key = true;
    a->plis++;
  }
  if (item->kind == RTCP_RR || item->kind == RTCP_SR)
    for (size_t i = 0; i < item->n_blocks; i++) {
      const rtcp_report_block *b = &item->blocks[i];
      if (b->ssrc == a->audio_ssrc || b->ssrc == a->p.ssrc)
        a->lost[b->ssrc == a->p.ssrc] = b->cumulative_lost;
    }
}

static void on_udp(agent *a) {
  uint8_t buf[2048];
  for (;;) {
    ssize_t got = recv(a->p.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got <= 0)
      return;
    int len = (int)got;
    bool rtcp = buf[0] >= 128 && buf[0] <= 191 && buf[1] >= 192 && buf[1] <= 223;
    if (rtcp && srtp_session_unprotect_rtcp(&a->p.srtp, buf, &len) == 0)
      rtcp_parse(buf, (size_t)len, on_rtcp_item, a);
  }
}

static void on_message(agent *a, const char *text) {
  json_t *m = json_loads(text, 0, NULL);
  const char *type = json_string_value(json_object_get(m, "type"));
  json_t *data = json_object_get(m, "data");
  const char *state = json_string_value(json_object_get(data, "state"));
  if (type && state && strcmp(type, "session_state") == 0) {
    if (strcmp(state, "ACTIVE") == 0)
      a->active = true;
    if (strcmp(state, "TERMINATED") == 0 || strcmp(state, "SHUTDOWN") == 0) {
      const char *cause = json_string_value(json_object_get(data, "termination_cause"));
      if (!a->terminated && cause && strcmp(cause, "TERM_BY_CLIENT") != 0)
        fprintf(stderr, "%s: session ended: %s\n", a->client_id, cause);
      a->terminated = true;
    }
  } else if (type && state && strcmp(type, "recording_state") == 0) {
    if (strcmp(state, "STARTED") == 0)
      a->started = true;
    else if (strcmp(state, "STOPPED") == 0)
      a->stopped = true;
    else {
      a->failed = true;
      fprintf(stderr, "%s: recording %s: %s\n", a->client_id, state,
              json_string_value(json_object_get(data, "reason")));
    }
  } else if (type && strcmp(type, "error") == 0) {
    fprintf(stderr, "%s: error: %s\n", a->client_id, text);
  }
  json_decref(m);
}

static void on_ws(agent *a) {
  bool closed;
  char *text;
  while ((text = ws_next_text(&a->ws, 0, &closed))) {
    on_message(a, text);
    free(text);
  }
  if (closed) {
    epoll_ctl(ep, EPOLL_CTL_DEL, a->ws.fd, NULL);
    a->terminated = true;
  }
}

static int agent_of(const char *s, const char *prefix) {
  const char *p = strstr(s, prefix);
  int i = p ? atoi(p + strlen(prefix)) : -1;
  return i >= 0 && i < opt.n ? i : -1;
}

static void on_put(void *ud, const char *path, size_t bytes, const char *kept_as) {
  (void)ud;
  int i = agent_of(path, "/rec-");
  if (i < 0)
    return;
  agents[i].uploaded = true;
  agents[i].put_bytes = (int64_t)bytes;
  if (kept_as)
    snprintf(agents[i].kept_as, sizeof agents[i].kept_as, "%s", kept_as);
}

static void on_post(void *ud, const char *path, const char *body) {
  (void)ud, (void)path;
  json_t *b = json_loads(body, 0, NULL);
  const char *status = json_string_value(json_object_get(b, "status"));
  const char *cid = json_string_value(json_object_get(b, "client_id"));
  int i = cid ? agent_of(cid, "agent-") : -1;
  if (i >= 0 && status && strcmp(status, "upload_ready") == 0) {
    agents[i].hooked = true;
    agents[i].file_bytes =
        json_integer_value(json_object_get(b, "recording_file_size_bytes"));
    agents[i].file_ms =
        json_integer_value(json_object_get(b, "recording_file_duration_ms"));
  } else if (i >= 0 && status && strcmp(status, "upload_failed") == 0) {
    fprintf(stderr, "agent-%d: upload_failed: %s\n", i, body);
    agents[i].failed = true;
  }
  json_decref(b);
}

/* Runs the client for ms milliseconds (0: one pass): media due, then whatever arrived. */
static void pump(int ms) {
  uint64_t end = now_ns() + (uint64_t)ms * 1000000ULL;
  do {
    uint64_t now = now_ns();
    for (int i = 0; i < opt.n; i++)
      send_due(&agents[i], now);
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, ms ? 1 : 0);
    for (int k = 0; k < n; k++) {
      tag *t = evs[k].data.ptr;
      if (t->kind == TAG_SINK)
        upload_sink_run(sink);
      else if (t->kind == TAG_WS)
        on_ws(&agents[t->agent]);
      else
        on_udp(&agents[t->agent]);
    }
  } while (now_ns() < end);
}

typedef bool (*agent_test)(const agent *a);
static bool is_active(const agent *a) { return a->active || a->terminated; }
static bool is_started(const agent *a) {
  return a->started || a->failed || a->terminated;
}
static bool is_stopped(const agent *a) {
  return a->stopped || a->failed || a->terminated;
}
static bool is_delivered(const agent *a) {
  return (a->uploaded && a->hooked) || a->failed || !a->started;
}

/* Pumps until every agent passes test or seconds run out; how many passed. */
static int wait_all(agent_test test, int seconds) {
  uint64_t end = now_ns() + (uint64_t)seconds * 1000000000ULL;
  int ok = 0;
  while (now_ns() < end) {
    ok = 0;
    for (int i = 0; i < opt.n; i++)
      ok += test(&agents[i]);
    if (ok == opt.n)
      break;
    pump(20);
  }
  return ok;
}

/* ---- set-up ---- */

static int connect_agent(agent *a, int i, const char *token, dtls_context *ctx) {
  char path[2048], offer[4096];
  snprintf(a->client_id, sizeof a->client_id, "agent-%d", i);
  snprintf(path, sizeof path, "/api/rtm/v1/io?access_token=%s", token);
  if (ws_connect(&a->ws, opt.port, path))
    return -1;
  ids_random(&a->p.ssrc, sizeof a->p.ssrc);
  ids_random(&a->audio_ssrc, sizeof a->audio_ssrc);
  rtm_peer_offer(&a->p, a->audio_ssrc, ctx, offer, sizeof offer);
  char *msg = NULL;
  if (asprintf(&msg,
               "{\"type\":\"session_start\",\"client_id\":\"%s\",\"data\":{\"sdp\":"
               "{\"type\":\"offer\",\"sdp\":\"%s\"},\"webhook_url\":"
               "\"http://127.0.0.1:%d/hooks\"}}",
               a->client_id, offer, upload_sink_port(sink)) < 0 ||
      ws_send_text(&a->ws, msg, strlen(msg)))
    return free(msg), -1;
  free(msg);
  json_t *answer = NULL;
  for (int waited = 0; !answer && waited < 10000; waited += 100) {
    bool closed;
    char *text = ws_next_text(&a->ws, 100, &closed);
    if (closed)
      return fprintf(stderr, "%s: socket closed before the answer\n", a->client_id), -1;
    json_t *m = text ? json_loads(text, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(m, "type"));
    if (type && strcmp(type, "sdp_update") == 0)
      answer = m;
    else if (text)
      on_message(a, text), json_decref(m);
    free(text);
  }
  const char *sdp = json_string_value(
      json_object_get(json_object_get(json_object_get(answer, "data"), "sdp"), "sdp"));
  int rc = sdp ? rtc_peer_take_remote(&a->p, sdp, NULL) : -1;
  json_decref(answer);
  if (rc || rtc_peer_connect(&a->p, ctx))
    return fprintf(stderr, "%s: no answer or no connection\n", a->client_id), -1;
  a->peer_tag = (tag){TAG_PEER, i};
  a->ws_tag = (tag){TAG_WS, i};
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->peer_tag};
  epoll_ctl(ep, EPOLL_CTL_ADD, a->p.fd, &ev);
  ev.data.ptr = &a->ws_tag;
  epoll_ctl(ep, EPOLL_CTL_ADD, a->ws.fd, &ev);
  /* Spread the agents' frames over a frame interval, as independent cameras are. */
  uint64_t now = now_ns();
  a->t0 = now + (uint64_t)(i % 33) * 1000000ULL;
  a->next_audio = a->next_video = a->next_sr = a->t0;
  a->next_consent = now + 2000000000ULL;
  a->next_ping = now + (uint64_t)(i % 50) * 100000000ULL;
  ids_random(&a->audio_base, sizeof a->audio_base);
  ids_random(&a->video_base, sizeof a->video_base);
  return 0;
}

static char **read_tokens(const char *path, int n) {
  FILE *f = fopen(path, "r");
  if (!f)
    return perror(path), NULL;
  char **tokens = calloc((size_t)n, sizeof *tokens), line[4096];
  int got = 0;
  while (got < n && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (*line)
      tokens[got++] = strdup(line);
  }
  fclose(f);
  if (got < n)
    return fprintf(stderr, "%s: %d tokens for %d agents\n", path, got, n), NULL;
  return tokens;
}

/* ---- measuring ---- */

/* Kernel UDP receive-buffer overflows, machine-wide (from /proc/net/snmp). */
static long udp_rcvbuf_errors(void) {
  FILE *f = fopen("/proc/net/snmp", "r");
  char head[1024], vals[1024];
  long v = -1;
  while (f && fgets(head, sizeof head, f) && fgets(vals, sizeof vals, f)) {
    if (strncmp(head, "Udp:", 4) != 0)
      continue;
    char *hs, *vs, *h = strtok_r(head, " \n", &hs), *x = strtok_r(vals, " \n", &vs);
    for (; h && x; h = strtok_r(NULL, " \n", &hs), x = strtok_r(NULL, " \n", &vs))
      if (strcmp(h, "RcvbufErrors") == 0)
        v = atol(x);
  }
  if (f)
    fclose(f);
  return v;
}

typedef struct {
  double cpu, wall, client_cpu, core_busy; /* core_busy: the server core, everyone */
  uint64_t packets, media_bytes;
  long drops, lost;
} window;

/* Busy and total jiffies of one core (from /proc/stat): on a shared machine, what else
 * ran on parleyd's core. */
static void core_jiffies(int cpu, double *busy, double *total) {
  FILE *f = fopen("/proc/stat", "r");
  char line[512], want[16];
  snprintf(want, sizeof want, "cpu%d ", cpu);
  *busy = *total = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, want, strlen(want)) != 0)
      continue;
    double v[10] = {0};
    sscanf(line + strlen(want), "%lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2],
           &v[3], &v[4], &v[5], &v[6], &v[7]);
    for (int k = 0; k < 8; k++)
      *total += v[k];
    *busy = *total - v[3] - v[4]; /* not idle, not iowait */
  }
  if (f)
    fclose(f);
}

static long lost_now(void) {
  long n = 0;
  for (int i = 0; i < opt.n; i++)
    n += agents[i].lost[0] + agents[i].lost[1];
  return n;
}

static uint64_t media_bytes(void) {
  uint64_t n = 0;
  for (int i = 0; i < opt.n; i++)
    n += agents[i].octets_audio + agents[i].octets_video;
  return n;
}

static window measure(int seconds) {
  uint64_t p0 = 0, p1 = 0;
  for (int i = 0; i < opt.n; i++)
    p0 += agents[i].packets;
  long d0 = udp_rcvbuf_errors();
  uint64_t m0 = media_bytes();
  long l0 = lost_now();
  double b0, j0, b1, j1;
  core_jiffies(opt.server_cpu, &b0, &j0);
  double c0 = proc_cpu_seconds(opt.pid), own0 = proc_cpu_seconds(getpid());
  uint64_t t0 = now_ns();
  pump(seconds * 1000);
  window w = {.cpu = proc_cpu_seconds(opt.pid) - c0,
              .wall = (double)(now_ns() - t0) / 1e9,
              .client_cpu = proc_cpu_seconds(getpid()) - own0};
  for (int i = 0; i < opt.n; i++)
    p1 += agents[i].packets;
  w.packets = p1 - p0;
  w.media_bytes = media_bytes() - m0;
  w.drops = udp_rcvbuf_errors() - d0;
  w.lost = lost_now() - l0;
  core_jiffies(opt.server_cpu, &b1, &j1);
  w.core_busy = j1 > j0 ? (b1 - b0) / (j1 - j0) : 0;
  return w;
}

/* ffprobe's codecs and duration of a kept file, against the time it was recorded. */
static bool probe(const agent *a, double recorded_s) {
  char cmd[900], out[512] = "";
  snprintf(cmd, sizeof cmd,
           "ffprobe -v error -show_entries format=duration:stream=codec_name -of csv=p=0 "
           "'%s' 2>/dev/null | tr '\\n' ' '",
           a->kept_as);
  FILE *p = popen(cmd, "r");
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  out[n] = '\0';
  if (p)
    pclose(p);
  double dur = 0;
  const char *last = strrchr(out, ' ');
  while (last && last > out && last[1] == '\0') /* the value after the codec names */
    last = memrchr(out, ' ', (size_t)(last - out));
  if (last)
    dur = atof(last + 1);
  bool ok = strstr(out, "opus") && strstr(out, "vp8") && dur > 0 &&
            dur - recorded_s < 0.5 && recorded_s - dur < 0.5;
  printf("  ffprobe %s: %s-> %.2f s for %.2f s recorded: %s\n", a->client_id, out, dur,
         recorded_s, ok ? "ok" : "WRONG");
  return ok;
}

static void usage(void) {
  fprintf(stderr,
          "usage: rtm_load --port HTTP_PORT --pid PARLEYD_PID --tokens FILE --agents N\n"
          "       [--seconds 30] [--baseline-seconds 10] [--idle-seconds 5]\n"
          "       [--bitrate 1500000] [--keep 3] [--keep-dir DIR] [--server-cpu 0]\n"
          "FILE has one RTM JWT per line, for client ids agent-0 ... agent-(N-1).\n");
  exit(2);
}

static void parse_args(int argc, char **argv) {
  static const struct option longs[] = {
      {"port", 1, 0, 'p'},         {"pid", 1, 0, 'P'},
      {"tokens", 1, 0, 't'},       {"agents", 1, 0, 'n'},
      {"seconds", 1, 0, 's'},      {"baseline-seconds", 1, 0, 'b'},
      {"idle-seconds", 1, 0, 'i'}, {"bitrate", 1, 0, 'r'},
      {"keep", 1, 0, 'k'},         {"keep-dir", 1, 0, 'd'},
      {"server-cpu", 1, 0, 'c'},   {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
    switch (c) {
    case 'p':
      opt.port = atoi(optarg);
      break;
    case 'P':
      opt.pid = atoi(optarg);
      break;
    case 't':
      opt.tokens = optarg;
      break;
    case 'n':
      opt.n = atoi(optarg);
      break;
    case 's':
      opt.seconds = atoi(optarg);
      break;
    case 'b':
      opt.baseline_s = atoi(optarg);
      break;
    case 'i':
      opt.idle_s = atoi(optarg);
      break;
    case 'r':
      opt.bitrate = strtoull(optarg, NULL, 10);
      break;
    case 'k':
      opt.keep = atoi(optarg);
      break;
    case 'd':
      opt.keep_dir = optarg;
      break;
    case 'c':
      opt.server_cpu = atoi(optarg);
      break;
    default:
      usage();
    }
  }
  if (!opt.port || !opt.pid || !opt.tokens || opt.n < 1 || opt.seconds < 1 ||
      opt.bitrate <= AUDIO_BPS)
    usage();
}

static void connect_all(void) {
  char **tokens = read_tokens(opt.tokens, opt.n);
  if (!tokens)
    exit(1);
  srtp_session_global_init();
  char err[200];
  dtls_context *ctx =
      dtls_context_new("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", err, sizeof err);
  if (!ctx)
    fprintf(stderr, "dtls: %s\n", err), exit(1);
  for (int i = 0; i < opt.n; i++) {
    if (connect_agent(&agents[i], i, tokens[i], ctx) != 0)
      exit(1);
    pump(0); /* the agents already connected keep sending */
  }
  int active = wait_all(is_active, 30);
  int live = 0;
  for (int i = 0; i < opt.n; i++)
    live += agents[i].active && !agents[i].terminated;
  printf("%d agents connected (RTM WebSocket, ICE, DTLS, SRTP); %d ACTIVE\n", opt.n,
         live);
  if (active < opt.n || live < opt.n)
    exit(1);
}

static void start_recordings(void) {
  int sink_port = upload_sink_port(sink);
  for (int i = 0; i < opt.n; i++) {
    agent *a = &agents[i];
    char url[128], hook[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/rec-%d.webm", sink_port, i);
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hooks", sink_port);
    a->t_rec_asked = now_ns();
    send_json(a, json_pack("{s:s, s:s, s:{s:s, s:s}}", "type", "recording_start",
                           "client_id", a->client_id, "data", "upload_url", url,
                           "webhook_url", hook));
    pump(0);
  }
  int started = wait_all(is_started, 20), ok = 0;
  for (int i = 0; i < opt.n; i++)
    ok += agents[i].started;
  printf("%d of %d recordings STARTED\n", ok, opt.n);
  if (started < opt.n || ok < opt.n)
    exit(1);
}

static void report_window(const char *what, window w, double idle_rate) {
  double rate = w.cpu / w.wall;
  printf("%-10s parleyd %.2f CPU-s in %.1f s = %.1f%% of a core; %.3f%% per stream "
         "(idle taken out); its core %.0f%% busy in all; client sent %.0f packets/s at "
         "%.0f%% of its core; UDP receive drops %ld, loss in receiver reports %ld\n",
         what, w.cpu, w.wall, 100 * rate, 100 * (rate - idle_rate) / opt.n,
         100 * w.core_busy, (double)w.packets / w.wall, 100 * w.client_cpu / w.wall,
         w.drops, w.lost);
}

/* The files: every recording STOPPED, uploaded whole, its webhook in, durations right. */
static int check_files(void) {
  int stopped = 0, uploaded = 0, hooked = 0, size_ok = 0, dur_ok = 0, probed_ok = 0;
  double bits = 0, secs = 0, worst = 0;
  for (int i = 0; i < opt.n; i++) {
    agent *a = &agents[i];
    stopped += a->stopped && !a->failed;
    uploaded += a->uploaded;
    hooked += a->hooked;
    size_ok += a->uploaded && a->hooked && a->put_bytes == a->file_bytes;
    if (!a->hooked)
      continue;
    bits += (double)a->file_bytes * 8, secs += (double)a->file_ms / 1000;
    /* What the agent asked for: from recording_start to recording_stop (audio is
     * written from the start; video from its first keyframe). */
    double recorded = (double)(a->t_stop_asked - a->t_rec_asked) / 1e9;
    double off = (double)a->file_ms / 1000 - recorded;
    worst = off * off > worst * worst ? off : worst;
    dur_ok += off < 0.5 && off > -0.5;
    if (a->kept_as[0])
      probed_ok += probe(a, recorded);
  }
  int kept = opt.keep < opt.n ? opt.keep : opt.n;
  printf("files: %d STOPPED, %d uploaded, %d upload_ready webhooks, %d sizes match the "
         "webhook, %d durations within 0.5 s (worst %+.2f s), %d of %d probed ok\n",
         stopped, uploaded, hooked, size_ok, dur_ok, worst, probed_ok, kept);
  printf("recorded bit rate: %.3f Mbit/s per stream (file bytes / file duration)\n",
         secs > 0 ? bits / secs / 1e6 : 0);
  return stopped == opt.n && size_ok == opt.n && dur_ok == opt.n && probed_ok == kept ? 0
                                                                                      : 1;
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  for (size_t i = 0; i < NOISE; i++)
    noise[i] = (uint8_t)(i * 2654435761u >> 13);
  video_avg = (opt.bitrate - AUDIO_BPS) / 8 / FPS;
  agents = calloc((size_t)opt.n, sizeof *agents);
  ep = epoll_create1(0);
  upload_sink_callbacks cb = {on_put, on_post};
  sink = upload_sink_open(opt.keep_dir, cb, NULL);
  if (!sink)
    return 1;
  for (int i = 0; i < opt.keep && i < opt.n; i++) {
    char name[32];
    snprintf(name, sizeof name, "/rec-%d.webm", i);
    upload_sink_keep(sink, name);
  }
  static tag sink_tag = {TAG_SINK, -1};
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &sink_tag};
  epoll_ctl(ep, EPOLL_CTL_ADD, upload_sink_fd(sink), &ev);

  window idle = measure(opt.idle_s);
  double idle_rate = idle.cpu / idle.wall;
  printf("idle parleyd: %.2f%% of a core over %.1f s\n", 100 * idle_rate, idle.wall);
  media_on = true;
  connect_all();
  pump(2000); /* past the set-up and the first keyframes */
  window base = {0};
  if (opt.baseline_s > 0)
    report_window("baseline:", base = measure(opt.baseline_s), idle_rate);
  start_recordings();
  pump(1000);
  window rec = measure(opt.seconds);
  report_window("recording:", rec, idle_rate);
  for (int i = 0; i < opt.n; i++) {
    agents[i].t_stop_asked = now_ns();
    send_json(&agents[i], json_pack("{s:s, s:s}", "type", "recording_stop", "client_id",
                                    agents[i].client_id));
    pump(0);
  }
  int stopped = wait_all(is_stopped, 60);
  media_on = false;
  for (int i = 0; i < opt.n; i++)
    send_json(&agents[i], json_pack("{s:s, s:s}", "type", "session_stop", "client_id",
                                    agents[i].client_id));
  int delivered = wait_all(is_delivered, 120 + opt.n / 5);
  printf("%d STOPPED, %d delivered (upload + webhook) before the deadline\n", stopped,
         delivered);

  uint64_t plis = 0;
  int64_t lost = 0;
  for (int i = 0; i < opt.n; i++) {
    plis += agents[i].plis;
    lost += agents[i].lost[0] + agents[i].lost[1];
  }
  printf("media sent: %.3f Mbit/s per stream of Opus + VP8 payload during the recording "
         "window (%.0f packets/s per stream); PLIs answered %lu; loss in parleyd's "
         "receiver reports: %ld packets\n",
         (double)rec.media_bytes * 8 / rec.wall / opt.n / 1e6,
         (double)rec.packets / rec.wall / opt.n, (unsigned long)plis, (long)lost);
  int bad = check_files();
  double rate = rec.cpu / rec.wall;
  printf(
      "RESULT agents=%d cpu_core_pct=%.1f per_stream_pct=%.3f base_per_stream_pct=%.3f "
      "core_busy_pct=%.0f pps=%.0f drops=%ld window_lost=%ld lost=%ld files_ok=%s\n",
      opt.n, 100 * rate, 100 * (rate - idle_rate) / opt.n,
      base.wall > 0 ? 100 * (base.cpu / base.wall - idle_rate) / opt.n : 0,
      100 * rec.core_busy, (double)rec.packets / rec.wall, rec.drops, rec.lost,
      (long)lost, bad ? "no" : "yes");
  upload_sink_close(sink);
  return bad;
}
