/* test_route — client API paths map to the right conference, participant and call
 * actions; foreign or badly encoded paths are told apart. */
#include "api/route.h"
#include "check.h"

static int parse(const char *path, api_route *r) {
  return api_route_parse(path, strlen(path), r);
}

int main(void) {
  api_route r;
  CHECK(parse("/api/client/v2/conferences/meet/request_token", &r) == 0);
  CHECK(r.kind == ROUTE_CONFERENCE);
  CHECK_STR(r.alias, "meet");
  CHECK_STR(r.action, "request_token");

  CHECK(parse("/api/client/v2/conferences/meet%40example.com/events", &r) == 0);
  CHECK_STR(r.alias, "meet@example.com");

  CHECK(parse("/api/client/v2/conferences/my%20room/theme/", &r) == 0);
  CHECK_STR(r.alias, "my room");
  CHECK_STR(r.action, "theme/");

  CHECK(parse("/api/client/v2/conferences/m/participants/abc/mute", &r) == 0);
  CHECK(r.kind == ROUTE_PARTICIPANT);
  CHECK_STR(r.participant, "abc");
  CHECK_STR(r.action, "mute");

  CHECK(parse("/api/client/v2/conferences/m/participants/p1/calls/c1/ack", &r) == 0);
  CHECK(r.kind == ROUTE_CALL);
  CHECK_STR(r.call, "c1");
  CHECK_STR(r.action, "ack");

  CHECK(parse("/api/client/v2/conferences/m/participants", &r) == 0);
  CHECK(r.kind == ROUTE_CONFERENCE);
  CHECK_STR(r.action, "participants");

  CHECK(parse("/healthz", &r) == 0 && r.kind == ROUTE_HEALTHZ);
  CHECK(parse("/metrics", &r) == 0 && r.kind == ROUTE_METRICS);
  CHECK(parse("/", &r) == -1);
  CHECK(parse("/api/client/v2/conferences/", &r) == -1);
  CHECK(parse("/api/client/v3/conferences/m/x", &r) == -1);
  CHECK(parse("/api/client/v2/conferences/m%zz/events", &r) == -2);
  CHECK_DONE();
}
