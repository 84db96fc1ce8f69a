/* dial — gets a token for ALIAS@DOMAIN as a Pexip client does: the domain's SRV targets
 * in RFC 2782 order (or the domain on port 443 without SRV records, or HOST:PORT as
 * given), each target's addresses from the same resolver, then request_token on one
 * target after another until one answers. A target that cannot be reached, times out or
 * answers 5xx is skipped; any other answer (a wrong PIN, an unknown room) is final. */
#ifndef PARLEY_CLIENT_DIAL_H
#define PARLEY_CLIENT_DIAL_H

#include "client/capi.h"
#include "client/srv.h"

typedef struct {
  const char *alias;
  const char *host;       /* DOMAIN, or a host / IP literal when port is set */
  uint16_t port;          /* 0: SRV discovery; else connect to host:port directly */
  uint16_t fallback_port; /* without SRV records (443) */
  const char *display_name;
  const char *pin; /* NULL: none; a PIN prompt allowing guests is answered "none" */
  bool plain_http;
  const char *ca_file;
  bool insecure;
  int timeout_ms;
  uint64_t seed; /* for the weighted order */
} dial_opts;

typedef enum {
  DIAL_OK = 0,
  DIAL_E_DNS,         /* no SRV and no address, or the DNS lookup failed */
  DIAL_E_UNREACHABLE, /* every target failed (connect, timeout, TLS, 5xx) */
  DIAL_E_REFUSED,     /* the conference said no: PIN, not found, token refused */
} dial_status;

typedef struct {
  dial_status status;
  const char *message; /* one line: why it failed, or where it joined */
  capi *c;             /* on DIAL_OK: the session's client, now the caller's */
  json_t *token;       /* on DIAL_OK: request_token's result (borrowed) */
  size_t tried;        /* targets tried */
} dial_result;
typedef void (*dial_cb)(const dial_result *res, void *ud);

typedef struct dial dial;
dial *dial_start(uv_loop_t *loop, http_client *http, srv_resolver *res,
                 const dial_opts *o, dial_cb cb, void *ud);
/* Stops a dial in flight; its callback is not called. */
void dial_cancel(dial *d);

#endif
