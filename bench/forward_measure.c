/* forward_measure — one publisher sends at a fixed rate, the subscribers count what the
 * server forwards, and the server's own CPU time is read around the window. */
#include "forward_measure.h"

#include "httpc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Counts forwarded RTP (SRTP, not decrypted: the count is what matters here and
 * decrypting 100k+ packets/s would make this client the bottleneck). */
static void receive_ready(peer *p, uint8_t video_pt) {
  struct mmsghdr msgs[64];
  struct iovec iov[64];
  struct sockaddr_in from[64];
  static uint8_t bufs[64][1500];
  for (;;) {
    for (int k = 0; k < 64; k++) {
      iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
      msgs[k].msg_hdr = (struct msghdr){.msg_name = &from[k],
                                        .msg_namelen = sizeof from[k],
                                        .msg_iov = &iov[k],
                                        .msg_iovlen = 1};
    }
    int n = recvmmsg(p->fd, msgs, 64, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int k = 0; k < n; k++) {
      /* RTP of the video payload type is the forwarded video. */
      bool video =
          bufs[k][0] >= 128 && bufs[k][0] <= 191 && (bufs[k][1] & 0x7f) == video_pt;
      if (video)
        p->received++;
      else if (!rtc_peer_answer_check(p, bufs[k], msgs[k].msg_len,
                                      (struct sockaddr *)&from[k],
                                      msgs[k].msg_hdr.msg_namelen))
        p->bad++; /* RTCP and our checks' answers; the server's checks are answered */
    }
  }
}

/* The namespace's UDP drop counters (/proc/net/snmp): a receive buffer that overflowed
 * (RcvbufErrors: a client socket, or the server's ingress) or a full send buffer
 * (SndbufErrors: the server's egress), so a shortfall can be placed. */
typedef struct {
  unsigned long rcvbuf_errors, sndbuf_errors;
} udp_drops;

