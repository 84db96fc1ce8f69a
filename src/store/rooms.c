/* rooms — room records: validation and SQLite persistence. */
#include "store/rooms.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pin_ok(const char *pin) {
  size_t n = strlen(pin);
  if (n == 0 || n > ROOM_MAX_PIN_LEN)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (pin[i] < '0' || pin[i] > '9')
      return 0;
  return 1;
}

static int alias_ok(const char *alias) {
  size_t n = strlen(alias);
  if (n == 0 || n > ROOM_MAX_ALIAS_LEN)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)alias[i] < 0x20 || alias[i] == 0x7f || alias[i] == '/')
      return 0;
  return 1;
}

int room_record_validate(const room_record *r, char *err, size_t errlen) {
  if (r->n_aliases == 0) {
    snprintf(err, errlen, "a room needs at least one alias");
    return -1;
  }
  for (size_t i = 0; i < r->n_aliases; i++) {
    if (!alias_ok(r->aliases[i])) {
      snprintf(err, errlen,
               "alias \"%s\" is invalid: 1 to %d characters, no '/' or "
               "control characters",
               r->aliases[i], ROOM_MAX_ALIAS_LEN);
      return -1;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(r->aliases[i], r->aliases[j]) == 0) {
        snprintf(err, errlen, "alias \"%s\" given twice", r->aliases[i]);
        return -1;
      }
  }
  if (r->pin && !pin_ok(r->pin)) {
    snprintf(err, errlen, "--pin must be 1 to %d digits", ROOM_MAX_PIN_LEN);
    return -1;
  }
  if (r->guest_pin && !pin_ok(r->guest_pin)) {
    snprintf(err, errlen, "--guest-pin must be 1 to %d digits", ROOM_MAX_PIN_LEN);
    return -1;
  }
  if (r->guest_pin && !r->pin) {
    snprintf(err, errlen, "--guest-pin needs a host --pin");
    return -1;
  }
  if (r->guest_pin && !r->allow_guests) {
    snprintf(err, errlen, "--guest-pin needs --allow-guests");
    return -1;
  }
  if (r->allow_guests && !r->pin) {
    snprintf(err, errlen,
             "--allow-guests needs a host --pin (otherwise nobody can tell "
             "hosts from guests)");
    return -1;
  }
  if (r->pin && r->guest_pin && strcmp(r->pin, r->guest_pin) == 0) {
    snprintf(err, errlen, "the host and guest PINs must differ");
    return -1;
  }
  if (r->reception && (r->pin || r->lecture || r->locked)) {
    snprintf(err, errlen,
             "a reception room routes callers elsewhere: it takes no PIN, "
             "--lecture or --locked");
    return -1;
  }
  if (r->test_call && (r->reception || r->lecture || r->pin || r->locked)) {
    snprintf(err, errlen,
             "a test-call room takes no PIN, --lecture, --locked or "
             "--reception");
    return -1;
  }
  if (!r->name || !*r->name || strlen(r->name) > 200) {
    snprintf(err, errlen, "--name must be 1 to 200 characters");
    return -1;
  }
  return 0;
}

