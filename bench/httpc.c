/* httpc — minimal libuv HTTP/1.1 client for the benchmarks: writes requests, reads
 * Content-Length and chunked responses, streams chunked bodies, and reads /proc figures.
 */
#include "httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  uv_write_t req;
  uv_buf_t buf;
  char data[]; /* the bytes, kept until the write completes */
} write_req;

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_closed(uv_handle_t *h) {
  httpc *c = h->data;
  free(c->in);
  free(c->body);
  c->in = c->body = NULL;
}

static void fail(httpc *c, const char *why) {
  if (c->closed)
    return;
  c->closed = true;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
  if (c->cb->on_close)
    c->cb->on_close(c, why);
}

void httpc_close(httpc *c) {
  if (c->closed)
    return;
  c->closed = true;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
  httpc *c = h->data;
  if (c->in_cap - c->in_len < 65536) {
    c->in_cap = c->in_cap ? c->in_cap * 2 : 131072;
    c->in = realloc(c->in, c->in_cap);
  }
  (void)suggested;
  *out = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* Parses one header block at p (ending in \r\n\r\n). */
static void parse_head(const char *p, size_t len, int *status, long *clen,
                       bool *chunked) {
  *status = 0;
  *clen = -1;
  *chunked = false;
  if (len > 12 && memcmp(p, "HTTP/1.", 7) == 0)
    *status = atoi(p + 9);
  const char *end = p + len;
  for (const char *line = memchr(p, '\n', len); line && line + 1 < end;
       line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
    const char *h = line + 1;
    if ((size_t)(end - h) > 15 && strncasecmp(h, "content-length:", 15) == 0)
      *clen = atol(h + 15);
    if ((size_t)(end - h) > 26 && strncasecmp(h, "transfer-encoding: chunked", 26) == 0)
      *chunked = true;
  }
}

static void chunk_data(httpc *c, const char *p, size_t n) {
  if (c->cb->on_stream_data)
    return c->cb->on_stream_data(c, p, n);
  if (c->body_cap - c->body_len < n) {
    while (c->body_cap - c->body_len < n)
      c->body_cap = c->body_cap ? 2 * c->body_cap : 4096;
    c->body = realloc(c->body, c->body_cap);
  }
  memcpy(c->body + c->body_len, p, n);
  c->body_len += n;
}

/* Decodes what it can of a chunked body at in[*off]. Returns 1 to wait for more,
 * 0 when a buffered response is complete, -1 on a framing error or a stream's end. */
static int decode_chunks(httpc *c, size_t *off) {
  while (!c->closed) {
    char *p = c->in + *off;
    size_t avail = c->in_len - *off;
    if (c->chunk_left > 0) {
      size_t n = avail < c->chunk_left ? avail : c->chunk_left;
      if (n == 0)
        return 1;
      chunk_data(c, p, n);
      *off += n;
      c->chunk_left -= n;
      continue;
    }
    char *nl = memchr(p, '\n', avail);
    if (!nl)
      return 1;
    size_t line = (size_t)(nl - p) + 1;
    if (line <= 2) { /* the CRLF that ends each chunk's data */
      *off += line;
      continue;
    }
    char *endp;
    unsigned long size = strtoul(p, &endp, 16);
    if (endp == p)
      return -1;
    if (size > 0) {
      *off += line;
      c->chunk_left = size;
      continue;
    }
    if (c->cb->on_stream_data)
      return -1; /* the server ended the stream */
    if (avail < line + 2)
      return 1; /* the last-chunk is followed by an empty line (no trailers) */
    *off += line + 2;
    return 0;
  }
  return 1;
}

static void process(httpc *c) {
  size_t off = 0;
  while (!c->closed) {
    if (c->chunked) {
      int rc = decode_chunks(c, &off);
      if (rc < 0)
        return fail(c, "stream ended");
      if (rc > 0)
        break;
      c->chunked = false;
      size_t len = c->body_len;
      c->body_len = 0; /* the bytes stay valid for the callback */
      c->cb->on_response(c, c->status, c->body ? c->body : "", len);
      continue;
    }
    char *p = c->in + off;
    size_t avail = c->in_len - off;
    char *eoh = avail >= 4 ? memmem(p, avail, "\r\n\r\n", 4) : NULL;
    if (!eoh)
      break;
    size_t head = (size_t)(eoh - p) + 4;
    long clen;
    bool chunked;
    parse_head(p, head, &c->status, &clen, &chunked);
    if (chunked) {
      c->chunked = true;
      c->chunk_left = 0;
      c->body_len = 0;
      off += head;
      if (c->cb->on_stream_start)
        c->cb->on_stream_start(c, c->status);
      continue;
    }
    if (clen < 0)
      return fail(c, "response without Content-Length or chunked encoding");
    if (avail < head + (size_t)clen)
      break;
    off += head + (size_t)clen;
    c->cb->on_response(c, c->status, p + head, (size_t)clen);
  }
  if (c->closed)
    return;
  memmove(c->in, c->in + off, c->in_len - off);
  c->in_len -= off;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  httpc *c = s->data;
  (void)b;
  if (n < 0)
    return fail(c, n == UV_EOF ? "closed by server" : uv_strerror((int)n));
  c->in_len += (size_t)n;
  process(c);
}

static void on_connected(uv_connect_t *req, int status) {
  httpc *c = req->data;
  if (status == 0)
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  c->cb->on_connect(c, status);
}

int httpc_connect(httpc *c, uv_loop_t *loop, int port, const httpc_callbacks *cb,
                  void *ud) {
  memset(c, 0, sizeof *c);
  c->cb = cb;
  c->ud = ud;
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  uv_tcp_nodelay(&c->tcp, 1);
  c->connect_req.data = c;
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  return uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&addr, on_connected);
}

static void on_written(uv_write_t *req, int status) {
  httpc *c = req->data;
  free(req);
  if (status != 0)
    fail(c, uv_strerror(status));
}

void httpc_send(httpc *c, const char *bytes, size_t len) {
  if (c->closed)
    return;
  write_req *w = malloc(sizeof *w + len);
  memcpy(w->data, bytes, len);
  w->buf = uv_buf_init(w->data, (unsigned)len);
  w->req.data = c;
  uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_written);
}

void httpc_request(httpc *c, const char *method, const char *path,
                   const char *extra_headers, const char *body) {
  char req[2048];
  size_t blen = body ? strlen(body) : 0;
  int n =
      snprintf(req, sizeof req,
               "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s"
               "Content-Length: %zu\r\n\r\n%s",
               method, path, extra_headers,
               body ? "Content-Type: application/json\r\n" : "", blen, body ? body : "");
  if (n < 0 || (size_t)n >= sizeof req) {
    fprintf(stderr, "httpc: request too long\n");
    abort();
  }
  httpc_send(c, req, (size_t)n);
}

double proc_cpu_seconds(int pid) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  /* Fields after the command name, which may hold spaces: skip past its ')'. */
  char *p = strrchr(text, ')');
  unsigned long utime, stime;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                   &stime) != 2)
    return -1;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long proc_rss_kib(int pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

int json_string_field(const char *json, size_t len, const char *key, char *out,
                      size_t outlen) {
  char pat[64];
  int n = snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = memmem(json, len, pat, (size_t)n);
  if (!p)
    return -1;
  p += n;
  const char *end = memchr(p, '"', len - (size_t)(p - json));
  if (!end || (size_t)(end - p) >= outlen)
    return -1;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return 0;
}
