/* port — one UDP socket per media loop, batch receive (recvmmsg via libuv), demux. */
#include "rtc/port.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOCKET_BUFFER (4 << 20)

int port_open_socket(const char *addr, int port, int type, struct sockaddr_storage *ss,
                     socklen_t *len, char *err, size_t errlen) {
  memset(ss, 0, sizeof *ss);
  if (uv_ip4_addr(addr, port, (struct sockaddr_in *)ss) != 0 &&
      uv_ip6_addr(addr, port, (struct sockaddr_in6 *)ss) != 0) {
    snprintf(err, errlen, "bad media address \"%s\"", addr);
    return -1;
  }
  *len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                   : sizeof(struct sockaddr_in);
  int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ss->ss_family == AF_INET6) {
    /* "::" serves IPv4 peers too (as ::ffff:a.b.c.d), whatever the system default
     * (net.ipv6.bindv6only): one port per loop for both families. */
    int v6only = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (fd < 0)
    snprintf(err, errlen, "cannot open a media socket: %s", strerror(errno));
  return fd;
}

int port_bind_socket(const char *addr, int port, int *bound_port, char *err,
                     size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t len;
  int fd = port_open_socket(addr, port, SOCK_DGRAM, &ss, &len, err, errlen);
  if (fd < 0)
    return -1;
  int size = SOCKET_BUFFER;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
    snprintf(err, errlen, "cannot bind media port %s:%d: %s", addr, port,
             strerror(errno));
    close(fd);
    return -1;
  }
  getsockname(fd, (struct sockaddr *)&ss, &len);
  *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
  return fd;
}

/* A canonical key for a peer address: family, port, address bytes. */
static size_t address_key(const struct sockaddr *sa, uint8_t key[20]) {
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    key[0] = 6;
    memcpy(key + 1, &s6->sin6_port, 2);
    memcpy(key + 3, &s6->sin6_addr, 16);
    return 19;
  }
  const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
  key[0] = 4;
  memcpy(key + 1, &s4->sin_port, 2);
  memcpy(key + 3, &s4->sin_addr, 4);
  return 7;
}

typedef struct {
  uint8_t key[20];
  size_t len;
  transport *t;
} address_entry;

static transport *on_stun(rtc_port *p, uint8_t *pkt, size_t len,
                          const struct sockaddr *from, ice_tcp_conn *via) {
  stun_msg msg;
  size_t ulen;
  const char *ufrag;
  if (stun_parse(pkt, len, &msg) != 0 ||
      !(ufrag = ice_lite_addressed_ufrag(&msg, &ulen))) {
    p->counters.dropped_garbage++;
    return NULL;
  }
  transport *t = hmap_get(p->by_ufrag, ufrag, ulen);
  /* A TCP connection carries one call: checks for another one are not its. */
  transport *owner = via ? ice_tcp_conn_transport(via) : NULL;
  if (!t || (owner && owner != t)) {
    p->counters.dropped_unknown++;
    return NULL;
  }
  return transport_on_stun(t, pkt, len, &msg, from, via) ? t : NULL;
}

transport *port_receive(rtc_port *p, uint8_t *pkt, size_t len,
                        const struct sockaddr *from, ice_tcp_conn *via) {
  uint8_t first = pkt[0];
  if (first < 4)
    return on_stun(p, pkt, len, from, via);
  /* RFC 7983: 20-63 DTLS, 128-191 RTP/RTCP; anything else is nobody's. */
  if (!((first >= 20 && first <= 63) || (first >= 128 && first <= 191))) {
    p->counters.dropped_garbage++;
    return NULL;
  }
  transport *t = NULL;
  if (via) {
    t = ice_tcp_conn_transport(via);
  } else {
    uint8_t key[20];
    address_entry *e = hmap_get(p->by_address, key, address_key(from, key));
    t = e ? e->t : NULL;
  }
  if (!t) {
    p->counters.dropped_unknown++;
    return NULL;
  }
  transport_on_packet(t, pkt, len, from, via);
  return NULL;
}

static void on_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *from, unsigned flags) {
  (void)flags;
  rtc_port *p = udp->data;
  if (nread <= 0 || !from)
    return;
  p->counters.datagrams_in++;
  port_receive(p, (uint8_t *)buf->base, (size_t)nread, from, NULL);
}

/* Once per turn of the loop, after its I/O and timers and before it polls: what they
 * queued leaves here, in batches of up to PORT_SEND_BATCH per sendmmsg. */
static void on_before_sleep(uv_prepare_t *h) {
  rtc_port *p = h->data;
  port_flush(p);
  if (p->tcp.running)
    ice_tcp_flush(&p->tcp);
}

/* The port's own buffer: each media loop receives into its own (a process-wide one was
 * written by every loop's thread at once). */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  rtc_port *p = h->data;
  buf->base = p->recv_buffer;
  buf->len = PORT_RECV_BYTES;
}

