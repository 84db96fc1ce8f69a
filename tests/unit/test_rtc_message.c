/* test_rtc_message — /api/rtc/v1 frames: each op's fields, the error codes and ids of
 * what is refused, limits, and the reply / error / event envelopes. */
#include "api/rtc_message.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *text, rtc_request *r, rtc_error *err) {
  return rtc_message_parse(text, strlen(text), r, err);
}

static void refused(const char *text, const char *code, int has_id) {
  rtc_request r;
  rtc_error err;
  if (parse(text, &r, &err) == 0) {
    fprintf(stderr, "accepted: %s\n", text);
    check_failures++;
    rtc_message_free(&r);
    return;
  }
  CHECK_STR(err.why.code, code);
  if (err.has_id != (has_id != 0))
    fprintf(stderr, "has_id %d for %s\n", err.has_id, text);
  CHECK(err.has_id == (has_id != 0));
  CHECK(err.why.message[0] != '\0');
}

static void test_envelope(void) {
  rtc_request r;
  rtc_error err;
  CHECK(parse("{\"id\":7,\"op\":\"ping\"}", &r, &err) == 0);
  CHECK(r.op == RTC_OP_PING && r.id == 7);
  rtc_message_free(&r);
  CHECK(parse("{\"id\":9007199254740991,\"op\":\"leave\"}", &r, &err) == 0);
  CHECK(r.op == RTC_OP_LEAVE && r.id == 9007199254740991ull);
  rtc_message_free(&r);
  refused("[1]", PS_E_BAD_REQUEST, 0);
  refused("{\"op\":\"ping\"}", PS_E_BAD_REQUEST, 0);
  refused("{\"id\":-1,\"op\":\"ping\"}", PS_E_BAD_REQUEST, 0);
  refused("{\"id\":1.5,\"op\":\"ping\"}", PS_E_BAD_REQUEST, 0);
  refused("{\"id\":9007199254740992,\"op\":\"ping\"}", PS_E_BAD_REQUEST, 0);
  refused("{\"id\":1,\"op\":\"fly\"}", PS_E_BAD_REQUEST, 1);
  refused("{\"id\":1}", PS_E_BAD_REQUEST, 1);
  refused("{\"id\":1,\"op\":\"ping\",\"id\":2}", PS_E_BAD_REQUEST, 0); /* duplicate key */
  refused("not json", PS_E_BAD_REQUEST, 0);
  /* The size limit comes before any parsing. */
  size_t big = RTC_MAX_FRAME + 1;
  char *text = malloc(big);
  memset(text, ' ', big);
  CHECK(rtc_message_parse(text, big, &r, &err) == -1);
  CHECK_STR(err.why.code, PS_E_LIMIT);
  free(text);
}

static void test_join(void) {
  rtc_request r;
  rtc_error err;
  CHECK(
      parse(
          "{\"id\":1,\"op\":\"join\",\"sid\":\"room-1\",\"uid\":\"ann\",\"name\":\"Ann\","
          "\"meta\":{\"role\":\"host\"},\"key\":\"pk_x\"}",
          &r, &err) == 0);
  CHECK(r.op == RTC_OP_JOIN);
  CHECK_STR(r.sid, "room-1");
  CHECK_STR(r.uid, "ann");
  CHECK_STR(r.name, "Ann");
  CHECK_STR(r.key, "pk_x");
  CHECK(r.jwt == NULL);
  CHECK(json_is_object(r.meta));
  rtc_message_free(&r);
  CHECK(parse("{\"id\":1,\"op\":\"join\",\"sid\":\"a\",\"jwt\":\"e.f.g\"}", &r, &err) ==
        0);
  CHECK(r.uid == NULL && r.meta == NULL && r.name == NULL);
  rtc_message_free(&r);
  refused("{\"id\":1,\"op\":\"join\",\"key\":\"k\"}", PS_E_BAD_REQUEST, 1);
  refused("{\"id\":1,\"op\":\"join\",\"sid\":\"a b\",\"key\":\"k\"}", PS_E_BAD_REQUEST,
          1);
  refused("{\"id\":1,\"op\":\"join\",\"sid\":\"a\",\"uid\":\"\",\"key\":\"k\"}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":1,\"op\":\"join\",\"sid\":\"a\"}", PS_E_UNAUTHORIZED, 1);
  refused("{\"id\":1,\"op\":\"join\",\"sid\":\"a\",\"key\":\"k\",\"jwt\":\"j\"}",
          PS_E_UNAUTHORIZED, 1);
  refused("{\"id\":1,\"op\":\"join\",\"sid\":\"a\",\"key\":\"k\",\"name\":5}",
          PS_E_BAD_REQUEST, 1);
  /* jansson refuses a NUL inside a string as JSON, before the id is read. */
  refused("{\"id\":1,\"op\":\"join\",\"sid\":\"a\",\"key\":\"k\\u0000x\"}",
          PS_E_BAD_REQUEST, 0);
  char sid[100];
  memset(sid, 'x', 65);
  sid[65] = 0;
  char text[300];
  snprintf(text, sizeof text, "{\"id\":1,\"op\":\"join\",\"sid\":\"%s\",\"key\":\"k\"}",
           sid);
  refused(text, PS_E_BAD_REQUEST, 1);
  /* meta over 4 KiB */
  char *big = malloc(RTC_MAX_META + 100);
  int n = snprintf(big, 100,
                   "{\"id\":1,\"op\":\"join\",\"sid\":\"a\",\"key\":\"k\",\"meta\":\"");
  memset(big + n, 'm', RTC_MAX_META);
  strcpy(big + n + RTC_MAX_META, "\"}");
  refused(big, PS_E_LIMIT, 1);
  free(big);
}

