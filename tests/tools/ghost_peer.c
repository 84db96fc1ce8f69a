/* ghost_peer — a conference participant whose tab is closed: it joins, connects a call
 * with real ICE + DTLS + SRTP (Parley's rtc stack), sends media and consent checks for a
 * second, then falls silent (no STUN, no RTP, no RTCP, nothing read) with its socket
 * still open, as a frozen or killed browser leaves it.
 *
 * usage: ghost_peer HTTP_PORT ALIAS SILENT_SECONDS
 *
 * Prints "connected <participant uuid>" once the call is up (stdout, flushed), then
 * "silent" when it stops; exits after SILENT_SECONDS of silence. */
#include "rtc_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: ghost_peer HTTP_PORT ALIAS SILENT_SECONDS\n");
    return 2;
  }
  peer *p = rtc_peer_connect_all(atoi(argv[1]), argv[2], 1, "sendrecv", "sendrecv");
  if (!p)
    return 1;
  printf("connected %s\n", p->uuid);
  fflush(stdout);
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  for (int i = 0; i < 30; i++) { /* a second of video, and a consent check */
    int len = (int)rtc_peer_make_packet(p, pkt, 3000u * (uint32_t)i);
    if (srtp_session_protect_rtp(&p->srtp, pkt, &len) == 0)
      sendto(p->fd, pkt, (size_t)len, 0, (struct sockaddr *)&p->server, sizeof p->server);
    if (i == 15)
      rtc_peer_refresh_consent(p);
    usleep(33000);
  }
  printf("silent\n");
  fflush(stdout);
  sleep((unsigned)atoi(argv[3]));
  return 0;
}
