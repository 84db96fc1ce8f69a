/* transport — ICE-lite, DTLS and SRTP of one call, driven by the port and a timer. */
#include "rtc/transport.h"

#include "core/log.h"
#include "core/mem.h"
#include "rtc/port.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TICK_HANDSHAKE_MS 50
#define TICK_CONNECTED_MS 1000
#define ICE_SETUP_TIMEOUT_MS 30000 /* no nominated path by then: the call failed */

static void fail(transport *t, const char *reason) {
  if (t->failed)
    return;
  t->failed = true;
  log_info("rtc", "transport %s failed: %s", t->id, reason);
  t->sink.on_failed(t, reason, t->sink_ud);
}

static uint64_t now_ms(transport *t) { return uv_now(t->loop); }

static void check_transport(transport *t);

static void on_tick(uv_timer_t *timer) {
  transport *t = timer->data;
  check_transport(t); /* DTLS retransmissions leave with the port's next flush */
}

static void check_transport(transport *t) {
  if (t->failed)
    return;
  if (dtls_get_state(t->dtls) == DTLS_HANDSHAKING) {
    long wait = dtls_timeout_ms(t->dtls);
    if (wait == 0 && dtls_on_timeout(t->dtls)) {
      t->port->counters.dtls_resent++;
      log_info(
          "rtc", "transport %s: DTLS flight resent (%u), %llu ms after the peer's first",
          t->id, dtls_resent(t->dtls),
          t->dtls_first_ms ? (unsigned long long)(now_ms(t) - t->dtls_first_ms) : 0ULL);
    }
    if (dtls_get_state(t->dtls) == DTLS_FAILED)
      return fail(t, dtls_error(t->dtls));
  }
  if (!t->ice.has_selected) {
    if (now_ms(t) - t->created_ms >= ICE_SETUP_TIMEOUT_MS)
      fail(t, "Ice failure");
    return;
  }
  if (ice_lite_consent_expired(&t->ice, now_ms(t), t->consent_timeout_ms))
    fail(t, TRANSPORT_CONSENT_EXPIRED);
}

/* The selected path's TCP connection, NULL for UDP (check path_lost first). */
static ice_tcp_conn *selected_via(const transport *t) {
  return (ice_tcp_conn *)(uintptr_t)t->ice.selected_via;
}

static void dtls_send(void *ud, const uint8_t *data, size_t len) {
  transport *t = ud;
  if (t->ice.has_selected) {
    if (!t->path_lost)
      port_send_via(t->port, selected_via(t), (struct sockaddr *)&t->ice.selected, data,
                    len);
  } else if (t->dtls_peer.ss_family) {
    port_send_via(t->port, t->dtls_via, (struct sockaddr *)&t->dtls_peer, data, len);
  }
}

transport *transport_new(rtc_port *port, const char *id, const char *local_ufrag,
                         const char *local_pwd, const char *remote_ufrag,
                         const char *remote_fingerprint, uint64_t consent_timeout_ms,
                         transport_sink sink, void *sink_ud) {
  transport *t = xcalloc(1, sizeof *t);
  snprintf(t->id, sizeof t->id, "%s", id);
  t->port = port;
  t->loop = port->loop;
  snprintf(t->ice.local_ufrag, sizeof t->ice.local_ufrag, "%s", local_ufrag);
  snprintf(t->ice.local_pwd, sizeof t->ice.local_pwd, "%s", local_pwd);
  ice_lite_set_remote(&t->ice, remote_ufrag);
  t->dtls = dtls_new(port->dtls_ctx, remote_fingerprint, dtls_send, t);
  t->consent_timeout_ms = consent_timeout_ms;
  t->sink = sink;
  t->sink_ud = sink_ud;
  t->created_ms = uv_now(t->loop);
  uv_timer_init(t->loop, &t->timer);
  t->timer.data = t;
  uv_timer_start(&t->timer, on_tick, TICK_HANDSHAKE_MS, TICK_HANDSHAKE_MS);
  port_register_ufrag(port, t->ice.local_ufrag, t);
  port->transports++;
  return t;
}

void transport_restart_ice(transport *t, const char *local_ufrag, const char *local_pwd,
                           const char *remote_ufrag) {
  port_unregister_ufrag(t->port, t->ice.local_ufrag);
  snprintf(t->ice.local_ufrag, sizeof t->ice.local_ufrag, "%s", local_ufrag);
  snprintf(t->ice.local_pwd, sizeof t->ice.local_pwd, "%s", local_pwd);
  ice_lite_set_remote(&t->ice, remote_ufrag);
  /* Keep sending on the old path until the peer nominates a new one. */
  port_register_ufrag(t->port, t->ice.local_ufrag, t);
}

static void free_after_close(uv_handle_t *h) { free(h->data); }

void transport_set_twcc(transport *t, uint8_t ext_id, transport_twcc_cb cb, void *ud) {
  if (!ext_id || ext_id > 14) {
    free(t->twcc);
    t->twcc = NULL;
    return;
  }
  if (!t->twcc) {
    t->twcc = xcalloc(1, sizeof *t->twcc);
    twcc_recv_init(&t->twcc->recv);
  }
  t->twcc->ext_id = ext_id; /* a renegotiation may move it; our numbering runs on */
  t->twcc->on_results = cb;
  t->twcc->ud = ud;
}

