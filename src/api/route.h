/* route — maps a request path to what it names: a client API v2 conference,
 * participant or call action, or an admin endpoint. Pure; fuzzed in fuzz/. */
#ifndef PARLEY_ROUTE_H
#define PARLEY_ROUTE_H

#include <stddef.h>

typedef enum {
  ROUTE_NONE,
  ROUTE_CONFERENCE,  /* conferences/<alias>/<action>[/<sub>] */
  ROUTE_PARTICIPANT, /* conferences/<alias>/participants/<uuid>/<action> */
  ROUTE_CALL,        /* conferences/<alias>/participants/<uuid>/calls/<call>/<action> */
  ROUTE_HEALTHZ,
  ROUTE_METRICS,
} route_kind;

typedef struct {
  route_kind kind;
  char alias[256];
  char participant[64];
  char call[64];
  char action[64];
  char sub[256]; /* what follows some actions, e.g. theme/<sub> */
} api_route;

/* Returns 0 and fills out, or -1 when the path is not one of ours, or -2 when
 * it is ours but badly encoded (bad %-escape, overlong segment). */
int api_route_parse(const char *path, size_t len, api_route *out);

#endif
