/* config_body — the store's configuration tables to JSON and back: one table of column
 * specs drives the SELECTs, the JSON, the checks of a received body and the INSERTs. */
#include "cluster/config_body.h"

#include "core/ids.h"
#include "core/mem.h"
#include "store/rooms.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

typedef enum { COL_INT, COL_TEXT } col_type;

typedef struct {
  const char *name;
  col_type type;
  bool nullable;
  size_t max; /* TEXT: most bytes */
} column;

typedef struct {
  const char *table; /* and the body's key */
  const column *cols;
  size_t n_cols;
  const char *order; /* how rows are serialised (the listing order survives the copy) */
} table_spec;

static const column room_cols[] = {
    {"id", COL_INT, false, 0},
    {"name", COL_TEXT, false, 1024},
    {"pin", COL_TEXT, true, 64},
    {"guest_pin", COL_TEXT, true, 64},
    {"allow_guests", COL_INT, false, 0},
    {"lecture", COL_INT, false, 0},
    {"locked", COL_INT, false, 0},
    {"reception", COL_INT, false, 0},
    {"created_at", COL_INT, false, 0},
    {"test_call", COL_INT, false, 0},
    {"guests_can_present", COL_INT, false, 0},
    {"relay_only", COL_INT, false, 0},
};
static const column account_cols[] = {
    {"cid", COL_TEXT, false, 255},         {"name", COL_TEXT, true, 1024},
    {"jwt_secret", COL_TEXT, false, 1024}, {"webhook_secret", COL_TEXT, true, 1024},
    {"created_at", COL_INT, true, 0},
};
static const column key_cols[] = {
    {"key_hash", COL_TEXT, false, 255}, {"key_prefix", COL_TEXT, true, 255},
    {"cid", COL_TEXT, false, 255},      {"origins", COL_TEXT, false, 8192},
    {"recording", COL_INT, false, 0},   {"created_at", COL_INT, true, 0},
    {"supervise", COL_INT, false, 0},   {"client_prefix", COL_TEXT, false, 255},
};
#define N(a) (sizeof(a) / sizeof((a)[0]))
/* In the order rows are inserted (what a row refers to comes first). */
static const table_spec tables[] = {
    {"rooms", room_cols, N(room_cols), "id"},
    {"accounts", account_cols, N(account_cols), "rowid"},
    {"api_keys", key_cols, N(key_cols), "rowid"},
};
enum { T_ROOMS, T_ACCOUNTS, T_KEYS };

struct cbody {
  json_t *doc;
};

#define STATE_TABLE                                                                      \
  "CREATE TABLE IF NOT EXISTS cluster_config ("                                          \
  "  what TEXT PRIMARY KEY,"                                                             \
  "  version INTEGER NOT NULL,"                                                          \
  "  digest TEXT NOT NULL DEFAULT '',"                                                   \
  "  at_ms INTEGER NOT NULL)"

/* ---- serialise ----------------------------------------------------------------------
 */

static json_t *column_json(sqlite3_stmt *s, int i, const column *c) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL)
    return json_null();
  if (c->type == COL_INT)
    return json_integer(sqlite3_column_int64(s, i));
  const char *t = (const char *)sqlite3_column_text(s, i);
  return json_stringn(t ? t : "", (size_t)sqlite3_column_bytes(s, i));
}

static void select_sql(const table_spec *t, char *sql, size_t cap) {
  int o = snprintf(sql, cap, "SELECT ");
  for (size_t i = 0; i < t->n_cols; i++)
    o += snprintf(sql + o, cap - (size_t)o, "%s%s", i ? "," : "", t->cols[i].name);
  snprintf(sql + o, cap - (size_t)o, " FROM %s ORDER BY %s", t->table, t->order);
}

/* Every row of t as an object; NULL with err when the store fails. */
static json_t *table_json(store *st, const table_spec *t, char *err, size_t n) {
  char sql[512];
  select_sql(t, sql, sizeof sql);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot read %s: %s", t->table, sqlite3_errmsg(st->db));
    return NULL;
  }
  json_t *rows = json_array();
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    json_t *row = json_object();
    for (size_t i = 0; i < t->n_cols; i++) {
      json_t *v = column_json(s, (int)i, &t->cols[i]);
      if (!v) { /* text that is not UTF-8 */
        snprintf(err, n, "cannot serialise %s.%s (not UTF-8)", t->table, t->cols[i].name);
        json_decref(row);
        json_decref(rows);
        sqlite3_finalize(s);
        return NULL;
      }
      json_object_set_new(row, t->cols[i].name, v);
    }
    json_array_append_new(rows, row);
  }
  if (step != SQLITE_DONE) {
    snprintf(err, n, "cannot read %s: %s", t->table, sqlite3_errmsg(st->db));
    json_decref(rows);
    rows = NULL;
  }
  sqlite3_finalize(s);
  return rows;
}

