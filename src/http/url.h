/* url — pure functions over request targets: percent-decoding, splitting a path
 * into segments, and reading query parameters. No allocation; fuzzed in fuzz/. */
#ifndef PARLEY_URL_H
#define PARLEY_URL_H

#include <stddef.h>

/* Decodes %XX escapes (and nothing else: '+' stays '+', as in paths and in the
 * raw tokens clients put in queries). Writes at most outlen-1 bytes and a NUL.
 * Returns the decoded length, or -1 for a bad escape, a NUL (raw or encoded) or no
 * room. */
int url_decode(const char *in, size_t len, char *out, size_t outlen);

typedef struct {
  const char *ptr;
  size_t len;
} url_segment;

/* Splits a path (no query) at '/', skipping the leading one. A trailing '/'
 * yields a final empty segment ("theme/" is two segments). Returns the count,
 * or -1 if there are more than max. */
int url_split_path(const char *path, size_t len, url_segment *segs, int max);

/* Finds name in a query string ("a=1&b=2", no '?') and decodes its value into
 * out. Returns the value's length, or -1 if absent or undecodable. */
int url_query_param(const char *query, size_t len, const char *name, char *out,
                    size_t outlen);

#endif
