/* rtm_peer — an RTM agent for load clients: a minimal WebSocket client (RFC 6455, text
 * frames only), the session_start offer (Opus + VP8, sendonly) and the answer's
 * transport.
 */
#ifndef PARLEY_BENCH_RTM_PEER_H
#define PARLEY_BENCH_RTM_PEER_H

#include "rtc_peer.h"

#include <stddef.h>

typedef struct {
  int fd;
  char *in; /* bytes received and not yet a whole frame */
  size_t in_len, in_cap;
} ws_client;

/* Connects to 127.0.0.1:port and upgrades GET path (blocking, with a 5 s deadline).
 * 0 or -1 with a message on stderr. The socket is left blocking for writes. */
int ws_connect(ws_client *ws, int port, const char *path);
/* Sends one masked text frame (blocking). 0 or -1. */
int ws_send_text(ws_client *ws, const char *text, size_t len);
/* Reads what has arrived without blocking (or waits up to wait_ms when > 0). Returns
 * the next whole text frame as a malloc'd string (the caller frees it), or NULL when none
 * is complete yet; *closed is set when the server closed or the socket failed. Pings
 * are answered, other control frames dropped. */
char *ws_next_text(ws_client *ws, int wait_ms, bool *closed);
void ws_close_client(ws_client *ws);

/* Fills p's ICE credentials and SSRCs (audio_ssrc, p->ssrc for video) and writes the
 * JSON-escaped WebRTC offer of one sendonly Opus and one sendonly VP8 m-line, bundled. */
void rtm_peer_offer(peer *p, uint32_t audio_ssrc, dtls_context *ctx, char *out,
                    size_t cap);

#endif
