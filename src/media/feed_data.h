/* feed_data — data channels of publish/subscribe sessions (issue 15 §3, docs/PUBSUB.md
 * "Data channels"): SCTP on each participant's publish connection (rtc/sctp.c, as the
 * echo router's), two channels the client opens ("parley" reliable and ordered,
 * "parley-lossy" unordered without retransmissions), and each message, wrapped in a
 * small binary envelope that names its recipient, relayed on the media loop to one
 * participant's channel of the same label or to every other participant's. */
#ifndef PARLEY_FEED_DATA_H
#define PARLEY_FEED_DATA_H

#include "media/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEED_DATA_LABEL "parley"
#define FEED_DATA_LABEL_LOSSY "parley-lossy"
#define FEED_DATA_MAX_PAYLOAD (64 * 1024)
#define FEED_DATA_UID_MAX 64
/* Per participant, what its association reads (then flow control slows it down). */
#define FEED_DATA_MESSAGES_PER_S 100
#define FEED_DATA_BYTES_PER_S (1024 * 1024)

/* Envelope flags (byte 0). */
#define FEED_DATA_TEXT 0x01  /* the payload is UTF-8 text (the SDK gives a string) */
#define FEED_DATA_ERROR 0x02 /* server → client: payload {"code", "message"} JSON */

/* One envelope: flags, then the uid's length (0..64), the uid (client → server: the
 * recipient, empty for every other participant; server → client: the sender), then the
 * payload. */
typedef struct {
  uint8_t flags;
  const char *uid; /* not NUL-terminated: uid_len bytes */
  size_t uid_len;
  const uint8_t *payload; /* into the message */
  size_t payload_len;
} feed_data_envelope;

/* Parses a message; 0, or -1 with a reason (too short, unknown flags, a uid of bad length
 * or characters), or -2 for a payload over FEED_DATA_MAX_PAYLOAD. Pure; fuzzed. */
int feed_data_parse(const uint8_t *msg, size_t len, feed_data_envelope *out,
                    const char **why);
/* Writes an envelope's header (flags, uid) into out (2 + uid_len bytes, at most
 * 2 + FEED_DATA_UID_MAX); returns its length. */
size_t feed_data_header(uint8_t flags, const char *uid, size_t uid_len, uint8_t *out);

/* The publish call's agreement has (or still has) an m=application: its association is
 * made (once). The call's params.owner is its participant's uid. */
void feed_data_update(media_session *s);
/* The call leaves its room: its channel ids are forgotten (the transport frees SCTP). */
void feed_data_leave(media_session *s);

#endif
