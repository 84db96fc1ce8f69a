/* test_credentials — the RTM upgrade check against a real SQLite store: accounts and
 * keys through the store API, JWTs and API keys accepted and refused (401 / 403). */
#include "auth/credentials.h"
#include "auth/jwt.h"
#include "auth/origin.h"
#include "check.h"
#include "store/accounts.h"

#include <stdlib.h>
#include <time.h>

#define NOW 1700000000

static store *st;
static account acme, other;
static char reason[300];
static rtm_identity id;

static char *mint(const account *a, const char *cid, const char *client_id, int64_t exp,
                  json_t *rec) {
  json_t *c = json_pack("{s:I}", "exp", (json_int_t)exp);
  if (cid)
    json_object_set_new(c, "cid", json_string(cid));
  if (client_id)
    json_object_set_new(c, "client_id", json_string(client_id));
  if (rec)
    json_object_set_new(c, "rec", rec);
  char *t = jwt_sign_hs256(c, a->jwt_secret);
  json_decref(c);
  return t;
}

static int check(const char *bearer, const char *query, const char *key,
                 const char *origin) {
  credentials_in in = {bearer, query, key, origin};
  memset(&id, 0x55, sizeof id);
  reason[0] = '\0';
  int status = credentials_check(st, &in, NOW, &id, reason, sizeof reason);
  CHECK(status == 0 || reason[0] != '\0');
  return status;
}

static void store_api(void) {
  char err[300];
  CHECK(accounts_add(st, "acme", "Acme Corp", &acme, err, sizeof err) == 0);
  CHECK(accounts_add(st, NULL, NULL, &other, err, sizeof err) == 0);
  CHECK(strncmp(other.cid, "acc_", 4) == 0 && strlen(other.cid) == 28);
  CHECK(strlen(acme.jwt_secret) == 43 && strlen(acme.webhook_secret) == 50);
  CHECK(strncmp(acme.webhook_secret, "whsec_", 6) == 0); /* Standard Webhooks */
  CHECK(strcmp(acme.jwt_secret, acme.webhook_secret) != 0);
  CHECK(strcmp(acme.jwt_secret, other.jwt_secret) != 0);
  CHECK(accounts_add(st, "acme", NULL, NULL, err, sizeof err) == -1);
  CHECK(strstr(err, "already exists") != NULL);
  CHECK(accounts_add(st, "bad cid", NULL, NULL, err, sizeof err) == -1);
  CHECK(accounts_add(st, "", NULL, NULL, err, sizeof err) == -1);
  CHECK(accounts_add(st, "x", "bad\nname", NULL, err, sizeof err) == -1);
  account got;
  CHECK(accounts_get(st, "acme", &got) == 0);
  CHECK_STR(got.name, "Acme Corp");
  CHECK_STR(got.jwt_secret, acme.jwt_secret);
  CHECK_STR(got.webhook_secret, acme.webhook_secret);
  CHECK(got.created_at > 0);
  CHECK(accounts_get(st, "nobody", &got) == -1);
}

static int n_listed;
static void count_account(const account *a, void *ud) {
  (void)ud;
  n_listed++;
  CHECK(strcmp(a->cid, "acme") == 0 || strcmp(a->cid, other.cid) == 0);
}