/* Puts each room's aliases (in position order) into its object as "aliases". */
static int add_aliases(store *st, json_t *rooms, char *err, size_t n) {
  size_t nr = json_array_size(rooms);
  for (size_t i = 0; i < nr; i++)
    json_object_set_new(json_array_get(rooms, i), "aliases", json_array());
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(
          st->db, "SELECT room_id, alias FROM room_aliases ORDER BY room_id, position",
          -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot read room_aliases: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  /* Both lists are sorted by room id: one walk matches them. */
  size_t r = 0;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    json_int_t id = sqlite3_column_int64(s, 0);
    while (r < nr &&
           json_integer_value(json_object_get(json_array_get(rooms, r), "id")) < id)
      r++;
    json_t *room = json_array_get(rooms, r);
    if (!room || json_integer_value(json_object_get(room, "id")) != id)
      continue; /* an alias of no room (foreign keys were off when it was written) */
    const char *a = (const char *)sqlite3_column_text(s, 1);
    json_t *v = a ? json_stringn(a, (size_t)sqlite3_column_bytes(s, 1)) : NULL;
    if (v)
      json_array_append_new(json_object_get(room, "aliases"), v);
  }
  sqlite3_finalize(s);
  if (step != SQLITE_DONE) {
    snprintf(err, n, "cannot read room_aliases: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  return 0;
}

char *cbody_serialise(store *st, size_t *len, char *err, size_t n) {
  /* One read transaction: the tables are read as of one moment. */
  if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot read the store: %s", sqlite3_errmsg(st->db));
    return NULL;
  }
  json_t *doc = json_object();
  json_object_set_new(doc, "format", json_integer(CBODY_FORMAT));
  json_object_set_new(doc, "schema", json_integer(store_schema_version()));
  int rc = 0;
  for (size_t t = 0; t < N(tables) && rc == 0; t++) {
    json_t *rows = table_json(st, &tables[t], err, n);
    if (!rows)
      rc = -1;
    else {
      json_object_set_new(doc, tables[t].table, rows);
      if (t == T_ROOMS)
        rc = add_aliases(st, rows, err, n);
    }
  }
  sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL); /* a read: nothing to lose */
  char *text = NULL;
  if (rc == 0) {
    char *j = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (j) { /* jansson's allocator: copy into ours so callers free() one kind */
      *len = strlen(j);
      text = xstrndup(j, *len);
      free(j);
    } else
      snprintf(err, n, "cannot serialise the configuration");
  }
  json_decref(doc);
  return text;
}

/* ---- parse and check ----------------------------------------------------------------
 */

static int check_alias(const json_t *v, size_t room, size_t i, char *err, size_t n) {
  const char *a = json_string_value(v);
  size_t len = json_string_length(v);
  bool ok = a && len > 0 && len <= ROOM_MAX_ALIAS_LEN && strlen(a) == len;
  for (size_t k = 0; ok && k < len; k++)
    ok = (unsigned char)a[k] >= 0x20 && a[k] != 0x7f && a[k] != '/';
  if (!ok)
    snprintf(err, n, "rooms[%zu].aliases[%zu]: not an alias (1 to %d characters, no '/')",
             room, i, ROOM_MAX_ALIAS_LEN);
  return ok ? 0 : -1;
}

static int check_row(const table_spec *t, const json_t *row, size_t r, char *err,
                     size_t n) {
  if (!json_is_object(row)) {
    snprintf(err, n, "%s[%zu]: not an object", t->table, r);
    return -1;
  }
  for (size_t i = 0; i < t->n_cols; i++) {
    const column *c = &t->cols[i];
    const json_t *v = json_object_get(row, c->name);
    const char *why = NULL;
    if (!v)
      why = "missing";
    else if (json_is_null(v)) {
      if (!c->nullable)
        why = "null";
    } else if (c->type == COL_INT) {
      if (!json_is_integer(v))
        why = "not an integer";
    } else if (!json_is_string(v))
      why = "not a string";
    else if (json_string_length(v) > c->max)
      why = "too long";
    else if (strlen(json_string_value(v)) != json_string_length(v))
      why = "holds a NUL";
    if (why) {
      snprintf(err, n, "%s[%zu].%s: %s", t->table, r, c->name, why);
      return -1;
    }
  }
  if (t == &tables[T_ROOMS]) {
    const json_t *aliases = json_object_get(row, "aliases");
    if (!json_is_array(aliases) || json_array_size(aliases) > ROOM_MAX_ALIASES) {
      snprintf(err, n, "rooms[%zu].aliases: not an array of at most %d aliases", r,
               ROOM_MAX_ALIASES);
      return -1;
    }
    for (size_t i = 0; i < json_array_size(aliases); i++)
      if (check_alias(json_array_get(aliases, i), r, i, err, n) != 0)
        return -1;
  }
  return 0;
}

