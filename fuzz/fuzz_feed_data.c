/* fuzz_feed_data — libFuzzer harness for the pub/sub data channel envelope
 * (media/feed_data.c): whatever a client sends on a Parley channel, parsed; what parses
 * is rebuilt with feed_data_header and must come out the same. */
#include "media/feed_data.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *msg = malloc(size ? size : 1); /* exact size: reads past it are caught */
  if (size)
    memcpy(msg, data, size);
  feed_data_envelope e;
  const char *why = NULL;
  if (feed_data_parse(msg, size, &e, &why) != 0) {
    CHECK(why && strlen(why) > 10);
  } else {
    CHECK(e.uid_len <= FEED_DATA_UID_MAX && e.payload_len <= FEED_DATA_MAX_PAYLOAD);
    CHECK(2 + e.uid_len + e.payload_len == size);
    CHECK(e.payload == msg + 2 + e.uid_len && (const uint8_t *)e.uid == msg + 2);
    uint8_t head[2 + FEED_DATA_UID_MAX];
    size_t h = feed_data_header(e.flags, e.uid, e.uid_len, head);
    CHECK(h == 2 + e.uid_len && memcmp(head, msg, h) == 0);
  }
  free(msg);
  return 0;
}