static void jwts(void) {
  char *t = mint(&acme, "acme", "agent-7", NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 0);
  CHECK_STR(id.cid, "acme");
  CHECK_STR(id.client_id, "agent-7");
  CHECK(id.can_record);
  CHECK(id.expires_at == NOW + 600);
  CHECK_STR(id.webhook_secret, acme.webhook_secret);
  /* The same token as ?access_token=, and both at once when they agree. */
  CHECK(check(NULL, t, NULL, NULL) == 0);
  CHECK(check(t, t, NULL, "https://ignored.example") == 0);
  CHECK(check("", t, "", "") == 0);
  free(t);

  t = mint(&acme, "acme", "agent-7", NOW + 600, json_false());
  CHECK(check(t, NULL, NULL, NULL) == 0 && !id.can_record);
  free(t);
  t = mint(&acme, "acme", "agent-7", NOW + 600, json_true());
  CHECK(check(t, NULL, NULL, NULL) == 0 && id.can_record);
  free(t);
  t = mint(&acme, "acme", "agent-7", NOW + 600, json_string("false"));
  CHECK(check(t, NULL, NULL, NULL) == 401);
  free(t);

  /* Unknown account; a token for acme signed with another account's secret: the
   * same refusal, so a refusal does not tell whether an account exists. */
  t = mint(&acme, "ghost", "agent-7", NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 401);
  char unknown_reason[sizeof reason];
  memcpy(unknown_reason, reason, sizeof reason);
  CHECK(strstr(reason, "ghost") == NULL);
  free(t);
  t = mint(&other, "acme", "agent-7", NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 401);
  CHECK(strstr(reason, "signature") != NULL);
  CHECK(strcmp(reason, unknown_reason) == 0);
  free(t);

  t = mint(&acme, "acme", "agent-7", NOW - 60, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 401);
  CHECK(strstr(reason, "expired") != NULL);
  free(t);
  t = mint(&acme, NULL, "agent-7", NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 401);
  free(t);
  t = mint(&acme, "acme", NULL, NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 401);
  CHECK(strstr(reason, "client_id") != NULL);
  free(t);
  char long_id[200];
  memset(long_id, 'c', 128);
  long_id[128] = '\0';
  t = mint(&acme, "acme", long_id, NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 401);
  free(t);
  CHECK(check("not-a-jwt", NULL, NULL, NULL) == 401);

  /* Missing, contradictory or mixed credentials. */
  CHECK(check(NULL, NULL, NULL, "https://app.example.com") == 401);
  CHECK(strstr(reason, "missing") != NULL);
  CHECK(check("", "", "", NULL) == 401);
  char *a = mint(&acme, "acme", "a", NOW + 600, NULL);
  char *b = mint(&acme, "acme", "b", NOW + 600, NULL);
  CHECK(check(a, b, NULL, NULL) == 401);
  CHECK(check(a, NULL, "pk_whatever", NULL) == 401);
  free(a);
  free(b);
}