cbody *cbody_parse(const char *body, size_t len, char *err, size_t n) {
  if (len > CBODY_MAX_BYTES) {
    snprintf(err, n, "body of %zu bytes is over the %u byte limit", len, CBODY_MAX_BYTES);
    return NULL;
  }
  json_error_t je;
  json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  if (!doc) {
    snprintf(err, n, "not JSON (%s at byte %d)", je.text, je.position);
    return NULL;
  }
  const char *why = NULL;
  if (!json_is_object(doc))
    why = "not a JSON object";
  else if (!json_is_integer(json_object_get(doc, "format")) ||
           json_integer_value(json_object_get(doc, "format")) != CBODY_FORMAT)
    why = "format is not 1";
  if (why) {
    snprintf(err, n, "%s", why);
    json_decref(doc);
    return NULL;
  }
  for (size_t t = 0; t < N(tables); t++) {
    const json_t *rows = json_object_get(doc, tables[t].table);
    if (!json_is_array(rows)) {
      snprintf(err, n, "%s: missing or not an array", tables[t].table);
      json_decref(doc);
      return NULL;
    }
    for (size_t r = 0; r < json_array_size(rows); r++)
      if (check_row(&tables[t], json_array_get(rows, r), r, err, n) != 0) {
        json_decref(doc);
        return NULL;
      }
  }
  cbody *b = xcalloc(1, sizeof *b);
  b->doc = doc;
  return b;
}

void cbody_free(cbody *b) {
  if (!b)
    return;
  json_decref(b->doc);
  free(b);
}

void cbody_count(const cbody *b, cbody_counts *out) {
  memset(out, 0, sizeof *out);
  const json_t *rooms = json_object_get(b->doc, "rooms");
  out->rooms = json_array_size(rooms);
  for (size_t i = 0; i < out->rooms; i++)
    out->aliases += json_array_size(json_object_get(json_array_get(rooms, i), "aliases"));
  out->accounts = json_array_size(json_object_get(b->doc, "accounts"));
  out->api_keys = json_array_size(json_object_get(b->doc, "api_keys"));
}

/* ---- apply --------------------------------------------------------------------------
 */

static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int exec_sql(store *st, const char *sql, char *err, size_t n) {
  if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  snprintf(err, n, "%s: %s", sql, sqlite3_errmsg(st->db));
  return -1;
}

static int insert_rows(store *st, const table_spec *t, const json_t *rows, char *err,
                       size_t n) {
  char sql[512];
  int o = snprintf(sql, sizeof sql, "INSERT INTO %s(", t->table);
  for (size_t i = 0; i < t->n_cols; i++)
    o += snprintf(sql + o, sizeof sql - (size_t)o, "%s%s", i ? "," : "", t->cols[i].name);
  o += snprintf(sql + o, sizeof sql - (size_t)o, ") VALUES(");
  for (size_t i = 0; i < t->n_cols; i++)
    o += snprintf(sql + o, sizeof sql - (size_t)o, "%s?", i ? "," : "");
  snprintf(sql + o, sizeof sql - (size_t)o, ")");
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot write %s: %s", t->table, sqlite3_errmsg(st->db));
    return -1;
  }
  int rc = 0;
  for (size_t r = 0; r < json_array_size(rows) && rc == 0; r++) {
    const json_t *row = json_array_get(rows, r);
    for (size_t i = 0; i < t->n_cols; i++) {
      const json_t *v = json_object_get(row, t->cols[i].name);
      int b = (int)i + 1;
      if (json_is_null(v))
        sqlite3_bind_null(s, b);
      else if (t->cols[i].type == COL_INT)
        sqlite3_bind_int64(s, b, json_integer_value(v));
      else
        sqlite3_bind_text(s, b, json_string_value(v), (int)json_string_length(v),
                          SQLITE_STATIC);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
      snprintf(err, n, "%s[%zu]: %s", t->table, r, sqlite3_errmsg(st->db));
      rc = -1;
    }
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  return rc;
}

