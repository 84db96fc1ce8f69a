/* simulcast_probe — checks that a subscriber's tile reads as one VP8 stream while
 * parleyd switches it between simulcast layers, with real peers (ICE + DTLS + SRTP from
 * Parley's rtc stack): one three-layer publisher (bench/simulcast_source: the l and m
 * layers number their pictures together, h apart, as Chromium does) and one multistream
 * subscriber whose tile hint flips between small and large.
 *
 * usage: simulcast_probe HTTP_PORT ALIAS    (exit 0 when every check holds)
 *
 * Every packet is one frame, so along the subscriber's stream each packet must carry
 * the next sequence number, a newer timestamp, the next picture id and the next
 * TL0PICIDX, across every switch; a switch must start on a keyframe; and the tile must
 * really switch, both ways, at least FLIPS - 2 times. */
#include "probe.h"
#include "simulcast_source.h"

#include "rtc/rtp.h"
#include "rtc/rtp_renumber.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PPS 280               /* over the three layers: h at 160/s, 1.6 Mbit/s */
#define KEY_EVERY 8           /* a layer's keyframe every 8 of its packets: l 200 ms */
#define FLIPS 8               /* hints: small, large, small, ... */
#define FLIP_MS 1600          /* a layer up waits 1 s for the estimate to hold */
#define LAYER_AT (PACKET - 1) /* the payload's last byte: which layer we sent it on */

/* What the subscriber saw: the last packet, and the switches. */
typedef struct {
  bool started;
  uint16_t seq, pic;
  uint32_t ts;
  uint8_t tl0;
  int layer;
  unsigned packets, switches, ups, downs;
} seen;

static void take(peer *sub, seen *v, uint8_t *buf, int n) {
  if (rtc_peer_answer_check(sub, buf, (size_t)n, (struct sockaddr *)&sub->server,
                            sizeof sub->server) ||
      n < 12 || !rtp_looks_like_rtp(buf, (size_t)n))
    return; /* STUN (the server's own checks), RTCP */
  rtp_header h;
  rtp_vpx_ids ids;
  if (srtp_session_unprotect_rtp(&sub->srtp, buf, &n) != 0 ||
      rtp_parse(buf, (size_t)n, &h) != 0 ||
      h.payload_len != PACKET - SIMULCAST_PAYLOAD_AT ||
      rtp_vpx_ids_read(buf + h.payload_offset, h.payload_len, RTP_CODEC_VP8, &ids) != 0 ||
      !ids.has_pic || !ids.has_tl0) {
    EXPECT(0, "a packet that does not decrypt or parse as ours (%d bytes)", n);
    return;
  }
  const uint8_t *payload = buf + h.payload_offset;
  int layer = payload[h.payload_len - 1];
  bool key = (payload[SIMULCAST_DESCRIPTOR_LEN] & 0x01) == 0;
  v->packets++;
  if (v->started && h.seq == (uint16_t)(v->seq + 1)) {
    EXPECT((int32_t)(h.timestamp - v->ts) > 0, "seq %u: timestamp %u after %u", h.seq,
           h.timestamp, v->ts);
    EXPECT(ids.pic == ((v->pic + 1) & 0x7fff),
           "seq %u (layer %d after %d): picture id %u after %u", h.seq, layer, v->layer,
           ids.pic, v->pic);
    EXPECT(ids.tl0 == (uint8_t)(v->tl0 + 1),
           "seq %u (layer %d after %d): TL0PICIDX %u after %u", h.seq, layer, v->layer,
           ids.tl0, v->tl0);
  } else if (v->started) {
    EXPECT(0, "seq %u after %u: a packet lost or reordered on loopback", h.seq, v->seq);
  }
  if (v->started && layer != v->layer) {
    EXPECT(key, "seq %u: the switch from layer %d to %d is not on a keyframe", h.seq,
           v->layer, layer);
    v->switches++;
    v->ups += layer > v->layer;
    v->downs += layer < v->layer;
  }
  v->started = true;
  v->seq = h.seq;
  v->ts = h.timestamp;
  v->pic = ids.pic;
  v->tl0 = ids.tl0;
  v->layer = layer;
}

