/* origin — web origins (scheme://host[:port]) in one canonical spelling, so that an
 * Origin header and an origin bound to an API key can be compared byte for byte. */
#ifndef PARLEY_ORIGIN_H
#define PARLEY_ORIGIN_H

#include <stddef.h>

#define ORIGIN_MAX_LEN 255

/* Canonicalises an origin: scheme http or https, a host name (letters, digits, '-',
 * '.') or a bracketed IPv6 literal, an optional port 1-65535. Scheme and host are
 * lowercased and a default port (80 for http, 443 for https) is dropped, as browsers
 * do in Origin. No user info, path, query or trailing '/'; "null" is refused.
 * Writes the NUL-terminated result to out; returns its length, or -1 if in is not
 * an origin or does not fit. */
int origin_normalise(const char *in, size_t len, char *out, size_t outlen);

#endif
