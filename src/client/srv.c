/* srv — SRV discovery and address lookups with c-ares on a libuv loop: c-ares names the
 * sockets it wants watched (ARES_OPT_SOCK_STATE_CB → uv_poll) and when it wants to be
 * woken (ares_timeout → uv_timer). c-ares parses the DNS answers; nothing here does. */
#include "client/srv.h"

#include "core/mem.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 32

typedef struct sock_watch {
  uv_poll_t poll;
  ares_socket_t fd;
  struct srv_resolver *r;
  struct sock_watch *next;
} sock_watch;

struct srv_resolver {
  uv_loop_t *loop;
  ares_channel ch;
  bool have_channel;
  uv_timer_t timer;
  sock_watch *socks;
  int open_handles; /* the timer and the polls not yet closed */
  bool freeing;
};

static void arm_timer(srv_resolver *r);

static void maybe_free(srv_resolver *r) {
  if (r->freeing && r->open_handles == 0)
    free(r);
}

static void on_handle_closed(uv_handle_t *h) {
  srv_resolver *r = h->data;
  if (h->type == UV_POLL)
    free(((char *)h) - offsetof(sock_watch, poll));
  r->open_handles--;
  maybe_free(r);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sock_watch *w = (sock_watch *)((char *)h - offsetof(sock_watch, poll));
  srv_resolver *r = w->r;
  ares_socket_t fd = w->fd;
  if (status < 0)
    ares_process_fd(r->ch, fd, fd);
  else
    ares_process_fd(r->ch, (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
                    (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
  arm_timer(r);
}

static void on_timer(uv_timer_t *t) {
  srv_resolver *r = t->data;
  ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  arm_timer(r);
}

static void arm_timer(srv_resolver *r) {
  if (r->freeing)
    return;
  struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
  if (!tvp) {
    uv_timer_stop(&r->timer);
    return;
  }
  uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000;
  uv_timer_start(&r->timer, on_timer, ms ? ms : 1, 0);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable) {
  srv_resolver *r = data;
  sock_watch **pp = &r->socks, *w;
  while ((w = *pp) && w->fd != fd)
    pp = &w->next;
  if (!readable && !writable) {
    if (w) {
      *pp = w->next;
      uv_poll_stop(&w->poll);
      uv_close((uv_handle_t *)&w->poll, on_handle_closed);
    }
    return;
  }
  if (!w) {
    w = xcalloc(1, sizeof *w);
    w->fd = fd;
    w->r = r;
    if (uv_poll_init_socket(r->loop, &w->poll, fd) != 0) {
      free(w);
      return;
    }
    w->poll.data = r;
    r->open_handles++;
    w->next = r->socks;
    r->socks = w;
  }
  uv_poll_start(&w->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                on_poll);
}

srv_resolver *srv_resolver_new(uv_loop_t *loop, const char *dns_server, char *err,
                               size_t errlen) {
  static bool lib_ready;
  if (!lib_ready) {
    int rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
      snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
      return NULL;
    }
    lib_ready = true;
  }
  srv_resolver *r = xcalloc(1, sizeof *r);
  r->loop = loop;
  struct ares_options o = {0};
  o.sock_state_cb = on_sock_state;
  o.sock_state_cb_data = r;
  o.timeout = 2000; /* ms per try (ARES_OPT_TIMEOUTMS) */
  o.tries = 2;
  int rc = ares_init_options(
      &r->ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) {
    snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
    free(r);
    return NULL;
  }
  if (dns_server &&
      (rc = ares_set_servers_ports_csv(r->ch, dns_server)) != ARES_SUCCESS) {
    snprintf(err, errlen, "bad DNS server \"%s\": %s (want IP or IP:PORT)", dns_server,
             ares_strerror(rc));
    ares_destroy(r->ch);
    free(r);
    return NULL;
  }
  r->have_channel = true;
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  r->open_handles = 1;
  return r;
}

void srv_resolver_free(srv_resolver *r) {
  if (!r)
    return;
  r->freeing = true;
  /* Pending lookups end with ARES_EDESTRUCTION: their callbacks run with "DNS lookup
   * cancelled"; the sockets it closes come back through on_sock_state. */
  ares_destroy(r->ch);
  while (r->socks) {
    sock_watch *w = r->socks;
    r->socks = w->next;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_handle_closed);
  }
  uv_close((uv_handle_t *)&r->timer, on_handle_closed);
}

/* ---- SRV ---- */

typedef struct {
  srv_resolver *r;
  char domain[SRV_HOST_MAX];
  uint16_t fallback_port;
  uint64_t *rng;
  srv_targets_cb cb;
  void *ud;
} srv_query;

static void fallback(srv_query *q) {
  srv_target t = {.port = q->fallback_port};
  snprintf(t.host, sizeof t.host, "%s", q->domain);
  srv_result res = {.t = &t, .n = 1, .from_srv = false};
  q->cb(&res, q->ud);
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  srv_query *q = arg;
  (void)timeouts;
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    srv_result res = {.error = "DNS lookup cancelled"};
    q->cb(&res, q->ud);
    free(q);
    return;
  }
  char err[512];
  struct ares_srv_reply *reply = NULL;
  if (status == ARES_SUCCESS)
    status = ares_parse_srv_reply(abuf, alen, &reply);
  if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
    fallback(q);
    free(q);
    return;
  }
  if (status != ARES_SUCCESS) {
    snprintf(err, sizeof err, "DNS lookup of _pexapp._tcp.%s failed: %s", q->domain,
             ares_strerror(status));
    srv_result res = {.error = err};
    q->cb(&res, q->ud);
    free(q);
    return;
  }
  srv_target *t = xcalloc(MAX_TARGETS, sizeof *t);
  size_t n = 0;
  bool dot = false;
  for (struct ares_srv_reply *s = reply; s && n < MAX_TARGETS; s = s->next) {
    if (!s->host[0] || strcmp(s->host, ".") == 0) {
      dot = true;
      continue;
    }
    snprintf(t[n].host, sizeof t[n].host, "%s", s->host);
    t[n].priority = s->priority;
    t[n].weight = s->weight;
    t[n].port = s->port;
    n++;
  }
  ares_free_data(reply);
  srv_result res = {.t = t, .n = n, .from_srv = true};
  if (n == 0 && dot) {
    snprintf(err, sizeof err,
             "_pexapp._tcp.%s says the service is not offered (target \".\")", q->domain);
    res.error = err;
  } else if (n == 0) {
    fallback(q);
    free(t);
    free(q);
    return;
  }
  srv_order(t, n, q->rng);
  q->cb(&res, q->ud);
  free(t);
  free(q);
}

