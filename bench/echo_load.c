/* echo_load — packets per second through parleyd's echo path: N calls, each a real
 * ICE (controlling) + DTLS (client) + SRTP peer built from Parley's own rtc stack, send
 * 1,200-byte RTP at a set rate; we count what comes back and the server's CPU time.
 * Over UDP, or over ICE-TCP (RFC 6544/4571) with "tcp" as the last argument;
 * "tcp-stalled" never reads what comes back, so the server's per-connection cap on
 * unsent bytes must drop (tests/integration/ice_tcp.test.mjs uses it). */
#include "httpc.h"
#include "rtc_peer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void drain(peer *p) {
  uint8_t buf[2048];
  for (;;) {
    ssize_t got = rtc_peer_recv(p, buf, sizeof buf, MSG_DONTWAIT);
    if (got <= 0)
      return;
    int len = (int)got;
    if (buf[0] >= 128 && buf[0] <= 191 && !(buf[1] >= 192 && buf[1] <= 223)) {
      if (srtp_session_unprotect_rtp(&p->srtp, buf, &len) == 0)
        p->received++;
      else
        p->bad++;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: echo_load HTTP_PORT CALLS SECONDS PPS_PER_CALL PARLEYD_PID "
                    "[udp|tcp|tcp-stalled]\n");
    return 2;
  }
  rtc_peer_use_tcp = argc > 6 && strncmp(argv[6], "tcp", 3) == 0;
  bool stalled = argc > 6 && strcmp(argv[6], "tcp-stalled") == 0;
  int http_port = atoi(argv[1]), calls = atoi(argv[2]), seconds = atoi(argv[3]);
  int pps = atoi(argv[4]), pid = atoi(argv[5]);
  peer *peers = rtc_peer_connect_all(http_port, "echo", calls, "sendrecv", "sendrecv");
  if (!peers)
    return 1;
  printf("%d calls connected (ICE%s + DTLS + SRTP)\n", calls,
         rtc_peer_use_tcp ? "-TCP" : "");
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  double cpu0 = proc_cpu_seconds(pid);
  uint64_t t0 = now_ns(), interval = 1000000000ULL / (uint64_t)pps, next = t0;
  uint64_t end = t0 + (uint64_t)seconds * 1000000000ULL;
  uint32_t ts = 0;
  while (now_ns() < end) {
    while (now_ns() < next)
      for (int i = 0; i < calls && !stalled; i++)
        drain(&peers[i]);
    next += interval;
    ts += 3000;
    for (int i = 0; i < calls; i++) {
      size_t n = rtc_peer_make_packet(&peers[i], pkt, ts);
      int len = (int)n;
      srtp_session_protect_rtp(&peers[i].srtp, pkt, &len);
      if (rtc_peer_send(&peers[i], pkt, (size_t)len) > 0)
        peers[i].sent++;
    }
  }
  usleep(200000);
  uint64_t sent = 0, received = 0, bad = 0;
  for (int i = 0; i < calls; i++) {
    if (!stalled)
      drain(&peers[i]);
    sent += peers[i].sent;
    received += peers[i].received;
    bad += peers[i].bad;
  }
  double elapsed = (double)(now_ns() - t0) / 1e9, cpu = proc_cpu_seconds(pid) - cpu0;
  printf("sent %lu packets, echoed back %lu (%.1f%%), undecryptable %lu\n",
         (unsigned long)sent, (unsigned long)received,
         100.0 * (double)received / (double)sent, (unsigned long)bad);
  printf("echo path: %.0f packets/s in and %.0f packets/s out (%.1f Mbit/s out)\n",
         (double)sent / elapsed, (double)received / elapsed,
         (double)received * PACKET * 8 / elapsed / 1e6);
  printf("parleyd CPU: %.2f s over %.1f s = %.0f%% of a core; %.0f packets (in+out) per "
         "CPU-second\n",
         cpu, elapsed, 100 * cpu / elapsed, (double)(sent + received) / cpu);
  printf("RESULT transport=%s calls=%d pps=%.0f echoed=%.1f cpu_s=%.2f window_s=%.1f "
         "per_cpu_s=%.0f\n",
         rtc_peer_use_tcp ? "tcp" : "udp", calls, (double)sent / elapsed,
         100.0 * (double)received / (double)sent, cpu, elapsed,
         (double)(sent + received) / cpu);
  return 0;
}
