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

static bool last_cannot_present;
static void read_present(const room_record *r, void *ud) {
  (void)ud;
  last_cannot_present = r->guests_cannot_present;
}

/* guests_can_present: stored both ways, and a room from before migration 5 keeps
 * Pexip's default (guests present). */
static void check_guests_can_present(const char *dir) {
  char err[300];
  store *st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  room_record r = {.name = "Slides", .guests_cannot_present = true};
  r.aliases[0] = "slides";
  r.n_aliases = 1;
  CHECK(store_room_add(st, &r, err, sizeof err) == 0);
  CHECK(store_rooms_each(st, read_present, NULL) == 0 && last_cannot_present);
  CHECK(store_room_remove(st, "slides", err, sizeof err) == 0);
  /* Back to schema 4 with a room in it, then open: migration 5 adds the column. */
  CHECK(sqlite3_exec(st->db,
                     "ALTER TABLE rooms DROP COLUMN guests_can_present;"
                     "INSERT INTO rooms(id, name) VALUES(77, 'Old');"
                     "INSERT INTO room_aliases(alias, room_id, position) "
                     "VALUES('old', 77, 0);"
                     "PRAGMA user_version = 4;",
                     NULL, NULL, NULL) == SQLITE_OK);
  store_close(st);
  st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  last_cannot_present = true;
  CHECK(store_rooms_each(st, read_present, NULL) == 0 && !last_cannot_present);
  CHECK(store_room_remove(st, "old", err, sizeof err) == 0);
  store_close(st);
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
  check_guests_can_present(dir);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
