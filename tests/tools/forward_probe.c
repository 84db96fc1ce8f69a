/* forward_probe — checks the conference router's video forwarding and NACK answers with
 * real peers (ICE + DTLS + SRTP from Parley's rtc stack): one publisher, two receivers.
 *
 * usage: forward_probe HTTP_PORT ALIAS [udp|tcp]    (exit 0 when every check holds)
 * With tcp every peer connects over ICE-TCP (RFC 6544) instead of UDP.
 *
 * The publisher sends numbered packets. Receiver B "loses" some (reads them but does not
 * decrypt them), then NACKs them and must get each back exactly as it would have been
 * sent: B's SSRC, B's sequence number, the timestamp and payload in step with its
 * neighbours. Receiver C checks its copies are its own (its SSRC). After the publisher
 * has left, B's NACK for one more lost packet must still be answered (the source's cache
 * outlives the publisher while receivers point into it); a NACK for a number never sent
 * gets nothing. */
#include "probe.h"
#include "rtc_peer.h"

#include "rtc/rtcp.h"
#include "rtc/rtp.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SENT 60
#define MARK_AT 20 /* payload offset of the publisher's packet number */

typedef struct {
  bool have;
  uint32_t ssrc, ts;
  uint32_t mark;
} seen;

typedef struct {
  peer *p;
  seen by_seq[65536];
  bool lost[65536];         /* read but not decrypted: "lost on the way" */
  uint16_t lost_order[256]; /* the same numbers, in the order they were lost */
  size_t n_lost;
  int lose_every; /* pretend to lose every Nth packet (0: none) */
  unsigned count, received, retransmits;
  uint16_t first_seq;
  bool started;
} receiver;

static uint32_t be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* One datagram: STUN checks answered, RTCP ignored, RTP recorded by sequence number. */
static void take(receiver *r, uint8_t *buf, int n, const struct sockaddr *from,
                 socklen_t from_len) {
  if (rtc_peer_answer_check(r->p, buf, (size_t)n, from, from_len) || n < 12)
    return;
  if (buf[1] >= 192 && buf[1] <= 223)
    return; /* RTCP (RFC 5761 demultiplexing) */
  uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
  if (!r->started) {
    r->started = true;
    r->first_seq = seq;
  }
  bool first_time = !r->by_seq[seq].have && !r->lost[seq];
  if (first_time && r->lose_every && ++r->count % (unsigned)r->lose_every == 0) {
    r->lost[seq] = true; /* the header is in clear: we know what we skipped */
    if (r->n_lost < sizeof r->lost_order / sizeof r->lost_order[0])
      r->lost_order[r->n_lost++] = seq;
    return;
  }
  rtp_header h;
  if (srtp_session_unprotect_rtp(&r->p->srtp, buf, &n) != 0 ||
      rtp_parse(buf, (size_t)n, &h) != 0 || n < MARK_AT + 4) {
    EXPECT(0, "an RTP packet that does not decrypt or parse (seq %u)", seq);
    return;
  }
  r->received++;
  if (r->lost[seq]) {
    r->lost[seq] = false;
    r->retransmits++;
  }
  r->by_seq[seq] = (seen){true, h.ssrc, h.timestamp, be32(buf + MARK_AT)};
}

