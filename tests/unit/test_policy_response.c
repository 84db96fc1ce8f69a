/* test_policy_response — the policy server's answers (client API §E) read as Pexip reads
 * them: used, rejected, or left to the local store; and the query encoding. */
#include "policy/policy.h"
#include "policy/policy_response.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

static void service(const char *body, policy_service *out) {
  policy_parse_service(body, body ? strlen(body) : 0, "meet.alice", out);
}

static void test_service_used(void) {
  policy_service s;
  service(
      "{\"status\":\"success\",\"action\":\"continue\",\"result\":{\"service_type\":"
      "\"conference\",\"name\":\"meet.alice\",\"service_tag\":\"t1\",\"pin\":\"1234\","
      "\"allow_guests\":true,\"guest_pin\":\"\",\"view\":\"one_main_seven_pips\"},"
      "\"extra\":1}",
      &s);
  CHECK(s.verdict == POLICY_USE);
  CHECK(!s.invalid);
  CHECK(s.rec && s.rec->adhoc);
  CHECK_STR(s.rec->name, "meet.alice");
  CHECK_STR(s.rec->pin, "1234");
  CHECK(s.rec->guest_pin == NULL); /* "" is no guest PIN */
  CHECK(s.rec->allow_guests);
  CHECK(!s.rec->lecture && !s.rec->locked && !s.rec->guests_cannot_present);
  CHECK(s.rec->n_aliases == 1);
  CHECK_STR(s.rec->aliases[0], "meet.alice");
  CHECK_STR(s.service_tag, "t1");
  room_record_free(s.rec);

  /* a lecture, numeric PINs, Pexip's "True"/"False" text booleans */
  service(
      "{\"status\":\"success\",\"result\":{\"service_type\":\"lecture\",\"name\":\"L\","
      "\"pin\":4321,\"guest_pin\":\"55\",\"allow_guests\":\"True\",\"locked\":\"False\","
      "\"guests_can_present\":false}}",
      &s);
  CHECK(s.verdict == POLICY_USE);
  CHECK(s.rec->lecture);
  CHECK_STR(s.rec->pin, "4321");
  CHECK_STR(s.rec->guest_pin, "55");
  CHECK(s.rec->allow_guests && !s.rec->locked && s.rec->guests_cannot_present);
  room_record_free(s.rec);

  /* guests without a host PIN: everyone a host, as the store's rules say */
  service("{\"status\":\"success\",\"result\":{\"service_type\":\"conference\",\"name\":"
          "\"N\","
          "\"allow_guests\":true,\"guest_pin\":\"12\"}}",
          &s);
  CHECK(s.verdict == POLICY_USE);
  CHECK(!s.rec->allow_guests && !s.rec->pin && !s.rec->guest_pin);
  room_record_free(s.rec);
}

static void test_service_reject_and_fallback(void) {
  policy_service s;
  service("{\"status\":\"success\",\"action\":\"reject\",\"result\":{}}", &s);
  CHECK(s.verdict == POLICY_REJECT && !s.rec && !s.invalid);
  /* valid service data wins over the action (§E.2) */
  service("{\"status\":\"success\",\"action\":\"reject\",\"result\":{\"service_type\":"
          "\"conference\",\"name\":\"x\"}}",
          &s);
  CHECK(s.verdict == POLICY_USE);
  room_record_free(s.rec);
  service("{\"status\":\"success\",\"action\":\"continue\",\"result\":{}}", &s);
  CHECK(s.verdict == POLICY_FALLBACK && !s.invalid);
  service("{\"status\":\"success\"}", &s);
  CHECK(s.verdict == POLICY_FALLBACK && !s.invalid);
  /* a service Parley does not offer: the store decides */
  service(
      "{\"status\":\"success\",\"result\":{\"service_type\":\"gateway\",\"name\":\"g\"}}",
      &s);
  CHECK(s.verdict == POLICY_FALLBACK && !s.invalid && !s.rec);
  /* malformed: invalid, fallback */
  const char *bad[] = {
      NULL,
      "",
      "<html>",
      "{\"status\":\"success\",",
      "[]",
      "\"success\"",
      "{\"status\":\"failed\",\"action\":\"reject\",\"result\":{}}",
      "{\"status\":\"success\",\"result\":{\"service_type\":\"conference\"}}",
      "{\"status\":\"success\",\"result\":{\"service_type\":\"conference\",\"name\":"
      "\"x\","
      "\"pin\":\"12ab\"}}",
      "{\"status\":\"success\",\"result\":{\"service_type\":\"conference\",\"name\":"
      "\"x\","
      "\"pin\":\"12\",\"allow_guests\":true,\"guest_pin\":\"12\"}}",
      "{\"status\":\"success\",\"result\":{\"service_type\":\"conference\",\"name\":7}}",
      "{\"status\":\"success\",\"result\":{\"service_type\":\"conference\",\"name\":"
      "\"x\","
      "\"locked\":\"maybe\"}}",
      "{\"status\":\"success\",\"status\":\"success\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    service(bad[i], &s);
    CHECK(s.verdict == POLICY_FALLBACK);
    CHECK(s.invalid);
    CHECK(!s.rec);
    CHECK(s.why[0]);
  }
}

