/* dtmf_probe — checks the DTMF parleyd sends a participant (RFC 4733) with a real peer
 * (ICE + DTLS + SRTP from Parley's rtc stack) that offers Opus and telephone-event at
 * RATE (8000 as Firefox offers, or 48000 as Chrome does).
 *
 * usage: dtmf_probe HTTP_PORT ALIAS RATE     (exit 0 when every check holds)
 *
 * The peer calls, asks for the digit 5 on its own call (the client API's dtmf call
 * action), and must receive telephone-event packets for event 5 on the payload type it
 * offered, the last (E bit) with a duration of about 100 ms in RATE units: 800 at 8000,
 * 4800 at 48000 (parleyd plays each digit for 100 ms, within a 20 ms tick). */
#include "httpc.h"
#include "probe.h"
#include "rtc_peer.h"

#include "rtc/dtmf.h"
#include "rtc/rtp.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DTMF_PT 101

/* Calls with an audio offer; the answer's SDP (real line ends) and the call's uuid. */
static char *call(peer *p, int port, const char *alias, dtls_context *ctx, unsigned rate,
                  char *call_uuid, size_t uuid_len) {
  static char sdp[8192];
  char offer[2048], req[4096], path[256];
  snprintf(
      offer, sizeof offer,
      "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\na=group:BUNDLE 0\\r\\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 %d\\r\\nc=IN IP4 127.0.0.1\\r\\na=mid:0\\r\\n"
      "a=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:%s\\r\\na=setup:actpass\\r\\n"
      "a=sendrecv\\r\\na=rtcp-mux\\r\\na=rtpmap:111 opus/48000/2\\r\\n"
      "a=rtpmap:%d telephone-event/%u\\r\\na=fmtp:%d 0-15\\r\\n"
      "a=ssrc:%u cname:dtmf\\r\\n",
      DTMF_PT, p->ufrag, p->pwd, dtls_context_fingerprint(ctx), DTMF_PT, rate, DTMF_PT,
      p->ssrc);
  snprintf(req, sizeof req, "{\"call_type\":\"WEBRTC\",\"sdp\":\"%s\"}", offer);
  snprintf(path, sizeof path, "%s/participants/%s/calls", alias, p->uuid);
  char *r = rtc_peer_post(port, path, p->token, req);
  if (!r || json_string_field(r, strlen(r), "sdp", sdp, sizeof sdp) ||
      json_string_field(r, strlen(r), "call_uuid", call_uuid, uuid_len)) {
    fprintf(stderr, "calls failed: %s\n", r ? r : "?");
    free(r);
    return NULL;
  }
  free(r);
  rtc_peer_unescape_sdp(sdp);
  return sdp;
}

typedef struct {
  unsigned packets, ends, other_events;
  unsigned end_duration;
} heard;

/* One datagram: checks answered, RTCP and other payload types skipped. */
static void take(peer *p, uint8_t *buf, int n, const struct sockaddr *from,
                 socklen_t from_len, heard *h) {
  if (rtc_peer_answer_check(p, buf, (size_t)n, from, from_len) || n < 12)
    return;
  if (buf[1] >= 192 && buf[1] <= 223)
    return; /* RTCP (RFC 5761 demultiplexing) */
  rtp_header rh;
  dtmf_event ev;
  if (srtp_session_unprotect_rtp(&p->srtp, buf, &n) != 0 ||
      rtp_parse(buf, (size_t)n, &rh) != 0 || rh.payload_type != DTMF_PT ||
      dtmf_parse(buf + rh.payload_offset, rh.payload_len, &ev) != 0)
    return;
  h->packets++;
  if (ev.event != 5)
    h->other_events++;
  else if (ev.end) {
    h->ends++;
    h->end_duration = ev.duration;
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: dtmf_probe HTTP_PORT ALIAS RATE\n");
    return 2;
  }
  int port = atoi(argv[1]);
  const char *alias = argv[2];
  unsigned rate = (unsigned)atoi(argv[3]);
  dtls_context *ctx = rtc_peer_setup();
  static peer p;
  char call_uuid[64], path[512];
  if (!ctx || rtc_peer_join(&p, port, alias, "dtmf") != 0)
    return 1;
  const char *sdp = call(&p, port, alias, ctx, rate, call_uuid, sizeof call_uuid);
  if (!sdp || rtc_peer_take_remote(&p, sdp, NULL) != 0 || rtc_peer_connect(&p, ctx) != 0)
    return 1;
  char want[64];
  snprintf(want, sizeof want, "a=rtpmap:%d telephone-event/%u\r\n", DTMF_PT, rate);
  if (!strstr(sdp, want)) {
    fprintf(stderr, "FAIL: the answer lacks %s\n%s", want, sdp);
    return 1;
  }
  snprintf(path, sizeof path, "%s/participants/%s/calls/%s/dtmf", alias, p.uuid,
           call_uuid);
  char *r = rtc_peer_post(port, path, p.token, "{\"digits\":\"5\"}");
  if (!r || !strstr(r, "true")) {
    fprintf(stderr, "FAIL: dtmf refused: %s\n", r ? r : "?");
    free(r);
    return 1;
  }
  free(r);
  heard h = {0};
  for (uint64_t end = now_ms() + 2000; now_ms() < end && h.ends < 3;) {
    struct pollfd fd = {.fd = p.fd, .events = POLLIN};
    if (poll(&fd, 1, 20) <= 0)
      continue;
    uint8_t buf[2048];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    int got =
        (int)recvfrom(p.fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (got > 0)
      take(&p, buf, got, (struct sockaddr *)&from, fl, &h);
  }
  /* 100 ms of tone, sent within the 20 ms tick after it is due: 100-160 ms. */
  unsigned lo = rate / 10, hi = rate * 16 / 100;
  int ok =
      h.ends == 3 && h.other_events == 0 && h.end_duration >= lo && h.end_duration <= hi;
  printf("dtmf_probe: %u telephone-event packets at %u Hz, %u end packets, duration %u "
         "(expected %u-%u): %s\n",
         h.packets, rate, h.ends, h.end_duration, lo, hi, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