static void pump(peer *sub, seen *v, int ms) {
  uint64_t end = now_ms() + (uint64_t)ms;
  for (uint64_t t = now_ms(); t < end; t = now_ms()) {
    struct pollfd fd = {.fd = sub->fd, .events = POLLIN};
    if (poll(&fd, 1, (int)(end - t)) <= 0)
      continue;
    uint8_t buf[2048];
    int got;
    while ((got = (int)rtc_peer_recv(sub, buf, sizeof buf, MSG_DONTWAIT)) > 0)
      take(sub, v, buf, got);
  }
}

static int hint(peer *sub, int http_port, const char *alias, int w, int h) {
  char path[320], body[128];
  snprintf(path, sizeof path, "%s/participants/%s/calls/%s/streams", alias, sub->uuid,
           sub->call);
  snprintf(body, sizeof body,
           "{\"streams\":[{\"mid\":\"0\",\"width\":%d,\"height\":%d}]}", w, h);
  char *r = rtc_peer_post(http_port, path, sub->token, body);
  int ok = r && strstr(r, "\"success\"") ? 0 : -1;
  if (ok != 0)
    fprintf(stderr, "simulcast_probe: the hint failed: %s\n", r ? r : "(no answer)");
  free(r);
  return ok;
}

/* Publishes for ms at PPS (packet k at k/PPS s), the subscriber reading all along. */
static void publish(peer *pub, peer *sub, seen *v, forward_source *src, int ms) {
  uint64_t start = now_ms(), end = start + (uint64_t)ms;
  for (uint64_t k = 1; now_ms() < end; k++) {
    uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
    int layer;
    int len = (int)simulcast_next_packet(src, pub, pkt, &layer);
    pkt[LAYER_AT] = (uint8_t)layer;
    if (srtp_session_protect_rtp(&pub->srtp, pkt, &len) == 0)
      rtc_peer_send(pub, pkt, (size_t)len);
    uint64_t next = start + k * 1000 / PPS, t = now_ms();
    pump(sub, v, next > t ? (int)(next - t) : 0);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: simulcast_probe HTTP_PORT ALIAS\n");
    return 2;
  }
  int port = atoi(argv[1]);
  const char *alias = argv[2];
  dtls_context *ctx = rtc_peer_setup();
  static peer pub, sub;
  if (!ctx || simulcast_publish(&pub, port, alias, ctx) || rtc_peer_connect(&pub, ctx) ||
      simulcast_subscribe(&sub, port, alias, ctx, 1, true) || rtc_peer_connect(&sub, ctx))
    return 1;
  simulcast_layers L;
  simulcast_layers_init(&L, PPS, KEY_EVERY);
  forward_source src = {.n_streams = LAYERS, .next = simulcast_next_packet, .ud = &L};
  seen v = {0};
  if (hint(&sub, port, alias, 1280, 720))
    return 1;
  publish(&pub, &sub, &v, &src, 2000);
  EXPECT(v.packets > 0, "the subscriber got no video");
  for (int k = 0; k < FLIPS; k++) {
    bool small = k % 2 == 0;
    if (hint(&sub, port, alias, small ? 160 : 1280, small ? 90 : 720))
      return 1;
    publish(&pub, &sub, &v, &src, FLIP_MS);
    rtc_peer_refresh_consent(&pub);
    rtc_peer_refresh_consent(&sub);
  }
  EXPECT(v.switches >= FLIPS - 2 && v.ups >= FLIPS / 2 - 1 && v.downs >= FLIPS / 2 - 1,
         "%u switches (%u up, %u down) for %d flips of the hint", v.switches, v.ups,
         v.downs, FLIPS);
  printf("simulcast_probe: %u packets, %u layer switches (%u up, %u down): %s\n",
         v.packets, v.switches, v.ups, v.downs, failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
