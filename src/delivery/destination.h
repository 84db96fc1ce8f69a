/* destination — which URLs and addresses Parley may send uploads and webhooks to: http(s)
 * only, no userinfo, a host on the allow-list when there is one, never parleyd's own
 * listener, and no loopback, private or link-local address unless the operator allows it.
 */
#ifndef PARLEY_DESTINATION_H
#define PARLEY_DESTINATION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct {
  /* NULL-terminated list of "host" or "*.domain" entries, or NULL for any host. An entry
   * that is an address ("10.0.0.7", "[fd00::7]") also lets that one address through the
   * private-address rule below. */
  const char *const *allow;
  /* false: refuse loopback (127/8, ::1), unspecified (0/8, ::), private (10/8, 172.16/12,
   * 192.168/16), shared CGNAT (100.64/10), link-local (169.254/16, fe80::/10) and
   * unique-local (fc00::/7) addresses, also in IPv4-mapped form. */
  bool allow_private;
  const char *self_host_port; /* "ADDR:PORT" of parleyd's HTTP listener, or NULL */
} destination_rules;

/* Checks a URL. Returns 0 if it may be used, else -1 with a reason in reason[n]. Does no
 * DNS: a host given as an address is checked as that address here, a name is checked as
 * the addresses it resolves to by destination_check_addr when the request connects. */
int destination_check(const char *url, const destination_rules *rules, char *reason,
                      size_t n);

/* Checks the address a request is about to connect to (AF_INET or AF_INET6, with its
 * port). Returns 0 if allowed, else -1 with a reason in reason[n]. */
int destination_check_addr(const struct sockaddr *sa, const destination_rules *rules,
                           char *reason, size_t n);

/* Splits a comma-separated host list into a NULL-terminated array (one allocation, free
 * it with free). "" or NULL gives NULL: any host. */
char **destination_list_parse(const char *csv);

#endif