static void test_participant(void) {
  policy_participant p;
  const char *b =
      "{\"status\":\"success\",\"action\":\"continue\",\"result\":{\"remote_display_"
      "name\":"
      "\"Alice (CEO)\",\"preauthenticated_role\":\"chair\",\"bypass_lock\":true,"
      "\"call_tag\":\"abc\",\"spotlight\":1}}";
  policy_parse_participant(b, strlen(b), &p);
  CHECK(p.verdict == POLICY_USE);
  CHECK(p.role == POLICY_ROLE_HOST);
  CHECK(p.bypass_lock == 1);
  CHECK_STR(p.display_name, "Alice (CEO)");
  CHECK_STR(p.call_tag, "abc");
  b = "{\"status\":\"success\",\"result\":{\"preauthenticated_role\":\"guest\"}}";
  policy_parse_participant(b, strlen(b), &p);
  CHECK(p.verdict == POLICY_USE && p.role == POLICY_ROLE_GUEST && p.bypass_lock == -1);
  CHECK_STR(p.display_name, "");
  b = "{\"status\":\"success\",\"result\":{\"preauthenticated_role\":null}}";
  policy_parse_participant(b, strlen(b), &p);
  CHECK(p.verdict == POLICY_USE && p.role == POLICY_ROLE_KEEP);
  b = "{\"status\":\"success\",\"action\":\"reject\",\"result\":{\"reject_reason\":"
      "\"No\"}}";
  policy_parse_participant(b, strlen(b), &p);
  CHECK(p.verdict == POLICY_REJECT);
  CHECK_STR(p.reject_reason, "No");
  b = "{\"status\":\"success\",\"result\":{\"preauthenticated_role\":\"admin\"}}";
  policy_parse_participant(b, strlen(b), &p);
  CHECK(p.verdict == POLICY_FALLBACK && p.invalid && p.role == POLICY_ROLE_KEEP);
  b = "{\"status\":\"failure\",\"action\":\"reject\"}";
  policy_parse_participant(b, strlen(b), &p);
  CHECK(p.verdict == POLICY_FALLBACK && p.invalid);
}

static void test_location(void) {
  policy_location l;
  const char *b = "{\"status\":\"success\",\"result\":{\"location\":\"London\","
                  "\"overflow_locations\":[\"Paris\",\"Oslo\"]}}";
  policy_parse_location(b, strlen(b), &l);
  CHECK(l.verdict == POLICY_USE);
  CHECK_STR(l.location, "London");
  CHECK(l.n_overflow == 2);
  CHECK_STR(l.overflow[1], "Oslo");
  b = "{\"status\":\"success\",\"result\":{\"location\":\"A\",\"primary_overflow_"
      "location\":"
      "\"B\"}}";
  policy_parse_location(b, strlen(b), &l);
  CHECK(l.verdict == POLICY_USE && l.n_overflow == 1);
  CHECK_STR(l.overflow[0], "B");
  b = "{\"status\":\"success\",\"result\":{}}";
  policy_parse_location(b, strlen(b), &l);
  CHECK(l.verdict == POLICY_FALLBACK && l.invalid);
}

static void test_jpeg_and_query(void) {
  const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10};
  CHECK(policy_is_jpeg(jpeg, sizeof jpeg));
  CHECK(!policy_is_jpeg("GIF89a", 6));
  CHECK(!policy_is_jpeg(jpeg, 2));
  buf q = {0};
  policy_query_add(&q, "local_alias", "meet alice@example.com");
  policy_query_add(&q, "remote_alias", "sip:bob+1/ü");
  policy_query_add(&q, "empty", NULL);
  buf_append(&q, "", 1);
  CHECK_STR(q.data,
            "local_alias=meet%20alice%40example.com&remote_alias=sip%3Abob%2B1%2F%C3%"
            "BC&empty=");
  buf_free(&q);
}

int main(void) {
  test_service_used();
  test_service_reject_and_fallback();
  test_participant();
  test_location();
  test_jpeg_and_query();
  CHECK_DONE();
}
