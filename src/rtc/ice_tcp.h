/* ice_tcp — passive ICE-TCP (RFC 6544) on a media loop's port: a TCP listener on the
 * UDP port's number, RFC 4571 frames in and out, each connection bound to a transport by
 * its first frame (an authenticated binding request) and then demultiplexed exactly as
 * UDP datagrams from that peer are. For clients whose UDP is blocked. */
#ifndef PARLEY_ICE_TCP_H
#define PARLEY_ICE_TCP_H

#include "core/list.h"
#include "rtc/tcp_framing.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct rtc_port rtc_port;
typedef struct transport transport;
typedef struct ice_tcp_conn ice_tcp_conn;

/* A connection's unsent bytes are capped: a real-time path that cannot drain is late,
 * and late media is worthless. 256 KiB is ~0.8 s of 2.5 Mbit/s video (HD at the rates
 * browsers pick), ~4 s at 500 kbit/s: enough to ride out a short stall, not enough to
 * keep a call seconds behind. Whole packets past it are dropped, never part of a frame.
 */
#define ICE_TCP_MAX_UNSENT (256 * 1024)
/* A connection must bind to a call with its first frame within this long (RFC 6544
 * gives no figure; a browser sends its first check right after connecting). */
#define ICE_TCP_BIND_TIMEOUT_MS 5000
/* Connections not yet bound to a call, per media loop: more are closed at once. Each
 * binds within milliseconds of connecting, so 256 is a burst of that many joiners at
 * once; it keeps a scanner (each holds a socket for up to 5 s) from taking the
 * process's file descriptors. */
#define ICE_TCP_MAX_UNBOUND 256
/* One read: a connection never has more than this in flight from one recv. */
#define ICE_TCP_READ_BYTES 65536

typedef struct {
  uint64_t accepted, closed;
  uint64_t frames_in, frames_out, bytes_in, bytes_out; /* bytes: with framing */
  uint64_t dropped_backpressure; /* packets over a connection's ICE_TCP_MAX_UNSENT */
  uint64_t refused_first_frame;  /* not an authenticated binding request for a call */
  uint64_t refused_timeout;      /* no first frame within ICE_TCP_BIND_TIMEOUT_MS */
  uint64_t refused_oversize;     /* a frame length over TCP_FRAMING_MAX */
  uint64_t refused_limit;        /* ICE_TCP_MAX_UNBOUND were waiting already */
} ice_tcp_counters;

typedef struct {
  rtc_port *port;
  bool running;
  uv_tcp_t listener;
  uv_timer_t sweep;  /* closes connections that never bound */
  list_node conns;   /* every open connection */
  list_node pending; /* connections with frames to write this turn of the loop */
  uint8_t *read_buffer;
  size_t unbound; /* open connections not yet bound to a call */
  ice_tcp_counters counters;
} ice_tcp;

/* A listening TCP socket on addr:port, made on the calling thread (so errors are
 * reported at start); the fd, or -1 with err. */
int ice_tcp_bind(const char *addr, int port, char *err, size_t errlen);
/* Serves fd on the port's loop (call on that loop's thread). */
int ice_tcp_start(ice_tcp *t, rtc_port *port, int fd);
/* Closes the listener and every connection. */
void ice_tcp_close(ice_tcp *t);

/* Queues data as one frame on c; it leaves with ice_tcp_flush. Dropped (counted, -1)
 * when c's unsent bytes would pass ICE_TCP_MAX_UNSENT or c is closing. */
int ice_tcp_send(ice_tcp_conn *c, const uint8_t *data, size_t len);
/* Writes every connection's queued frames: one write per connection, called right
 * before the loop sleeps, like the UDP batch. */
void ice_tcp_flush(ice_tcp *t);
/* The call a connection carries, NULL before its first frame bound it. */
transport *ice_tcp_conn_transport(const ice_tcp_conn *c);
/* Closes every connection bound to tr (its call is over). */
void ice_tcp_forget(ice_tcp *t, transport *tr);
size_t ice_tcp_open_count(const ice_tcp *t);

#endif
