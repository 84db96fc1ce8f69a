/* accounts — RTM accounts (an id, a JWT signing secret, a webhook secret) and their
 * browser API keys (stored only as SHA-256, bound to web origins) in the store. */
#ifndef PARLEY_ACCOUNTS_H
#define PARLEY_ACCOUNTS_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCOUNT_MAX_CID 63 /* letters, digits, '.', '_', '-' */
#define ACCOUNT_MAX_NAME 127
#define API_KEY_LEN 46       /* "pk_" + 43 base64url characters (256 random bits) */
#define API_KEY_PREFIX_LEN 8 /* what listings show of a key */
#define API_KEY_MAX_ORIGINS 8
#define API_KEY_ORIGIN_SIZE 256 /* bytes of one stored origin, with its NUL */

typedef struct {
  char cid[64];
  char name[128];          /* "" when none was given */
  char jwt_secret[96];     /* HS256 key: the HMAC key is this string's bytes as is */
  char webhook_secret[96]; /* signs webhook requests: "whsec_" + base64 of the key */
  int64_t created_at;      /* Unix seconds */
} account;

/* Creates an account; cid NULL → generated ("acc_" + 24 hex digits). Both secrets are
 * 256 random bits: jwt_secret base64url, webhook_secret "whsec_" + base64 (Standard
 * Webhooks). Returns 0 (and the new record in out, if not NULL) or
 * -1 with a reason in err (invalid cid or name, cid already taken). */
int accounts_add(store *st, const char *cid, const char *name, account *out, char *err,
                 size_t n);
/* 0 found (record in out), -1 not found or the store failed. */
int accounts_get(store *st, const char *cid, account *out);
/* Calls each for every account, oldest first (in order of creation). Returns 0 or -1. */
int accounts_list(store *st, void (*each)(const account *a, void *ud), void *ud);

#define API_KEY_MAX_PREFIX 63 /* printable ASCII, no space */

/* What a key may do: a key is visible to anyone who reads its web page, and its Origin
 * binding does not hold against a client that is not a browser. */
typedef struct {
  bool recording;                             /* may record its sessions */
  bool supervise;                             /* may supervise the account's sessions */
  char client_prefix[API_KEY_MAX_PREFIX + 1]; /* client ids must start with it; "" any */
} api_key_scopes;

typedef struct {
  char cid[64];
  api_key_scopes scopes;
  char origins[API_KEY_MAX_ORIGINS][API_KEY_ORIGIN_SIZE]; /* canonical (auth/origin.h) */
  int n_origins;
} api_key_info;

/* Creates a key for account cid, bound to 1 to 8 web origins, which the caller has
 * already canonicalised (credentials_key_add does; a key without an origin could
 * never be used, so it is refused), with these scopes (a client_prefix that is not
 * printable ASCII without spaces is refused). The key is written once to key_out
 * (key_len >= API_KEY_LEN + 1); only its SHA-256 is stored. Returns 0, or -1 with a
 * reason in err. */
int api_keys_add(store *st, const char *cid, const char *const *origins, int n_origins,
                 const api_key_scopes *scopes, char *key_out, size_t key_len, char *err,
                 size_t n);
/* 0 found (out filled), -1 unknown key or the store failed. A stored origin list
 * that cannot be read yields n_origins 0, which callers refuse. */
int api_keys_find(store *st, const char *key, api_key_info *out);

typedef struct {
  char key_prefix[API_KEY_PREFIX_LEN + 1];
  int64_t created_at;
  api_key_info info;
} api_key_entry;
/* Calls each for every key of account cid (all keys when cid is NULL), oldest first.
 * Returns 0 or -1. */
int api_keys_list(store *st, const char *cid,
                  void (*each)(const api_key_entry *k, void *ud), void *ud);

#endif
