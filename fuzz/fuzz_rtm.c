/* fuzz_rtm — libFuzzer harness for RTM frames: rtm_message_parse on any bytes, with the
 * invariants that an accepted frame has the fields its type needs and errors say why. */
#include "api/rtm_message.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_accepted(const rtm_message *m) {
  CHECK(m->root != NULL);
  switch (m->type) {
  case RTM_SESSION_START:
    CHECK(m->sdp && *m->sdp && strcmp(m->sdp_type, "offer") == 0);
    break;
  case RTM_SUPERVISOR_JOIN:
    CHECK(m->sdp && m->monitor_session_id && *m->monitor_session_id);
    break;
  case RTM_SDP_UPDATE:
    CHECK(m->sdp &&
          (strcmp(m->sdp_type, "offer") == 0 || strcmp(m->sdp_type, "answer") == 0));
    break;
  case RTM_CANDIDATE:
    CHECK(m->candidate != NULL && m->mline_index >= -1 && m->mline_index <= 64);
    break;
  case RTM_RECORDING_START:
    CHECK(m->upload_url && *m->upload_url);
    break;
  default:
    break;
  }
  /* No string handed on may hide a NUL: jansson's length must match. */
  if (m->client_id)
    CHECK(strlen(m->client_id) ==
          json_string_length(json_object_get(m->root, "client_id")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1); /* exact size: a WebSocket frame has no NUL */
  if (size)
    memcpy(text, data, size);
  rtm_message m;
  rtm_error err;
  if (rtm_message_parse(text, size, &m, &err) == 0) {
    check_accepted(&m);
    char *reply =
        rtm_message_build(rtm_type_name(m.type), m.client_id, m.session_id, NULL);
    CHECK(reply != NULL);
    free(reply);
    rtm_message_free(&m);
  } else {
    CHECK(err.why.code != NULL && err.why.message[0] != '\0');
    CHECK(strnlen(err.ref_type, sizeof err.ref_type) < sizeof err.ref_type);
  }
  free(text);
  return 0;
}
