/* reply — the client API's JSON envelopes. */
#include "api/api.h"

void reply_result(api_call *c, json_t *result) {
  http_respond_json(c->req, 200,
                    json_pack("{s:s, s:o}", "status", "success", "result",
                              result ? result : json_null()));
}

void reply_bool(api_call *c, bool value) { reply_result(c, json_boolean(value)); }

void reply_failed(api_call *c, int status, const char *message) {
  http_respond_json(c->req, status,
                    json_pack("{s:s, s:s}", "status", "failed", "result", message));
}

void reply_status(api_call *c, refusal st) {
  if (st.status == 0)
    reply_bool(c, true);
  else if (st.status == 429) {
    /* The core's only 429 is the chat bucket: at --chat-rate >= 1/s, a message's
     * worth refills within a second. */
    h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                   H2O_STRLIT("1"));
    reply_failed(c, st.status, st.message);
  } else
    reply_failed(c, st.status, st.message);
}
