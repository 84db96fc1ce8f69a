/* server — libh2o HTTP/1.1 server on the control loop, HTTPS with HTTP/2 when given a
 * TLS context. */
#include "http/server.h"

#include "core/cidr.h"
#include "core/hmap.h"
#include "core/host_addr.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/forwarded.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
  h2o_handler_t super; /* must be first: h2o hands this pointer back */
  http_server *srv;
} root_handler;

struct http_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  h2o_globalconf_t globalconf;
  h2o_context_t ctx;
  h2o_accept_ctx_t accept_ctx;
  http_request_cb cb;
  void *ud;
  int port;
  size_t connections;
  bool accepting;
  size_t max_per_address; /* 0: no limit */
  uint64_t refused_connections;
  hmap *per_address;         /* peer address bytes -> address_tally */
  cidr_list trusted_proxies; /* --trust-proxy */
  hmap *proxied;             /* h2o socket pointer -> connection, from a trusted proxy */
};

/* Connections open from one peer address; freed when it falls to zero. */
typedef struct {
  size_t n;
  size_t len;
  unsigned char key[17]; /* family, then the 4 or 16 address bytes */
} address_tally;

typedef struct {
  uv_tcp_t tcp;
  http_server *srv;
  address_tally *tally; /* NULL when not counted */
  SSL_CTX *ssl_ctx;     /* a reference to the context it was accepted with, or NULL */
  h2o_socket_t *sock;   /* set when the peer is a trusted proxy */
} connection;

static bool admit_forwarded(http_server *srv, h2o_req_t *req);

/* The server a request came to: its context is the one inside http_server. */
static http_server *server_of(h2o_req_t *req) {
  return (http_server *)(void *)((char *)req->conn->ctx - offsetof(http_server, ctx));
}

static const char *cors_origin;

void http_set_cors_origin(const char *origin) {
  cors_origin = origin && *origin ? origin : NULL;
}

void http_add_common_headers(h2o_req_t *req) {
  if (cors_origin)
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN,
                   NULL, cors_origin, strlen(cors_origin));
}

void http_respond_preflight(h2o_req_t *req) {
  req->res.status = 204;
  req->res.reason = "No Content";
  http_add_common_headers(req);
  if (cors_origin) {
    /* The client API sends its token and PIN as custom headers. */
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("access-control-allow-headers"), 0, NULL,
                          H2O_STRLIT("token, pin, content-type, authorization"));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("access-control-allow-methods"), 0, NULL,
                          H2O_STRLIT("GET, POST, OPTIONS"));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("access-control-max-age"), 0, NULL,
                          H2O_STRLIT("600"));
  }
  h2o_send_inline(req, "", 0);
}

static void respond_failed(h2o_req_t *req, int status, const char *why) {
  http_respond_json(req, status,
                    json_pack("{s:s, s:s}", "status", "failed", "result", why));
}

/* True if the header block holds a header named name (lower case: h2o lower-cases the
 * names it parsed, in place). */
static bool head_has(const char *head, size_t len, const char *name) {
  size_t n = strlen(name);
  for (const char *p = head, *end = head + len; p < end;) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t line = (size_t)((eol ? eol : end) - p);
    if (line > n && memcmp(p, name, n) == 0 && p[n] == ':')
      return true;
    p += line + 1;
  }
  return false;
}

/* RFC 9112 §6.1: a request with both Content-Length and Transfer-Encoding may be an
 * attempt at request smuggling, and the connection must close after the answer. libh2o
 * 2.2.5 keeps neither header in req->headers and reads the body as chunked on a
 * connection it keeps open, so the conflict is read from the request's own bytes: for
 * HTTP/1 they are still at the start of the socket's input buffer, up to the body that
 * follows them. Answers 400, closes, and returns true when it finds both. */
