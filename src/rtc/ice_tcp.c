/* ice_tcp — TCP listener, RFC 4571 connections, binding and batched writes. */
#include "rtc/ice_tcp.h"

#include "core/log.h"
#include "core/mem.h"
#include "rtc/port.h"
#include "rtc/transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128
#define SWEEP_MS 1000
#define FIRST_OUT_CAP 4096

struct ice_tcp_conn {
  uv_tcp_t handle;
  ice_tcp *owner;
  list_node link;    /* in owner->conns */
  list_node pending; /* in owner->pending while it has frames to write */
  transport *transport;
  struct sockaddr_storage peer;
  uint64_t accepted_ms;
  bool closing, writing;
  bool bound; /* its first frame bound it (transport may be NULL again since) */
  tcp_framer framer;
  uint8_t *out; /* frames queued this turn */
  size_t out_len, out_cap;
  uint8_t *in_flight; /* what the running uv_write holds */
  size_t in_flight_len, in_flight_cap;
  uv_write_t write;
};

int ice_tcp_bind(const char *addr, int port, char *err, size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t len;
  int fd = port_open_socket(addr, port, SOCK_STREAM, &ss, &len, err, errlen);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
    snprintf(err, errlen, "cannot listen on media tcp port %s:%d: %s", addr, port,
             strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

transport *ice_tcp_conn_transport(const ice_tcp_conn *c) { return c->transport; }

size_t ice_tcp_open_count(const ice_tcp *t) {
  return (size_t)(t->counters.accepted - t->counters.closed);
}

static void free_conn(uv_handle_t *h) {
  ice_tcp_conn *c = h->data;
  free(c->out);
  free(c->in_flight);
  free(c);
}

static void close_conn(ice_tcp_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  c->owner->counters.closed++;
  if (!c->bound)
    c->owner->unbound--;
  list_unlink(&c->link);
  list_unlink(&c->pending);
  if (c->transport)
    transport_tcp_closed(c->transport, c);
  c->transport = NULL;
  uv_close((uv_handle_t *)&c->handle, free_conn);
}

/* The first frame binds the connection: an authenticated binding request to a call's
 * ufrag, as the UDP demux would accept it; anything else and the connection goes. */
static bool bind_conn(ice_tcp_conn *c, uint8_t *frame, size_t len) {
  transport *t = frame[0] < 4 ? port_receive(c->owner->port, frame, len,
                                             (struct sockaddr *)&c->peer, c)
                              : NULL;
  if (!t) {
    c->owner->counters.refused_first_frame++;
    close_conn(c);
    return false;
  }
  c->transport = t;
  c->bound = true;
  c->owner->unbound--;
  return true;
}

static bool on_frame(uint8_t *frame, size_t len, void *ud) {
  ice_tcp_conn *c = ud;
  c->owner->counters.frames_in++;
  c->owner->counters.bytes_in += TCP_FRAMING_HEADER + len;
  if (len == 0)
    return true; /* RFC 4571 allows empty frames: nothing in them */
  if (!c->bound)
    return bind_conn(c, frame, len);
  port_receive(c->owner->port, frame, len, (struct sockaddr *)&c->peer, c);
  return !c->closing; /* a frame may end the call, and with it the connection */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  ice_tcp_conn *c = h->data;
  buf->base = (char *)c->owner->read_buffer;
  buf->len = ICE_TCP_READ_BYTES;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  ice_tcp_conn *c = s->data;
  if (nread < 0) {
    close_conn(c); /* EOF or reset: the call's consent decides what follows */
    return;
  }
  if (nread == 0 || c->closing)
    return;
  tcp_framing_result r =
      tcp_framer_feed(&c->framer, (uint8_t *)buf->base, (size_t)nread, on_frame, c);
  if (r == TCP_FRAMING_OVERSIZE) {
    c->owner->counters.refused_oversize++;
    close_conn(c);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  ice_tcp *t = server->data;
  if (status < 0)
    return;
  ice_tcp_conn *c = xcalloc(1, sizeof *c);
  c->owner = t;
  LIST_INIT(&c->link);
  LIST_INIT(&c->pending);
  tcp_framer_init(&c->framer);
  uv_tcp_init(server->loop, &c->handle);
  c->handle.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->handle) != 0) {
    uv_close((uv_handle_t *)&c->handle, free_conn);
    return;
  }
  t->counters.accepted++;
  t->unbound++;
  list_push_back(&t->conns, &c->link);
  if (t->unbound > ICE_TCP_MAX_UNBOUND) {
    t->counters.refused_limit++;
    close_conn(c);
    return;
  }
  int len = sizeof c->peer;
  uv_tcp_getpeername(&c->handle, (struct sockaddr *)&c->peer, &len);
  /* Frames leave once per loop turn already: Nagle would only hold them back. */
  uv_tcp_nodelay(&c->handle, 1);
  c->accepted_ms = uv_now(server->loop);
  if (uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read) != 0)
    close_conn(c);
}

