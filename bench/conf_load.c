/* conf_load — forwarding through parleyd's conference router: one publisher sends
 * 1,200-byte VP8 RTP at a set rate; N subscribers (each a real ICE + DTLS + SRTP peer
 * from Parley's own rtc stack) receive it; we count egress packets and server CPU. */
#include "forward_measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
  printf("1 publisher and %d subscribers connected (ICE + DTLS + SRTP)\n", subscribers);
  usleep(500000); /* let the router switch everyone to the publisher */
  return forward_measure(peers, calls, seconds, pps, pid, "parleyd", 96);
}
