/* host_addr — the media addresses we announce: the ones an operator lists (--media-ip),
 * or, when media listens on a wildcard, this host's own interface addresses. */
#ifndef PARLEY_HOST_ADDR_H
#define PARLEY_HOST_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* Eight is more than a media host has networks; each one is a candidate in every SDP
 * answer, and browsers check each pair, so a long list only slows connecting. */
#define HOST_ADDR_MAX 8
#define HOST_ADDR_LEN 48 /* INET6_ADDRSTRLEN and a NUL */

typedef struct {
  char addr[HOST_ADDR_MAX][HOST_ADDR_LEN]; /* numeric, no brackets */
  int n;
} host_addr_list;

/* "0.0.0.0", "::" or "[::]": listening on every address of a family. */
bool host_addr_is_wildcard(const char *host);
/* "::", "[::]" and IPv6 literals. */
bool host_addr_is_ipv6(const char *host);
/* Copies host without its brackets ("[::1]" -> "::1") into out (HOST_ADDR_LEN). */
void host_addr_unbracket(const char *host, char out[HOST_ADDR_LEN]);
/* Parses "A[,B...]" of IPv4/IPv6 literals (brackets allowed); -1 and err on a bad one,
 * a wildcard, or more than HOST_ADDR_MAX. */
int host_addr_parse_list(const char *csv, host_addr_list *out, char *err, size_t errlen);
/* Appends the usable addresses of ifs (as uv_interface_addresses lists them): not
 * loopback, not link-local (169.254/16, fe80::/10: scoped to one link, never what a
 * remote browser reaches), no duplicates; IPv4 first, then IPv6 if v6. */
void host_addr_pick(const uv_interface_address_t *ifs, int n, bool v6,
                    host_addr_list *out);
/* The same from this host's interfaces; 0 addresses if it has none usable. */
void host_addr_of_host(bool v6, host_addr_list *out);
/* Whether this host can open an IPv6 socket at all. */
bool host_addr_ipv6_available(void);
/* "a, b, c" for a log line. */
void host_addr_join(const host_addr_list *l, char *out, size_t outlen);

#endif
