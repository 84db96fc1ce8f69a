/* sctp — WebRTC data channels of one call: an SCTP association (usrsctp, AF_CONN) whose
 * packets travel in our DTLS (RFC 8261), channels opened either way with DCEP (RFC
 * 8832), messages with RFC 8831's PPIDs, reliable or partially reliable, ordered or
 * not; a message size limit and a per-association rate limit.
 *
 * Threads: an association lives on one media loop (the thread that made it) and every
 * sctp_* call on it, and every callback, happens on that thread. usrsctp is one global
 * stack shared by all loops: sctp_timers_tick (any loop, on its tick) drives its timers
 * for the whole process; a packet or event its timers produce for an association of
 * another loop is handed to that loop (a mailbox and a uv_async), never sent from the
 * wrong thread. */
#ifndef PARLEY_SCTP_H
#define PARLEY_SCTP_H

#include "rtc/dcep.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SCTP_PORT 5000 /* our a=sctp-port */
/* Our a=max-message-size: larger messages from the peer close their channel. */
#define SCTP_MAX_MESSAGE_SIZE (256 * 1024)
/* RFC 8841 §6.1: the peer's limit when its SDP has no a=max-message-size. */
#define SCTP_DEFAULT_REMOTE_MAX_MESSAGE 65536
/* Streams (so channel ids 0..1023) we ask for each way. */
#define SCTP_MAX_STREAMS 1024
/* SCTP packets fit in one DTLS record in one datagram under DTLS_MTU with room for
 * the record's header and AEAD tag. */
#define SCTP_MTU 1188

typedef struct sctp_assoc sctp_assoc;

/* What a channel is (both for channels the peer opened and ours). */
typedef struct {
  uint16_t id;          /* the SCTP stream id; the DTLS client's ids are even */
  uint8_t channel_type; /* DCEP_* type: reliable or not, ordered or not */
  uint32_t reliability; /* max retransmits, or max lifetime in ms (0 if reliable) */
  uint16_t priority;
  const char *label, *protocol; /* valid during the callback */
} sctp_channel_info;

/* Called on the association's loop, never from inside usrsctp: they may call sctp_send,
 * sctp_open_channel and sctp_close_channel (not sctp_free). */
typedef struct {
  /* The association is up (channels can be opened and used), or gone for good (lost,
   * aborted or shut down by the peer; every open channel was closed first). */
  void (*on_state)(sctp_assoc *a, bool up, void *ud);
  /* A channel is open: one the peer opened (DATA_CHANNEL_OPEN, already ACKed), or one
   * of ours the peer ACKed. */
  void (*on_open)(sctp_assoc *a, const sctp_channel_info *ch, void *ud);
  /* One whole message; binary is false for UTF-8 strings (PPID 51/56). An empty
   * message has len 0. */
  void (*on_message)(sctp_assoc *a, uint16_t id, bool binary, const uint8_t *data,
                     size_t len, void *ud);
  /* The channel is closed (by either side: stream reset, RFC 8831 §6.7). reason is
   * NULL for an ordinary close, else why we closed it (e.g. a message over the size
   * limit). The id is free again. */
  void (*on_close)(sctp_assoc *a, uint16_t id, const char *reason, void *ud);
  /* After sctp_send answered SCTP_E_AGAIN: the send buffer has room again (the peer
   * acknowledged data), so a send may be tried again (it may still not fit: then
   * SCTP_E_AGAIN again, and this follows the next acknowledgement). May be NULL. */
  void (*on_writable)(sctp_assoc *a, void *ud);
} sctp_callbacks;

/* Sends one SCTP packet (to be DTLS-encrypted and sent); called on the loop. */
typedef void (*sctp_output_cb)(void *ud, const uint8_t *pkt, size_t len);

typedef struct {
  uint16_t local_port, remote_port; /* a=sctp-port: ours (SCTP_PORT) and the peer's */
  /* The peer's a=max-message-size (0: SCTP_DEFAULT_REMOTE_MAX_MESSAGE); sctp_send
   * refuses larger messages. */
  uint32_t remote_max_message;
  uint32_t local_max_message; /* 0: SCTP_MAX_MESSAGE_SIZE */
  bool dtls_client; /* our DTLS role: the client opens even ids, the server odd */
  /* Per-association rate limit on what the peer sends (0: none). Past it, we stop
   * reading: the peer's SCTP receive window closes and it slows down (flow control,
   * nothing is dropped). */
  uint32_t max_messages_per_s, max_bytes_per_s;
} sctp_config;

