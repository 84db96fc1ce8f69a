/* test_store — room records: validation rules, add/list/remove through SQLite, and
 * data_version telling one connection about another's commits; writes whose BEGIN or
 * COMMIT fails (a lock held by another writer, a refused commit, a full disk) report
 * the failure and leave nothing behind. */
#include "check.h"
#include "store/accounts.h"
#include "store/jobs.h"
#include "store/rooms.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

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
                     "ALTER TABLE api_keys DROP COLUMN supervise;"
                     "ALTER TABLE api_keys DROP COLUMN client_prefix;"
                     "ALTER TABLE rooms DROP COLUMN guests_can_present;"
                     "ALTER TABLE rooms DROP COLUMN relay_only;"
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

/* Migration 6: a key made before API key scopes may not supervise and may use any
 * client id; a new key stores both. */
static void check_key_scopes_migration(const char *dir) {
  char err[300], key[API_KEY_LEN + 1];
  store *st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  CHECK(accounts_add(st, "scoped", NULL, NULL, err, sizeof err) == 0);
  const char *origin[] = {"https://a.example"};
  api_key_scopes sc = {.recording = true, .supervise = true};
  snprintf(sc.client_prefix, sizeof sc.client_prefix, "rec-");
  CHECK(api_keys_add(st, "scoped", origin, 1, &sc, key, sizeof key, err, sizeof err) ==
        0);
  api_key_info k;
  CHECK(api_keys_find(st, key, &k) == 0 && k.scopes.supervise && k.scopes.recording);
  CHECK_STR(k.scopes.client_prefix, "rec-");
  CHECK(sqlite3_exec(st->db,
                     "ALTER TABLE api_keys DROP COLUMN supervise;"
                     "ALTER TABLE api_keys DROP COLUMN client_prefix;"
                     "ALTER TABLE rooms DROP COLUMN relay_only;"
                     "PRAGMA user_version = 5;",
                     NULL, NULL, NULL) == SQLITE_OK);
  store_close(st);
  st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  CHECK(api_keys_find(st, key, &k) == 0 && !k.scopes.supervise && k.scopes.recording);
  CHECK_STR(k.scopes.client_prefix, "");
  store_close(st);
}

static int relay_only_rooms;
static void count_relay_only(const room_record *r, void *ud) {
  (void)ud;
  relay_only_rooms += r->relay_only;
}

/* relay_only: stored by add, changed by set (on any alias), kept by migration 7 as
 * off for rooms made before it. */
static void check_relay_only(const char *dir) {
  char err[300];
  store *st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  room_record r = {.name = "Strict", .relay_only = true};
  r.aliases[0] = "strict";
  r.aliases[1] = "strict-2";
  r.n_aliases = 2;
  CHECK(store_room_add(st, &r, err, sizeof err) == 0);
  relay_only_rooms = 0;
  CHECK(store_rooms_each(st, count_relay_only, NULL) == 0 && relay_only_rooms == 1);
  CHECK(store_room_set_relay_only(st, "strict-2", false, err, sizeof err) == 0);
  relay_only_rooms = 0;
  CHECK(store_rooms_each(st, count_relay_only, NULL) == 0 && relay_only_rooms == 0);
  CHECK(store_room_set_relay_only(st, "strict", true, err, sizeof err) == 0);
  CHECK(store_room_set_relay_only(st, "nope", true, err, sizeof err) == -1);
  CHECK(strstr(err, "no room has the alias \"nope\"") != NULL);
  CHECK(sqlite3_exec(st->db,
                     "ALTER TABLE rooms DROP COLUMN relay_only;"
                     "PRAGMA user_version = 6;",
                     NULL, NULL, NULL) == SQLITE_OK);
  store_close(st);
  st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  relay_only_rooms = 0;
  CHECK(store_rooms_each(st, count_relay_only, NULL) == 0 && relay_only_rooms == 0);
  CHECK(store_room_remove(st, "strict", err, sizeof err) == 0);
  store_close(st);
}

static room_record one_room(const char *alias) {
  room_record r = {.name = "Room"};
  r.aliases[0] = (char *)alias;
  r.n_aliases = 1;
  return r;
}

static int has_alias_n;
static void find_alias(const room_record *r, void *ud) {
  for (size_t i = 0; i < r->n_aliases; i++)
    if (strcmp(r->aliases[i], ud) == 0)
      has_alias_n++;
}
static bool has_alias(store *st, const char *alias) {
  has_alias_n = 0;
  CHECK(store_rooms_each(st, find_alias, (void *)alias) == 0);
  return has_alias_n > 0;
}

static int refuse_commit(void *ud) {
  (*(int *)ud)++;
  return 1; /* non-zero: SQLite turns the COMMIT into a ROLLBACK and COMMIT fails */
}

/* BEGIN fails while another connection holds the write lock; COMMIT fails when the
 * commit hook refuses it. Either way the room is reported as not added, and is not. */