static void pump(receiver **rs, int n, int ms) {
  uint64_t end = now_ms() + (uint64_t)ms;
  while (now_ms() < end) {
    struct pollfd fds[4];
    for (int i = 0; i < n; i++)
      fds[i] = (struct pollfd){.fd = rs[i]->p->fd, .events = POLLIN};
    if (poll(fds, (nfds_t)n, 5) <= 0)
      continue;
    for (int i = 0; i < n; i++) {
      if (!(fds[i].revents & POLLIN))
        continue;
      /* Everything that is there: over TCP one read may bring many frames. */
      uint8_t buf[2048];
      int got;
      peer *p = rs[i]->p;
      while ((got = (int)rtc_peer_recv(p, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        take(rs[i], buf, got, (struct sockaddr *)&p->server, sizeof p->server);
    }
  }
}

static void send_nack(receiver *r, const uint16_t *seqs, size_t n) {
  uint8_t pkt[512];
  size_t cap = sizeof pkt - SRTP_SESSION_OVERHEAD;
  uint32_t media = r->by_seq[r->first_seq].ssrc;
  size_t at = rtcp_write_rr(pkt, cap, r->p->ssrc, NULL, 0);
  at += rtcp_write_nack(pkt + at, cap - at, r->p->ssrc, media, seqs, n);
  int len = (int)at;
  if (srtp_session_protect_rtcp(&r->p->srtp, pkt, &len) == 0)
    rtc_peer_send(r->p, pkt, (size_t)len);
}

static void publish(peer *pub, receiver **rs, int n, int count) {
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  for (int i = 0; i < count; i++) {
    uint32_t mark = pub->seq; /* the publisher's own sequence number */
    int len = (int)rtc_peer_make_packet(pub, pkt, 3000u * mark);
    pkt[MARK_AT] = (uint8_t)(mark >> 24), pkt[MARK_AT + 1] = (uint8_t)(mark >> 16);
    pkt[MARK_AT + 2] = (uint8_t)(mark >> 8), pkt[MARK_AT + 3] = (uint8_t)mark;
    if (srtp_session_protect_rtp(&pub->srtp, pkt, &len) == 0)
      rtc_peer_send(pub, pkt, (size_t)len);
    pump(rs, n, 10);
  }
}

/* A retransmitted packet must be what would have come: in step with the packet before. */
static void check_in_step(const receiver *r, uint16_t seq, const char *when) {
  const seen *a = &r->by_seq[(uint16_t)(seq - 1)], *b = &r->by_seq[seq];
  EXPECT(b->have, "%s: seq %u was NACKed and never came back", when, seq);
  if (!a->have || !b->have)
    return;
  EXPECT(b->ssrc == a->ssrc, "%s: seq %u came back with SSRC %u, not %u", when, seq,
         b->ssrc, a->ssrc);
  EXPECT(b->mark == a->mark + 1, "%s: seq %u carries packet %u after %u", when, seq,
         b->mark, a->mark);
  EXPECT(b->ts == a->ts + 3000, "%s: seq %u has timestamp %u after %u", when, seq, b->ts,
         a->ts);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: forward_probe HTTP_PORT ALIAS [udp|tcp]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  rtc_peer_use_tcp = argc > 3 && strcmp(argv[3], "tcp") == 0;
  peer *peers = rtc_peer_connect_all(port, argv[2], 3, "sendonly", "recvonly");
  if (!peers)
    return 1;
  static receiver b, c;
  b = (receiver){.p = &peers[1], .lose_every = 7};
  c = (receiver){.p = &peers[2]};
  receiver *rs[] = {&b, &c};
  pump(rs, 2, 300);
  /* In two halves, each NACKed as it ends: the server resends what is at most a second
   * old, and on a loaded machine 60 packets paced 10 ms apart can take longer than that
   * (one NACK after all of them lost its oldest packet that way). */
  size_t nacked = 0;
  for (int half = 0; half < 2; half++) {
    publish(&peers[0], rs, 2, SENT / 2);
    pump(rs, 2, 100);
    if (b.n_lost > nacked)
      send_nack(&b, b.lost_order + nacked, b.n_lost - nacked);
    nacked = b.n_lost;
  }
  pump(rs, 2, 150);

  EXPECT(c.started && b.started, "a receiver got no video at all");
  EXPECT(c.by_seq[c.first_seq].ssrc != b.by_seq[b.first_seq].ssrc,
         "two receivers share one SSRC");
  size_t n_lost = b.n_lost;
  EXPECT(n_lost >= 6, "only %zu packets were held back", n_lost);
  if (failures)
    return 1;
  EXPECT(b.retransmits == n_lost, "%u of %zu NACKed packets came back", b.retransmits,
         n_lost);
  for (size_t i = 0; i < n_lost; i++)
    check_in_step(&b, b.lost_order[i], "publisher present");

  /* A few more packets, then the publisher leaves at once: the one lost last is NACKed
   * well within the second a packet is worth resending, however slow the machine. */
  publish(&peers[0], rs, 2, 14);
  EXPECT(b.n_lost > n_lost, "nothing held back after the first NACKs");
  uint16_t last = b.lost_order[b.n_lost - 1];
  char path[256];
  snprintf(path, sizeof path, "%s/release_token", argv[2]);
  free(rtc_peer_post(port, path, peers[0].token, "{}"));
  pump(rs, 2, 100); /* the publisher's media session is gone by now */
  send_nack(&b, &last, 1);
  pump(rs, 2, 200);
  check_in_step(&b, last, "publisher gone");

  uint16_t never = (uint16_t)(last + 1000);
  unsigned before = b.retransmits;
  send_nack(&b, &never, 1);
  pump(rs, 2, 300);
  EXPECT(b.retransmits == before && !b.by_seq[never].have,
         "a NACK for a number never sent was answered");
  printf("forward_probe: %u and %u packets received, %u retransmissions checked: %s\n",
         b.received, c.received, b.retransmits, failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
