/* test_store — room records: validation rules, add/list/remove through SQLite, and
 * data_version telling one connection about another's commits. */
#include "check.h"
#include "store/rooms.h"

#include <stdlib.h>

static int count;
static void count_rooms(const room_record *r, void *ud) {
  (void)ud;
  count++;
  if (r->n_aliases == 2) {
    CHECK_STR(r->aliases[0], "main");
    CHECK_STR(r->aliases[1], "other");
    CHECK_STR(r->pin, "1234");
    CHECK(r->allow_guests);
  }
}

int main(void) {
  char dir[] = "/tmp/parley-store-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char err[300];
  store *a = store_open(dir, err, sizeof err);
  store *b = store_open(dir, err, sizeof err);
  CHECK(a && b);
  int64_t v0 = store_data_version(b);

  room_record r = {.name = "Main", .pin = "1234", .allow_guests = true};
  r.aliases[0] = "main";
  r.aliases[1] = "other";
  r.n_aliases = 2;
  CHECK(store_room_add(a, &r, err, sizeof err) == 0);
  CHECK(store_data_version(b) != v0);

  room_record dup = {.name = "Dup"};
  dup.aliases[0] = "other";
  dup.n_aliases = 1;
  CHECK(store_room_add(a, &dup, err, sizeof err) == -1);
  CHECK(strstr(err, "already used") != NULL);

  room_record bad = {.name = "Bad", .guest_pin = "5678"};
  bad.aliases[0] = "bad";
  bad.n_aliases = 1;
  CHECK(room_record_validate(&bad, err, sizeof err) == -1);
  bad.guest_pin = NULL;
  bad.pin = "12a4";
  CHECK(room_record_validate(&bad, err, sizeof err) == -1);
  bad.pin = "1234";
  bad.allow_guests = true;
  bad.guest_pin = "1234";
  CHECK(room_record_validate(&bad, err, sizeof err) == -1);
  bad.aliases[0] = "a/b";
  bad.guest_pin = NULL;
  CHECK(room_record_validate(&bad, err, sizeof err) == -1);

  count = 0;
  CHECK(store_rooms_each(b, count_rooms, NULL) == 0);
  CHECK(count == 1);
  CHECK(store_room_remove(a, "other", err, sizeof err) == 0);
  CHECK(store_room_remove(a, "other", err, sizeof err) == -1);
  count = 0;
  store_rooms_each(b, count_rooms, NULL);
  CHECK(count == 0);
  store_close(a);
  store_close(b);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
