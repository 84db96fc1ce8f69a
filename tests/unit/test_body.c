/* test_body — request bodies: size, content type and JSON rules give the right
 * status, and typed field reads reject wrong types with a named field. */
#include "api/body.h"
#include "check.h"

static int parse(const char *body, const char *ct, json_t **out, refusal *err) {
  return body_parse(body, strlen(body), ct, ct ? strlen(ct) : 0, 100, out, err);
}

int main(void) {
  json_t *v;
  refusal err;
  CHECK(parse("", NULL, &v, &err) == 0 && v == NULL);
  CHECK(parse("{\"a\":1}", "text/plain", &v, &err) == -1 && err.status == 415);
  CHECK(parse("{\"a\":1}", NULL, &v, &err) == -1 && err.status == 415);
  CHECK(parse("{bad", "application/json", &v, &err) == -1 && err.status == 400);
  CHECK(strstr(err.message, "Malformed JSON") != NULL);
  CHECK(parse("[1,2]", "application/json", &v, &err) == -1 && err.status == 400);
  CHECK(parse("{\"a\":1,\"a\":2}", "application/json", &v, &err) == -1);
  char big[200];
  memset(big, ' ', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CHECK(parse(big, "application/json", &v, &err) == -1 && err.status == 413);

  CHECK(parse("{\"display_name\":\"Al\",\"n\":3,\"b\":true}",
              "application/json; charset=utf-8", &v, &err) == 0);
  const char *s;
  bool b = false;
  CHECK(body_string(v, "display_name", true, &s, &err) == 0);
  CHECK_STR(s, "Al");
  CHECK(body_string(v, "n", true, &s, &err) == -1 && err.status == 400);
  CHECK(strstr(err.message, "\"n\"") != NULL);
  CHECK(body_string(v, "missing", false, &s, &err) == 0 && s == NULL);
  CHECK(body_string(v, "missing", true, &s, &err) == -1);
  CHECK(body_bool(v, "b", true, &b, &err) == 0 && b);
  CHECK(body_bool(v, "display_name", true, &b, &err) == -1);
  json_decref(v);

  /* An embedded NUL is refused by the parser or by the field reader. */
  if (parse("{\"s\":\"a\\u0000b\"}", "application/json", &v, &err) == 0) {
    CHECK(body_string(v, "s", true, &s, &err) == -1);
    json_decref(v);
  } else {
    CHECK(err.status == 400);
  }
  CHECK_DONE();
}