static void keys(void) {
  char err[300], key[API_KEY_LEN + 1], nrkey[API_KEY_LEN + 1];
  const api_key_scopes rec = {.recording = true}, no_rec = {.recording = false};
  const char *origins[] = {"https://App.Example.com:443", "http://localhost:8080"};
  CHECK(credentials_key_add(st, "acme", origins, 2, &rec, key, sizeof key, err,
                            sizeof err) == 0);
  CHECK(strncmp(key, "pk_", 3) == 0 && strlen(key) == API_KEY_LEN);
  const char *one[] = {"https://rec-off.example"};
  CHECK(credentials_key_add(st, "acme", one, 1, &no_rec, nrkey, sizeof nrkey, err,
                            sizeof err) == 0);
  CHECK(strcmp(key, nrkey) != 0);

  CHECK(check(NULL, NULL, key, "https://app.example.com") == 0);
  CHECK_STR(id.cid, "acme");
  CHECK_STR(id.client_id, "");
  CHECK(id.can_record && id.expires_at == 0);
  CHECK_STR(id.webhook_secret, acme.webhook_secret);
  CHECK(check(NULL, NULL, key, "http://localhost:8080") == 0);
  CHECK(check(NULL, NULL, key, "HTTPS://APP.EXAMPLE.COM:443") == 0);
  CHECK(check(NULL, NULL, nrkey, "https://rec-off.example") == 0 && !id.can_record);

  CHECK(check(NULL, NULL, key, "https://evil.example.com") == 403);
  CHECK(check(NULL, NULL, key, "http://app.example.com") == 403);
  CHECK(check(NULL, NULL, key, "https://app.example.com:8443") == 403);
  CHECK(check(NULL, NULL, key, "https://app.example.com.evil.example") == 403);
  CHECK(check(NULL, NULL, key, "http://localhost") == 403);
  CHECK(check(NULL, NULL, key, "null") == 403);
  CHECK(check(NULL, NULL, key, NULL) == 403);
  CHECK(strstr(reason, "Origin") != NULL);
  CHECK(check(NULL, NULL, key, "") == 403);
  CHECK(check(NULL, NULL, nrkey, "https://app.example.com") == 403);

  char unknown[API_KEY_LEN + 1];
  snprintf(unknown, sizeof unknown, "%s", key);
  unknown[10] = unknown[10] == 'A' ? 'B' : 'A';
  CHECK(check(NULL, NULL, unknown, "https://app.example.com") == 401);
  CHECK(strstr(reason, "unknown") != NULL);
  CHECK(check(NULL, NULL, "pk_short", "https://app.example.com") == 401);

  /* Only the hash is stored. */
  sqlite3_stmt *s;
  sqlite3_prepare_v2(st->db,
                     "SELECT count(*) FROM api_keys WHERE key_hash = ? OR "
                     "origins LIKE '%' || ? || '%'",
                     -1, &s, NULL);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, key + 3, -1, SQLITE_STATIC);
  CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 0);
  sqlite3_finalize(s);

  /* A key row bound to no origin (written by hand) is refused with 403. */
  sqlite3_exec(st->db, "UPDATE api_keys SET origins = '[]' WHERE recording = 0", NULL,
               NULL, NULL);
  CHECK(check(NULL, NULL, nrkey, "https://rec-off.example") == 403);
  CHECK(strstr(reason, "not bound") != NULL);
  sqlite3_exec(st->db, "UPDATE api_keys SET origins = 'garbage' WHERE recording = 0",
               NULL, NULL, NULL);
  CHECK(check(NULL, NULL, nrkey, "https://rec-off.example") == 403);

  /* Refused at creation: no origin, not an origin, unknown account, small buffer. */
  CHECK(credentials_key_add(st, "acme", NULL, 0, &rec, key, sizeof key, err,
                            sizeof err) == -1);
  const char *bad[] = {"https://app.example.com/path"};
  CHECK(credentials_key_add(st, "acme", bad, 1, &rec, key, sizeof key, err, sizeof err) ==
        -1);
  CHECK(strstr(err, "not a web origin") != NULL);
  CHECK(credentials_key_add(st, "ghost", one, 1, &rec, key, sizeof key, err,
                            sizeof err) == -1);
  CHECK(credentials_key_add(st, "acme", one, 1, &rec, key, 10, err, sizeof err) == -1);
}

static void scope_of_listed(const api_key_entry *k, void *ud) {
  if (strcmp(k->info.scopes.client_prefix, "agent-") == 0)
    *(api_key_scopes *)ud = k->info.scopes;
}

/* A key is readable in its web page and its Origin can be forged outside a browser, so
 * it supervises only with the supervise scope and acts only as client ids under its
 * prefix; a JWT (minted by the account's server) may supervise. */
static void key_scopes(void) {
  char err[300], plain[API_KEY_LEN + 1], scoped[API_KEY_LEN + 1];
  const char *one[] = {"https://scoped.example"};
  const api_key_scopes none = {.recording = true};
  api_key_scopes sup = {.recording = true, .supervise = true};
  snprintf(sup.client_prefix, sizeof sup.client_prefix, "agent-");
  CHECK(credentials_key_add(st, "acme", one, 1, &none, plain, sizeof plain, err,
                            sizeof err) == 0);
  CHECK(credentials_key_add(st, "acme", one, 1, &sup, scoped, sizeof scoped, err,
                            sizeof err) == 0);

  CHECK(check(NULL, NULL, plain, "https://scoped.example") == 0);
  CHECK(!id.can_supervise); /* not unless granted */
  CHECK_STR(id.client_prefix, "");
  CHECK(credentials_client_id_ok(&id, "anyone"));

  CHECK(check(NULL, NULL, scoped, "https://scoped.example") == 0);
  CHECK(id.can_supervise && id.can_record);
  CHECK_STR(id.client_prefix, "agent-");
  CHECK(credentials_client_id_ok(&id, "agent-7"));
  CHECK(credentials_client_id_ok(&id, "agent-"));
  CHECK(!credentials_client_id_ok(&id, "boss"));
  CHECK(!credentials_client_id_ok(&id, "agent"));
  CHECK(!credentials_client_id_ok(&id, "Agent-7"));

  char *t = mint(&acme, "acme", "sup-1", NOW + 600, NULL);
  CHECK(check(t, NULL, NULL, NULL) == 0 && id.can_supervise);
  CHECK_STR(id.client_prefix, "");
  free(t);

  api_key_scopes listed = {0};
  CHECK(api_keys_list(st, "acme", scope_of_listed, &listed) == 0);
  CHECK(listed.supervise && listed.recording);

  api_key_scopes bad = {.recording = true};
  snprintf(bad.client_prefix, sizeof bad.client_prefix, "a b");
  CHECK(credentials_key_add(st, "acme", one, 1, &bad, plain, sizeof plain, err,
                            sizeof err) == -1);
  CHECK(strstr(err, "prefix") != NULL);
  snprintf(bad.client_prefix, sizeof bad.client_prefix, "a\x01");
  CHECK(credentials_key_add(st, "acme", one, 1, &bad, plain, sizeof plain, err,
                            sizeof err) == -1);
}

