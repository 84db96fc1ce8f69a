/* fuzz_policy_response — libFuzzer harness for the policy server's answers (client API
 * §E): any bytes as service configuration, participant properties and media location,
 * checked against the invariants the join relies on. */
#include "policy/policy_response.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int pin_ok(const char *p) {
  if (!p)
    return 1;
  size_t n = strlen(p);
  if (n == 0 || n > ROOM_MAX_PIN_LEN)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  char *body = malloc(len ? len : 1); /* exact size: the parsers take a length */
  if (len)
    memcpy(body, data, len);
  policy_service s;
  policy_parse_service(body, len, "fuzz.alias", &s);
  CHECK((s.verdict == POLICY_USE) == (s.rec != NULL));
  if (s.rec) {
    char err[160];
    CHECK(room_record_validate(s.rec, err, sizeof err) == 0);
    CHECK(s.rec->adhoc && s.rec->name && pin_ok(s.rec->pin) && pin_ok(s.rec->guest_pin));
    CHECK(!s.invalid);
    room_record_free(s.rec);
  }
  CHECK(memchr(s.service_tag, 0, sizeof s.service_tag) != NULL);
  policy_participant p;
  policy_parse_participant(body, len, &p);
  CHECK(p.verdict != POLICY_FALLBACK || p.role == POLICY_ROLE_KEEP);
  CHECK(p.bypass_lock >= -1 && p.bypass_lock <= 1);
  CHECK(memchr(p.display_name, 0, sizeof p.display_name) != NULL);
  policy_location l;
  policy_parse_location(body, len, &l);
  CHECK(l.verdict != POLICY_REJECT);
  CHECK(l.n_overflow <= 3);
  CHECK(l.verdict != POLICY_USE || l.location[0]);
  (void)policy_is_jpeg(body, len);
  free(body);
  return 0;
}
