/* client — outgoing HTTP(S) requests (webhooks, uploads, policy calls) on a libuv loop:
 * a libcurl multi handle driven by uv_poll and uv_timer, never blocking and never a
 * thread. */
#ifndef PARLEY_HTTP_CLIENT_H
#define PARLEY_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct http_client http_client;
typedef struct http_call http_call;

typedef struct {
  const char *method;         /* "GET", "POST", "PUT", "DELETE", ... */
  const char *url;            /* http:// or https:// only; redirects are not followed */
  const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
  const void *body;           /* body from memory (copied), or NULL */
  size_t body_len;
  const char *body_path;  /* or a file streamed in small chunks with Content-Length */
  int timeout_ms;         /* whole request; 0 = none (then stall_timeout_s guards it) */
  int stall_timeout_s;    /* fails if under 1 byte/s for this long; 0 = 60, -1 = never */
  int connect_timeout_ms; /* 0 = 10 s (or timeout_ms if shorter) */
  size_t max_response_bytes; /* response body kept for the callback; 0 = discarded */
  /* Asked about each address curl is about to connect to, after curl resolved the name
   * (so what is checked is what is connected to); false, with a reason in why[n], stops
   * that connection. NULL: any address. */
  bool (*addr_ok)(const struct sockaddr *sa, void *ud, char *why, size_t n);
  void *addr_ud;
  /* "HOST:PORT:ADDR[,ADDR]" entries curl uses instead of resolving HOST
   * (CURLOPT_RESOLVE): for names found by the caller's own DNS (src/client's SRV
   * discovery), so TLS still checks the certificate against HOST. NULL-terminated, or
   * NULL. */
  const char *const *resolve;
  const char *ca_file; /* CA bundle to verify HTTPS servers with; NULL = the system's */
  bool insecure;       /* HTTPS without certificate or host name verification */
} http_request;

typedef struct {
  int status;        /* HTTP status, or 0 for a transport error */
  const char *error; /* curl's error text; "" when a response arrived */
  int retry_after_s; /* Retry-After in seconds from now, or -1 if absent */
  const char *body;  /* up to max_response_bytes of the response body, NUL-ended */
  size_t body_len;
  bool refused;       /* addr_ok refused every address tried; error says why */
  bool not_connected; /* no connection was made: nothing of the request was sent */
} http_result;

/* Called on the loop once per request (never from inside http_client_send). */
typedef void (*http_done_cb)(const http_result *res, void *ud);

http_client *http_client_new(uv_loop_t *loop);
/* Abandons requests in flight (their callbacks are not called) and closes the handles;
 * the memory goes when the loop runs their close callbacks. Not from inside a callback.
 */
void http_client_free(http_client *c);

/* Starts a request. Problems found at once (a missing file, a bad method) are reported
 * through cb like transport errors, on the next loop iteration. The returned call is
 * valid until cb runs or http_call_cancel is called. */
http_call *http_client_send(http_client *c, const http_request *req, http_done_cb cb,
                            void *ud);
/* Stops a call; its callback is not called. Safe from inside the call's own stream
 * callbacks (the transfer is then stopped as soon as they return). */
void http_call_cancel(http_call *call);

/* Streaming: the response as it arrives, for relaying (src/api/relay.c). */
typedef struct {
  /* Once, before any body: the final status (1xx skipped) and the header lines
   * ("Name: value", no CRLF), n of them. */
  void (*on_head)(int status, const char *const *lines, size_t n, void *ud);
  /* A piece of the body. Return false to pause the transfer: curl keeps these bytes and
   * offers them again after http_call_resume (so a slow reader slows the sender down
   * through TCP, nothing piles up here). */
  bool (*on_data)(const char *data, size_t len, void *ud);
} http_stream_cbs;

/* Like http_client_send, but the response goes to cbs as it arrives (max_response_bytes
 * is ignored). done runs once at the end: status is the final status if the whole
 * response arrived, 0 with error if the transfer failed (also after on_head, e.g. the
 * server died mid-stream). */
http_call *http_client_stream(http_client *c, const http_request *req,
                              const http_stream_cbs *cbs, http_done_cb done, void *ud);
/* Resumes a transfer paused by on_data; on_data may run before this returns. */
void http_call_resume(http_call *call);
/* Requests started and not yet completed or cancelled. */
size_t http_client_in_flight(const http_client *c);

#endif