static int n_keys;
static void count_key(const api_key_entry *k, void *ud) {
  (void)ud;
  n_keys++;
  CHECK(strncmp(k->key_prefix, "pk_", 3) == 0 && strlen(k->key_prefix) == 8);
  CHECK_STR(k->info.cid, "acme");
}

static void origins(void) {
  char out[ORIGIN_MAX_LEN + 1];
  static const char *const good[][2] = {
      {"https://app.example.com", "https://app.example.com"},
      {"HTTPS://App.Example.COM:443", "https://app.example.com"},
      {"http://example.com:80", "http://example.com"},
      {"http://example.com:443", "http://example.com:443"},
      {"https://example.com:08443", "https://example.com:8443"},
      {"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
      {"http://[::1]:8080", "http://[::1]:8080"},
      {"https://[2001:DB8::1]", "https://[2001:db8::1]"},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    CHECK(origin_normalise(good[i][0], strlen(good[i][0]), out, sizeof out) ==
          (int)strlen(good[i][1]));
    CHECK_STR(out, good[i][1]);
  }
  static const char *const bad[] = {"null",
                                    "",
                                    "https://",
                                    "ftp://example.com",
                                    "https://example.com/",
                                    "https://user@example.com",
                                    "https://example.com:0",
                                    "https://example.com:65536",
                                    "https://example.com:",
                                    "https://exa mple.com",
                                    "https://.example.com",
                                    "https://example..com",
                                    "https://[::1",
                                    "https://[::1]x",
                                    "https://example.com?q",
                                    "example.com",
                                    "https://example.com:80:80",
                                    "https://[]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (origin_normalise(bad[i], strlen(bad[i]), out, sizeof out) != -1) {
      fprintf(stderr, "accepted origin \"%s\" as \"%s\"\n", bad[i], out);
      CHECK(0);
    }
  }
  CHECK(origin_normalise("https://a.example", 17, out, 10) == -1);
}

/* Publish/subscribe joins (docs/PUBSUB.md): a key from its origin, or a JWT with cid,
 * sid, exp and optional uid and can_* claims. */
static int ps_check(const char *key, const char *jwt, const char *origin,
                    pubsub_identity *out) {
  memset(out, 0x55, sizeof *out);
  reason[0] = '\0';
  int status = credentials_pubsub(st, key, jwt, origin, NOW, out, reason, sizeof reason);
  CHECK(status == 0 || reason[0] != '\0');
  return status;
}

static char *ps_mint(const account *a, json_t *claims) {
  if (!json_object_get(claims, "exp"))
    json_object_set_new(claims, "exp", json_integer(NOW + 600));
  char *t = jwt_sign_hs256(claims, a->jwt_secret);
  json_decref(claims);
  return t;
}

