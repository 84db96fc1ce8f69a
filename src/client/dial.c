/* dial — discovery, then request_token on each target in turn. */
#include "client/dial.h"

#include "core/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dial {
  uv_loop_t *loop;
  http_client *http;
  srv_resolver *res;
  dial_opts o;
  char *alias, *host, *name, *pin, *ca_file;
  dial_cb cb;
  void *ud;
  uint64_t rng;
  srv_target *t;
  size_t n, at;
  bool from_srv;
  size_t no_address; /* targets whose addresses could not be found */
  capi *c;
  bool pin_none_tried;
  char errors[2048];
  bool busy; /* a lookup is in flight (its callback must find the dial alive) */
  bool cancelled;
};

static void try_target(dial *d);

static void finish(dial *d, dial_status st, const char *msg, capi *c, json_t *token) {
  dial_result r = {.status = st,
                   .message = msg,
                   .c = c,
                   .token = token,
                   .tried = d->at < d->n ? d->at + 1 : d->n};
  if (c == d->c)
    d->c = NULL;
  d->cb(&r, d->ud);
  dial_cancel(d);
}

/* Adds "host:port (why)" to the list of what went wrong. */
static void note_error(dial *d, const char *why) {
  size_t len = strlen(d->errors);
  snprintf(d->errors + len, sizeof d->errors - len, "%s%s:%u (%s)", len ? "; " : "",
           d->t[d->at].host, d->t[d->at].port, why);
}

static void next_target(dial *d) {
  if (d->c) {
    capi_free(d->c);
    d->c = NULL;
  }
  d->pin_none_tried = false;
  d->at++;
  try_target(d);
}

static const char *result_text(const capi_reply *r) {
  const char *s = json_string_value(r->result);
  return s ? s : "";
}

static void on_token(const capi_reply *r, void *ud) {
  dial *d = ud;
  char msg[2300];
  if (r->status == 200 && json_is_object(r->result)) {
    snprintf(msg, sizeof msg, "joined %s via %s", d->alias, capi_target(d->c));
    finish(d, DIAL_OK, msg, d->c, r->result);
    return;
  }
  if (r->status == 0 || r->status >= 500) {
    char why[600];
    if (r->status)
      snprintf(why, sizeof why, "HTTP %d%s%s", r->status, result_text(r)[0] ? ": " : "",
               result_text(r));
    else
      snprintf(why, sizeof why, "%s", r->error[0] ? r->error : "no answer");
    note_error(d, why);
    next_target(d);
    return;
  }
  if (r->status == 403 && json_is_object(r->result) &&
      json_object_get(r->result, "pin")) {
    const char *guest_pin = json_string_value(json_object_get(r->result, "guest_pin"));
    if (!d->pin && !d->pin_none_tried && guest_pin && strcmp(guest_pin, "none") == 0) {
      d->pin_none_tried = true; /* PIN optional: join as a guest, as clients do */
      capi_request_token(d->c, d->name, "none", on_token, d);
      return;
    }
    snprintf(msg, sizeof msg, "%s needs a PIN (give --pin)", d->alias);
    finish(d, DIAL_E_REFUSED, msg, NULL, NULL);
    return;
  }
  if (r->status == 403 && json_is_object(r->result)) {
    snprintf(msg, sizeof msg, "%s asks for %s, which parley does not support", d->alias,
             json_object_get(r->result, "conference_extension") ? "a conference extension"
                                                                : "single sign-on");
    finish(d, DIAL_E_REFUSED, msg, NULL, NULL);
    return;
  }
  if (r->status == 404) {
    snprintf(msg, sizeof msg, "conference %s not found on %s%s%s", d->alias,
             capi_target(d->c), result_text(r)[0] ? ": " : "", result_text(r));
    finish(d, DIAL_E_REFUSED, msg, NULL, NULL);
    return;
  }
  snprintf(msg, sizeof msg, "%s refused the token (HTTP %d)%s%s", capi_target(d->c),
           r->status, result_text(r)[0] ? ": " : "", result_text(r));
  if (r->status == 403 && strcmp(result_text(r), "Invalid PIN") == 0)
    snprintf(msg, sizeof msg, "wrong PIN for %s (%s: Invalid PIN)", d->alias,
             capi_target(d->c));
  finish(d, DIAL_E_REFUSED, msg, NULL, NULL);
}