static bool refuse_smuggling(h2o_req_t *req) {
  if (req->version >= 0x200 || !req->entity.base || !req->conn->callbacks->get_socket)
    return false;
  h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
  if (!sock || !sock->input)
    return false;
  const char *start = sock->input->bytes, *body = req->entity.base;
  if (body < start || body > start + sock->input->size)
    return false;
  size_t len = (size_t)(body - start);
  if (!head_has(start, len, "content-length") ||
      !head_has(start, len, "transfer-encoding"))
    return false;
  req->http1_is_persistent = 0; /* h2o answers with Connection: close and closes */
  respond_failed(req, 400,
                 "a request may not have both Content-Length and "
                 "Transfer-Encoding");
  return true;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  root_handler *h = (root_handler *)self;
  if (admit_forwarded(h->srv, req) && !refuse_smuggling(req))
    h->srv->cb(h->srv->ud, req);
  return 0;
}

/* Runs before h2o's file handler on /web: that handler opens root + the decoded path as
 * it is, so a %00 in the path cut the file name short (/web/a.txt%00.html served a.txt)
 * and symbolic links were followed anywhere. */
typedef struct {
  h2o_handler_t super;
  char root[PATH_MAX]; /* the web directory, resolved */
} web_guard;

/* True if path, with its symbolic links resolved, lies inside root, or does not exist
 * (then the file handler answers 404). A directory's index.html is checked too. */
static bool inside_root(const char *root, const char *path, int depth) {
  char real[PATH_MAX];
  if (!realpath(path, real))
    return true;
  size_t n = strlen(root);
  if (strcmp(root, "/") != 0 &&
      (strncmp(real, root, n) != 0 || (real[n] != '/' && real[n] != '\0')))
    return false;
  struct stat sb;
  if (depth == 0 && stat(real, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    char index[PATH_MAX + 16];
    snprintf(index, sizeof index, "%s/index.html", real);
    return inside_root(root, index, 1);
  }
  return true;
}

static int on_web_req(h2o_handler_t *self, h2o_req_t *req) {
  web_guard *g = (web_guard *)self;
  if (!admit_forwarded(server_of(req), req) || refuse_smuggling(req))
    return 0;
  h2o_iovec_t p = req->path_normalized; /* percent-decoded: "/web/..." */
  if (memchr(p.base, '\0', p.len)) {
    respond_failed(req, 400, "the path has a NUL byte");
    return 0;
  }
  static const size_t prefix = sizeof "/web" - 1;
  char path[PATH_MAX * 2];
  int len = snprintf(path, sizeof path, "%s%.*s", g->root,
                     (int)(p.len > prefix ? p.len - prefix : 0), p.base + prefix);
  if (len < 0 || (size_t)len >= sizeof path || !inside_root(g->root, path, 0)) {
    respond_failed(req, 404, "Not found");
    return 0;
  }
  return -1; /* h2o's file handler serves it */
}

static void release_tally(http_server *srv, address_tally *t) {
  if (t && --t->n == 0) {
    hmap_remove(srv->per_address, t->key, t->len);
    free(t);
  }
}

static void on_conn_closed(uv_handle_t *handle) {
  connection *c = (connection *)handle;
  c->srv->connections--;
  SSL_CTX_free(c->ssl_ctx); /* h2o freed the connection's SSL before this callback */
  release_tally(c->srv, c->tally);
  /* Only if still ours: a new socket at the same address would have replaced it. */
  if (c->sock && hmap_get(c->srv->proxied, &c->sock, sizeof c->sock) == c)
    hmap_remove(c->srv->proxied, &c->sock, sizeof c->sock);
  free(c);
}

static int peer_address(uv_tcp_t *tcp, net_addr *a) {
  struct sockaddr_storage ss;
  int n = sizeof ss;
  if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &n) != 0)
    return -1;
  return net_addr_from_sockaddr((struct sockaddr *)&ss, a);
}

/* Counts c against address a; false when a is at the limit. Each connection holds a
 * socket and h2o's buffers (and an event stream a snapshot): one address must not
 * take the process's file descriptors. */
static bool count_address(http_server *srv, connection *c, const net_addr *a) {
  unsigned char key[17];
  size_t len = net_addr_key(a, key);
  address_tally *t = hmap_get(srv->per_address, key, len);
  if (t && t->n >= srv->max_per_address)
    return false;
  if (!t) {
    t = xcalloc(1, sizeof *t);
    memcpy(t->key, key, len);
    t->len = len;
    hmap_put(srv->per_address, t->key, len, t);
  }
  t->n++;
  c->tally = t;
  return true;
}

