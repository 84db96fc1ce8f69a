/* rtc_peer — the browser's side of a call for load clients, built from Parley's own rtc
 * stack: join over HTTP, offer, one nominating ICE check, a DTLS client handshake, SRTP.
 */
#ifndef PARLEY_BENCH_RTC_PEER_H
#define PARLEY_BENCH_RTC_PEER_H

#include "rtc/dtls.h"
#include "rtc/sdp.h"
#include "rtc/srtp_session.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define PACKET 1200

typedef struct {
  int fd;
  struct sockaddr_in server;
  char ufrag[16], pwd[32], server_ufrag[260], server_pwd[260], server_fp[224];
  dtls *dtls;
  srtp_session srtp;
  uint32_t ssrc;
  uint16_t seq;
  uint64_t sent, received, bad;
  bool bound; /* fd is open (rtc_peer_open), before or by rtc_peer_connect */
  dtls_srtp_profile srtp_profile; /* what the server chose, once connected */
  /* Set before rtc_peer_connect for servers (libnice's, Janus's) that check the pair back
   * and drop DTLS until that check succeeds: the handshake then waits for it. */
  bool await_server_check;
  unsigned checks_answered;
  char token[128], uuid[64]; /* the participant's, from request_token */
  char call[64];             /* the call's uuid, from rtc_peer_call */
  /* ICE-TCP (RFC 6544, we are the active side): fd is a TCP connection to the server's
   * passive candidate and every packet is an RFC 4571 frame. Set before negotiating. */
  bool tcp;
  uint8_t *in; /* TCP: bytes read and not yet handed out as frames */
  size_t in_len;
} peer;

/* Peers made by rtc_peer_connect_all use ICE-TCP when this is set. */
extern bool rtc_peer_use_tcp;

/* A response body growing as libcurl delivers it (NUL-terminated). */
typedef struct {
  char *data;
  size_t len;
} bench_text;
size_t bench_text_collect(char *p, size_t size, size_t n, void *ud);
/* A blocking client API POST to conferences/<path>, for set-up only (never inside a
 * measured window); the malloc'd body, or NULL. */
char *rtc_peer_post(int http_port, const char *path, const char *token, const char *json);

/* request_token as display_name (keeping the token and uuid in p), then fresh ICE
 * credentials and a random SSRC for the offer to come. 0 or -1 (message on stderr). */
int rtc_peer_join(peer *p, int http_port, const char *alias, const char *display_name);
/* POSTs offer (an SDP with \r\n escaped for JSON) as p's WEBRTC call, keeping the
 * call's uuid in p->call; the answer's SDP with real line ends (a static buffer, valid
 * until the next call), or NULL. */
char *rtc_peer_call(peer *p, int http_port, const char *alias, const char *offer);
/* Joins alias, offers VP8 with the given direction (publishers signal an SSRC), and
 * reads the answer's ICE, DTLS and candidate. 0 or -1 (with a message on stderr). */
int rtc_peer_negotiate(peer *p, int http_port, const char *alias, dtls_context *ctx,
                       int i, bool publisher, const char *direction);
/* Takes the server's ICE credentials, DTLS fingerprint and first (IPv4) candidate from
 * its SDP, offer or answer, with real line ends. 0 or -1 (with a message on stderr). */
int rtc_peer_take_remote(peer *p, const char *sdp, const sdp_media **first);
/* Undoes the \r\n escapes of an SDP read out of a JSON string, in place. */
void rtc_peer_unescape_sdp(char *s);
/* Opens the peer's UDP socket on local_ip before connecting, for SDP that must name our
 * own candidate (rtc_peer_connect opens one on 127.0.0.1 otherwise). The port or -1. */
int rtc_peer_open(peer *p, const char *local_ip);
/* ICE (one nominating check, retried) and the DTLS handshake, then SRTP. */
int rtc_peer_connect(peer *p, dtls_context *ctx);
/* Sets up libcurl and libsrtp and makes the DTLS identity all peers share (offering
 * AES-128-GCM, then AES-128-CM-SHA1-80, for SRTP). NULL on failure. */
dtls_context *rtc_peer_setup(void);
/* rtc_peer_setup, then joins and connects n peers to
 * alias: peer 0 with first_direction, the others with other_direction (a direction
 * with "send" signals an SSRC). NULL if any peer fails. */
peer *rtc_peer_connect_all(int http_port, const char *alias, int n,
                           const char *first_direction, const char *other_direction);
/* Sends one binding request on the connected pair without waiting for the answer, as a
 * browser does every few seconds for consent freshness (RFC 7675): servers drop peers
 * that fall silent (parleyd after --consent-timeout, 30 s), which a long set-up of
 * hundreds of peers would otherwise reach before the measured window. */
void rtc_peer_refresh_consent(peer *p);
/* If buf is a STUN binding request, answers it when it carries our credentials (a
 * server checking the pair back) and returns true; false for anything else. */
bool rtc_peer_answer_check(peer *p, const uint8_t *buf, size_t len,
                           const struct sockaddr *from, socklen_t from_len);
/* When 5 s have passed since *last_ns: drains peers[0..n-1]'s sockets (answering the
 * server's checks; the rest, RTCP, is dropped) and refreshes their consent. */
void rtc_peer_refresh_all(peer *peers, int n, uint64_t *last_ns);
/* Sends one packet to the server: a datagram, or one frame on the TCP connection. */
ssize_t rtc_peer_send(peer *p, const uint8_t *data, size_t len);
/* Receives one packet (recv's flags, e.g. MSG_DONTWAIT): a datagram, or the next whole
 * frame of the TCP connection. Its length, 0 when the server closed, or -1. */
ssize_t rtc_peer_recv(peer *p, uint8_t *buf, size_t cap, int flags);

/* A 1,200-byte VP8 key-frame start, so routers never ask this peer for a keyframe. */
size_t rtc_peer_make_packet(peer *p, uint8_t *pkt, uint32_t ts);

#endif
