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

#endif
