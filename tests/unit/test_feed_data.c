/* test_feed_data — the pub/sub data channel envelope: parsed, refused, rebuilt. */
#include "media/feed_data.h"

#include "check.h"

#include <string.h>

static int parse(const char *msg, size_t len, feed_data_envelope *e) {
  const char *why;
  return feed_data_parse((const uint8_t *)msg, len, e, &why);
}

int main(void) {
  feed_data_envelope e;
  CHECK(parse("\x01\x03"
              "bobhello",
              10, &e) == 0);
  CHECK(e.flags == FEED_DATA_TEXT && e.uid_len == 3 && memcmp(e.uid, "bob", 3) == 0);
  CHECK(e.payload_len == 5 && memcmp(e.payload, "hello", 5) == 0);
  CHECK(parse("\x00\x00", 2, &e) == 0); /* to everyone, an empty binary payload */
  CHECK(e.uid_len == 0 && e.payload_len == 0);
  CHECK(parse("\x00", 1, &e) == -1);     /* too short */
  CHECK(parse("\x80\x00", 2, &e) == -1); /* unknown flag */
  CHECK(parse("\x00\x05"
              "bob",
              5, &e) == -1); /* uid longer than the message */
  CHECK(parse("\x00\x03"
              "b/b",
              5, &e) == -1);             /* not an id character */
  CHECK(parse("\x00\x41", 2, &e) == -1); /* uid over 64 */
  static char big[2 + FEED_DATA_MAX_PAYLOAD + 1];
  CHECK(parse(big, 2 + FEED_DATA_MAX_PAYLOAD, &e) == 0);
  CHECK(parse(big, sizeof big, &e) == -2); /* payload over 64 KiB */
  uint8_t head[2 + FEED_DATA_UID_MAX];
  CHECK(feed_data_header(FEED_DATA_TEXT, "carl", 4, head) == 6);
  CHECK(head[0] == 1 && head[1] == 4 && memcmp(head + 2, "carl", 4) == 0);
  CHECK_DONE();
}