static void begin_and_commit_failures(store *a, store *b) {
  char err[300] = "";
  room_record r = one_room("locked-out");
  sqlite3_busy_timeout(a->db, 0);
  CHECK(sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(store_room_add(a, &r, err, sizeof err) == -1);
  CHECK(strstr(err, "locked") != NULL);
  CHECK(sqlite3_get_autocommit(a->db)); /* no transaction left open */
  CHECK(sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(!has_alias(b, "locked-out"));

  int hooked = 0;
  err[0] = '\0';
  sqlite3_commit_hook(a->db, refuse_commit, &hooked);
  r = one_room("refused");
  CHECK(store_room_add(a, &r, err, sizeof err) == -1);
  CHECK(hooked == 1);
  CHECK(err[0] != '\0');
  CHECK(sqlite3_get_autocommit(a->db));
  sqlite3_commit_hook(a->db, NULL, NULL);
  CHECK(!has_alias(a, "refused"));
  CHECK(!has_alias(b, "refused"));
  /* The connection is still usable afterwards. */
  CHECK(store_room_add(a, &r, err, sizeof err) == 0);
  CHECK(has_alias(b, "refused"));
  CHECK(store_room_remove(a, "refused", err, sizeof err) == 0);
  sqlite3_busy_timeout(a->db, 2000);

  /* store_tx_begin / store_tx_commit report the same failures. */
  sqlite3_busy_timeout(a->db, 0);
  CHECK(sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(store_tx_begin(a) == -1);
  CHECK(sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_busy_timeout(a->db, 2000);
  hooked = 0;
  sqlite3_commit_hook(a->db, refuse_commit, &hooked);
  CHECK(store_tx_begin(a) == 0);
  outbox_job j = {.kind = "webhook",
                  .url = "http://x.test/",
                  .body = "{}",
                  .webhook_id = "w1",
                  .next_attempt_at_ms = 1,
                  .deadline_ms = 2};
  CHECK(store_job_add(a, &j) > 0);
  CHECK(store_tx_commit(a) == -1);
  CHECK(hooked == 1);
  store_tx_rollback(a);
  sqlite3_commit_hook(a->db, NULL, NULL);
  CHECK(store_jobs_pending_count(b) == 0);
}

/* A real full disk: the store lives on a small tmpfs (in a mount namespace of this
 * process's own, so nothing outlives the test), filled to the last byte while the store
 * is open. Skipped where mounting is not permitted. */
static void full_disk(void) {
  if (unshare(CLONE_NEWNS) != 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    fprintf(stderr, "full_disk: skipped (cannot make a mount namespace: %s)\n",
            strerror(errno));
    return;
  }
  char dir[] = "/tmp/parley-store-full-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0) {
    fprintf(stderr, "full_disk: skipped (cannot mount a tmpfs: %s)\n", strerror(errno));
    rmdir(dir);
    return;
  }
  char data[600], fill[600], err[300] = "";
  snprintf(data, sizeof data, "%s/data", dir);
  snprintf(fill, sizeof fill, "%s/fill", dir);
  store *st = store_open(data, err, sizeof err);
  CHECK(st != NULL);
  if (st) {
    room_record before = one_room("before-full");
    CHECK(store_room_add(st, &before, err, sizeof err) == 0);
    account acc;
    CHECK(accounts_add(st, "before-full", NULL, &acc, err, sizeof err) == 0);
    /* Fill the file system. */
    int fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static char zeros[4096];
    ssize_t w;
    while ((w = write(fd, zeros, sizeof zeros)) > 0)
      ;
    CHECK(w < 0 && errno == ENOSPC);
    close(fd);

    room_record r = one_room("after-full");
    r.aliases[1] = "after-full-2";
    r.n_aliases = 2;
    err[0] = '\0';
    CHECK(store_room_add(st, &r, err, sizeof err) == -1);
    CHECK(strstr(err, "full") != NULL);
    if (!strstr(err, "full"))
      fprintf(stderr, "full_disk: room add said \"%s\"\n", err);
    CHECK(sqlite3_get_autocommit(st->db));
    CHECK(accounts_add(st, "after-full", NULL, &acc, err, sizeof err) == -1);
    CHECK(store_room_remove(st, "before-full", err, sizeof err) == -1);
    outbox_job j = {.kind = "webhook",
                    .url = "http://x.test/",
                    .body = "{}",
                    .webhook_id = "w2",
                    .next_attempt_at_ms = 1,
                    .deadline_ms = 2};
    CHECK(store_job_add(st, &j) == -1);

    /* Space again: nothing of the failed writes is there, and writing works. */
    CHECK(unlink(fill) == 0);
    CHECK(!has_alias(st, "after-full"));
    CHECK(!has_alias(st, "after-full-2"));
    CHECK(has_alias(st, "before-full"));
    CHECK(accounts_get(st, "after-full", &acc) == -1);
    CHECK(store_jobs_pending_count(st) == 0);
    CHECK(store_room_add(st, &r, err, sizeof err) == 0);
    CHECK(has_alias(st, "after-full-2"));
    store_close(st);
  }
  CHECK(umount(dir) == 0);
  CHECK(rmdir(dir) == 0);
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
  begin_and_commit_failures(a, b);
  store_close(a);
  store_close(b);
  check_guests_can_present(dir);
  check_key_scopes_migration(dir);
  check_relay_only(dir);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  full_disk(); /* last: it moves this process into a mount namespace of its own */
  CHECK_DONE();
}
