/* dcep — the Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and
 * DATA_CHANNEL_ACK parsed from and written to SCTP messages of PPID 50, and the PPIDs
 * of RFC 8831 §8. A pure parser: no state, no allocation. */
#ifndef PARLEY_DCEP_H
#define PARLEY_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SCTP payload protocol identifiers (RFC 8831 §8, RFC 8832 §8.1). */
enum {
  DCEP_PPID_CONTROL = 50,
  DCEP_PPID_STRING = 51,
  DCEP_PPID_BINARY_PARTIAL = 52, /* deprecated: never sent, refused */
  DCEP_PPID_BINARY = 53,
  DCEP_PPID_STRING_PARTIAL = 54, /* deprecated */
  DCEP_PPID_STRING_EMPTY = 56,   /* an empty message is sent as one byte, 0 */
  DCEP_PPID_BINARY_EMPTY = 57,
};

enum { DCEP_MSG_ACK = 0x02, DCEP_MSG_OPEN = 0x03 };

/* Channel types (RFC 8832 §5.1): bit 0x80 is unordered; the low bits say what the
 * reliability parameter means. */
enum {
  DCEP_RELIABLE = 0x00,
  DCEP_RELIABLE_UNORDERED = 0x80,
  DCEP_PARTIAL_RELIABLE_REXMIT = 0x01,
  DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED = 0x81,
  DCEP_PARTIAL_RELIABLE_TIMED = 0x02,
  DCEP_PARTIAL_RELIABLE_TIMED_UNORDERED = 0x82,
};

/* Labels and protocols longer than this are refused (the RFC allows 65,535 bytes;
 * browsers send a few dozen). */
#define DCEP_MAX_LABEL 1024
#define DCEP_OPEN_HEADER 12

typedef struct {
  uint8_t channel_type;
  uint16_t priority;
  uint32_t reliability; /* retransmissions, or lifetime in ms; 0 for reliable types */
  uint16_t label_len, protocol_len;
  char label[DCEP_MAX_LABEL + 1]; /* NUL-terminated copies (they may hold NULs) */
  char protocol[DCEP_MAX_LABEL + 1];
} dcep_open;

/* Parses one PPID 50 message: DCEP_MSG_OPEN (filling *open) or DCEP_MSG_ACK, else -1
 * (unknown type, unknown channel type, lengths that do not match the message, or a
 * label or protocol over DCEP_MAX_LABEL). open may be NULL. */
int dcep_parse(const uint8_t *data, size_t len, dcep_open *open);
/* Writes a DATA_CHANNEL_OPEN; returns its length, or 0 if cap is too small or a
 * length is over DCEP_MAX_LABEL. */
size_t dcep_write_open(const dcep_open *open, uint8_t *out, size_t cap);
/* Writes a DATA_CHANNEL_ACK (one byte); returns 1, or 0 if cap is 0. */
size_t dcep_write_ack(uint8_t *out, size_t cap);

/* Whether a channel type is one of the six above. */
bool dcep_type_valid(uint8_t channel_type);
static inline bool dcep_ordered(uint8_t channel_type) { return !(channel_type & 0x80); }

#endif