static void on_sweep(uv_timer_t *timer) {
  ice_tcp *t = timer->data;
  uint64_t now = uv_now(timer->loop);
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &t->conns) {
    ice_tcp_conn *c = list_entry(pos, ice_tcp_conn, link);
    if (!c->bound && now - c->accepted_ms >= ICE_TCP_BIND_TIMEOUT_MS) {
      t->counters.refused_timeout++;
      close_conn(c);
    }
  }
}

int ice_tcp_start(ice_tcp *t, rtc_port *port, int fd) {
  t->port = port;
  LIST_INIT(&t->conns);
  LIST_INIT(&t->pending);
  t->read_buffer = xmalloc(ICE_TCP_READ_BYTES);
  uv_timer_init(port->loop, &t->sweep);
  t->sweep.data = t;
  uv_timer_start(&t->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
  uv_tcp_init(port->loop, &t->listener);
  t->listener.data = t;
  t->running = true;
  int rc = uv_tcp_open(&t->listener, fd);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&t->listener, LISTEN_BACKLOG, on_connection);
  return rc;
}

static void free_read_buffer(uv_handle_t *h) {
  ice_tcp *t = h->data;
  free(t->read_buffer);
  t->read_buffer = NULL;
}

void ice_tcp_close(ice_tcp *t) {
  if (!t->running)
    return;
  t->running = false;
  ice_tcp_flush(t);
  while (!list_empty(&t->conns))
    close_conn(list_entry(t->conns.next, ice_tcp_conn, link));
  uv_timer_stop(&t->sweep);
  uv_close((uv_handle_t *)&t->sweep, NULL);
  uv_close((uv_handle_t *)&t->listener, free_read_buffer);
}

static void write_conn(ice_tcp_conn *c);

void ice_tcp_forget(ice_tcp *t, transport *tr) {
  if (!t->running)
    return;
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &t->conns) {
    ice_tcp_conn *c = list_entry(pos, ice_tcp_conn, link);
    if (c->transport == tr) {
      c->transport = NULL; /* it is going away: nothing to tell it */
      write_conn(c); /* what it said last (DTLS close_notify), if the kernel takes it */
      close_conn(c);
    }
  }
}

/* Makes room for need more bytes in *b (capacity *cap), doubling up to the cap. */
static void reserve(uint8_t **b, size_t *cap, size_t need) {
  if (need <= *cap)
    return;
  size_t n = *cap ? *cap : FIRST_OUT_CAP;
  while (n < need)
    n *= 2;
  *b = xrealloc(*b, n);
  *cap = n;
}

int ice_tcp_send(ice_tcp_conn *c, const uint8_t *data, size_t len) {
  ice_tcp_counters *k = &c->owner->counters;
  size_t frame = TCP_FRAMING_HEADER + len;
  if (c->closing)
    return -1;
  if (len > 0xffff || c->out_len + c->in_flight_len + frame > ICE_TCP_MAX_UNSENT) {
    k->dropped_backpressure++;
    return -1;
  }
  reserve(&c->out, &c->out_cap, c->out_len + frame);
  tcp_framing_header(c->out + c->out_len, len);
  memcpy(c->out + c->out_len + TCP_FRAMING_HEADER, data, len);
  c->out_len += frame;
  k->frames_out++;
  k->bytes_out += frame;
  if (list_empty(&c->pending))
    list_push_back(&c->owner->pending, &c->pending);
  return 0;
}

static void on_written(uv_write_t *req, int status) {
  ice_tcp_conn *c = req->data;
  c->writing = false;
  c->in_flight_len = 0;
  if (c->closing)
    return;
  if (status < 0) {
    close_conn(c);
    return;
  }
  /* What queued meanwhile leaves with the next flush, right before the loop sleeps. */
  if (c->out_len && list_empty(&c->pending))
    list_push_back(&c->owner->pending, &c->pending);
}

/* One try_write of everything queued; the kernel's refusal goes out in one uv_write
 * (at most one in flight: what queues meanwhile waits for it). */
static void write_conn(ice_tcp_conn *c) {
  if (c->writing || c->closing || c->out_len == 0)
    return;
  uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
  int n = uv_try_write((uv_stream_t *)&c->handle, &b, 1);
  if (n < 0 && n != UV_EAGAIN) {
    close_conn(c);
    return;
  }
  size_t done = n > 0 ? (size_t)n : 0;
  if (done == c->out_len) {
    c->out_len = 0;
    return;
  }
  /* Swap the buffers: the rest is held by the write, new frames go to the other. */
  uint8_t *held = c->out;
  size_t held_cap = c->out_cap, rest = c->out_len - done;
  c->out = c->in_flight;
  c->out_cap = c->in_flight_cap;
  c->out_len = 0;
  c->in_flight = held;
  c->in_flight_cap = held_cap;
  c->in_flight_len = rest;
  c->writing = true;
  c->write.data = c;
  b = uv_buf_init((char *)held + done, (unsigned)rest);
  if (uv_write(&c->write, (uv_stream_t *)&c->handle, &b, 1, on_written) != 0) {
    c->writing = false;
    close_conn(c);
  }
}

void ice_tcp_flush(ice_tcp *t) {
  while (!list_empty(&t->pending)) {
    ice_tcp_conn *c = list_entry(t->pending.next, ice_tcp_conn, pending);
    list_unlink(&c->pending);
    write_conn(c);
  }
}
