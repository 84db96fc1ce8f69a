/* twcc — transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01) on the wire: the sequence number every RTP packet of a transport
 * carries, what we received (and the RTPFB FMT 15 feedback saying so), what we sent
 * (a fixed ring) and the peer's feedback matched against it. No allocation per packet. */
#ifndef PARLEY_TWCC_H
#define PARLEY_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtc/rtp.h"

#define TWCC_URI                                                                         \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
/* Bytes stamping may add to an RTP packet without header extensions (a one-byte block:
 * 4 bytes of header, the 3-byte element and a padding byte). */
#define TWCC_EXT_ROOM 8
/* Packets between the oldest unreported one and the newest we keep arrivals of. */
#define TWCC_RECV_SLOTS 1024
/* Sent packets remembered until their feedback arrives (~2 s at 4 Mbit/s). */
#define TWCC_SENT_SLOTS 1024
/* Packets one feedback packet reports at most (at most 1,223 bytes). */
#define TWCC_FEEDBACK_MAX_PACKETS 300

/* ---- receive side: arrivals and the feedback we send ---- */
typedef struct {
  int64_t arrival_us[TWCC_RECV_SLOTS]; /* by unwrapped seq % slots; -1: not received */
  int64_t base;                        /* first unwrapped seq not reported yet */
  int64_t max;                         /* highest unwrapped seq received */
  bool started;
  uint8_t fb_count;
  uint32_t media_ssrc; /* of the last packet received: the feedback names it */
} twcc_recv;

void twcc_recv_init(twcc_recv *r);
/* A packet with transport-wide seq arrived at arrival_us (a monotonic clock). One older
 * than what was reported already is ignored (reported lost). */
void twcc_recv_packet(twcc_recv *r, uint16_t seq, uint32_t ssrc, int64_t arrival_us);
bool twcc_recv_pending(const twcc_recv *r);
/* Writes one RTCP transport feedback packet (header included, padded with the P bit,
 * so it goes last in a compound) for up to TWCC_FEEDBACK_MAX_PACKETS pending packets
 * and marks them reported. Returns its size, or 0 when nothing is pending or cap is
 * too small. Call again while twcc_recv_pending. */
size_t twcc_recv_feedback(twcc_recv *r, uint32_t sender_ssrc, uint8_t *out, size_t cap);

/* ---- the feedback, parsed (the FCI after the two SSRCs) ---- */
typedef struct {
  uint16_t base_seq, status_count;
  uint32_t ref_time; /* 24 bits, in 64 ms */
  uint8_t fb_count;
} twcc_fb_header;

/* Per packet, in seq order: received or not, and its arrival time in us on the
 * reporter's clock (reference time * 64 ms plus the deltas). */
typedef void (*twcc_fb_cb)(uint16_t seq, bool received, int64_t arrival_us, void *ud);

/* Validates the whole FCI first (chunks cover the status count, no reserved symbol,
 * every delta present); returns the status count and calls cb per packet, or -1 and
 * no call at all. */
int twcc_feedback_parse(const uint8_t *fci, size_t len, twcc_fb_header *hdr,
                        twcc_fb_cb cb, void *ud);

/* ---- send side: our numbering and what we sent ---- */
typedef struct {
  int64_t send_us;
  uint16_t seq;
  uint16_t size;
  bool used;  /* holds a packet sent */
  bool acked; /* its feedback came already */
} twcc_sent_entry;

typedef struct {
  uint16_t next_seq;
  twcc_sent_entry log[TWCC_SENT_SLOTS];
} twcc_send;

/* One packet of the peer's feedback matched with what we sent. */
typedef struct {
  int64_t send_us; /* our clock */
  int64_t recv_us; /* the peer's clock; -1: lost */
  uint16_t size;
} twcc_result;

void twcc_send_note(twcc_send *s, uint16_t seq, int64_t send_us, size_t size);
/* Matches a feedback FCI against the log: results (in seq order, packets we never
 * sent or already had feedback for left out) go to cb in batches of up to 256.
 * Returns the number matched, or -1 when the FCI is malformed. */
typedef void (*twcc_results_cb)(const twcc_result *r, size_t n, void *ud);
int twcc_send_on_feedback(twcc_send *s, const uint8_t *fci, size_t len,
                          twcc_results_cb cb, void *ud);

/* A copy of an RTP packet (parsed as h) into dst without its header extensions (their
 * ids are its sender's), in one pass; with id (1..14) it carries instead a one-byte block
 * holding only our transport-wide sequence number element, 0 until twcc_stamp writes
 * it. dst needs len + TWCC_EXT_ROOM bytes. Returns the copy's length. */
size_t twcc_copy_stripped(uint8_t *dst, const uint8_t *pkt, size_t len,
                          const rtp_header *h, uint8_t id);

/* Writes seq as transport-wide sequence number (extension id, one-byte form) into an RTP
 * packet of len bytes with at least len + TWCC_EXT_ROOM bytes of room: overwritten
 * where the packet carries the element already, else added (a new extension block, or
 * appended to a one-byte block). Returns the new length, or 0 when it cannot (a
 * two-byte block without the element, an element of another size, malformed). */
size_t twcc_stamp(uint8_t *pkt, size_t len, uint8_t id, uint16_t seq);

#endif