void room_record_free(room_record *r) {
  if (!r)
    return;
  free(r->name);
  free(r->pin);
  free(r->guest_pin);
  for (size_t i = 0; i < r->n_aliases; i++)
    free(r->aliases[i]);
  free(r);
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

room_record *room_record_copy(const room_record *r) {
  room_record *c = xcalloc(1, sizeof *c);
  *c = *r;
  c->name = dup_or_null(r->name);
  c->pin = dup_or_null(r->pin);
  c->guest_pin = dup_or_null(r->guest_pin);
  for (size_t i = 0; i < r->n_aliases; i++)
    c->aliases[i] = xstrdup(r->aliases[i]);
  return c;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

static int insert_aliases(store *st, const room_record *r, int64_t id, char *err,
                          size_t errlen) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(
          st->db, "INSERT INTO room_aliases(alias, room_id, position) VALUES(?,?,?)", -1,
          &s, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot store alias: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < r->n_aliases && rc == 0; i++) {
    sqlite3_bind_text(s, 1, r->aliases[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_int(s, 3, (int)i);
    int step = sqlite3_step(s);
    if (step == SQLITE_CONSTRAINT) {
      snprintf(err, errlen, "alias \"%s\" is already used by another room",
               r->aliases[i]);
      rc = -1;
    } else if (step != SQLITE_DONE) {
      snprintf(err, errlen, "cannot store alias: %s", sqlite3_errmsg(st->db));
      rc = -1;
    }
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  return rc;
}

/* The room row; its id in *id. */
static int insert_room(store *st, const room_record *r, int64_t *id, char *err,
                       size_t errlen) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO rooms(name, pin, guest_pin, allow_guests, lecture, "
                         "locked, reception, test_call, guests_can_present, "
                         "relay_only) VALUES(?,?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot store room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  sqlite3_bind_text(s, 1, r->name, -1, SQLITE_TRANSIENT);
  bind_text_or_null(s, 2, r->pin);
  bind_text_or_null(s, 3, r->guest_pin);
  sqlite3_bind_int(s, 4, r->allow_guests);
  sqlite3_bind_int(s, 5, r->lecture);
  sqlite3_bind_int(s, 6, r->locked);
  sqlite3_bind_int(s, 7, r->reception);
  sqlite3_bind_int(s, 8, r->test_call);
  sqlite3_bind_int(s, 9, !r->guests_cannot_present);
  sqlite3_bind_int(s, 10, r->relay_only);
  int ok = sqlite3_step(s) == SQLITE_DONE;
  sqlite3_finalize(s);
  if (!ok) {
    snprintf(err, errlen, "cannot store room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  *id = sqlite3_last_insert_rowid(st->db);
  return 0;
}

int store_room_add(store *st, const room_record *r, char *err, size_t errlen) {
  if (room_record_validate(r, err, errlen) != 0)
    return -1;
  /* The room and its aliases are one transaction: each of BEGIN and COMMIT can fail
   * (the database locked by another writer, a full disk, an I/O error), and a room
   * counts as added only once COMMIT succeeded. */
  if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot store room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  int64_t id;
  if (insert_room(st, r, &id, err, errlen) != 0 ||
      insert_aliases(st, r, id, err, errlen) != 0) {
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot store room: %s", sqlite3_errmsg(st->db));
    /* A failed COMMIT may leave the transaction open (SQLITE_BUSY): end it. */
    if (!sqlite3_get_autocommit(st->db))
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

int store_room_remove(store *st, const char *alias, char *err, size_t errlen) {
  sqlite3_stmt *s;
  /* One statement in autocommit mode: its step reports a failed commit too. */
  if (sqlite3_prepare_v2(st->db,
                         "DELETE FROM rooms WHERE id = (SELECT room_id FROM room_aliases "
                         "WHERE alias = ?)",
                         -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot remove room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  sqlite3_bind_text(s, 1, alias, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(s);
  if (rc != 0) {
    snprintf(err, errlen, "cannot remove room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  if (sqlite3_changes(st->db) == 0) {
    snprintf(err, errlen, "no room has the alias \"%s\"", alias);
    return -1;
  }
  return 0;
}

int store_room_set_relay_only(store *st, const char *alias, bool relay_only, char *err,
                              size_t errlen) {
  sqlite3_stmt *s;
  /* One statement in autocommit mode: its step reports a failed commit too. */
  if (sqlite3_prepare_v2(st->db,
                         "UPDATE rooms SET relay_only = ? WHERE id = (SELECT room_id "
                         "FROM room_aliases WHERE alias = ?)",
                         -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot change room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  sqlite3_bind_int(s, 1, relay_only);
  sqlite3_bind_text(s, 2, alias, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(s);
  if (rc != 0) {
    snprintf(err, errlen, "cannot change room: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  if (sqlite3_changes(st->db) == 0) {
    snprintf(err, errlen, "no room has the alias \"%s\"", alias);
    return -1;
  }
  return 0;
}

static char *column_text(sqlite3_stmt *s, int i) {
  const unsigned char *t = sqlite3_column_text(s, i);
  return t ? xstrdup((const char *)t) : NULL;
}

int store_rooms_each(store *st, void (*cb)(const room_record *r, void *ud), void *ud) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT r.id, r.name, r.pin, r.guest_pin, r.allow_guests, "
                         "r.lecture, r.locked, r.reception, r.test_call, a.alias, "
                         "r.guests_can_present, r.relay_only "
                         "FROM rooms r "
                         "JOIN room_aliases a ON a.room_id = r.id "
                         "ORDER BY r.id, a.position",
                         -1, &s, NULL) != SQLITE_OK)
    return -1;
  room_record *cur = NULL;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0);
    if (!cur || cur->id != id) {
      if (cur)
        cb(cur, ud);
      room_record_free(cur);
      cur = xcalloc(1, sizeof *cur);
      cur->id = id;
      cur->name = column_text(s, 1);
      cur->pin = column_text(s, 2);
      cur->guest_pin = column_text(s, 3);
      cur->allow_guests = sqlite3_column_int(s, 4);
      cur->lecture = sqlite3_column_int(s, 5);
      cur->locked = sqlite3_column_int(s, 6);
      cur->reception = sqlite3_column_int(s, 7);
      cur->test_call = sqlite3_column_int(s, 8);
      cur->guests_cannot_present = !sqlite3_column_int(s, 10);
      cur->relay_only = sqlite3_column_int(s, 11);
    }
    if (cur->n_aliases < ROOM_MAX_ALIASES)
      cur->aliases[cur->n_aliases++] = column_text(s, 9);
  }
  if (cur)
    cb(cur, ud);
  room_record_free(cur);
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? 0 : -1;
}
