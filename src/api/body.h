/* body — reading request bodies: size and content-type rules, JSON parsing, and the
 * typed fields each endpoint wants. Pure (no I/O); fuzzed in fuzz/. */
#ifndef PARLEY_BODY_H
#define PARLEY_BODY_H

#include "core/refusal.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Parses a request body. An empty body gives *out = NULL and success; anything
 * else must be a JSON object of at most max bytes with a JSON content type. */
int body_parse(const char *data, size_t len, const char *content_type, size_t ct_len,
               size_t max, json_t **out, refusal *err);

/* Field readers over a parsed body (which may be NULL). Each returns 0, or -1
 * with a 400 in err when the field is missing (if required) or of a wrong type.
 * *out is NULL for an absent optional string. */
int body_string(const json_t *body, const char *key, bool required, const char **out,
                refusal *err);
int body_bool(const json_t *body, const char *key, bool required, bool *out,
              refusal *err);

#endif
