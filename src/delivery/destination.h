/* destination — which URLs Parley may send uploads and webhooks to: http(s) only, no
 * userinfo, a host on the allow-list when there is one, and never parleyd's own listener.
 */
#ifndef PARLEY_DESTINATION_H
#define PARLEY_DESTINATION_H

#include <stddef.h>

/* allow: NULL-terminated list of "host" or "*.domain" entries, or NULL for any host.
 * self_host_port: "ADDR:PORT" of parleyd's HTTP listener, or NULL. Returns 0 if the URL
 * may be used, else -1 with a reason in reason[n]. Does no DNS. */
int destination_check(const char *url, const char *const *allow,
                      const char *self_host_port, char *reason, size_t n);

/* Splits a comma-separated host list into a NULL-terminated array (one allocation, free
 * it with free). "" or NULL gives NULL: any host. */
char **destination_list_parse(const char *csv);

#endif