static int64_t now_us(void) { return (int64_t)(uv_hrtime() / 1000); }

static void sctp_output(void *ud, const uint8_t *pkt, size_t len) {
  transport *t = ud;
  if (!t->failed)
    dtls_send_app(t->dtls, pkt, len); /* one record, one datagram (dtls_send) */
}

static void sctp_from_dtls(void *ud, const uint8_t *data, size_t len) {
  transport *t = ud;
  if (t->sctp)
    sctp_input(t->sctp, data, len);
}

sctp_assoc *transport_enable_sctp(transport *t, const sctp_config *cfg,
                                  const sctp_callbacks *cb, void *ud) {
  if (t->sctp)
    return t->sctp;
  t->sctp = sctp_new(t->loop, cfg, sctp_output, t, cb, ud);
  dtls_set_app_handler(t->dtls, sctp_from_dtls, t);
  if (dtls_get_state(t->dtls) == DTLS_CONNECTED)
    sctp_connect(t->sctp);
  return t->sctp;
}

void transport_free(transport *t) {
  sctp_free(t->sctp); /* its ABORT goes out before DTLS's close_notify */
  t->sctp = NULL;
  free(t->twcc);
  t->twcc = NULL;
  port_unregister_ufrag(t->port, t->ice.local_ufrag);
  dtls_close(t->dtls); /* close_notify first: a TCP path is closed with the transport */
  port_forget_transport(t->port, t);
  t->port->transports--;
  dtls_free(t->dtls);
  if (t->srtp_ready)
    srtp_session_free(&t->srtp);
  t->failed = true;
  uv_timer_stop(&t->timer);
  uv_close((uv_handle_t *)&t->timer, free_after_close);
}

bool transport_on_stun(transport *t, const uint8_t *pkt, size_t len, const stun_msg *msg,
                       const struct sockaddr *from, ice_tcp_conn *via) {
  (void)len;
  uint8_t reply[256];
  size_t reply_len;
  uint64_t ok_before = t->ice.requests_ok;
  ice_outcome o = ice_lite_on_request_via(&t->ice, pkt, msg, from, via, now_ms(t), reply,
                                          sizeof reply, &reply_len);
  if (reply_len)
    port_send_via(t->port, via, from, reply, reply_len);
  bool ok = t->ice.requests_ok > ok_before;
  if (!ok)
    t->port->counters.stun_refused++;
  else if (!via) /* a TCP connection is its own path: the port knows it already */
    port_register_address(t->port, from, t);
  if (o == ICE_NOMINATED || o == ICE_SELECTED) {
    t->path_lost = false;
    log_debug("rtc", "transport %s %s a %s path", t->id,
              o == ICE_NOMINATED ? "nominated" : "checked", via ? "tcp" : "udp");
  }
  return ok;
}

void transport_tcp_closed(transport *t, ice_tcp_conn *c) {
  if (t->dtls_via == c) {
    t->dtls_via = NULL;
    memset(&t->dtls_peer, 0, sizeof t->dtls_peer);
  }
  if (t->ice.has_selected && selected_via(t) == c) {
    /* Never a connection again: a new one at the same address is a new path. */
    t->ice.selected_via = &t->path_lost;
    t->path_lost = true;
    log_info("rtc", "transport %s: its tcp path closed", t->id);
  }
}

static void on_dtls(transport *t, const uint8_t *pkt, size_t len,
                    const struct sockaddr *from, ice_tcp_conn *via) {
  size_t n = from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in);
  memcpy(&t->dtls_peer, from, n);
  t->dtls_via = via;
  if (!t->dtls_first_ms)
    t->dtls_first_ms = now_ms(t);
  dtls_state before = dtls_get_state(t->dtls);
  dtls_state st = dtls_receive(t->dtls, pkt, len);
  if (st == DTLS_FAILED)
    return fail(t, dtls_error(t->dtls));
  if (st == DTLS_CLOSED)
    return fail(t, "Call disconnected");
  if (st != DTLS_CONNECTED || before == DTLS_CONNECTED)
    return;
  dtls_srtp_keys keys;
  if (dtls_srtp_keys_get(t->dtls, &keys) != 0 || srtp_session_init(&t->srtp, &keys) != 0)
    return fail(t, "cannot set up SRTP");
  t->srtp_ready = true;
  t->srtp_profile = keys.profile;
  uv_timer_set_repeat(&t->timer, TICK_CONNECTED_MS);
  log_info("rtc", "transport %s connected (%s), DTLS %llu ms, %u flights resent", t->id,
           keys.profile == DTLS_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                      : "AES_CM_128_HMAC_SHA1_80",
           (unsigned long long)(now_ms(t) - t->dtls_first_ms), dtls_resent(t->dtls));
  t->sink.on_connected(t, t->sink_ud);
  if (t->sctp && !t->failed)
    sctp_connect(t->sctp);
}