/* The client a request is for: the TCP peer, or behind a trusted proxy the rightmost
 * X-Forwarded-For entry that is not a trusted proxy. */
static void request_client(http_server *srv, h2o_req_t *req, const net_addr *peer,
                           net_addr *out) {
  *out = *peer;
  if (!cidr_list_contains(&srv->trusted_proxies, peer))
    return;
  const char *values[16];
  size_t lens[16], n = 0;
  for (size_t i = 0; i < req->headers.size && n < 16; i++) {
    const h2o_header_t *h = &req->headers.entries[i];
    if (h->name->len == 15 && strncasecmp(h->name->base, "x-forwarded-for", 15) == 0) {
      values[n] = h->value.base;
      lens[n++] = h->value.len;
    }
  }
  net_addr client;
  if (n && forwarded_client(values, lens, n, &srv->trusted_proxies, &client) == 0)
    *out = client;
}

static int request_peer(h2o_req_t *req, net_addr *out) {
  struct sockaddr_storage ss;
  socklen_t n = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
  if (n == 0)
    return -1;
  return net_addr_from_sockaddr((struct sockaddr *)&ss, out);
}

/* A connection from a trusted proxy is counted against the client of the request it
 * carries, not against the proxy (which would lump every client together): moved to
 * each new request's client, so a kept-alive upstream connection counts once, for the
 * client it last served. A client at the limit gets 429 and the connection closes. */
static bool admit_forwarded(http_server *srv, h2o_req_t *req) {
  if (!srv->proxied || !req->conn->callbacks->get_socket)
    return true;
  h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
  connection *c = sock ? hmap_get(srv->proxied, &sock, sizeof sock) : NULL;
  net_addr peer, client;
  if (!c || !srv->max_per_address || request_peer(req, &peer) != 0)
    return true;
  request_client(srv, req, &peer, &client);
  unsigned char key[17];
  size_t len = net_addr_key(&client, key);
  if (c->tally && c->tally->len == len && memcmp(c->tally->key, key, len) == 0)
    return true;
  release_tally(srv, c->tally);
  c->tally = NULL;
  if (count_address(srv, c, &client))
    return true;
  srv->refused_connections++;
  req->http1_is_persistent = 0; /* h2o closes after the answer */
  respond_failed(req, 429, "Too many connections from this address");
  return false;
}

/* An answer without reading the request: the connection closes right after (at once
 * on TLS, where plain text means nothing to the client). */
static void refuse_connection(connection *c) {
  if (c->srv->accept_ctx.ssl_ctx) {
    uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
    return;
  }
  static const char msg[] =
      "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: 69\r\n\r\n"
      "{\"status\":\"failed\",\"result\":\"Too many connections from this address\"}";
  uv_buf_t b = uv_buf_init((char *)msg, sizeof msg - 1);
  uv_try_write((uv_stream_t *)&c->tcp, &b, 1); /* best effort: a new socket has room */
  uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
}

static void on_accept(uv_stream_t *listener, int status) {
  http_server *srv = listener->data;
  if (status != 0)
    return;
  connection *c = xcalloc(1, sizeof *c);
  c->srv = srv;
  uv_tcp_init(listener->loop, &c->tcp);
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
    return;
  }
  net_addr peer;
  bool known = peer_address(&c->tcp, &peer) == 0;
  bool proxy = known && srv->proxied && cidr_list_contains(&srv->trusted_proxies, &peer);
  if (known && !proxy && srv->max_per_address && !count_address(srv, c, &peer)) {
    srv->refused_connections++;
    return refuse_connection(c);
  }
  uv_tcp_nodelay(&c->tcp, 1);
  srv->connections++;
  /* h2o keeps a bare pointer to the context until the client's hello arrives (then
   * its SSL takes a reference): the connection holds one, so a reload can let go of
   * the old context at once. */
  c->ssl_ctx = srv->accept_ctx.ssl_ctx;
  if (c->ssl_ctx)
    SSL_CTX_up_ref(c->ssl_ctx);
  h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
  if (proxy) { /* counted per request, against its client (admit_forwarded) */
    c->sock = sock;
    hmap_put(srv->proxied, &c->sock, sizeof c->sock, c);
  }
  h2o_accept(&srv->accept_ctx, sock);
}

