/* db — SQLite open and numbered migrations. */
#include "store/db.h"

#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Each entry moves the schema from version i to i+1. Never edit a released one. */
static const char *migrations[] = {
    /* 1: rooms and their aliases */
    "CREATE TABLE rooms ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  pin TEXT,"
    "  guest_pin TEXT,"
    "  allow_guests INTEGER NOT NULL DEFAULT 0,"
    "  lecture INTEGER NOT NULL DEFAULT 0,"
    "  locked INTEGER NOT NULL DEFAULT 0,"
    "  reception INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE room_aliases ("
    "  alias TEXT PRIMARY KEY,"
    "  room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL);"
    "CREATE INDEX room_aliases_room ON room_aliases(room_id);",
    /* 2: test-call (echo) rooms */
    "ALTER TABLE rooms ADD COLUMN test_call INTEGER NOT NULL DEFAULT 0;",
    /* 3: RTM accounts (JWT and webhook secrets) and their browser API keys; a key is
     * stored only as its SHA-256 (hex), with a short prefix to tell keys apart. */
    "CREATE TABLE accounts ("
    "  cid TEXT PRIMARY KEY,"
    "  name TEXT,"
    "  jwt_secret TEXT NOT NULL,"
    "  webhook_secret TEXT,"
    "  created_at INTEGER);"
    "CREATE TABLE api_keys ("
    "  key_hash TEXT PRIMARY KEY,"
    "  key_prefix TEXT,"
    "  cid TEXT NOT NULL REFERENCES accounts(cid) ON DELETE CASCADE,"
    "  origins TEXT NOT NULL DEFAULT '[]',"
    "  recording INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER);"
    "CREATE INDEX api_keys_cid ON api_keys(cid);",
    /* 4: recordings and the outbox of uploads and webhooks (RTM) */
    "CREATE TABLE IF NOT EXISTS recordings ("
    "  rec_id TEXT PRIMARY KEY,"
    "  session_id TEXT NOT NULL,"
    "  client_id TEXT NOT NULL,"
    "  account TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  upload_url TEXT,"
    "  webhook_url TEXT,"
    "  webhook_secret TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('recording','finished','uploaded','failed')),"
    "  started_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  first_frame_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  stopped_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  size_bytes INTEGER NOT NULL DEFAULT 0,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS recordings_state ON recordings(state);"
    "CREATE TABLE IF NOT EXISTS outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('upload','webhook')),"
    "  rec_id TEXT,"
    "  url TEXT NOT NULL,"
    "  body TEXT,"
    "  secret TEXT,"
    "  webhook_id TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at_ms INTEGER NOT NULL,"
    "  deadline_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending','failed')),"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_at_ms);",
    /* 5: whether guests may take the presentation floor (Pexip's default: yes) */
    "ALTER TABLE rooms ADD COLUMN guests_can_present INTEGER NOT NULL DEFAULT 1;",
    /* 6: API key scopes. A key is readable in its web page, so what it may do beyond
     * its own session is granted, not assumed: supervising other sessions of the
     * account is off unless given (keys made before this lose it), and the client ids
     * it may use must start with client_prefix ("" = any). */
    ("ALTER TABLE api_keys ADD COLUMN supervise INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE api_keys ADD COLUMN client_prefix TEXT NOT NULL DEFAULT '';"),
    /* 7: rooms whose clients may reach media only through TURN (relay candidates) */
    "ALTER TABLE rooms ADD COLUMN relay_only INTEGER NOT NULL DEFAULT 0;",
};
#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int store_schema_version(void) { return N_MIGRATIONS; }

static int mkdir_p(const char *dir) {
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  }
  return (mkdir(tmp, 0750) != 0 && errno != EEXIST) ? -1 : 0;
}

static int user_version(sqlite3 *db) {
  sqlite3_stmt *st;
  int v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

static int migrate(sqlite3 *db, char *err, size_t errlen) {
  int v = user_version(db);
  if (v > N_MIGRATIONS) {
    snprintf(err, errlen, "database schema %d is newer than this build (%d)", v,
             N_MIGRATIONS);
    return -1;
  }
  for (; v < N_MIGRATIONS; v++) {
    char sql[64], *msg = NULL;
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
      snprintf(err, errlen, "migration %d failed: %s", v + 1, msg ? msg : "?");
      sqlite3_free(msg);
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  }
  return 0;
}

store *store_open(const char *data_dir, char *err, size_t errlen) {
  if (mkdir_p(data_dir) != 0) {
    snprintf(err, errlen, "cannot create data directory %s: %s", data_dir,
             strerror(errno));
    return NULL;
  }
  store *st = xcalloc(1, sizeof *st);
  snprintf(st->path, sizeof st->path, "%s/parley.db", data_dir);
  if (sqlite3_open(st->path, &st->db) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", st->path, sqlite3_errmsg(st->db));
    store_close(st);
    return NULL;
  }
  /* Writers (parleyctl and the daemon) may overlap for a moment: wait, don't fail. */
  sqlite3_busy_timeout(st->db, 2000);
  sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", NULL, NULL,
               NULL);
  if (migrate(st->db, err, errlen) != 0) {
    store_close(st);
    return NULL;
  }
  return st;
}

void store_close(store *st) {
  if (!st)
    return;
  sqlite3_finalize(st->data_version);
  sqlite3_close(st->db);
  free(st);
}

int64_t store_data_version(store *st) {
  if (!st->data_version && sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1,
                                              &st->data_version, NULL) != SQLITE_OK)
    return -1;
  int64_t v = -1;
  if (sqlite3_step(st->data_version) == SQLITE_ROW)
    v = sqlite3_column_int64(st->data_version, 0);
  sqlite3_reset(st->data_version);
  return v;
}

const char *store_error(const store *st) { return sqlite3_errmsg(st->db); }
