/* memory_load — parleyd's resident memory per media participant: N real ICE + DTLS + SRTP
 * peers (Parley's own rtc stack) join one room, each publishing VP8 video (sendrecv) or
 * only receiving it (recvonly: then peer 0 alone publishes), every publisher sending
 * 1,200-byte packets at PPS for SECONDS while every peer drains what it is forwarded; the
 * server's VmRSS is read empty, after the joins, and after the window. */
#include "httpc.h"
#include "rtc_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void drain(peer *peers, int n, uint64_t *received) {
  uint8_t buf[2048];
  for (int i = 0; i < n; i++) {
    ssize_t got;
    while ((got = rtc_peer_recv(&peers[i], buf, sizeof buf, MSG_DONTWAIT)) > 0)
      (*received)++;
  }
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: memory_load HTTP_PORT ALIAS N sendrecv|recvonly SECONDS PPS "
                    "PARLEYD_PID\n");
    return 2;
  }
  int port = atoi(argv[1]), n = atoi(argv[3]), seconds = atoi(argv[5]);
  int pps = atoi(argv[6]), pid = atoi(argv[7]);
  const char *alias = argv[2], *mode = argv[4];
  bool all_publish = strcmp(mode, "sendrecv") == 0;
  long empty = proc_rss_kib(pid);
  peer *peers =
      rtc_peer_connect_all(port, alias, n, all_publish ? "sendrecv" : "sendonly",
                           all_publish ? "sendrecv" : "recvonly");
  if (!peers)
    return 1;
  usleep(500000);
  long joined = proc_rss_kib(pid);
  int publishers = all_publish ? n : 1;
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  uint64_t t0 = now_ns(), interval = 1000000000ULL / (uint64_t)pps, next = t0;
  uint64_t end = t0 + (uint64_t)seconds * 1000000000ULL, received = 0, last_refresh = 0;
  uint32_t ts = 0;
  while (now_ns() < end) {
    rtc_peer_refresh_all(peers, n, &last_refresh);
    while (now_ns() < next) {
      drain(peers, n, &received);
      usleep(200);
    }
    next += interval;
    ts += 3000;
    for (int i = 0; i < publishers; i++) {
      int len = (int)rtc_peer_make_packet(&peers[i], pkt, ts);
      if (srtp_session_protect_rtp(&peers[i].srtp, pkt, &len) == 0)
        rtc_peer_send(&peers[i], pkt, (size_t)len);
    }
  }
  drain(peers, n, &received);
  long after = proc_rss_kib(pid);
  printf("N %d %s, %d publishing %d packets/s for %d s, %llu packets came back to them\n",
         n, mode, publishers, pps, seconds, (unsigned long long)received);
  printf("parleyd VmRSS: empty %ld KiB, joined %ld KiB, after the video %ld KiB\n", empty,
         joined, after);
  printf("RESULT n=%d mode=%s empty_kib=%ld joined_kib=%ld after_kib=%ld "
         "per_participant_kib=%.1f\n",
         n, mode, empty, joined, after, n ? (double)(after - empty) / n : 0.0);
  return 0;
}