static int bind_listener(http_server *srv, const char *host, int port, char *err,
                         size_t errlen) {
  struct sockaddr_storage addr;
  char bare[HOST_ADDR_LEN];
  host_addr_unbracket(host, bare); /* "[::]:8080" names "::" */
  if (uv_ip4_addr(bare, port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(bare, port, (struct sockaddr_in6 *)&addr) != 0) {
    snprintf(err, errlen, "bad listen address \"%s\"", host);
    return -1;
  }
  uv_tcp_init(srv->loop, &srv->listener);
  srv->listener.data = srv;
  int rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_accept);
  if (rc != 0) {
    snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
    return -1;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len);
  srv->port = bound.ss_family == AF_INET6
                  ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                  : ntohs(((struct sockaddr_in *)&bound)->sin_port);
  return 0;
}

http_server *http_server_start(uv_loop_t *loop, const char *host, int port,
                               size_t max_entity, const char *web_dir, http_request_cb cb,
                               void *ud, char *err, size_t errlen) {
  http_server *srv = xcalloc(1, sizeof *srv);
  srv->loop = loop;
  srv->cb = cb;
  srv->ud = ud;
  srv->per_address = hmap_new();
  h2o_config_init(&srv->globalconf);
  /* Bodies up to this size reach us; we answer JSON 413s ourselves below it. */
  srv->globalconf.max_request_entity_size = max_entity;
  srv->globalconf.http1.upgrade_to_http2 = 0;
  srv->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("parley"));
  h2o_hostconf_t *host_conf = h2o_config_register_host(
      &srv->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  if (web_dir) {
    /* Static pages (the browser client and test pages), before the catch-all. */
    static const char *index_files[] = {"index.html", NULL};
    h2o_pathconf_t *web = h2o_config_register_path(host_conf, "/web", 0);
    web_guard *g = (web_guard *)h2o_create_handler(web, sizeof *g);
    g->super.on_req = on_web_req;
    if (!realpath(web_dir, g->root)) /* not there (yet): nothing under it resolves */
      snprintf(g->root, sizeof g->root, "%s", web_dir);
    h2o_file_register(web, g->root, index_files, NULL, 0);
  }
  h2o_pathconf_t *path = h2o_config_register_path(host_conf, "/", 0);
  root_handler *h = (root_handler *)h2o_create_handler(path, sizeof *h);
  h->super.on_req = on_req;
  h->srv = srv;
  h2o_context_init(&srv->ctx, loop, &srv->globalconf);
  srv->accept_ctx.ctx = &srv->ctx;
  srv->accept_ctx.hosts = srv->globalconf.hosts;
  if (bind_listener(srv, host, port, err, errlen) != 0)
    return NULL; /* the process exits: nothing to unwind */
  srv->accepting = true;
  return srv;
}

int http_server_port(const http_server *srv) { return srv->port; }

void http_server_set_tls(http_server *srv, SSL_CTX *ctx) {
  SSL_CTX *old = srv->accept_ctx.ssl_ctx;
  srv->accept_ctx.ssl_ctx = ctx; /* only new connections see it */
  SSL_CTX_free(old);             /* open connections hold their own references */
}

bool http_server_is_tls(const http_server *srv) {
  return srv->accept_ctx.ssl_ctx != NULL;
}

/* The last X-Forwarded-Proto says "https": the scheme the client used with the proxy. */
static bool forwarded_https(h2o_req_t *req) {
  const h2o_iovec_t *last = NULL;
  for (size_t i = 0; i < req->headers.size; i++) {
    const h2o_header_t *h = &req->headers.entries[i];
    if (h->name->len == 17 && strncasecmp(h->name->base, "x-forwarded-proto", 17) == 0)
      last = &h->value;
  }
  return last && last->len == 5 && strncasecmp(last->base, "https", 5) == 0;
}

