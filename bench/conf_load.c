/* conf_load — forwarding through parleyd's conference router: one publisher sends
 * 1,200-byte VP8 RTP at a set rate; N subscribers (each a real ICE + DTLS + SRTP peer
 * from Parley's own rtc stack) receive it; we count egress packets and server CPU. */
#include "httpc.h"
#include "rtc_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Counts forwarded RTP (SRTP, not decrypted: the count is what matters here and
 * decrypting 100k+ packets/s would make this client the bottleneck). */
static void receive_ready(peer *p) {
  struct mmsghdr msgs[64];
  struct iovec iov[64];
  static uint8_t bufs[64][1500];
  for (;;) {
    for (int k = 0; k < 64; k++) {
      iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
      msgs[k].msg_hdr = (struct msghdr){.msg_iov = &iov[k], .msg_iovlen = 1};
    }
    int n = recvmmsg(p->fd, msgs, 64, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int k = 0; k < n; k++) {
      /* RTP of payload type 96 is the forwarded video; the rest is audio and RTCP. */
      bool video = bufs[k][0] >= 128 && bufs[k][0] <= 191 && (bufs[k][1] & 0x7f) == 96;
      if (video)
        p->received++;
      else
        p->bad++;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr,
            "usage: conf_load HTTP_PORT ALIAS SUBSCRIBERS SECONDS PPS PARLEYD_PID\n");
    return 2;
  }
  int http_port = atoi(argv[1]), subscribers = atoi(argv[3]), seconds = atoi(argv[4]);
  const char *alias = argv[2];
  int pps = atoi(argv[5]), pid = atoi(argv[6]), calls = subscribers + 1;
  peer *peers = rtc_peer_connect_all(http_port, alias, calls, "sendonly", "recvonly");
  if (!peers)
    return 1;
  int ep = epoll_create1(0);
  for (int i = 1; i < calls; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &peers[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, peers[i].fd, &ev);
  }
  printf("1 publisher and %d subscribers connected (ICE + DTLS + SRTP)\n", subscribers);
  usleep(500000); /* let the router switch everyone to the publisher */
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  double cpu0 = proc_cpu_seconds(pid);
  uint64_t t0 = now_ns(), interval = 1000000000ULL / (uint64_t)pps, next = t0;
  uint64_t end = t0 + (uint64_t)seconds * 1000000000ULL;
  uint32_t ts = 0;
  for (int i = 1; i < calls; i++)
    peers[i].received = peers[i].bad = 0;
  while (now_ns() < end) {
    while (now_ns() < next) {
      struct epoll_event evs[64];
      int n = epoll_wait(ep, evs, 64, 0);
      for (int k = 0; k < n; k++)
        receive_ready(evs[k].data.ptr);
    }
    next += interval;
    ts += 3000;
    size_t n = rtc_peer_make_packet(&peers[0], pkt, ts);
    int len = (int)n;
    srtp_session_protect_rtp(&peers[0].srtp, pkt, &len);
    if (sendto(peers[0].fd, pkt, (size_t)len, 0, (struct sockaddr *)&peers[0].server,
               sizeof peers[0].server) > 0)
      peers[0].sent++;
  }
  double elapsed = (double)(now_ns() - t0) / 1e9, cpu = proc_cpu_seconds(pid) - cpu0;
  usleep(200000);
  for (int i = 1; i < calls; i++)
    receive_ready(&peers[i]);
  uint64_t video = 0, other = 0;
  for (int i = 1; i < calls; i++)
    video += peers[i].received, other += peers[i].bad;
  double expected = (double)peers[0].sent * subscribers;
  printf(
      "publisher sent %lu video packets (%.0f/s); subscribers got %lu (%.1f%% of %.0f) "
      "plus %lu audio/RTCP packets\n",
      (unsigned long)peers[0].sent, peers[0].sent / elapsed, (unsigned long)video,
      100.0 * (double)video / expected, expected, (unsigned long)other);
  double egress = (double)(video + other) / elapsed;
  printf("egress: %.0f packets/s (%.0f video), %.1f Mbit/s of video\n", egress,
         (double)video / elapsed, (double)video * PACKET * 8 / elapsed / 1e6);
  printf("parleyd CPU: %.2f s over %.1f s = %.0f%% of a core; %.0f egress packets per "
         "CPU-second\n",
         cpu, elapsed, 100 * cpu / elapsed, (double)(video + other) / cpu);
  return 0;
}
