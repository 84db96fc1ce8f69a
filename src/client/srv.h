/* srv — finds the nodes of a domain as Pexip clients do: DNS SRV `_pexapp._tcp.<domain>`
 * (ordered by srv_order), or the domain itself on a fallback port when it has no SRV
 * records, and the addresses of each target. c-ares on the caller's libuv loop: every
 * lookup is asynchronous, nothing blocks. */
#ifndef PARLEY_CLIENT_SRV_H
#define PARLEY_CLIENT_SRV_H

#include "client/srv_order.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct srv_resolver srv_resolver;

/* dns_server: "IP:PORT" or "IP" (or a comma-separated list, as c-ares'
 * servers_ports_csv), or NULL for the system's (/etc/resolv.conf). NULL with a reason in
 * err on failure. */
srv_resolver *srv_resolver_new(uv_loop_t *loop, const char *dns_server, char *err,
                               size_t errlen);
/* Ends lookups in flight (their callbacks run at once with the error "DNS lookup
 * cancelled", and must not start new ones) and frees the resolver once its handles are
 * closed. Not from inside one of its callbacks. */
void srv_resolver_free(srv_resolver *r);

typedef struct {
  const char *error;   /* NULL on success, else why (one line) */
  const srv_target *t; /* ordered targets */
  size_t n;
  bool from_srv; /* false: no SRV records, t[0] is the domain on the fallback port */
} srv_result;
typedef void (*srv_targets_cb)(const srv_result *res, void *ud);

/* Looks up _pexapp._tcp.<domain>. When the name has no SRV records (NXDOMAIN or no
 * data), the result is the single target domain:fallback_port with from_srv false. A
 * single record with target "." means the service is not offered there: an error. */
void srv_lookup(srv_resolver *r, const char *domain, uint16_t fallback_port,
                uint64_t *rng, srv_targets_cb cb, void *ud);

/* The A and AAAA addresses of host, as curl's resolve list "a,b,[v6]" (NULL on error,
 * with a reason). */
typedef void (*srv_addrs_cb)(const char *error, const char *addrs, void *ud);
void srv_resolve_host(srv_resolver *r, const char *host, srv_addrs_cb cb, void *ud);

#endif