void srv_lookup(srv_resolver *r, const char *domain, uint16_t fallback_port,
                uint64_t *rng, srv_targets_cb cb, void *ud) {
  srv_query *q = xcalloc(1, sizeof *q);
  q->r = r;
  snprintf(q->domain, sizeof q->domain, "%s", domain);
  q->fallback_port = fallback_port;
  q->rng = rng;
  q->cb = cb;
  q->ud = ud;
  char name[SRV_HOST_MAX + 16];
  snprintf(name, sizeof name, "_pexapp._tcp.%s", domain);
  ares_query(r->ch, name, 1 /* C_IN */, 33 /* T_SRV */, on_srv, q);
  arm_timer(r);
}

/* ---- addresses ---- */

typedef struct {
  srv_resolver *r;
  char host[SRV_HOST_MAX];
  srv_addrs_cb cb;
  void *ud;
} addr_query;

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai) {
  addr_query *q = arg;
  (void)timeouts;
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    if (ai)
      ares_freeaddrinfo(ai);
    q->cb("DNS lookup cancelled", NULL, q->ud);
    free(q);
    return;
  }
  char list[1024] = "", err[512];
  size_t len = 0;
  if (status == ARES_SUCCESS && ai) {
    for (struct ares_addrinfo_node *n = ai->nodes; n; n = n->ai_next) {
      char a[INET6_ADDRSTRLEN];
      const void *src =
          n->ai_family == AF_INET6
              ? (const void *)&((struct sockaddr_in6 *)n->ai_addr)->sin6_addr
              : (const void *)&((struct sockaddr_in *)n->ai_addr)->sin_addr;
      if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
        continue;
      if (!inet_ntop(n->ai_family, src, a, sizeof a))
        continue;
      int w = snprintf(list + len, sizeof list - len,
                       n->ai_family == AF_INET6 ? "%s[%s]" : "%s%s", len ? "," : "", a);
      if (w < 0 || (size_t)w >= sizeof list - len)
        break;
      len += (size_t)w;
    }
  }
  if (ai)
    ares_freeaddrinfo(ai);
  if (len == 0) {
    snprintf(err, sizeof err, "no A/AAAA record for %s%s%s", q->host,
             status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA
                 ? ""
                 : ": ",
             status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA
                 ? ""
                 : ares_strerror(status));
    q->cb(err, NULL, q->ud);
  } else {
    q->cb(NULL, list, q->ud);
  }
  free(q);
}

void srv_resolve_host(srv_resolver *r, const char *host, srv_addrs_cb cb, void *ud) {
  addr_query *q = xcalloc(1, sizeof *q);
  q->r = r;
  snprintf(q->host, sizeof q->host, "%s", host);
  q->cb = cb;
  q->ud = ud;
  struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC};
  ares_getaddrinfo(r->ch, host, NULL, &hints, on_addrinfo, q);
  arm_timer(r);
}