static bool is_ip_literal(const char *h) {
  unsigned char buf[16];
  return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

static void connect_target(dial *d, const char *addrs) {
  srv_target *t = &d->t[d->at];
  char resolve[1200];
  if (addrs)
    snprintf(resolve, sizeof resolve, "%s:%u:%s", t->host, t->port, addrs);
  capi_endpoint ep = {.host = t->host,
                      .port = t->port,
                      .resolve = addrs ? resolve : NULL,
                      .plain_http = d->o.plain_http,
                      .ca_file = d->ca_file,
                      .insecure = d->o.insecure,
                      .timeout_ms = d->o.timeout_ms};
  d->c = capi_new(d->loop, d->http, &ep, d->alias);
  capi_request_token(d->c, d->name, d->pin, on_token, d);
}

static void on_addrs(const char *error, const char *addrs, void *ud) {
  dial *d = ud;
  d->busy = false;
  if (d->cancelled) {
    free(d);
    return;
  }
  if (error) {
    d->no_address++;
    note_error(d, error);
    next_target(d);
    return;
  }
  connect_target(d, addrs);
}

static void try_target(dial *d) {
  if (d->at >= d->n) {
    char msg[2300];
    if (!d->from_srv && d->no_address == d->n && d->o.port == 0)
      snprintf(msg, sizeof msg,
               "no SRV record for _pexapp._tcp.%s and no A/AAAA record for %s", d->host,
               d->host);
    else if (d->no_address == d->n)
      snprintf(msg, sizeof msg, "no address for any target: %s", d->errors);
    else
      snprintf(msg, sizeof msg, "%s: %zu target%s tried, none answered: %s", d->host,
               d->n, d->n == 1 ? "" : "s", d->errors);
    finish(d, d->no_address == d->n ? DIAL_E_DNS : DIAL_E_UNREACHABLE, msg, NULL, NULL);
    return;
  }
  if (is_ip_literal(d->t[d->at].host)) {
    connect_target(d, NULL);
    return;
  }
  d->busy = true;
  srv_resolve_host(d->res, d->t[d->at].host, on_addrs, d);
}

static void on_targets(const srv_result *res, void *ud) {
  dial *d = ud;
  d->busy = false;
  if (d->cancelled) {
    free(d);
    return;
  }
  if (res->error) {
    finish(d, DIAL_E_DNS, res->error, NULL, NULL);
    return;
  }
  d->t = xcalloc(res->n, sizeof *d->t);
  memcpy(d->t, res->t, res->n * sizeof *d->t);
  d->n = res->n;
  d->from_srv = res->from_srv;
  try_target(d);
}

dial *dial_start(uv_loop_t *loop, http_client *http, srv_resolver *res,
                 const dial_opts *o, dial_cb cb, void *ud) {
  dial *d = xcalloc(1, sizeof *d);
  d->loop = loop;
  d->http = http;
  d->res = res;
  d->o = *o;
  d->alias = xstrdup(o->alias);
  d->host = xstrdup(o->host);
  d->name = xstrdup(o->display_name);
  d->pin = o->pin ? xstrdup(o->pin) : NULL;
  d->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
  d->cb = cb;
  d->ud = ud;
  d->rng = o->seed;
  if (o->port || is_ip_literal(o->host)) {
    srv_target t = {.port = o->port ? o->port : o->fallback_port};
    snprintf(t.host, sizeof t.host, "%s", o->host);
    d->t = xcalloc(1, sizeof *d->t);
    memcpy(d->t, &t, sizeof t);
    d->n = 1;
    try_target(d);
    return d;
  }
  d->busy = true;
  srv_lookup(res, o->host, o->fallback_port, &d->rng, on_targets, d);
  return d;
}

void dial_cancel(dial *d) {
  if (!d)
    return;
  if (d->c)
    capi_free(d->c);
  d->c = NULL;
  free(d->alias);
  free(d->host);
  free(d->name);
  free(d->pin);
  free(d->ca_file);
  free(d->t);
  d->alias = d->host = d->name = d->pin = d->ca_file = NULL;
  d->t = NULL;
  if (d->busy) { /* the lookup's callback frees it */
    d->cancelled = true;
    return;
  }
  free(d);
}