static void pubsub(void) {
  pubsub_identity p;
  char key[API_KEY_LEN + 1], err[300];
  api_key_scopes rec = {.recording = true};
  const char *origins[] = {"https://ps.example"};
  CHECK(credentials_key_add(st, "acme", origins, 1, &rec, key, sizeof key, err,
                            sizeof err) == 0);
  CHECK(ps_check(key, NULL, "https://ps.example", &p) == 0);
  CHECK_STR(p.cid, "acme");
  CHECK_STR(p.sid, "*");
  CHECK(p.uid[0] == '\0' && p.can_publish && p.can_subscribe && p.can_record);
  CHECK(ps_check(key, NULL, "https://PS.example:443", &p) == 0);
  CHECK(ps_check(key, NULL, "https://evil.example", &p) == 403);
  CHECK(ps_check(key, NULL, NULL, &p) == 403);
  CHECK(ps_check("pk_nope", NULL, "https://ps.example", &p) == 401);
  CHECK(ps_check(NULL, NULL, NULL, &p) == 401);

  char *t = ps_mint(&acme, json_pack("{s:s, s:s}", "cid", "acme", "sid", "room"));
  CHECK(ps_check(NULL, t, NULL, &p) == 0);
  CHECK_STR(p.sid, "room");
  CHECK(p.uid[0] == '\0' && p.can_publish && p.can_subscribe && !p.can_record);
  CHECK(p.expires_at == NOW + 600);
  CHECK(ps_check(key, t, "https://ps.example", &p) == 401); /* both */
  free(t);
  t = ps_mint(&acme, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "cid", "acme", "sid",
                               "*", "uid", "ann", "can_publish", 0, "can_subscribe", 1,
                               "can_record", 1));
  CHECK(ps_check(NULL, t, NULL, &p) == 0);
  CHECK_STR(p.uid, "ann");
  CHECK(!p.can_publish && p.can_subscribe && p.can_record);
  free(t);
  /* Signed by another account's secret, expired, without sid, odd claims: 401. */
  t = ps_mint(&other, json_pack("{s:s, s:s}", "cid", "acme", "sid", "room"));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  free(t);
  t = ps_mint(&acme, json_pack("{s:s, s:s, s:I}", "cid", "acme", "sid", "room", "exp",
                               (json_int_t)(NOW - 100)));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  free(t);
  t = ps_mint(&acme, json_pack("{s:s}", "cid", "acme"));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  CHECK(strstr(reason, "sid") != NULL);
  free(t);
  t = ps_mint(&acme, json_pack("{s:s, s:s, s:s}", "cid", "acme", "sid", "r", "can_record",
                               "yes"));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  free(t);
  t = ps_mint(&acme, json_pack("{s:s, s:s}", "cid", "acme", "sid", "a/b"));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  free(t);
  t = ps_mint(&acme,
              json_pack("{s:s, s:s, s:s}", "cid", "acme", "sid", "r", "uid", "a b"));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  free(t);
  t = ps_mint(&acme, json_pack("{s:s, s:s, s:i}", "cid", "acme", "sid", "r", "uid", 5));
  CHECK(ps_check(NULL, t, NULL, &p) == 401);
  free(t);
}

static void timing(void) {
  /* What one check costs (two primary-key lookups plus an HMAC). */
  char *t = mint(&acme, "acme", "agent-7", NOW + 600, NULL);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int runs = 2000, ok = 0;
  for (int i = 0; i < runs; i++)
    ok += check(t, NULL, NULL, NULL) == 0;
  clock_gettime(CLOCK_MONOTONIC, &b);
  CHECK(ok == runs);
  double us =
      ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) /
      runs;
  printf("credentials_check (JWT): %.1f us per call\n", us);
  free(t);
}

int main(void) {
  char dir[] = "/tmp/parley-credentials-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char err[300];
  st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  if (!st)
    CHECK_DONE();
  CHECK(store_schema_version() >= 3);
  store_api();
  accounts_list(st, count_account, NULL);
  CHECK(n_listed == 2);
  jwts();
  keys();
  CHECK(api_keys_list(st, "acme", count_key, NULL) == 0 && n_keys == 2);
  n_keys = 0;
  key_scopes();
  CHECK(api_keys_list(st, other.cid, count_key, NULL) == 0 && n_keys == 0);
  origins();
  pubsub();
  timing();
  /* Deleting an account deletes its keys (foreign key cascade). */
  sqlite3_exec(st->db, "DELETE FROM accounts WHERE cid = 'acme'", NULL, NULL, NULL);
  n_keys = 0;
  CHECK(api_keys_list(st, NULL, count_key, NULL) == 0 && n_keys == 0);
  store_close(st);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  CHECK_DONE();
}
