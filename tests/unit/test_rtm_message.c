/* test_rtm_message — RTM frames: each type's required fields, the error codes for
 * what is refused, and the reply envelope. */
#include "api/rtm_message.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *text, rtm_message *m, rtm_error *err) {
  return rtm_message_parse(text, strlen(text), m, err);
}

static void refused(const char *text, const char *code, const char *ref_type) {
  rtm_message m;
  rtm_error err;
  CHECK(parse(text, &m, &err) == -1);
  CHECK_STR(err.why.code, code);
  CHECK_STR(err.ref_type, ref_type);
  CHECK(err.why.message[0] != '\0');
}

static void test_session_start(void) {
  rtm_message m;
  rtm_error err;
  CHECK(parse("{\"type\":\"session_start\",\"client_id\":\"c1\",\"data\":{\"sdp\":"
              "{\"type\":\"offer\",\"sdp\":\"v=0\"},\"webhook_url\":\"http://h/w\"}}",
              &m, &err) == 0);
  CHECK(m.type == RTM_SESSION_START);
  CHECK_STR(m.client_id, "c1");
  CHECK(m.session_id == NULL);
  CHECK_STR(m.sdp, "v=0");
  CHECK_STR(m.webhook_url, "http://h/w");
  rtm_message_free(&m);
  refused("{\"type\":\"session_start\",\"data\":{}}", RTM_E_BAD_MESSAGE, "session_start");
  refused("{\"type\":\"session_start\",\"data\":{\"sdp\":{\"type\":\"answer\",\"sdp\":"
          "\"v=0\"}}}",
          RTM_E_BAD_MESSAGE, "session_start");
  refused("{\"type\":\"session_start\",\"data\":{\"sdp\":{\"type\":\"offer\",\"sdp\":"
          "\"v=0\"},\"webhook_url\":5}}",
          RTM_E_BAD_MESSAGE, "session_start");
}

static void test_candidate(void) {
  rtm_message m;
  rtm_error err;
  CHECK(parse("{\"type\":\"candidate\",\"data\":{\"candidate\":{\"candidate\":"
              "\"candidate:1 1 udp 1 ::1 9 typ host\",\"sdpMid\":\"0\","
              "\"sdpMLineIndex\":0,\"usernameFragment\":\"u\"}}}",
              &m, &err) == 0);
  CHECK(m.mline_index == 0);
  CHECK_STR(m.sdp_mid, "0");
  CHECK_STR(m.ufrag, "u");
  rtm_message_free(&m);
  /* The end of candidates: an empty (or null) candidate string. */
  CHECK(parse("{\"type\":\"candidate\",\"data\":{\"candidate\":{\"candidate\":null}}}",
              &m, &err) == 0);
  CHECK_STR(m.candidate, "");
  CHECK(m.mline_index == -1);
  rtm_message_free(&m);
  refused("{\"type\":\"candidate\",\"data\":{\"candidate\":{\"sdpMLineIndex\":-1}}}",
          RTM_E_BAD_MESSAGE, "candidate");
}

static void test_refusals(void) {
  refused("{not json", RTM_E_BAD_JSON, "");
  refused("[1,2]", RTM_E_BAD_MESSAGE, "");
  refused("{\"data\":{}}", RTM_E_BAD_MESSAGE, "");
  refused("{\"type\":\"dance\"}", RTM_E_UNKNOWN_TYPE, "dance");
  refused("{\"type\":\"ping\",\"data\":[]}", RTM_E_BAD_MESSAGE, "ping");
  refused("{\"type\":\"ping\",\"client_id\":7}", RTM_E_BAD_MESSAGE, "ping");
  /* jansson refuses an escaped NUL itself. */
  refused("{\"type\":\"ping\",\"client_id\":\"a\\u0000b\"}", RTM_E_BAD_JSON, "");
  refused("{\"type\":\"ping\",\"type\":\"ping\"}", RTM_E_BAD_JSON, "");
  refused("{\"type\":\"recording_start\",\"data\":{\"upload_url\":\"\"}}",
          RTM_E_BAD_MESSAGE, "recording_start");
  size_t n = RTM_MAX_MESSAGE + 1;
  char *big = malloc(n);
  memset(big, ' ', n);
  rtm_message m;
  rtm_error err;
  CHECK(rtm_message_parse(big, n, &m, &err) == -1);
  CHECK_STR(err.why.code, RTM_E_TOO_LARGE);
  free(big);
}

static void test_build(void) {
  char *text = rtm_message_build("pong", "c1", "s1", NULL);
  CHECK_STR(text,
            "{\"type\":\"pong\",\"client_id\":\"c1\",\"session_id\":\"s1\",\"data\":{}}");
  free(text);
  text = rtm_message_build("session_state", NULL, NULL,
                           json_pack("{s:s}", "state", "SETUP"));
  CHECK_STR(text, "{\"type\":\"session_state\",\"data\":{\"state\":\"SETUP\"}}");
  free(text);
}

int main(void) {
  test_session_start();
  test_candidate();
  test_refusals();
  test_build();
  CHECK_DONE();
}
