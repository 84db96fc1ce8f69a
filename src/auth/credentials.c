/* credentials — RTM and publish/subscribe authentication: picks the one credential
 * given, verifies it against the account in the store, and says what it may do. */
#include "auth/credentials.h"

#include "auth/jwt.h"
#include "auth/origin.h"
#include "core/ids.h"
#include "store/accounts.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *given(const char *s) { return (s && *s) ? s : NULL; }

/* Copies a claim that must be a non-empty string shorter than cap. */
static bool string_claim(const json_t *claims, const char *name, char *dst, size_t cap) {
  const char *v = json_string_value(json_object_get(claims, name));
  if (!v || !*v || strlen(v) >= cap)
    return false;
  memcpy(dst, v, strlen(v) + 1);
  return true;
}

/* 32 random bytes as hex, drawn once: what an unknown account's JWT is checked with. */
static const char *nobodys_secret(void) {
  static char hex[65];
  if (!hex[0]) {
    uint8_t raw[32];
    ids_random(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
      snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  }
  return hex;
}

/* The claims of a JWT signed with its cid's account secret, the cid and the account
 * copied out; NULL (401, reason set) when there is no cid or the signature or expiry
 * fails. */
static json_t *account_claims(store *st, const char *token, int64_t now_s, char *cid,
                              size_t cid_cap, account *a, char *reason, size_t n) {
  json_t *peeked = jwt_peek_claims(token, reason, n);
  if (!peeked)
    return NULL;
  bool has_cid = string_claim(peeked, "cid", cid, cid_cap);
  json_decref(peeked);
  if (!has_cid) {
    snprintf(reason, n, "JWT needs a cid (account) claim of 1 to %zu characters",
             cid_cap - 1);
    return NULL;
  }
  /* An unknown account is checked against a secret nobody has: the same HMAC work
   * and the same refusal as a wrong signature, so a refusal does not tell whether
   * the account exists. */
  const char *secret = accounts_get(st, cid, a) == 0 ? a->jwt_secret : nobodys_secret();
  return jwt_verify_hs256(token, secret, now_s, reason, n);
}

static int jwt_identity(store *st, const char *token, int64_t now_s, rtm_identity *out,
                        char *reason, size_t n) {
  account a;
  json_t *claims =
      account_claims(st, token, now_s, out->cid, sizeof out->cid, &a, reason, n);
  if (!claims)
    return 401;
  json_t *rec = json_object_get(claims, "rec");
  int status = 401;
  if (!string_claim(claims, "client_id", out->client_id, sizeof out->client_id))
    snprintf(reason, n, "JWT needs a client_id claim of 1 to %zu characters",
             sizeof out->client_id - 1);
  else if (rec && !json_is_boolean(rec))
    snprintf(reason, n, "JWT rec claim must be true or false");
  else
    status = 0;
  if (status == 0) {
    out->can_record = !rec || json_is_true(rec);
    out->can_supervise = true; /* minted by the account's own server */
    jwt_claim_time(claims, "exp", &out->expires_at);
    memcpy(out->webhook_secret, a.webhook_secret, sizeof out->webhook_secret);
  }
  json_decref(claims);
  return status;
}

static bool origin_bound(const api_key_info *k, const char *canon) {
  for (int i = 0; i < k->n_origins; i++)
    if (strcmp(k->origins[i], canon) == 0)
      return true;
  return false;
}

static int key_identity(store *st, const char *key, const char *origin, rtm_identity *out,
                        char *reason, size_t n) {
  api_key_info k;
  account a;
  if (strlen(key) != API_KEY_LEN || strncmp(key, "pk_", 3) != 0 ||
      api_keys_find(st, key, &k) != 0 || accounts_get(st, k.cid, &a) != 0) {
    snprintf(reason, n, "unknown API key");
    return 401;
  }
  char canon[ORIGIN_MAX_LEN + 1];
  if (k.n_origins == 0) {
    snprintf(reason, n, "API key is not bound to any origin");
    return 403;
  }
  if (!origin) {
    snprintf(reason, n,
             "an API key is accepted only with an Origin header (from a "
             "browser); servers use a JWT");
    return 403;
  }
  if (origin_normalise(origin, strlen(origin), canon, sizeof canon) < 0 ||
      !origin_bound(&k, canon)) {
    snprintf(reason, n, "API key is not accepted from this origin");
    return 403;
  }
  memcpy(out->cid, k.cid, sizeof out->cid);
  out->client_id[0] = '\0';
  out->can_record = k.scopes.recording;
  out->can_supervise = k.scopes.supervise;
  snprintf(out->client_prefix, sizeof out->client_prefix, "%s", k.scopes.client_prefix);
  memcpy(out->webhook_secret, a.webhook_secret, sizeof out->webhook_secret);
  out->expires_at = 0;
  return 0;
}

int credentials_check(store *st, const credentials_in *in, int64_t now_s,
                      rtm_identity *out, char *reason, size_t n) {
  const char *bearer = given(in->bearer), *query = given(in->access_token);
  const char *key = given(in->api_key), *origin = given(in->origin);
  if (bearer && query && strcmp(bearer, query) != 0) {
    snprintf(reason, n, "two different JWTs given (Authorization and access_token)");
    return 401;
  }
  const char *token = bearer ? bearer : query;
  if (token && key) {
    snprintf(reason, n, "give a JWT or an API key, not both");
    return 401;
  }
  rtm_identity id = {0};
  int status;
  if (token)
    status = jwt_identity(st, token, now_s, &id, reason, n);
  else if (key)
    status = key_identity(st, key, origin, &id, reason, n);
  else {
    snprintf(reason, n,
             "missing credentials: Authorization: Bearer <JWT>, "
             "?access_token=<JWT> or ?api_key=<key>");
    status = 401;
  }
  if (status == 0)
    *out = id;
  return status;
}

bool pubsub_id_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > PUBSUB_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '.' || c == ':' || c == '-'))
      return false;
  }
  return true;
}