static void test_publish_subscribe(void) {
  rtc_request r;
  rtc_error err;
  CHECK(parse("{\"id\":2,\"op\":\"publish\",\"sdp\":\"v=0\",\"type\":\"video\","
              "\"mids\":[\"0\",\"1\"]}",
              &r, &err) == 0);
  CHECK(r.op == RTC_OP_PUBLISH && r.n_mids == 2);
  CHECK_STR(r.mids[1], "1");
  CHECK_STR(r.feed_type, "video");
  rtc_message_free(&r);
  refused(
      "{\"id\":2,\"op\":\"publish\",\"sdp\":\"v=0\",\"type\":\"tv\",\"mids\":[\"0\"]}",
      PS_E_BAD_REQUEST, 1);
  refused("{\"id\":2,\"op\":\"publish\",\"sdp\":\"v=0\",\"type\":\"audio\",\"mids\":[]}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":2,\"op\":\"publish\",\"sdp\":\"v=0\",\"type\":\"audio\","
          "\"mids\":[\"0\",\"0\"]}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":2,\"op\":\"publish\",\"sdp\":\"v=0\",\"type\":\"audio\","
          "\"mids\":[\"0\",\"1\",\"2\"]}",
          PS_E_LIMIT, 1);
  refused("{\"id\":2,\"op\":\"publish\",\"type\":\"audio\",\"mids\":[\"0\"]}",
          PS_E_BAD_REQUEST, 1);
  CHECK(parse("{\"id\":3,\"op\":\"subscribe\",\"feed_ids\":[\"f1\",\"f2\"]}", &r, &err) ==
        0);
  CHECK(r.op == RTC_OP_SUBSCRIBE && r.n_feed_ids == 2);
  CHECK_STR(r.feed_ids[0], "f1");
  rtc_message_free(&r);
  refused("{\"id\":3,\"op\":\"unsubscribe\",\"feed_ids\":\"f1\"}", PS_E_BAD_REQUEST, 1);
  refused("{\"id\":3,\"op\":\"unsubscribe\",\"feed_ids\":[1]}", PS_E_BAD_REQUEST, 1);
  CHECK(parse("{\"id\":4,\"op\":\"unpublish\",\"feed_id\":\"f1\"}", &r, &err) == 0);
  CHECK_STR(r.feed_id, "f1");
  rtc_message_free(&r);
  CHECK(parse("{\"id\":5,\"op\":\"answer\",\"sdp\":\"v=0\"}", &r, &err) == 0);
  CHECK_STR(r.sdp, "v=0");
  rtc_message_free(&r);
  refused("{\"id\":5,\"op\":\"publish_update\",\"sdp\":\"\"}", PS_E_BAD_REQUEST, 1);
}