static int insert_aliases(store *st, const json_t *rooms, char *err, size_t n) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(
          st->db, "INSERT INTO room_aliases(alias, room_id, position) VALUES(?,?,?)", -1,
          &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot write room_aliases: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  int rc = 0;
  for (size_t r = 0; r < json_array_size(rooms) && rc == 0; r++) {
    const json_t *room = json_array_get(rooms, r);
    const json_t *aliases = json_object_get(room, "aliases");
    for (size_t i = 0; i < json_array_size(aliases) && rc == 0; i++) {
      const json_t *a = json_array_get(aliases, i);
      sqlite3_bind_text(s, 1, json_string_value(a), (int)json_string_length(a),
                        SQLITE_STATIC);
      sqlite3_bind_int64(s, 2, json_integer_value(json_object_get(room, "id")));
      sqlite3_bind_int(s, 3, (int)i);
      if (sqlite3_step(s) != SQLITE_DONE) {
        snprintf(err, n, "rooms[%zu].aliases[%zu] \"%s\": %s", r, i, json_string_value(a),
                 sqlite3_errmsg(st->db));
        rc = -1;
      }
      sqlite3_reset(s);
    }
  }
  sqlite3_finalize(s);
  return rc;
}

static int state_write(store *st, const char *what, int64_t version, const char *digest,
                       char *err, size_t n) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT OR REPLACE INTO cluster_config(what, version, digest, "
                         "at_ms) VALUES(?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot record the version: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  sqlite3_bind_text(s, 1, what, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, version);
  sqlite3_bind_text(s, 3, digest ? digest : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, now_ms());
  int ok = sqlite3_step(s) == SQLITE_DONE;
  sqlite3_finalize(s);
  if (!ok) {
    snprintf(err, n, "cannot record the version: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  return 0;
}

int cbody_apply(store *st, const cbody *b, int64_t version, const char *digest, char *err,
                size_t n) {
  if (exec_sql(st, STATE_TABLE, err, n) != 0)
    return -1;
  if (exec_sql(st, "BEGIN IMMEDIATE", err, n) != 0)
    return -1;
  /* Children first (foreign keys are on); then what is referred to before its users. */
  int rc = exec_sql(st, "DELETE FROM api_keys", err, n);
  if (rc == 0)
    rc = exec_sql(st, "DELETE FROM room_aliases", err, n);
  if (rc == 0)
    rc = exec_sql(st, "DELETE FROM rooms", err, n);
  if (rc == 0)
    rc = exec_sql(st, "DELETE FROM accounts", err, n);
  for (size_t t = 0; t < N(tables) && rc == 0; t++)
    rc = insert_rows(st, &tables[t], json_object_get(b->doc, tables[t].table), err, n);
  if (rc == 0)
    rc = insert_aliases(st, json_object_get(b->doc, "rooms"), err, n);
  if (rc == 0)
    rc = state_write(st, "applied", version, digest, err, n);
  if (rc == 0 && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, n, "COMMIT: %s", sqlite3_errmsg(st->db));
    rc = -1;
  }
  /* A failed statement or COMMIT (SQLITE_BUSY) leaves the transaction open: end it. */
  if (rc != 0 && !sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

void cbody_digest(const char *body, size_t len, char *out) {
  uint8_t d[IDS_DIGEST_LEN];
  ids_digest(body, len, d);
  for (int i = 0; i < IDS_DIGEST_LEN; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int cbody_state_get(store *st, const char *what, int64_t *version, char *digest,
                    size_t digest_cap) {
  *version = 0;
  if (digest_cap)
    digest[0] = '\0';
  if (sqlite3_exec(st->db, STATE_TABLE, NULL, NULL, NULL) != SQLITE_OK)
    return -1;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT version, digest FROM cluster_config WHERE what = ?", -1,
                         &s, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(s, 1, what, -1, SQLITE_STATIC);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    *version = sqlite3_column_int64(s, 0);
    const unsigned char *t = sqlite3_column_text(s, 1);
    if (digest_cap)
      snprintf(digest, digest_cap, "%s", t ? (const char *)t : "");
  }
  sqlite3_finalize(s);
  return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
}

int cbody_state_set(store *st, const char *what, int64_t version, const char *digest,
                    char *err, size_t n) {
  if (exec_sql(st, STATE_TABLE, err, n) != 0)
    return -1;
  return state_write(st, what, version, digest, err, n);
}
