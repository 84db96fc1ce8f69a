/* forwarded — the client address behind a trusted reverse proxy, from X-Forwarded-For.
 * Each proxy appends the address it received the request from; only the entries that
 * trusted proxies appended can be believed, so the walk goes from the right and stops
 * at the first address that is not a trusted proxy: entries left of it are whatever the
 * client chose to send. */
#ifndef PARLEY_HTTP_FORWARDED_H
#define PARLEY_HTTP_FORWARDED_H

#include "core/cidr.h"

#include <stddef.h>

/* values[0..n) are the X-Forwarded-For header values in the order they came. Finds the
 * rightmost entry that is not in trusted (the leftmost entry if all are). Entries are
 * addresses, optionally "[v6]" or with a ":port". Returns 0 with *client set, or -1 if
 * there is no entry or the one chosen is not an address (the caller then keeps the
 * TCP peer's address). */
int forwarded_client(const char *const *values, const size_t *lens, size_t n,
                     const cidr_list *trusted, net_addr *client);

#endif
