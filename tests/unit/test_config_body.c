/* test_config_body — the cluster configuration body: store A serialised and applied to
 * store B gives identical rows (every column, read with SELECT *), in one transaction
 * that another connection sees through data_version; malformed, truncated or
 * inconsistent bodies, and a store that cannot be written, are refused and change
 * nothing, the applied version included. */
#include "check.h"
#include "cluster/config_body.h"
#include "core/buf.h"
#include "store/accounts.h"
#include "store/rooms.h"

#include <stdlib.h>
#include <unistd.h>

/* Every row of every configuration table, every column, as text: what "identical" means.
 */
static char *dump(store *st) {
  static const char *const q[] = {
      "SELECT * FROM rooms ORDER BY id",
      "SELECT * FROM room_aliases ORDER BY room_id, position",
      "SELECT * FROM accounts ORDER BY rowid",
      "SELECT * FROM api_keys ORDER BY rowid",
  };
  buf b = {0};
  for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
    sqlite3_stmt *s;
    CHECK(sqlite3_prepare_v2(st->db, q[i], -1, &s, NULL) == SQLITE_OK);
    buf_appendf(&b, "%s\n", q[i]);
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(s); c++) {
        const char *t = (const char *)sqlite3_column_text(s, c);
        buf_appendf(&b, "%s=%s%s|", sqlite3_column_name(s, c),
                    sqlite3_column_type(s, c) == SQLITE_NULL ? "NULL" : "", t ? t : "");
      }
      buf_appendf(&b, "\n");
    }
    sqlite3_finalize(s);
  }
  buf_append(&b, "", 1);
  return b.data;
}

static void add_room(store *st, const char *name, const char *a0, const char *a1,
                     const char *pin) {
  char err[300];
  room_record r = {.name = (char *)name, .pin = (char *)pin, .relay_only = a1 != NULL};
  r.aliases[r.n_aliases++] = (char *)a0;
  if (a1)
    r.aliases[r.n_aliases++] = (char *)a1;
  if (pin) {
    r.allow_guests = true;
    r.guest_pin = "9999";
    r.guests_cannot_present = true;
  }
  CHECK(store_room_add(st, &r, err, sizeof err) == 0);
}

static store *open_tmp(char *dir) {
  char err[300];
  CHECK(mkdtemp(dir) != NULL);
  store *st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  return st;
}

/* Parses and applies; returns what cbody_apply returned (or -2 when parsing refused). */
static int apply_text(store *st, const char *text, size_t len, int64_t version, char *err,
                      size_t n) {
  cbody *b = cbody_parse(text, len, err, n);
  if (!b)
    return -2;
  char digest[CBODY_DIGEST_HEX + 1];
  cbody_digest(text, len, digest);
  int rc = cbody_apply(st, b, version, digest, err, n);
  cbody_free(b);
  return rc;
}

static void refused(store *st, const char *text, const char *want, int want_rc) {
  char err[300] = "";
  char *before = dump(st);
  int64_t v0, v1;
  char d0[80], d1[80];
  CHECK(cbody_state_get(st, "applied", &v0, d0, sizeof d0) == 0);
  int rc = apply_text(st, text, strlen(text), 999999, err, sizeof err);
  if (rc != want_rc || !strstr(err, want))
    fprintf(stderr, "body %.80s: rc %d, err \"%s\", wanted %d \"%s\"\n", text, rc, err,
            want_rc, want);
  CHECK(rc == want_rc);
  CHECK(strstr(err, want) != NULL);
  char *after = dump(st);
  CHECK_STR(after, before);
  CHECK(cbody_state_get(st, "applied", &v1, d1, sizeof d1) == 0);
  CHECK(v1 == v0);
  CHECK_STR(d1, d0);
  free(before);
  free(after);
}