static udp_drops read_udp_drops(void) {
  udp_drops d = {0};
  FILE *f = fopen("/proc/net/snmp", "r");
  char names[512], values[512];
  while (f && fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
    if (strncmp(names, "Udp: ", 5))
      continue;
    unsigned long v[8] = {0};
    /* InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors ... */
    if (sscanf(values, "Udp: %lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5]) == 6)
      d = (udp_drops){v[4], v[5]};
    break;
  }
  if (f)
    fclose(f);
  return d;
}

/* Sends one packet per interval from peers[0] for ms, reading subscribers in between;
 * src (or NULL) builds them. */
static void send_window(peer *peers, int calls, int ep, uint64_t ms, int pps,
                        uint8_t video_pt, forward_source *src) {
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  uint64_t t0 = now_ns(), interval = 1000000000ULL / (uint64_t)pps, next = t0;
  uint64_t end = t0 + ms * 1000000ULL;
  uint32_t ts = 0;
  /* Consent is refreshed inside the window too, as a browser would (every 5 s). */
  uint64_t last_refresh = 0;
  rtc_peer_refresh_all(peers, calls, &last_refresh);
  while (now_ns() < end) {
    rtc_peer_refresh_all(peers, calls, &last_refresh);
    while (now_ns() < next) {
      struct epoll_event evs[64];
      int n = epoll_wait(ep, evs, 64, 0);
      for (int k = 0; k < n; k++)
        receive_ready(evs[k].data.ptr, video_pt);
    }
    next += interval;
    ts += 3000;
    int stream = 0;
    int len = src ? (int)src->next(src, &peers[0], pkt, &stream)
                  : (int)rtc_peer_make_packet(&peers[0], pkt, ts);
    srtp_session_protect_rtp(&peers[0].srtp, pkt, &len);
    if (sendto(peers[0].fd, pkt, (size_t)len, 0, (struct sockaddr *)&peers[0].server,
               sizeof peers[0].server) > 0) {
      peers[0].sent++;
      if (src)
        src->sent[stream]++;
    }
  }
}

int forward_measure(peer *peers, int calls, int seconds, int pps, int server_pid,
                    const char *server_name, uint8_t video_pt) {
  return forward_measure_source(peers, calls, seconds, pps, server_pid, server_name,
                                video_pt, NULL);
}

int forward_measure_source(peer *peers, int calls, int seconds, int pps, int server_pid,
                           const char *server_name, uint8_t video_pt,
                           forward_source *src) {
  int ep = epoll_create1(0), subscribers = calls - 1;
  for (int i = 1; i < calls; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &peers[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, peers[i].fd, &ev);
  }
  if (src && src->warmup_ms > 0)
    send_window(peers, calls, ep, (uint64_t)src->warmup_ms, pps, video_pt, src);
  if (src)
    memset(src->sent, 0, sizeof src->sent);
  /* What arrived during set-up (RTCP, check answers) is not part of the window. */
  for (int i = 1; i < calls; i++) {
    receive_ready(&peers[i], video_pt);
    peers[i].received = peers[i].bad = 0;
  }
  peers[0].sent = 0;
  udp_drops drops0 = read_udp_drops();
  double cpu0 = proc_cpu_seconds(server_pid);
  uint64_t t0 = now_ns();
  send_window(peers, calls, ep, (uint64_t)seconds * 1000, pps, video_pt, src);
  double elapsed = (double)(now_ns() - t0) / 1e9;
  double cpu = proc_cpu_seconds(server_pid) - cpu0;
  usleep(200000); /* what is still in flight was sent inside the window */
  for (int i = 1; i < calls; i++)
    receive_ready(&peers[i], video_pt);
  close(ep);
  udp_drops drops = read_udp_drops();
  drops.rcvbuf_errors -= drops0.rcvbuf_errors;
  drops.sndbuf_errors -= drops0.sndbuf_errors;
  uint64_t video = 0, other = 0, least = UINT64_MAX, most = 0;
  int starved = 0;
  for (int i = 1; i < calls; i++) {
    video += peers[i].received, other += peers[i].bad;
    least = peers[i].received < least ? peers[i].received : least;
    most = peers[i].received > most ? peers[i].received : most;
    starved += peers[i].received == 0;
  }
  double expected = (double)peers[0].sent * subscribers, egress = (double)(video + other);
  if (src) { /* each subscriber against the stream it is to receive */
    expected = 0;
    for (int i = 1; i < calls; i++)
      expected +=
          (double)src->sent[src->stream_of ? src->stream_of[i] : src->n_streams - 1];
  }
  double mbit = (double)video * PACKET * 8 / elapsed / 1e6;
  printf(
      "publisher sent %lu video packets (%.0f/s); subscribers got %lu (%.1f%% of %.0f) "
      "plus %lu other packets (RTCP)\n",
      (unsigned long)peers[0].sent, peers[0].sent / elapsed, (unsigned long)video,
      100.0 * (double)video / expected, expected, (unsigned long)other);
  printf("per subscriber: %lu to %lu video packets; %d got none\n", (unsigned long)least,
         (unsigned long)most, starved);
  printf("UDP drops in the window: %lu receive-buffer overflows, %lu send-buffer full\n",
         drops.rcvbuf_errors, drops.sndbuf_errors);
  printf("egress: %.0f packets/s (%.0f video), %.1f Mbit/s of video\n", egress / elapsed,
         (double)video / elapsed, mbit);
  printf("%s CPU: %.2f s over %.1f s = %.0f%% of a core; %.0f egress packets per "
         "CPU-second\n",
         server_name, cpu, elapsed, 100 * cpu / elapsed, egress / cpu);
  const char *srtp = peers[0].srtp_profile == DTLS_SRTP_AEAD_AES_128_GCM
                         ? "AES-128-GCM"
                         : "AES-128-CM-SHA1-80";
  printf("SRTP (as the server chose for the publisher): %s\n", srtp);
  printf("RESULT server=%s n=%d pps=%.0f delivered=%.1f egress_pps=%.0f mbit=%.1f "
         "cpu_s=%.2f window_s=%.1f per_cpu_s=%.0f srtp=%s",
         server_name, subscribers, peers[0].sent / elapsed,
         100.0 * (double)video / expected, egress / elapsed, mbit, cpu, elapsed,
         egress / cpu, srtp);
  for (int k = 0; src && k < src->n_streams; k++)
    printf("%s%lu", k ? ":" : " streams=", (unsigned long)src->sent[k]);
  printf("\n");
  return 0;
}

/* All-to-all: each of pubs[0..k-1] sends one stream at pps, and each subs[i] receives
 * the k - 1 other streams on one connection. */
int mesh_measure(peer *pubs, peer *subs, int k, int seconds, int pps, int server_pid,
                 const char *server_name, uint8_t video_pt) {
  int ep = epoll_create1(0);
  for (int i = 0; i < k; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &subs[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
  }
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  uint64_t interval = 1000000000ULL / (uint64_t)pps, last_refresh = 0;
  uint64_t t_start = now_ns(), warm_end = t_start + 3000000000ULL;
  uint64_t end = warm_end + (uint64_t)seconds * 1000000000ULL, next = t_start, sent = 0;
  uint32_t ts = 0;
  double cpu0 = 0;
  bool measuring = false;
  udp_drops drops0 = {0};
  while (now_ns() < end) {
    rtc_peer_refresh_all(pubs, k, &last_refresh);
    if (!measuring && now_ns() >= warm_end) { /* 3 s warm-up: keyframes, layers */
      measuring = true;
      for (int i = 0; i < k; i++) { /* what the warm-up sent is not the window's */
        receive_ready(&subs[i], video_pt);
        subs[i].received = subs[i].bad = 0;
      }
      sent = 0;
      drops0 = read_udp_drops();
      cpu0 = proc_cpu_seconds(server_pid);
    }
    while (now_ns() < next) {
      struct epoll_event evs[64];
      int n = epoll_wait(ep, evs, 64, 0);
      for (int e = 0; e < n; e++)
        receive_ready(evs[e].data.ptr, video_pt);
    }
    next += interval;
    ts += 90000 / (uint32_t)pps;
    for (int i = 0; i < k; i++) {
      int len = (int)rtc_peer_make_packet(&pubs[i], pkt, ts);
      srtp_session_protect_rtp(&pubs[i].srtp, pkt, &len);
      sent += rtc_peer_send(&pubs[i], pkt, (size_t)len) > 0;
    }
  }
  double elapsed = (double)(now_ns() - warm_end) / 1e9;
  double cpu = proc_cpu_seconds(server_pid) - cpu0;
  usleep(200000);
  for (int i = 0; i < k; i++)
    receive_ready(&subs[i], video_pt);
  close(ep);
  udp_drops drops = read_udp_drops();
  uint64_t video = 0, other = 0;
  for (int i = 0; i < k; i++)
    video += subs[i].received, other += subs[i].bad;
  double expected = (double)sent * (k - 1), egress = (double)(video + other);
  printf("%d publishers sent %lu video packets (%.0f/s each); subscribers got %lu "
         "(%.1f%% of %.0f) plus %lu other packets (RTCP)\n",
         k, (unsigned long)sent, (double)sent / k / elapsed, (unsigned long)video,
         100.0 * (double)video / expected, expected, (unsigned long)other);
  printf("UDP drops in the window: %lu receive-buffer overflows, %lu send-buffer full\n",
         drops.rcvbuf_errors - drops0.rcvbuf_errors,
         drops.sndbuf_errors - drops0.sndbuf_errors);
  printf("%s CPU: %.2f s over %.1f s = %.0f%% of a core; %.0f egress packets per "
         "CPU-second\n",
         server_name, cpu, elapsed, 100 * cpu / elapsed, egress / cpu);
  double mbit = (double)video * PACKET * 8 / elapsed / 1e6;
  printf("RESULT server=%s n=%d pps=%d delivered=%.1f egress_pps=%.0f mbit=%.1f "
         "cpu_s=%.2f window_s=%.1f per_cpu_s=%.0f scenario=mesh\n",
         server_name, k, pps, 100.0 * (double)video / expected, egress / elapsed, mbit,
         cpu, elapsed, egress / cpu);
  return 0;
}