bool http_request_is_tls(h2o_req_t *req) {
  h2o_socket_t *sock = req->conn->callbacks->get_socket
                           ? req->conn->callbacks->get_socket(req->conn)
                           : NULL;
  if (!sock)
    return false;
  if (sock->ssl)
    return true;
  /* Behind a trusted proxy that ended TLS, the client still spoke https: URLs we hand
   * it (RTM's ws_endpoint) must say wss, or a page on https may not open them. */
  http_server *srv = server_of(req);
  return srv->proxied && hmap_get(srv->proxied, &sock, sizeof sock) &&
         forwarded_https(req);
}

size_t http_server_connections(const http_server *srv) { return srv->connections; }

void http_server_limit_per_address(http_server *srv, size_t max) {
  srv->max_per_address = max;
}

int http_server_trust_proxies(http_server *srv, const char *list, char *err,
                              size_t errlen) {
  cidr_list_free(&srv->trusted_proxies);
  if (cidr_list_parse(list, &srv->trusted_proxies, err, errlen) != 0)
    return -1;
  if (srv->trusted_proxies.n && !srv->proxied)
    srv->proxied = hmap_new();
  return 0;
}

uint64_t http_server_refused_connections(const http_server *srv) {
  return srv->refused_connections;
}

void http_server_stop_accepting(http_server *srv) {
  if (!srv->accepting)
    return;
  srv->accepting = false;
  uv_close((uv_handle_t *)&srv->listener, NULL);
  h2o_context_request_shutdown(&srv->ctx);
}

bool http_method_is(const h2o_req_t *req, const char *method) {
  size_t n = strlen(method);
  return req->method.len == n && memcmp(req->method.base, method, n) == 0;
}

const char *http_header(const h2o_req_t *req, const char *name, size_t *len) {
  size_t n = strlen(name);
  for (size_t i = 0; i < req->headers.size; i++) {
    const h2o_header_t *h = &req->headers.entries[i];
    if (h->name->len == n && strncasecmp(h->name->base, name, n) == 0) {
      *len = h->value.len;
      return h->value.base;
    }
  }
  return NULL;
}

int http_header_copy(const h2o_req_t *req, const char *name, char *out, size_t cap) {
  size_t len;
  const char *v = http_header(req, name, &len);
  out[0] = '\0';
  if (!v)
    return 0;
  if (len >= cap)
    return -1;
  memcpy(out, v, len);
  out[len] = '\0';
  return 1;
}

const char *http_query(const h2o_req_t *req, size_t *len) {
  if (req->query_at == SIZE_MAX)
    return NULL;
  *len = req->path.len - req->query_at - 1;
  return req->path.base + req->query_at + 1;
}

void http_path(const h2o_req_t *req, const char **path, size_t *len) {
  *path = req->path.base;
  *len = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
}

void http_peer_addr(h2o_req_t *req, char *out, size_t outlen) {
  net_addr peer, client;
  out[0] = '\0';
  if (request_peer(req, &peer) != 0)
    return;
  request_client(server_of(req), req, &peer, &client);
  net_addr_format(&client, out, outlen);
}

const char *http_reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 426:
    return "Upgrade Required";
  case 429:
    return "Too Many Requests";
  case 503:
    return "Service Unavailable";
  default:
    return status < 400 ? "OK" : "Error";
  }
}

void http_respond(h2o_req_t *req, int status, const char *content_type, const char *body,
                  size_t len) {
  req->res.status = status;
  req->res.reason = http_reason_phrase(status);
  if (content_type)
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   content_type, strlen(content_type));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                 H2O_STRLIT("no-store"));
  http_add_common_headers(req);
  req->res.content_length = len; /* not chunked: the size is known */
  h2o_send_inline(req, body, len);
}

void http_respond_json(h2o_req_t *req, int status, json_t *body) {
  char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(body);
  http_respond(req, status, "application/json", text, strlen(text));
  free(text);
}
