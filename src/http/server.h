/* server — the HTTP/1.1 server on the control loop (libh2o, libuv build), or HTTPS
 * with HTTP/2 by ALPN: listening, accepting, handing each request to one callback, and
 * helpers to read and answer it. */
#ifndef PARLEY_HTTP_SERVER_H
#define PARLEY_HTTP_SERVER_H

#include <h2o.h>
#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

typedef struct http_server http_server;
typedef void (*http_request_cb)(void *ud, h2o_req_t *req);

/* Listens on host:port (port 0 picks one); serves the files of web_dir (if not
 * NULL) under /web/. Returns NULL with err on failure. */
http_server *http_server_start(uv_loop_t *loop, const char *host, int port,
                               size_t max_entity, const char *web_dir, http_request_cb cb,
                               void *ud, char *err, size_t errlen);
int http_server_port(const http_server *srv);
/* From now on new connections speak TLS with ctx (the server takes over the caller's
 * reference; http/tls.h makes one); open ones keep the context they started with.
 * Called again with a new context, e.g. a reloaded certificate, it replaces the old. */
void http_server_set_tls(http_server *srv, SSL_CTX *ctx);
bool http_server_is_tls(const http_server *srv);
/* Whether req came over TLS (https, wss), to us or, from a trusted proxy that says so
 * in X-Forwarded-Proto, to the proxy. */
bool http_request_is_tls(h2o_req_t *req);
/* Stops accepting and asks idle keep-alive connections to close. */
void http_server_stop_accepting(http_server *srv);
size_t http_server_connections(const http_server *srv);
/* At most max connections open from one peer address (0: no limit); more are
 * answered 429 and closed before their request is read. */
void http_server_limit_per_address(http_server *srv, size_t max);
uint64_t http_server_refused_connections(const http_server *srv);
/* --trust-proxy: comma-separated addresses and ranges of reverse proxies. A request
 * whose TCP peer is one of them is for the client its X-Forwarded-For names (the
 * rightmost entry that is not a trusted proxy): http_peer_addr gives that client, and
 * the per-address connection limit counts the connection against it, per request,
 * instead of against the proxy. Returns 0, or -1 with err for a bad list. */
int http_server_trust_proxies(http_server *srv, const char *list, char *err,
                              size_t errlen);

/* Cross-origin access for browser clients on other origins: "*" or one origin;
 * NULL or "" turns CORS headers off. */
void http_set_cors_origin(const char *origin);
/* Adds the headers every response carries (CORS, no-store). */
void http_add_common_headers(h2o_req_t *req);
/* Answers a CORS preflight (OPTIONS). */
void http_respond_preflight(h2o_req_t *req);

/* Request helpers. Header names are matched case-insensitively. */
bool http_method_is(const h2o_req_t *req, const char *method);
/* The header's value or NULL; *len gets its length. */
const char *http_header(const h2o_req_t *req, const char *name, size_t *len);
/* Copies header name's value into out, NUL-terminated: 1, or 0 when absent. -1 when it
 * does not fit in cap bytes (out is then ""): refuse it, never treat it as absent. */
int http_header_copy(const h2o_req_t *req, const char *name, char *out, size_t cap);
/* The query string (without '?') and its length; NULL if none. */
const char *http_query(const h2o_req_t *req, size_t *len);
/* The path without the query. */
void http_path(const h2o_req_t *req, const char **path, size_t *len);
/* The client's address as text: the TCP peer's, or behind a trusted proxy the one
 * X-Forwarded-For gives (http_server_trust_proxies). */
void http_peer_addr(h2o_req_t *req, char *out, size_t outlen);

void http_respond(h2o_req_t *req, int status, const char *content_type, const char *body,
                  size_t len);
/* Sends body as JSON (stolen reference). */
void http_respond_json(h2o_req_t *req, int status, json_t *body);
/* The reason phrase of an HTTP status we answer with ("Error" for others of 400 up). */
const char *http_reason_phrase(int status);

#endif