int main(void) {
  char dir_a[] = "/tmp/parley-cbody-a-XXXXXX", dir_b[] = "/tmp/parley-cbody-b-XXXXXX";
  char err[300];
  store *a = open_tmp(dir_a), *b = open_tmp(dir_b);
  store *b_reader = store_open(dir_b, err, sizeof err); /* the directory's connection */
  CHECK(b_reader != NULL);

  /* A: rooms with gaps in their ids, several aliases, PINs, flags; accounts and keys. */
  add_room(a, "Main", "main", "main-2", "1234");
  add_room(a, "Gone", "gone", NULL, NULL);
  add_room(a, "Third \"quoted\" é", "third", "t3", NULL);
  CHECK(store_room_remove(a, "gone", err, sizeof err) == 0);
  account acc;
  CHECK(accounts_add(a, "acme", "Acme Corp", &acc, err, sizeof err) == 0);
  CHECK(accounts_add(a, NULL, NULL, NULL, err, sizeof err) == 0);
  const char *origins[] = {"https://app.example.com", "http://localhost:3000"};
  api_key_scopes scopes = {
      .recording = true, .supervise = true, .client_prefix = "agent-"};
  char key[API_KEY_LEN + 1];
  CHECK(api_keys_add(a, "acme", origins, 2, &scopes, key, sizeof key, err, sizeof err) ==
        0);

  /* B already holds other rooms (one with an alias and an id A uses) and an account. */
  add_room(b, "Old", "main", NULL, NULL);
  add_room(b, "Old 2", "old", NULL, NULL);
  CHECK(accounts_add(b, "stale", NULL, NULL, err, sizeof err) == 0);
  int64_t seen = store_data_version(b_reader);

  size_t len = 0;
  char *body = cbody_serialise(a, &len, err, sizeof err);
  CHECK(body != NULL && len == strlen(body));
  CHECK(strstr(body, "\"aliases\":[\"main\",\"main-2\"]") != NULL);
  cbody *parsed = cbody_parse(body, len, err, sizeof err);
  CHECK(parsed != NULL);
  cbody_counts cnt;
  cbody_count(parsed, &cnt);
  CHECK(cnt.rooms == 2 && cnt.aliases == 4 && cnt.accounts == 2 && cnt.api_keys == 1);
  cbody_free(parsed);

  CHECK(apply_text(b, body, len, 42, err, sizeof err) == 0);
  char *da = dump(a), *db = dump(b);
  CHECK_STR(db, da);
  CHECK(strstr(da, "relay_only=1") && strstr(da, "client_prefix=agent-"));
  int64_t v;
  char digest[CBODY_DIGEST_HEX + 1], want[CBODY_DIGEST_HEX + 1];
  cbody_digest(body, len, want);
  CHECK(cbody_state_get(b, "applied", &v, digest, sizeof digest) == 0);
  CHECK(v == 42);
  CHECK_STR(digest, want);
  /* The other connection notices (the directory reloads), and B serves A's key. */
  CHECK(store_data_version(b_reader) != seen);
  api_key_info info;
  CHECK(api_keys_find(b_reader, key, &info) == 0);
  CHECK_STR(info.cid, "acme");
  CHECK(info.n_origins == 2 && info.scopes.supervise);
  account got;
  CHECK(accounts_get(b_reader, "acme", &got) == 0);
  CHECK_STR(got.jwt_secret, acc.jwt_secret);
  /* B's serialisation is A's, byte for byte. */
  size_t len_b;
  char *body_b = cbody_serialise(b, &len_b, err, sizeof err);
  CHECK_STR(body_b, body);
  free(body_b);

  /* Truncated at every length: refused by the parser, B unchanged. */
  char *before = dump(b);
  int truncated_refused = 0;
  for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 7)) {
    cbody *t = cbody_parse(body, cut, err, sizeof err);
    truncated_refused += t == NULL;
    cbody_free(t);
  }
  CHECK(truncated_refused == (int)(64 + (len - 64 + 6) / 7));
  refused(b, "{\"format\":1,\"rooms\":[", "not JSON", -2);
  refused(b, "[1,2]", "not a JSON object", -2);
  refused(b, "{\"format\":2,\"rooms\":[],\"accounts\":[],\"api_keys\":[]}", "format", -2);
  refused(b, "{\"format\":1,\"rooms\":[],\"accounts\":[]}", "api_keys: missing", -2);
  refused(b, "{\"format\":1,\"format\":1,\"rooms\":[],\"accounts\":[],\"api_keys\":[]}",
          "duplicate", -2);
  const char *room_ok =
      "\"name\":\"X\",\"pin\":null,\"guest_pin\":null,\"allow_guests\":0,"
      "\"lecture\":0,\"locked\":0,\"reception\":0,\"created_at\":1,"
      "\"test_call\":0,\"guests_can_present\":1,\"relay_only\":0";
  char text[2048];
  snprintf(text, sizeof text,
           "{\"format\":1,\"rooms\":[{\"id\":\"7\",%s,\"aliases\":[\"x\"]}],"
           "\"accounts\":[],\"api_keys\":[]}",
           room_ok);
  refused(b, text, "rooms[0].id: not an integer", -2);
  snprintf(text, sizeof text,
           "{\"format\":1,\"rooms\":[{\"id\":7,%s,\"aliases\":[\"a/b\"]}],"
           "\"accounts\":[],\"api_keys\":[]}",
           room_ok);
  refused(b, text, "rooms[0].aliases[0]", -2);
  snprintf(text, sizeof text,
           "{\"format\":1,\"rooms\":[{\"id\":7,%s,\"aliases\":[\"x\\u0000y\"]}],"
           "\"accounts\":[],\"api_keys\":[]}",
           room_ok);
  refused(b, text, "not JSON", -2); /* jansson refuses NULs itself */
  refused(b,
          "{\"format\":1,\"rooms\":[],\"accounts\":[{\"cid\":\"a\\u0000b\",\"name\":null,"
          "\"jwt_secret\":\"s\",\"webhook_secret\":null,\"created_at\":null}],"
          "\"api_keys\":[]}",
          "not JSON", -2);
  /* Well-formed but inconsistent: the store refuses it and the transaction rolls back
   * after the old rows were already deleted. */
  snprintf(text, sizeof text,
           "{\"format\":1,\"rooms\":[{\"id\":7,%s,\"aliases\":[\"x\"]},"
           "{\"id\":8,%s,\"aliases\":[\"y\",\"x\"]}],\"accounts\":[],\"api_keys\":[]}",
           room_ok, room_ok);
  refused(b, text, "rooms[1].aliases[1] \"x\": UNIQUE constraint failed", -1);
  refused(b,
          "{\"format\":1,\"rooms\":[],\"accounts\":[],\"api_keys\":[{\"key_hash\":\"h\","
          "\"key_prefix\":null,\"cid\":\"nobody\",\"origins\":\"[]\",\"recording\":1,"
          "\"created_at\":null,\"supervise\":0,\"client_prefix\":\"\"}]}",
          "api_keys[0]: FOREIGN KEY constraint failed", -1);
  /* Another writer holds the store: BEGIN IMMEDIATE gives up, nothing changes. */
  sqlite3_busy_timeout(b->db, 20);
  CHECK(sqlite3_exec(b_reader->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
  refused(b, "{\"format\":1,\"rooms\":[],\"accounts\":[],\"api_keys\":[]}", "locked", -1);
  CHECK(sqlite3_exec(b_reader->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  char *after = dump(b);
  CHECK_STR(after, before);
  free(before);
  free(after);

  /* An empty configuration empties B; the published state is kept apart. */
  const char *none = "{\"format\":1,\"rooms\":[],\"accounts\":[],\"api_keys\":[]}";
  CHECK(apply_text(b, none, strlen(none), 43, err, sizeof err) == 0);
  size_t len_e;
  char *empty = cbody_serialise(b, &len_e, err, sizeof err);
  CHECK(empty && strstr(empty, "\"rooms\":[],\"accounts\":[],\"api_keys\":[]"));
  free(empty);
  CHECK(cbody_state_set(b, "published", 77, "", err, sizeof err) == 0);
  CHECK(cbody_state_get(b, "published", &v, digest, sizeof digest) == 0 && v == 77);
  CHECK(cbody_state_get(b, "applied", &v, digest, sizeof digest) == 0 && v == 43);

  free(da);
  free(db);
  free(body);
  store_close(b_reader);
  store_close(a);
  store_close(b);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir_a, dir_b);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
