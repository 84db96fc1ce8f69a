/* port — the one UDP port a media loop serves every peer on: receives in batches,
 * demultiplexes STUN by USERNAME and the rest by 5-tuple, counts and drops garbage; and
 * its ICE-TCP twin (ice_tcp.h) on the same port number, whose frames take the same way.
 */
#ifndef PARLEY_PORT_H
#define PARLEY_PORT_H

#include "core/hmap.h"
#include "rtc/ice_tcp.h"
#include "rtc/rtp.h"
#include "rtc/srtp_session.h"
#include "rtc/transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#define PORT_SEND_BATCH 64
/* libuv hands recvmmsg 64 KiB per message slot: 32 datagrams per batch need 2 MiB. */
#define PORT_RECV_BYTES (32 * 65536)
/* A slot holds the largest RTP packet we forward plus our transport-wide sequence
 * number's extension and what SRTP may append. */
#define PORT_SLOT_BYTES (RTP_MAX_PACKET + TRANSPORT_RTP_ROOM)

typedef struct {
  uint64_t datagrams_in, datagrams_out, send_errors;
  uint64_t dropped_garbage; /* not STUN, DTLS, RTP or RTCP */
  uint64_t dropped_unknown; /* from nobody we know */
  uint64_t stun_refused;    /* bad credentials or integrity */
  uint64_t dtls_resent;     /* handshake flights resent on our timer */
} port_counters;

struct rtc_port {
  uv_loop_t *loop;
  dtls_context *dtls_ctx; /* shared, read-only after start */
  uv_udp_t udp;
  hmap *by_ufrag;   /* local ufrag -> transport */
  hmap *by_address; /* peer address bytes -> transport */
  port_counters counters;
  size_t transports;
  char *recv_buffer; /* PORT_RECV_BYTES, this port's alone */
  /* Datagrams waiting for one sendmmsg: everything one turn of the loop sends (a
   * receive batch's fan-outs, a tick's mixes) leaves in as few calls as it can. */
  uv_prepare_t before_sleep; /* flushes them, right before the loop polls */
  int fd;
  size_t queued;
  struct mmsghdr out_msgs[PORT_SEND_BATCH];
  struct iovec out_iov[PORT_SEND_BATCH];
  struct sockaddr_storage out_addr[PORT_SEND_BATCH];
  uint8_t out_buf[PORT_SEND_BATCH][PORT_SLOT_BYTES];
  ice_tcp tcp; /* running only with --ice-tcp 1 */
};

/* A non-blocking socket of type (SOCK_DGRAM, SOCK_STREAM) for addr:port, not bound
 * yet: ss and len are what to bind. An IPv6 one takes IPv4 peers too. -1 with err. */
int port_open_socket(const char *addr, int port, int type, struct sockaddr_storage *ss,
                     socklen_t *len, char *err, size_t errlen);
/* Opens a UDP socket bound to addr:port on the calling thread (so errors are
 * reported at start); returns the fd, or -1 with err. port 0 picks a free one. */
int port_bind_socket(const char *addr, int port, int *bound_port, char *err,
                     size_t errlen);
/* Starts serving fd on loop (call on that loop's thread). */
int port_start(rtc_port *p, uv_loop_t *loop, int fd);
/* Sends what is queued and closes the socket and the flush hook. */
void port_close(rtc_port *p);

/* Queues a datagram. It leaves when the loop is about to sleep (a prepare handle, as
 * redis's beforeSleep flushes replies in one place), or at once when the batch is
 * full: nothing that sends needs to flush. */
int port_send(rtc_port *p, const struct sockaddr *to, const uint8_t *data, size_t len);
/* The same without a copy: the next free slot of the batch (PORT_SLOT_BYTES long) to
 * build a datagram in, then port_queue_slot to send it. A slot not queued is simply
 * reused by the next caller. */
uint8_t *port_slot(rtc_port *p);
void port_queue_slot(rtc_port *p, const struct sockaddr *to, size_t len);
/* Sends what is queued now (the prepare handle and a full batch call it). */
void port_flush(rtc_port *p);
/* Sends on a path: the TCP connection via as one frame, or a datagram to `to` when via
 * is NULL. */
int port_send_via(rtc_port *p, ice_tcp_conn *via, const struct sockaddr *to,
                  const uint8_t *data, size_t len);
/* One packet from `from`, a datagram (via NULL) or a frame of the TCP connection via:
 * STUN to the transport its USERNAME names, the rest to the transport of the 5-tuple
 * (UDP) or of the connection (TCP). Returns the transport that authenticated a binding
 * request in it, else NULL (what binds a new TCP connection). */
transport *port_receive(rtc_port *p, uint8_t *pkt, size_t len,
                        const struct sockaddr *from, ice_tcp_conn *via);
void port_register_ufrag(rtc_port *p, const char *ufrag, transport *t);
void port_unregister_ufrag(rtc_port *p, const char *ufrag);
/* Remembers that datagrams from addr belong to t (after an authenticated check). */
void port_register_address(rtc_port *p, const struct sockaddr *addr, transport *t);
void port_forget_transport(rtc_port *p, transport *t);

#endif
