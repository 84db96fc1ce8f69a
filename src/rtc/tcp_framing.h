/* tcp_framing — RFC 4571 framing of ICE-TCP (RFC 6544): every STUN, DTLS, RTP or RTCP
 * packet on a TCP connection is a 2-byte big-endian length and that many bytes. A pure
 * parser: bytes in as they were read, whole frames out, no I/O. */
#ifndef PARLEY_TCP_FRAMING_H
#define PARLEY_TCP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest frame we accept. Browsers frame one datagram per frame and keep them under
 * the path MTU (~1,200-1,500 bytes); DTLS handshake flights are fragmented to that too.
 * 4 KiB leaves room and makes a stream of garbage fail within 2 bytes of reading it (a
 * random length is over 4096 with probability 15/16). */
#define TCP_FRAMING_MAX 4096
#define TCP_FRAMING_HEADER 2

typedef struct {
  uint8_t header[TCP_FRAMING_HEADER];
  size_t header_have; /* bytes of the length read so far: 0, 1 (or 2 while in a body) */
  size_t need;        /* the current frame's length */
  size_t have;        /* bytes of its body kept in partial */
  uint8_t partial[TCP_FRAMING_MAX];
} tcp_framer;

/* One whole frame (it may point into the bytes fed or into the framer, and may be
 * changed in place). Returns false to stop: the rest of the bytes are not looked at. */
typedef bool (*tcp_frame_cb)(uint8_t *frame, size_t len, void *ud);

typedef enum {
  TCP_FRAMING_OK,       /* every whole frame was delivered; a partial one is kept */
  TCP_FRAMING_STOPPED,  /* the callback asked to stop */
  TCP_FRAMING_OVERSIZE, /* a length over TCP_FRAMING_MAX: the stream is not ours */
} tcp_framing_result;

void tcp_framer_init(tcp_framer *f);
/* Feeds len bytes read from the connection; whole frames go to cb in order, zero-length
 * ones included (RFC 4571 allows them; the caller skips them). */
tcp_framing_result tcp_framer_feed(tcp_framer *f, uint8_t *data, size_t len,
                                   tcp_frame_cb cb, void *ud);
/* Writes the 2-byte length header of a frame of len bytes (len <= 65535). */
void tcp_framing_header(uint8_t out[TCP_FRAMING_HEADER], size_t len);

#endif
