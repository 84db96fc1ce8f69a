/* fuzz_config_body — libFuzzer harness for the cluster configuration body a node reads
 * from Redis: cbody_parse, then cbody_apply to a real store. Invariants: a refused apply
 * leaves the store as it was; an accepted one leaves exactly the body's counts of rows,
 * and the store's own serialisation parses again. The store is put back after each run.
 */
#include "cluster/config_body.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static store *st;
static char *baseline; /* the store's serialisation before each input */
static size_t baseline_len;

static void setup(void) {
  char dir[] = "/tmp/parley-fuzz-cbody-XXXXXX";
  char err[300];
  CHECK(mkdtemp(dir) != NULL);
  st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  sqlite3_exec(st->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
  const char *seed =
      "{\"format\":1,\"rooms\":[{\"id\":3,\"name\":\"Main\",\"pin\":\"1234\","
      "\"guest_pin\":null,\"allow_guests\":0,\"lecture\":0,\"locked\":0,\"reception\":0,"
      "\"created_at\":1,\"test_call\":0,\"guests_can_present\":1,\"relay_only\":0,"
      "\"aliases\":[\"main\",\"m2\"]}],\"accounts\":[{\"cid\":\"acme\",\"name\":null,"
      "\"jwt_secret\":\"s\",\"webhook_secret\":null,\"created_at\":5}],\"api_keys\":[]}";
  cbody *b = cbody_parse(seed, strlen(seed), err, sizeof err);
  CHECK(b != NULL);
  CHECK(cbody_apply(st, b, 1, "", err, sizeof err) == 0);
  cbody_free(b);
  baseline = cbody_serialise(st, &baseline_len, err, sizeof err);
  CHECK(baseline != NULL);
}

static void restore(void) {
  char err[300];
  cbody *b = cbody_parse(baseline, baseline_len, err, sizeof err);
  CHECK(b != NULL);
  CHECK(cbody_apply(st, b, 1, "", err, sizeof err) == 0);
  cbody_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!st)
    setup();
  char err[300] = "";
  cbody *b = cbody_parse((const char *)data, size, err, sizeof err);
  if (!b) {
    CHECK(err[0] != '\0' && strnlen(err, sizeof err) < sizeof err);
    return 0;
  }
  cbody_counts want, got;
  cbody_count(b, &want);
  int rc = cbody_apply(st, b, 2, "", err, sizeof err);
  cbody_free(b);
  size_t len;
  char *now = cbody_serialise(st, &len, err, sizeof err);
  CHECK(now != NULL);
  if (rc != 0) {
    CHECK(err[0] != '\0');
    CHECK(len == baseline_len && memcmp(now, baseline, len) == 0); /* nothing changed */
    free(now);
    return 0;
  }
  cbody *again = cbody_parse(now, len, err, sizeof err);
  CHECK(again != NULL);
  cbody_count(again, &got);
  CHECK(memcmp(&want, &got, sizeof want) == 0);
  cbody_free(again);
  free(now);
  restore();
  return 0;
}