static void test_layer_trickle_restart(void) {
  rtc_request r;
  rtc_error err;
  CHECK(
      parse("{\"id\":6,\"op\":\"layer\",\"feed_id\":\"f\",\"width\":640,\"height\":360}",
            &r, &err) == 0);
  CHECK(r.width == 640 && r.height == 360 && r.paused == -1);
  rtc_message_free(&r);
  CHECK(parse("{\"id\":6,\"op\":\"layer\",\"feed_id\":\"f\",\"paused\":true}", &r,
              &err) == 0);
  CHECK(r.width == -1 && r.paused == 1);
  rtc_message_free(&r);
  refused("{\"id\":6,\"op\":\"layer\",\"feed_id\":\"f\",\"width\":-1}", PS_E_BAD_REQUEST,
          1);
  refused("{\"id\":6,\"op\":\"layer\",\"feed_id\":\"f\",\"paused\":1}", PS_E_BAD_REQUEST,
          1);
  CHECK(parse("{\"id\":7,\"op\":\"trickle\",\"pc\":\"pub\",\"candidate\":null}", &r,
              &err) == 0);
  CHECK_STR(r.candidate, "");
  CHECK_STR(r.pc, "pub");
  rtc_message_free(&r);
  refused("{\"id\":7,\"op\":\"trickle\",\"pc\":\"both\"}", PS_E_BAD_REQUEST, 1);
  CHECK(parse("{\"id\":8,\"op\":\"ice_restart\",\"pc\":\"sub\"}", &r, &err) == 0);
  rtc_message_free(&r);
  refused("{\"id\":8,\"op\":\"ice_restart\",\"pc\":\"pub\"}", PS_E_BAD_REQUEST, 1);
}

static void test_data_resume(void) {
  rtc_request r;
  rtc_error err;
  CHECK(parse("{\"id\":9,\"op\":\"data\",\"to\":\"bob\",\"payload\":{\"a\":[1,2]}}", &r,
              &err) == 0);
  CHECK_STR(r.to, "bob");
  CHECK(r.payload_len == strlen("{\"a\":[1,2]}"));
  rtc_message_free(&r);
  CHECK(parse("{\"id\":9,\"op\":\"data\",\"payload\":null}", &r, &err) == 0);
  CHECK(r.to == NULL && json_is_null(r.payload));
  rtc_message_free(&r);
  refused("{\"id\":9,\"op\":\"data\"}", PS_E_BAD_REQUEST, 1);
  char *big = malloc(RTC_MAX_PAYLOAD + 100);
  int n = snprintf(big, 100, "{\"id\":9,\"op\":\"data\",\"payload\":\"");
  memset(big + n, 'p', RTC_MAX_PAYLOAD);
  strcpy(big + n + RTC_MAX_PAYLOAD, "\"}");
  refused(big, PS_E_LIMIT, 1);
  free(big);
  CHECK(parse("{\"id\":10,\"op\":\"resume\",\"sid\":\"s\",\"uid\":\"u\","
              "\"session_token\":\"t\"}",
              &r, &err) == 0);
  CHECK_STR(r.session_token, "t");
  rtc_message_free(&r);
  refused("{\"id\":10,\"op\":\"resume\",\"sid\":\"s\",\"uid\":\"u\"}", PS_E_BAD_REQUEST,
          1);
}

static void test_build(void) {
  char *t = rtc_message_reply(3, json_pack("{s:i}", "x", 1));
  CHECK_STR(t, "{\"id\":3,\"ok\":true,\"data\":{\"x\":1}}");
  free(t);
  t = rtc_message_error(false, 0, PS_E_LIMIT, "too many");
  CHECK_STR(t, "{\"id\":null,\"ok\":false,\"err\":{\"code\":\"LIMIT\",\"message\":\"too "
               "many\"}}");
  free(t);
  t = rtc_message_event("speaker", json_pack("{s:s}", "uid", "a"));
  CHECK_STR(t, "{\"ev\":\"speaker\",\"data\":{\"uid\":\"a\"}}");
  free(t);
  CHECK(rtc_message_status(PS_E_NOT_JOINED) == 409);
  CHECK(rtc_message_id_ok("a-B_9.:x"));
  CHECK(!rtc_message_id_ok("a/b"));
  CHECK(!rtc_message_id_ok(""));
}

