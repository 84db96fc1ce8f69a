/* fuzz_rtc_message — libFuzzer harness for /api/rtc/v1 frames: rtc_message_parse on any
 * bytes, with the invariants that an accepted request has what its op needs, within
 * the limits, and that a refusal has a code, a message and a buildable error frame. */
#include "api/rtc_message.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_accepted(const rtc_request *r) {
  CHECK(r->root != NULL);
  CHECK((double)r->id <= RTC_MAX_ID_VALUE);
  switch (r->op) {
  case RTC_OP_JOIN:
    CHECK(rtc_message_id_ok(r->sid));
    CHECK(!r->uid || rtc_message_id_ok(r->uid));
    CHECK((r->key && *r->key) != (r->jwt && *r->jwt));
    CHECK(!r->name || strlen(r->name) <= RTC_MAX_NAME);
    break;
  case RTC_OP_RESUME:
    CHECK(rtc_message_id_ok(r->sid) && rtc_message_id_ok(r->uid) && *r->session_token);
    break;
  case RTC_OP_PUBLISH:
    CHECK(r->sdp && *r->sdp && r->feed_type);
    CHECK(r->n_mids >= 1 && r->n_mids <= RTC_MAX_MIDS);
    break;
  case RTC_OP_SUBSCRIBE:
  case RTC_OP_UNSUBSCRIBE:
    CHECK(r->n_feed_ids >= 1 && r->n_feed_ids <= RTC_MAX_FEED_IDS);
    for (int i = 0; i < r->n_feed_ids; i++)
      CHECK(rtc_message_id_ok(r->feed_ids[i]));
    break;
  case RTC_OP_UNPUBLISH:
  case RTC_OP_LAYER:
    CHECK(rtc_message_id_ok(r->feed_id));
    CHECK(r->width >= -1 && r->height >= -1 && r->paused >= -1 && r->paused <= 1);
    break;
  case RTC_OP_TRICKLE:
  case RTC_OP_ICE_RESTART:
    CHECK(r->pc && (strcmp(r->pc, "pub") == 0 || strcmp(r->pc, "sub") == 0));
    break;
  case RTC_OP_DATA:
    CHECK(r->payload && r->payload_len <= RTC_MAX_PAYLOAD);
    CHECK(!r->to || rtc_message_id_ok(r->to));
    break;
  default:
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1); /* exact size: a WebSocket frame has no NUL */
  if (size)
    memcpy(text, data, size);
  rtc_request r;
  rtc_error err;
  if (rtc_message_parse(text, size, &r, &err) == 0) {
    check_accepted(&r);
    char *reply = rtc_message_reply(r.id, json_pack("{s:s}", "op", rtc_op_name(r.op)));
    CHECK(reply != NULL);
    free(reply);
    rtc_message_free(&r);
  } else {
    CHECK(err.why.code != NULL && err.why.message[0] != '\0');
    char *e = rtc_message_error(err.has_id, err.id, err.why.code, err.why.message);
    CHECK(e != NULL);
    free(e);
  }
  free(text);
  return 0;
}