int port_start(rtc_port *p, uv_loop_t *loop, int fd) {
  p->loop = loop;
  p->fd = fd;
  p->by_ufrag = hmap_new();
  p->by_address = hmap_new();
  p->recv_buffer = xmalloc(PORT_RECV_BYTES);
  uv_prepare_init(loop, &p->before_sleep);
  p->before_sleep.data = p;
  uv_prepare_start(&p->before_sleep, on_before_sleep);
  uv_udp_init_ex(loop, &p->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
  p->udp.data = p;
  int rc = uv_udp_open(&p->udp, fd);
  if (rc == 0)
    rc = uv_udp_recv_start(&p->udp, on_alloc, on_recv);
  return rc;
}

static void free_maps(uv_handle_t *h) {
  rtc_port *p = h->data;
  size_t pos = 0;
  address_entry *e;
  while ((e = hmap_next(p->by_address, &pos)))
    free(e);
  hmap_free(p->by_address);
  hmap_free(p->by_ufrag);
  free(p->recv_buffer);
  p->recv_buffer = NULL;
}

void port_close(rtc_port *p) {
  port_flush(p);
  ice_tcp_close(&p->tcp);
  uv_prepare_stop(&p->before_sleep);
  uv_close((uv_handle_t *)&p->before_sleep, NULL);
  uv_udp_recv_stop(&p->udp);
  uv_close((uv_handle_t *)&p->udp, free_maps);
}

void port_flush(rtc_port *p) {
  size_t done = 0;
  while (done < p->queued) {
    int n =
        sendmmsg(p->fd, p->out_msgs + done, (unsigned)(p->queued - done), MSG_DONTWAIT);
    if (n > 0) {
      p->counters.datagrams_out += (uint64_t)n;
      done += (size_t)n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      /* The socket buffer is full: the rest of this batch is lost, as on a congested
       * link (NACKs and keyframe requests repair video; audio conceals). */
      p->counters.send_errors += p->queued - done;
      break;
    } else {
      p->counters.send_errors++; /* this destination failed; the others still go */
      done++;
    }
  }
  p->queued = 0;
}

int port_send_via(rtc_port *p, ice_tcp_conn *via, const struct sockaddr *to,
                  const uint8_t *data, size_t len) {
  return via ? ice_tcp_send(via, data, len) : port_send(p, to, data, len);
}

uint8_t *port_slot(rtc_port *p) {
  if (p->queued == PORT_SEND_BATCH)
    port_flush(p);
  return p->out_buf[p->queued];
}

void port_queue_slot(rtc_port *p, const struct sockaddr *to, size_t len) {
  size_t i = p->queued++;
  size_t alen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                          : sizeof(struct sockaddr_in);
  memcpy(&p->out_addr[i], to, alen);
  p->out_iov[i] = (struct iovec){p->out_buf[i], len};
  p->out_msgs[i].msg_hdr = (struct msghdr){.msg_name = &p->out_addr[i],
                                           .msg_namelen = (socklen_t)alen,
                                           .msg_iov = &p->out_iov[i],
                                           .msg_iovlen = 1};
  if (p->queued == PORT_SEND_BATCH)
    port_flush(p);
}

int port_send(rtc_port *p, const struct sockaddr *to, const uint8_t *data, size_t len) {
  if (len > PORT_SLOT_BYTES) {
    p->counters.send_errors++;
    return -1;
  }
  memcpy(port_slot(p), data, len);
  port_queue_slot(p, to, len);
  return 0;
}

void port_register_ufrag(rtc_port *p, const char *ufrag, transport *t) {
  hmap_put(p->by_ufrag, ufrag, strlen(ufrag), t);
}

void port_unregister_ufrag(rtc_port *p, const char *ufrag) {
  hmap_remove(p->by_ufrag, ufrag, strlen(ufrag));
}

void port_register_address(rtc_port *p, const struct sockaddr *addr, transport *t) {
  uint8_t key[20];
  size_t n = address_key(addr, key);
  address_entry *e = hmap_get(p->by_address, key, n);
  if (e) {
    e->t = t; /* a path that moved to another call (port reuse by the client) */
    return;
  }
  e = xcalloc(1, sizeof *e);
  memcpy(e->key, key, n);
  e->len = n;
  e->t = t;
  hmap_put(p->by_address, e->key, n, e);
}

static bool owned_by(void *value, void *ud) { return ((address_entry *)value)->t == ud; }

static void free_entry(void *value, void *ud) {
  (void)ud;
  free(value);
}

void port_forget_transport(rtc_port *p, transport *t) {
  hmap_remove_if(p->by_address, owned_by, free_entry, t);
  ice_tcp_forget(&p->tcp, t);
}
