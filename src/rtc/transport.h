/* transport — one WebRTC call's connection on a media loop: ICE-lite checks, the DTLS
 * handshake, SRTP in and out, consent freshness; hands plain RTP/RTCP to its sink. */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include "rtc/dtls.h"
#include "rtc/ice_lite.h"
#include "rtc/rtcp.h"
#include "rtc/rtp.h"
#include "rtc/sctp.h"
#include "rtc/srtp_session.h"
#include "rtc/twcc.h"

#include <uv.h>

/* on_failed's reason when the peer sent no ICE consent check for consent_timeout_ms: it
 * is gone without a word (a closed tab, a dead machine), not merely hung up. */
#define TRANSPORT_CONSENT_EXPIRED "Consent freshness expired"

typedef struct rtc_port rtc_port;
typedef struct transport transport;
typedef struct ice_tcp_conn ice_tcp_conn;

/* What sits behind a transport (a router); called on the media loop. */
typedef struct {
  void (*on_connected)(transport *t, void *ud);
  void (*on_rtp)(transport *t, uint8_t *pkt, size_t len, const rtp_header *h, void *ud);
  void (*on_rtcp)(transport *t, const rtcp_item *item, void *ud);
  /* The transport is dead (consent lost, DTLS failed or closed by the peer). */
  void (*on_failed)(transport *t, const char *reason, void *ud);
} transport_sink;

/* Room an RTP packet handed to the transport needs after its length: our transport-wide
 * sequence number may be added (twcc_stamp), then SRTP's tag. */
#define TRANSPORT_RTP_ROOM (TWCC_EXT_ROOM + SRTP_SESSION_OVERHEAD)

/* The peer's transport-wide feedback on what we sent, matched with our send log. */
typedef void (*transport_twcc_cb)(const twcc_result *r, size_t n, void *ud);

/* Transport-wide congestion control state, there once transport-cc is agreed: what we
 * receive is recorded for our feedback, what we send is numbered and logged. */
typedef struct {
  uint8_t ext_id; /* the header extension id agreed for this call */
  twcc_recv recv;
  twcc_send send;
  transport_twcc_cb on_results;
  void *ud;
  uint64_t feedback_in, feedback_out;
} transport_twcc;

typedef struct {
  uint64_t rtp_in, rtcp_in, rtp_out, rtcp_out, bytes_in, bytes_out;
  uint64_t srtp_failures; /* wrong key, tampered or replayed */
} transport_counters;

struct transport {
  char id[40];
  rtc_port *port;
  uv_loop_t *loop;
  ice_lite ice;
  dtls *dtls;
  srtp_session srtp;
  bool srtp_ready, failed;
  dtls_srtp_profile srtp_profile;
  uint64_t consent_timeout_ms, created_ms;
  uint64_t dtls_first_ms; /* loop time of the peer's first DTLS datagram, 0 before */
  struct sockaddr_storage dtls_peer; /* where DTLS came from before nomination */
  ice_tcp_conn *dtls_via;            /* ... over this TCP connection, or UDP */
  /* The selected path was a TCP connection that closed: nothing leaves until the peer
   * nominates another, and consent freshness ends the call if it does not. */
  bool path_lost;
  uv_timer_t timer; /* DTLS retransmissions and consent checks */
  transport_sink sink;
  void *sink_ud;
  transport_counters counters;
  transport_twcc *twcc; /* NULL: transport-cc not agreed */
  sctp_assoc *sctp;     /* data channels (an accepted m=application), else NULL */
};

/* Creates and registers the transport with its port; credentials and the peer's
 * fingerprint come from the SDP exchange. */
transport *transport_new(rtc_port *port, const char *id, const char *local_ufrag,
                         const char *local_pwd, const char *remote_ufrag,
                         const char *remote_fingerprint, uint64_t consent_timeout_ms,
                         transport_sink sink, void *sink_ud);
/* An ICE restart: new local credentials and the peer's new ufrag; DTLS and SRTP stay. */
void transport_restart_ice(transport *t, const char *local_ufrag, const char *local_pwd,
                           const char *remote_ufrag);
/* Unregisters, sends close_notify, and frees once libuv has let go. */
void transport_free(transport *t);

/* transport-cc agreed with extension id ext_id (0: not, or no longer): every RTP packet
 * sent from now on carries our transport-wide sequence number, every one received with
 * the peer's is recorded, and the peer's feedback goes to cb. */
void transport_set_twcc(transport *t, uint8_t ext_id, transport_twcc_cb cb, void *ud);

/* Data channels: an SCTP association over this transport's DTLS (RFC 8261), connected
 * as soon as DTLS is (at once if it already is). Its callbacks run on this loop. Once
 * per transport; transport_free frees it. */
sctp_assoc *transport_enable_sctp(transport *t, const sctp_config *cfg,
                                  const sctp_callbacks *cb, void *ud);

/* Protect and send; pkt needs TRANSPORT_RTP_ROOM bytes of room after len. */
int transport_send_rtp(transport *t, uint8_t *pkt, size_t len);
int transport_send_rtcp(transport *t, uint8_t *pkt, size_t len);
/* The same for RTP without a copy: a buffer in the port's send batch with room for
 * PORT_SLOT_BYTES (RTP_MAX_PACKET + TRANSPORT_RTP_ROOM) bytes, or NULL when the transport
 * cannot send yet; build the packet there, then transport_queue_rtp protects and queues
 * it. */
uint8_t *transport_rtp_slot(transport *t);
int transport_queue_rtp(transport *t, uint8_t *slot, size_t len);

/* Called by the port with a packet that belongs to this transport: a datagram from
 * `from`, or a frame of the TCP connection via. transport_on_stun is true when the
 * request was authentic (its path is now a known one). */
bool transport_on_stun(transport *t, const uint8_t *pkt, size_t len, const stun_msg *msg,
                       const struct sockaddr *from, ice_tcp_conn *via);
void transport_on_packet(transport *t, uint8_t *pkt, size_t len,
                         const struct sockaddr *from, ice_tcp_conn *via);
/* The TCP connection c closed: it is no path any more. */
void transport_tcp_closed(transport *t, ice_tcp_conn *c);

#endif
