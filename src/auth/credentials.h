/* credentials — the check on an RTM WebSocket upgrade (and POST /api/rtm/v1/session)
 * and on a publish/subscribe join: a JWT signed with the account's secret, or an API
 * key used from a bound origin. */
#ifndef PARLEY_CREDENTIALS_H
#define PARLEY_CREDENTIALS_H

#include "store/accounts.h"
#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *bearer;       /* from "Authorization: Bearer x", or NULL */
  const char *access_token; /* ?access_token= */
  const char *api_key;      /* ?api_key= */
  const char *origin;       /* Origin header or NULL */
} credentials_in;

typedef struct {
  char cid[64];
  char client_id[128];    /* from the JWT's client_id; empty for an API key (the client
                             names itself in messages) */
  bool can_record;        /* JWT rec claim (default true) / key's recording flag */
  bool can_supervise;     /* JWTs: yes; keys: only with the supervise scope */
  char client_prefix[64]; /* client ids must start with it; "" any (always for JWTs,
                             whose client_id is fixed) */
  char webhook_secret[96];
  int64_t expires_at; /* JWT exp, 0 for keys */
} rtm_identity;

/* 0 when the credentials are good (out filled); else the HTTP status to answer and a
 * reason for the JSON body:
 *  401 no credential, more than one kind given (a bearer and an access_token that
 *      differ, or a JWT and an API key), a malformed / wrongly signed / expired JWT,
 *      a JWT without string cid and client_id or with a non-boolean rec, an unknown
 *      account (refused as a wrong signature, so nobody learns which accounts exist)
 *      or key;
 *  403 an API key sent without an Origin header, from an origin not bound to it, or
 *      bound to no origin at all (API keys are for browsers: the Origin header is what
 *      limits where a key that is visible in a web page can be used).
 * Empty strings count as absent. Reads the store with two primary-key lookups (WAL,
 * no writes); a caller on the event loop treats it like a directory lookup. */
int credentials_check(store *st, const credentials_in *in, int64_t now_s,
                      rtm_identity *out, char *reason, size_t n);

/* Creates an API key for account cid bound to 1 to 8 web origins, each canonicalised
 * with origin_normalise first (so "https://App.example:443" binds
 * "https://app.example"), with these scopes. The key is written once to key_out; 0, or
 * -1 with a reason in err (not an origin, a bad prefix, unknown account, the store
 * failed). */
int credentials_key_add(store *st, const char *cid, const char *const *origins,
                        int n_origins, const api_key_scopes *scopes, char *key_out,
                        size_t key_len, char *err, size_t n);

/* Publish/subscribe ids (sid, uid, feed_id): 1 to PUBSUB_ID_MAX of [A-Za-z0-9_.:-]. */
#define PUBSUB_ID_MAX 64
bool pubsub_id_ok(const char *s);

/* What a publish/subscribe participant may do (docs/PUBSUB.md, "Authentication"). */
typedef struct {
  char cid[64];
  char sid[PUBSUB_ID_MAX + 1]; /* "*": any session; else the only one */
  char uid[PUBSUB_ID_MAX + 1]; /* "": any uid; else the one the participant must use */
  bool can_publish, can_subscribe, can_record;
  int64_t expires_at; /* JWT exp, 0 for keys */
} pubsub_identity;

/* A join's credential: exactly one of key (checked against origin, the upgrade's
 * Origin header, as for RTM) and jwt (claims cid, sid, exp required; uid, can_publish,
 * can_subscribe, can_record optional). 0 with out filled, else 401 or 403 and a
 * reason, worded as credentials_check's. */
int credentials_pubsub(store *st, const char *key, const char *jwt, const char *origin,
                       int64_t now_s, pubsub_identity *out, char *reason, size_t n);

/* Whether who may act as client_id: an API key only with a client id that starts with
 * its prefix. */
bool credentials_client_id_ok(const rtm_identity *who, const char *client_id);

#endif
