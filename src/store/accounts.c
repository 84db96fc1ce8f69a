/* accounts — RTM accounts and API keys: validation, secret generation and SQLite
 * persistence. Keys are hashed before they touch the database. */
#include "store/accounts.h"

#include "core/ids.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cid_ok(const char *cid) {
  size_t n = strlen(cid);
  if (n == 0 || n > ACCOUNT_MAX_CID)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = cid[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

static int name_ok(const char *name) {
  size_t n = strlen(name);
  if (n > ACCOUNT_MAX_NAME)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return 0;
  return 1;
}

static void generated_cid(char out[64]) {
  uint8_t b[12];
  ids_random(b, sizeof b);
  int o = snprintf(out, 64, "acc_");
  for (size_t i = 0; i < sizeof b; i++)
    o += snprintf(out + o, (size_t)(64 - o), "%02x", b[i]);
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void read_account(sqlite3_stmt *s, account *a) {
  copy_text(a->cid, sizeof a->cid, s, 0);
  copy_text(a->name, sizeof a->name, s, 1);
  copy_text(a->jwt_secret, sizeof a->jwt_secret, s, 2);
  /* A secret stored before Standard Webhooks secrets is shown and used in that form
   * (the same HMAC key: receivers that verify with the old text keep working). */
  const unsigned char *secret = sqlite3_column_text(s, 3);
  if (ids_webhook_secret_standard(secret ? (const char *)secret : "", a->webhook_secret,
                                  sizeof a->webhook_secret) != 0)
    copy_text(a->webhook_secret, sizeof a->webhook_secret, s, 3);
  a->created_at = sqlite3_column_int64(s, 4);
}

int accounts_add(store *st, const char *cid, const char *name, account *out, char *err,
                 size_t n) {
  account a = {0};
  if (cid && !cid_ok(cid)) {
    snprintf(err, n,
             "account id \"%s\" is invalid: 1 to %d letters, digits, '.', '_' "
             "or '-'",
             cid, ACCOUNT_MAX_CID);
    return -1;
  }
  if (name && !name_ok(name)) {
    snprintf(err, n, "account name must be at most %d characters, no control characters",
             ACCOUNT_MAX_NAME);
    return -1;
  }
  if (cid)
    snprintf(a.cid, sizeof a.cid, "%s", cid);
  else
    generated_cid(a.cid);
  snprintf(a.name, sizeof a.name, "%s", name ? name : "");
  ids_token(a.jwt_secret);
  ids_webhook_secret(a.webhook_secret);
  a.created_at = (int64_t)time(NULL);

  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO accounts(cid, name, jwt_secret, webhook_secret, "
                         "created_at) VALUES(?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot store account: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  sqlite3_bind_text(s, 1, a.cid, -1, SQLITE_STATIC);
  if (name)
    sqlite3_bind_text(s, 2, a.name, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, 2);
  sqlite3_bind_text(s, 3, a.jwt_secret, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, a.webhook_secret, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, a.created_at);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step == SQLITE_CONSTRAINT) {
    snprintf(err, n, "account \"%s\" already exists", a.cid);
    return -1;
  }
  if (step != SQLITE_DONE) {
    snprintf(err, n, "cannot store account: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  if (out)
    *out = a;
  return 0;
}

static const char account_columns[] =
    "SELECT cid, name, jwt_secret, webhook_secret, created_at FROM accounts ";

int accounts_get(store *st, const char *cid, account *out) {
  char sql[160];
  snprintf(sql, sizeof sql, "%sWHERE cid = ?", account_columns);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(s, 1, cid, -1, SQLITE_STATIC);
  int rc = -1;
  if (sqlite3_step(s) == SQLITE_ROW) {
    read_account(s, out);
    rc = 0;
  }
  sqlite3_finalize(s);
  return rc;
}

int accounts_list(store *st, void (*each)(const account *a, void *ud), void *ud) {
  char sql[160];
  snprintf(sql, sizeof sql, "%sORDER BY created_at, rowid", account_columns);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return -1;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    account a;
    read_account(s, &a);
    each(&a, ud);
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? 0 : -1;
}

static void key_hash_hex(const char *key, char out[2 * IDS_DIGEST_LEN + 1]) {
  uint8_t d[IDS_DIGEST_LEN];
  ids_digest(key, strlen(key), d);
  for (int i = 0; i < IDS_DIGEST_LEN; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The origins (already canonical: the store does not judge what an origin is) as a
 * JSON array text without duplicates (malloc'd), or NULL with a reason. */
static char *origins_json(const char *const *origins, int n_origins, char *err,
                          size_t n) {
  if (n_origins < 1 || n_origins > API_KEY_MAX_ORIGINS) {
    snprintf(err, n, "a key needs 1 to %d origins (it is accepted only from them)",
             API_KEY_MAX_ORIGINS);
    return NULL;
  }
  json_t *list = json_array();
  for (int i = 0; i < n_origins; i++) {
    if (!origins[i] || !*origins[i] || strlen(origins[i]) >= API_KEY_ORIGIN_SIZE) {
      snprintf(err, n, "an origin is empty or longer than %d bytes",
               API_KEY_ORIGIN_SIZE - 1);
      json_decref(list);
      return NULL;
    }
    int dup = 0;
    for (size_t j = 0; j < json_array_size(list); j++)
      dup |= strcmp(json_string_value(json_array_get(list, j)), origins[i]) == 0;
    if (!dup)
      json_array_append_new(list, json_string(origins[i]));
  }
  char *text = json_dumps(list, JSON_COMPACT);
  json_decref(list);
  return text;
}

static int insert_key(store *st, const char *cid, const char *key, const char *origins,
                      const api_key_scopes *scopes, char *err, size_t n) {
  char hash[2 * IDS_DIGEST_LEN + 1], prefix[API_KEY_PREFIX_LEN + 1];
  key_hash_hex(key, hash);
  size_t plen = strnlen(key, API_KEY_PREFIX_LEN);
  memcpy(prefix, key, plen);
  prefix[plen] = '\0';
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO api_keys(key_hash, key_prefix, cid, origins, "
                         "recording, created_at, supervise, client_prefix) "
                         "VALUES(?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, n, "cannot store key: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, prefix, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, cid, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, origins, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 5, scopes->recording ? 1 : 0);
  sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
  sqlite3_bind_int(s, 7, scopes->supervise ? 1 : 0);
  sqlite3_bind_text(s, 8, scopes->client_prefix, -1, SQLITE_STATIC);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE) {
    /* A constraint here is the account vanishing since we looked it up. */
    snprintf(err, n, "cannot store key: %s", sqlite3_errmsg(st->db));
    return -1;
  }
  return 0;
}

/* Printable ASCII without spaces and NUL-terminated within its field. */
static bool prefix_ok(const char *p) {
  size_t len = strnlen(p, API_KEY_MAX_PREFIX + 1);
  for (size_t i = 0; i < len; i++)
    if (p[i] <= ' ' || p[i] > '~')
      return false;
  return len <= API_KEY_MAX_PREFIX;
}

int api_keys_add(store *st, const char *cid, const char *const *origins, int n_origins,
                 const api_key_scopes *scopes, char *key_out, size_t key_len, char *err,
                 size_t n) {
  account a;
  if (key_len < API_KEY_LEN + 1) {
    snprintf(err, n, "key buffer too small");
    return -1;
  }
  if (!prefix_ok(scopes->client_prefix)) {
    snprintf(err, n, "a client id prefix is at most %d printable characters, no spaces",
             API_KEY_MAX_PREFIX);
    return -1;
  }
  if (!cid || accounts_get(st, cid, &a) != 0) {
    snprintf(err, n, "no account \"%s\"", cid ? cid : "");
    return -1;
  }
  char *list = origins_json(origins, n_origins, err, n);
  if (!list)
    return -1;
  char key[API_KEY_LEN + 1], token[IDS_TOKEN_LEN + 1];
  ids_token(token);
  snprintf(key, sizeof key, "pk_%s", token);
  int rc = insert_key(st, cid, key, list, scopes, err, n);
  free(list);
  if (rc == 0)
    snprintf(key_out, key_len, "%s", key);
  return rc;
}

/* Fills info->origins from the stored JSON; anything unreadable counts as no origin. */
static void read_origins(const char *text, api_key_info *info) {
  info->n_origins = 0;
  json_t *list = text ? json_loads(text, 0, NULL) : NULL;
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *o = json_string_value(v);
    if (o && strlen(o) < sizeof info->origins[0] && info->n_origins < API_KEY_MAX_ORIGINS)
      snprintf(info->origins[info->n_origins++], sizeof info->origins[0], "%s", o);
  }
  json_decref(list);
}

static void read_key(sqlite3_stmt *s, api_key_info *info) {
  copy_text(info->cid, sizeof info->cid, s, 0);
  info->scopes.recording = sqlite3_column_int(s, 1) != 0;
  read_origins((const char *)sqlite3_column_text(s, 2), info);
  info->scopes.supervise = sqlite3_column_int(s, 3) != 0;
  copy_text(info->scopes.client_prefix, sizeof info->scopes.client_prefix, s, 4);
}

int api_keys_find(store *st, const char *key, api_key_info *out) {
  char hash[2 * IDS_DIGEST_LEN + 1];
  key_hash_hex(key, hash);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(
          st->db,
          "SELECT cid, recording, origins, supervise, client_prefix FROM api_keys "
          "WHERE key_hash = ?",
          -1, &s, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
  int rc = -1;
  if (sqlite3_step(s) == SQLITE_ROW) {
    read_key(s, out);
    rc = 0;
  }
  sqlite3_finalize(s);
  return rc;
}

int api_keys_list(store *st, const char *cid,
                  void (*each)(const api_key_entry *k, void *ud), void *ud) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT cid, recording, origins, supervise, client_prefix, "
                         "key_prefix, created_at "
                         "FROM api_keys WHERE ?1 IS NULL OR cid = ?1 "
                         "ORDER BY created_at, rowid",
                         -1, &s, NULL) != SQLITE_OK)
    return -1;
  if (cid)
    sqlite3_bind_text(s, 1, cid, -1, SQLITE_STATIC);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    api_key_entry k = {0};
    read_key(s, &k.info);
    copy_text(k.key_prefix, sizeof k.key_prefix, s, 5);
    k.created_at = sqlite3_column_int64(s, 6);
    each(&k, ud);
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? 0 : -1;
}
