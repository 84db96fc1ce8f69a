/* forward_measure — the measured window of a 1 → N forwarding benchmark, shared by the
 * Parley and Janus load clients so both servers are measured exactly the same way. */
#ifndef PARLEY_BENCH_FORWARD_MEASURE_H
#define PARLEY_BENCH_FORWARD_MEASURE_H

#include "rtc_peer.h"

#include <stdint.h>

/* peers[0] (connected, publishing) sends 1,200-byte VP8 RTP at pps for seconds while
 * peers[1..calls-1] count what arrives (RTP of payload type video_pt is the forwarded
 * video; everything else is counted as other egress: RTCP, probes). Reads the server's
 * utime+stime from /proc/server_pid/stat around the window and prints the figures,
 * ending with one "RESULT server=<name> ..." line for scripts. Returns 0. */
int forward_measure(peer *peers, int calls, int seconds, int pps, int server_pid,
                    const char *server_name, uint8_t video_pt);

#define FORWARD_MAX_STREAMS 4

/* A publisher of several streams (simulcast layers), for forward_measure_source. */
typedef struct forward_source {
  int n_streams;
  /* Builds the publisher's next packet (unprotected) into pkt, at most PACKET bytes,
   * returning its length and setting *stream. */
  size_t (*next)(struct forward_source *src, peer *publisher, uint8_t *pkt, int *stream);
  void *ud;
  /* The stream each subscriber is to receive (stream_of[i] for peers[i], i >= 1); NULL:
   * all receive the last one. The delivered share is counted against it. */
  const int *stream_of;
  /* Sent for this long before the window (layer choice settles), not measured. */
  int warmup_ms;
  uint64_t sent[FORWARD_MAX_STREAMS]; /* in the window, per stream */
} forward_source;

/* forward_measure with the packets, their streams and a warm-up given by src (which
 * forward_measure leaves NULL: rtc_peer_make_packet, one stream, no warm-up). The
 * RESULT line then ends with " streams=<sent per stream, ':'-separated>". */
int forward_measure_source(peer *peers, int calls, int seconds, int pps, int server_pid,
                           const char *server_name, uint8_t video_pt,
                           forward_source *src);

/* All-to-all: pubs[0..k-1] (connected, publishing) each send one VP8 stream of
 * 1,200-byte packets at pps, subs[i] receives the other k - 1 streams on one connection.
 * A 3 s warm-up, then a window of seconds with the server's CPU read around it; the same
 * figures as forward_measure and a "RESULT server=<name> n=<k> ... scenario=mesh" line.
 */
int mesh_measure(peer *pubs, peer *subs, int k, int seconds, int pps, int server_pid,
                 const char *server_name, uint8_t video_pt);

#endif
