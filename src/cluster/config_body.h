/* config_body — the cluster's configuration as one JSON document: a store's rooms (ids,
 * every column, aliases in order), accounts and API keys. The management node serialises
 * its store; the other nodes check a body they read from Redis (network input) and
 * replace their own tables with it in one transaction, ids kept. */
#ifndef PARLEY_CLUSTER_CONFIG_BODY_H
#define PARLEY_CLUSTER_CONFIG_BODY_H

#include "store/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CBODY_FORMAT 1
#define CBODY_MAX_BYTES (64u << 20) /* a body larger than this is refused unread */
#define CBODY_DIGEST_HEX 64         /* SHA-256 of a body, in hex */

typedef struct cbody cbody;

typedef struct {
  size_t rooms, aliases, accounts, api_keys;
} cbody_counts;

/* st's rooms, room_aliases, accounts and api_keys as compact JSON (NUL-terminated,
 * xmalloc'd; its length in *len), or NULL with a reason in err. */
char *cbody_serialise(store *st, size_t *len, char *err, size_t n);

/* Parses and checks len bytes (need not be NUL-terminated): the format, every table and
 * column with its type, text without NULs within its bound, aliases 1 to
 * ROOM_MAX_ALIASES valid aliases. NULL with a reason in err (which row, which column)
 * when anything is wrong: a truncated body is refused whole. */
cbody *cbody_parse(const char *body, size_t len, char *err, size_t n);
void cbody_free(cbody *b);
void cbody_count(const cbody *b, cbody_counts *out);

/* Replaces st's rooms, room_aliases, accounts and api_keys with b's rows and records
 * (version, digest) as the applied configuration, all in one transaction (the tables it
 * needs are created if missing). Every write is checked; on any failure the transaction
 * is rolled back, st is unchanged and err says why. Returns 0 or -1. */
int cbody_apply(store *st, const cbody *b, int64_t version, const char *digest, char *err,
                size_t n);

/* The SHA-256 of a body in hex (out: CBODY_DIGEST_HEX + 1 bytes). */
void cbody_digest(const char *body, size_t len, char *out);

/* What st last applied ("applied") or published ("published"): version 0 and digest ""
 * when nothing was. Returns 0, or -1 when the store could not be read. */
int cbody_state_get(store *st, const char *what, int64_t *version, char *digest,
                    size_t digest_cap);
/* Records a published version (the management node keeps its numbers increasing across
 * restarts). Returns 0 or -1 with err. */
int cbody_state_set(store *st, const char *what, int64_t version, const char *digest,
                    char *err, size_t n);

#endif