/* Defaults for a=sctp-port remote_port and a=max-message-size remote_max (0: absent):
 * our port and limit, 1,000 messages/s and 8 MiB/s per association. */
sctp_config sctp_config_default(uint16_t remote_port, uint32_t remote_max,
                                bool dtls_client);

/* Creates the association on loop (the calling thread must be the loop's); it connects
 * with sctp_connect once DTLS is up. usrsctp is started on first use. */
sctp_assoc *sctp_new(uv_loop_t *loop, const sctp_config *cfg, sctp_output_cb output,
                     void *output_ud, const sctp_callbacks *cb, void *ud);
/* Starts the association (both ends do: SCTP resolves the INIT collision). */
void sctp_connect(sctp_assoc *a);
/* An SCTP packet that arrived in DTLS application data. */
void sctp_input(sctp_assoc *a, const uint8_t *pkt, size_t len);
/* Aborts the association (no callbacks), lets go of usrsctp's socket; freed once
 * libuv has closed its handles. Never from inside a callback. */
void sctp_free(sctp_assoc *a);

/* How a channel we open behaves. */
typedef struct {
  const char *label, *protocol; /* NULL: "" */
  bool unordered;
  int32_t max_retransmits; /* >= 0: partially reliable by retransmissions */
  int32_t max_lifetime_ms; /* >= 0: partially reliable by lifetime (not with the above) */
  uint16_t priority;
} sctp_channel_opts;

enum {
  SCTP_E_NOT_OPEN = -1, /* no such channel, or closing */
  SCTP_E_TOO_BIG = -2,  /* over the peer's a=max-message-size */
  SCTP_E_AGAIN = -3,    /* the send buffer is full: try later */
  SCTP_E_INVALID = -4,  /* bad options, no free id, or the association is gone */
};

/* Opens a channel (DATA_CHANNEL_OPEN; before the association is up it is sent when it
 * comes up): returns its id, or SCTP_E_INVALID. on_open follows the peer's ACK;
 * sctp_send works at once (ordered until the ACK, RFC 8832 §6). */
int sctp_open_channel(sctp_assoc *a, const sctp_channel_opts *opts);
/* Sends one message on channel id with the channel's reliability and ordering. 0, or
 * an SCTP_E_* code. */
int sctp_send(sctp_assoc *a, uint16_t id, bool binary, const void *data, size_t len);
/* Closes channel id (resets its outgoing stream); on_close follows when the peer has
 * reset its side. */
void sctp_close_channel(sctp_assoc *a, uint16_t id);

bool sctp_is_up(const sctp_assoc *a);
/* Stops (true) or resumes reading the peer's messages: what it sends meanwhile waits in
 * our receive buffer and then its SCTP window closes (flow control, nothing dropped). A
 * router that cannot pass a message on (SCTP_E_AGAIN) holds it, pauses, and resumes on
 * on_writable once it went out. */
void sctp_pause_reading(sctp_assoc *a, bool pause);

typedef struct {
  uint64_t messages_in, bytes_in, messages_out, bytes_out;
  uint64_t refused_too_big; /* peer messages over our limit (their channel closed) */
  uint64_t throttled;       /* times reading paused for the rate limit */
  uint64_t send_again;      /* sctp_send refused: buffer full */
  uint64_t read_paused;     /* times reading was paused by the router (backpressure) */
  uint64_t packets_in, packets_out, packets_handed; /* handed: made on another thread */
} sctp_counters;
const sctp_counters *sctp_get_counters(const sctp_assoc *a);

/* Drives usrsctp's timers (retransmissions, SACKs, heartbeats) for the whole process;
 * every media loop calls it on its tick and whichever gets there first does the work
 * (never waiting for another). Cheap when no association exists. */
void sctp_timers_tick(void);

#endif