static void on_twcc_results(const twcc_result *r, size_t n, void *ud) {
  transport_twcc *tw = ud;
  if (tw->on_results)
    tw->on_results(r, n, tw->ud);
}

static void on_rtcp_item(const rtcp_item *item, void *ud) {
  transport *t = ud;
  if (item->kind == RTCP_TWCC && t->twcc && item->fci) {
    t->twcc->feedback_in++;
    twcc_send_on_feedback(&t->twcc->send, item->fci, item->fci_len, on_twcc_results,
                          t->twcc);
  }
  t->sink.on_rtcp(t, item, t->sink_ud);
}

void transport_on_packet(transport *t, uint8_t *pkt, size_t len,
                         const struct sockaddr *from, ice_tcp_conn *via) {
  if (t->failed)
    return;
  if (pkt[0] >= 20 && pkt[0] <= 63)
    return on_dtls(t, pkt, len, from, via);
  if (!t->srtp_ready || len < 12)
    return;
  int n = (int)len;
  t->counters.bytes_in += len;
  if (rtp_looks_like_rtcp(pkt, len)) {
    if (srtp_session_unprotect_rtcp(&t->srtp, pkt, &n) != 0) {
      t->counters.srtp_failures++;
      return;
    }
    t->counters.rtcp_in++;
    rtcp_parse(pkt, (size_t)n, on_rtcp_item, t);
    return;
  }
  rtp_header h;
  if (srtp_session_unprotect_rtp(&t->srtp, pkt, &n) != 0) {
    t->counters.srtp_failures++;
    return;
  }
  if (rtp_parse(pkt, (size_t)n, &h) != 0)
    return;
  t->counters.rtp_in++;
  const uint8_t *tw;
  size_t tw_len;
  if (t->twcc && rtp_ext_find(pkt, &h, t->twcc->ext_id, &tw, &tw_len) == 0 && tw_len == 2)
    twcc_recv_packet(&t->twcc->recv, (uint16_t)(tw[0] << 8 | tw[1]), h.ssrc, now_us());
  t->sink.on_rtp(t, pkt, (size_t)n, &h, t->sink_ud);
}

static bool can_send(const transport *t) {
  return t->srtp_ready && t->ice.has_selected && !t->path_lost && !t->failed;
}

/* Protects pkt in place and counts it; returns the protected length, or -1. */
static int protect(transport *t, uint8_t *pkt, size_t len, bool rtcp) {
  int n = (int)len;
  int rc = rtcp ? srtp_session_protect_rtcp(&t->srtp, pkt, &n)
                : srtp_session_protect_rtp(&t->srtp, pkt, &n);
  if (rc != 0)
    return -1;
  t->counters.bytes_out += (uint64_t)n;
  if (rtcp)
    t->counters.rtcp_out++;
  else
    t->counters.rtp_out++;
  return n;
}

/* Our transport-wide sequence number into an RTP packet about to be protected; *seq is
 * set when it was written. */
static size_t stamp(transport *t, uint8_t *pkt, size_t len, int32_t *seq) {
  *seq = -1;
  if (!t->twcc)
    return len;
  uint16_t next = t->twcc->send.next_seq;
  size_t n = twcc_stamp(pkt, len, t->twcc->ext_id, next);
  if (!n)
    return len;
  t->twcc->send.next_seq++;
  *seq = next;
  return n;
}

static void log_sent(transport *t, int32_t seq, int n) {
  if (seq >= 0 && n > 0)
    twcc_send_note(&t->twcc->send, (uint16_t)seq, now_us(), (size_t)n);
}

static int send_protected(transport *t, uint8_t *pkt, size_t len, bool rtcp) {
  if (!can_send(t))
    return -1;
  int32_t seq = -1;
  if (!rtcp)
    len = stamp(t, pkt, len, &seq);
  int n = protect(t, pkt, len, rtcp);
  if (n < 0)
    return -1;
  log_sent(t, seq, n);
  return port_send_via(t->port, selected_via(t), (struct sockaddr *)&t->ice.selected, pkt,
                       (size_t)n);
}

uint8_t *transport_rtp_slot(transport *t) {
  return can_send(t) ? port_slot(t->port) : NULL;
}

int transport_queue_rtp(transport *t, uint8_t *slot, size_t len) {
  int32_t seq;
  len = stamp(t, slot, len, &seq);
  int n = protect(t, slot, len, false);
  if (n < 0)
    return -1;
  log_sent(t, seq, n);
  if (selected_via(t)) /* the slot was scratch: the frame is copied to the connection */
    return ice_tcp_send(selected_via(t), slot, (size_t)n);
  port_queue_slot(t->port, (struct sockaddr *)&t->ice.selected, (size_t)n);
  return 0;
}

int transport_send_rtp(transport *t, uint8_t *pkt, size_t len) {
  return send_protected(t, pkt, len, false);
}

int transport_send_rtcp(transport *t, uint8_t *pkt, size_t len) {
  return send_protected(t, pkt, len, true);
}
