/* httpc — a minimal HTTP/1.1 client connection on libuv for the benchmarks: keep-alive
 * requests answered with Content-Length, and chunked streams (SSE) decoded as they come.
 */
#ifndef PARLEY_BENCH_HTTPC_H
#define PARLEY_BENCH_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct httpc httpc;

typedef struct {
  /* A whole response (Content-Length or chunked, unless on_stream_data is set). */
  void (*on_response)(httpc *c, int status, const char *body, size_t len);
  /* With on_stream_data set, chunked responses are streams (SSE): their headers,
   * then their decoded bytes as they arrive. */
  void (*on_stream_start)(httpc *c, int status);
  void (*on_stream_data)(httpc *c, const char *data, size_t len);
  /* Connected (status 0) or failed to. */
  void (*on_connect)(httpc *c, int status);
  /* The connection ended: by the peer, an error, or a response we cannot parse. */
  void (*on_close)(httpc *c, const char *why);
} httpc_callbacks;

struct httpc {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  const httpc_callbacks *cb;
  void *ud;
  char *in; /* bytes received and not yet consumed */
  size_t in_len, in_cap;
  bool chunked; /* inside a chunked response body */
  int status;   /* of the response being read */
  size_t chunk_left;
  char *body; /* a chunked response's body so far, unless it is streamed */
  size_t body_len, body_cap;
  bool closed;
};

/* Starts connecting to 127.0.0.1:port; cb->on_connect follows. */
int httpc_connect(httpc *c, uv_loop_t *loop, int port, const httpc_callbacks *cb,
                  void *ud);
/* Sends the bytes of one request (copied). */
void httpc_send(httpc *c, const char *req, size_t len);
/* Formats and sends a request; extra_headers is "" or lines ending in \r\n. */
void httpc_request(httpc *c, const char *method, const char *path,
                   const char *extra_headers, const char *body);
void httpc_close(httpc *c);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* utime+stime of a process in seconds (from /proc/PID/stat), or -1. */
double proc_cpu_seconds(int pid);
/* VmRSS of a process in KiB (from /proc/PID/status), or -1. */
long proc_rss_kib(int pid);
/* Copies the string value of "key" in a flat JSON text into out; 0 or -1. */
int json_string_field(const char *json, size_t len, const char *key, char *out,
                      size_t outlen);

#endif