static void test_record(void) {
  rtc_request r;
  rtc_error err;
  CHECK(parse("{\"id\":3,\"op\":\"record_start\",\"upload_url\":"
              "\"https://up.example/{rec_id}.webm\"}",
              &r, &err) == 0);
  CHECK(r.op == RTC_OP_RECORD_START && r.n_feed_ids == 0 && r.webhook_url == NULL);
  CHECK_STR(r.upload_url, "https://up.example/{rec_id}.webm");
  rtc_message_free(&r);
  CHECK(parse("{\"id\":4,\"op\":\"record_start\",\"feed_ids\":[\"f-1\",\"f-2\"],"
              "\"upload_url\":\"http://a/{feed_id}\",\"webhook_url\":\"https://h/x\"}",
              &r, &err) == 0);
  CHECK(r.n_feed_ids == 2);
  CHECK_STR(r.feed_ids[1], "f-2");
  CHECK_STR(r.webhook_url, "https://h/x");
  rtc_message_free(&r);
  CHECK(parse("{\"id\":4,\"op\":\"record_start\",\"feed_ids\":null,"
              "\"upload_url\":\"http://a/\",\"webhook_url\":\"\"}",
              &r, &err) == 0);
  CHECK(r.n_feed_ids == 0 && r.webhook_url == NULL);
  rtc_message_free(&r);
  refused("{\"id\":5,\"op\":\"record_start\"}", PS_E_BAD_REQUEST, 1);
  refused("{\"id\":5,\"op\":\"record_start\",\"upload_url\":\"ftp://a/b\"}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":5,\"op\":\"record_start\",\"upload_url\":\"http://a/\","
          "\"webhook_url\":\"file:///etc\"}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":5,\"op\":\"record_start\",\"upload_url\":\"http://a/\","
          "\"feed_ids\":[]}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":5,\"op\":\"record_start\",\"upload_url\":\"http://a/\","
          "\"feed_ids\":[\"a b\"]}",
          PS_E_BAD_REQUEST, 1);
  refused("{\"id\":5,\"op\":\"record_start\",\"upload_url\":\"http://a/\","
          "\"feed_ids\":[\"a\",\"a\"]}",
          PS_E_BAD_REQUEST, 1);
  /* A URL at the limit is refused, one under it accepted. */
  size_t n = RTC_MAX_URL + 64;
  char *text = malloc(n);
  int head =
      snprintf(text, n, "{\"id\":6,\"op\":\"record_start\",\"upload_url\":\"http://a/");
  size_t fill = RTC_MAX_URL - strlen("http://a/");
  memset(text + head, 'x', fill);
  snprintf(text + head + fill, n - (size_t)head - fill, "\"}");
  refused(text, PS_E_BAD_REQUEST, 1);
  memmove(text + head + fill - 1, text + head + fill, 3);
  CHECK(parse(text, &r, &err) == 0);
  rtc_message_free(&r);
  free(text);

  CHECK(parse("{\"id\":7,\"op\":\"record_stop\"}", &r, &err) == 0);
  CHECK(r.op == RTC_OP_RECORD_STOP && r.n_rec_ids == 0);
  rtc_message_free(&r);
  CHECK(parse("{\"id\":7,\"op\":\"record_stop\",\"rec_ids\":"
              "[\"0b9c8a4e-1111-4c2d-9e3f-0123456789ab\"]}",
              &r, &err) == 0);
  CHECK(r.n_rec_ids == 1);
  CHECK_STR(r.rec_ids[0], "0b9c8a4e-1111-4c2d-9e3f-0123456789ab");
  rtc_message_free(&r);
  refused("{\"id\":7,\"op\":\"record_stop\",\"rec_ids\":\"x\"}", PS_E_BAD_REQUEST, 1);
  refused("{\"id\":7,\"op\":\"record_stop\",\"rec_ids\":[1]}", PS_E_BAD_REQUEST, 1);
  CHECK_STR(rtc_op_name(RTC_OP_RECORD_START), "record_start");
  CHECK_STR(rtc_op_name(RTC_OP_RECORD_STOP), "record_stop");
}

int main(void) {
  test_envelope();
  test_join();
  test_publish_subscribe();
  test_layer_trickle_restart();
  test_data_resume();
  test_build();
  test_record();
  CHECK_DONE();
}