/* An optional boolean claim: absent is dflt; anything but true/false is an error. */
static bool bool_claim(const json_t *claims, const char *name, bool dflt, bool *out) {
  json_t *v = json_object_get(claims, name);
  *out = v ? json_is_true(v) : dflt;
  return !v || json_is_boolean(v);
}

static int pubsub_jwt(store *st, const char *token, int64_t now_s, pubsub_identity *out,
                      char *reason, size_t n) {
  account a;
  json_t *claims =
      account_claims(st, token, now_s, out->cid, sizeof out->cid, &a, reason, n);
  if (!claims)
    return 401;
  int status = 401;
  json_t *uid = json_object_get(claims, "uid");
  if (!string_claim(claims, "sid", out->sid, sizeof out->sid) ||
      (strcmp(out->sid, "*") != 0 && !pubsub_id_ok(out->sid)))
    snprintf(reason, n, "JWT needs a sid claim: a session id or \"*\"");
  else if (uid && !json_is_null(uid) &&
           (!string_claim(claims, "uid", out->uid, sizeof out->uid) ||
            !pubsub_id_ok(out->uid)))
    snprintf(reason, n, "JWT uid claim must be a participant id");
  else if (!bool_claim(claims, "can_publish", true, &out->can_publish) ||
           !bool_claim(claims, "can_subscribe", true, &out->can_subscribe) ||
           !bool_claim(claims, "can_record", false, &out->can_record))
    snprintf(reason, n, "JWT can_publish, can_subscribe and can_record must be booleans");
  else
    status = 0;
  if (status == 0)
    jwt_claim_time(claims, "exp", &out->expires_at);
  json_decref(claims);
  return status;
}

int credentials_pubsub(store *st, const char *key, const char *jwt, const char *origin,
                       int64_t now_s, pubsub_identity *out, char *reason, size_t n) {
  key = given(key);
  jwt = given(jwt);
  pubsub_identity id = {0};
  int status;
  if (key && jwt) {
    snprintf(reason, n, "give a JWT or an API key, not both");
    status = 401;
  } else if (jwt) {
    status = pubsub_jwt(st, jwt, now_s, &id, reason, n);
  } else if (key) {
    rtm_identity k = {0};
    status = key_identity(st, key, given(origin), &k, reason, n);
    memcpy(id.cid, k.cid, sizeof id.cid);
    id.sid[0] = '*';
    id.can_publish = id.can_subscribe = true;
    id.can_record = k.can_record;
  } else {
    snprintf(reason, n, "missing credentials: a \"key\" or a \"jwt\"");
    status = 401;
  }
  if (status == 0)
    *out = id;
  return status;
}

bool credentials_client_id_ok(const rtm_identity *who, const char *client_id) {
  size_t n = strlen(who->client_prefix);
  return strncmp(client_id, who->client_prefix, n) == 0;
}

int credentials_key_add(store *st, const char *cid, const char *const *origins,
                        int n_origins, const api_key_scopes *scopes, char *key_out,
                        size_t key_len, char *err, size_t n) {
  if (n_origins < 0 || n_origins > API_KEY_MAX_ORIGINS)
    return api_keys_add(st, cid, origins, n_origins, scopes, key_out, key_len, err,
                        n); /* the store words the refusal */
  char canon[API_KEY_MAX_ORIGINS][ORIGIN_MAX_LEN + 1];
  const char *list[API_KEY_MAX_ORIGINS];
  for (int i = 0; i < n_origins; i++) {
    if (origin_normalise(origins[i], strlen(origins[i]), canon[i], sizeof canon[i]) < 0) {
      snprintf(err, n,
               "\"%s\" is not a web origin (scheme://host[:port], http or https, "
               "no path)",
               origins[i]);
      return -1;
    }
    list[i] = canon[i];
  }
  return api_keys_add(st, cid, list, n_origins, scopes, key_out, key_len, err, n);
}
