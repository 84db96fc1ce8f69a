/* test_sdp_offer — server offers for subscribe connections: what the offer says (read
 * back with our own SDP parser), and answers accepted, partly refused, or rejected. */
#include "rtc/sdp_offer.h"

#include "check.h"
#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

static host_addr_list addrs = {.addr = {"192.0.2.7"}, .n = 1};
static sdp_offer_track tracks[3] = {
    {.mid = "0", .kind = SDP_AUDIO, .active = true, .ssrc = 1111, .stream_id = "feed-a"},
    {.mid = "1",
     .kind = SDP_VIDEO,
     .active = true,
     .ssrc = 2222,
     .rtx_ssrc = 3333,
     .stream_id = "feed-a"},
    {.mid = "2",
     .kind = SDP_VIDEO,
     .active = false,
     .ssrc = 4444,
     .rtx_ssrc = 5555,
     .stream_id = "feed-b"},
};

static sdp_offer_local local(size_t n) {
  return (sdp_offer_local){.ice_ufrag = "srvu",
                           .ice_pwd = "serverpasswordserverpass",
                           .fingerprint = "sha-256 AA:BB",
                           .addresses = &addrs,
                           .port = 40000,
                           .tcp_port = 40000,
                           .cname = "parley",
                           .session_id = 77,
                           .version = 3,
                           .tracks = tracks,
                           .n_tracks = n};
}

static void test_offer(void) {
  sdp_offer_local l = local(3);
  buf out = {0};
  char err[200];
  CHECK(sdp_offer_write(&l, &out, err, sizeof err) == 0);
  buf_append(&out, "", 1);
  const char *t = out.data;
  CHECK(strstr(t, "o=- 77 3 IN IP4") != NULL);
  CHECK(strstr(t, "a=ice-lite\r\n") != NULL);
  CHECK(strstr(t, "a=group:BUNDLE 0 1\r\n") != NULL);
  CHECK(strstr(t, "a=ssrc-group:FID 2222 3333\r\n") != NULL);
  CHECK(strstr(t, "a=msid:feed-a 1\r\n") != NULL);
  CHECK(strstr(t, "m=video 0 UDP/TLS/RTP/SAVPF 96 97\r\n") != NULL);
  CHECK(strstr(t, "4444") == NULL); /* a dropped track announces no SSRC */
  sdp_session *s = malloc(sizeof *s);
  CHECK(sdp_parse(t, strlen(t), s, err, sizeof err) == 0);
  CHECK(s->n_media == 3 && s->ice_lite);
  CHECK(s->media[0].kind == SDP_AUDIO && s->media[0].direction == SDP_SENDONLY);
  CHECK(s->media[1].port == 40000 && s->media[1].n_ssrcs == 2);
  CHECK(s->media[1].fid_primary == 2222 && s->media[1].fid_repair == 3333);
  CHECK_STR(s->media[1].ice_ufrag, "srvu"); /* bundled: the tag's credentials */
  CHECK(s->media[0].n_candidates == 2);     /* UDP and passive TCP */
  CHECK(s->media[2].port == 0 && s->media[2].direction == SDP_INACTIVE);
  const sdp_codec *vp8 = sdp_codec_by_pt(&s->media[1], SDP_OFFER_PT_VP8);
  CHECK(vp8 && strcmp(vp8->name, "VP8") == 0 && (vp8->feedback & SDP_FB_NACK_PLI));
  free(s);
  l.n_tracks = 0;
  CHECK(sdp_offer_write(&l, &out, err, sizeof err) == -1);
  buf_free(&out);
}

/* An answer as Chrome writes one to such an offer (trimmed). */
static const char *ANSWER =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=ice-ufrag:cliu\r\na=ice-pwd:clientpasswordclientpass\r\n"
    "a=fingerprint:sha-256 11:22\r\na=setup:active\r\na=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
    "a=extmap:3 "
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
    "a=ice-ufrag:cliu\r\na=ice-pwd:clientpasswordclientpass\r\n"
    "a=fingerprint:sha-256 11:22\r\na=setup:active\r\na=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=inactive\r\n"
    "a=rtpmap:96 VP8/90000\r\n";

static char *replace(const char *s, const char *from, const char *to) {
  const char *at = strstr(s, from);
  CHECK(at != NULL);
  char *r = malloc(strlen(s) + strlen(to) + 1);
  size_t head = (size_t)(at - s);
  memcpy(r, s, head);
  strcpy(r + head, to);
  strcat(r, at + strlen(from));
  return r;
}

static void refused(const char *answer, const char *why) {
  sdp_offer_local l = local(3);
  sdp_offer_result res;
  char err[200] = "";
  CHECK(sdp_offer_accept(&l, answer, strlen(answer), &res, err, sizeof err) == -1);
  if (!strstr(err, why))
    fprintf(stderr, "err \"%s\" lacks \"%s\"\n", err, why);
  CHECK(strstr(err, why) != NULL);
}

static void test_answer(void) {
  sdp_offer_local l = local(3);
  sdp_offer_result res;
  char err[200];
  CHECK(sdp_offer_accept(&l, ANSWER, strlen(ANSWER), &res, err, sizeof err) == 0);
  CHECK(res.agreed.n_media == 3);
  const sdp_choice *a = &res.agreed.media[0], *v = &res.agreed.media[1];
  CHECK(a->accepted && a->kind == SDP_AUDIO && a->pt == 111 &&
        a->direction == SDP_SENDONLY);
  CHECK(a->ext_transport_cc == 3 && (a->feedback & SDP_FB_TRANSPORT_CC));
  CHECK(v->accepted && v->pt == 96 && v->rtx_pt == 97 && v->ext_transport_cc == 0);
  CHECK((v->feedback & SDP_FB_NACK_PLI) && !(v->feedback & SDP_FB_TRANSPORT_CC));
  CHECK_STR(v->codec, "VP8");
  CHECK(!res.agreed.media[2].accepted && res.agreed.media[2].slot == -1);
  CHECK_STR(res.remote_ufrag, "cliu");
  CHECK_STR(res.remote_fingerprint, "sha-256 11:22");

  /* The client refuses the video (port 0): accepted without it. */
  char *s = replace(ANSWER, "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
                    "m=video 0 UDP/TLS/RTP/SAVPF 96 97");
  CHECK(sdp_offer_accept(&l, s, strlen(s), &res, err, sizeof err) == 0);
  CHECK(res.agreed.media[0].accepted && !res.agreed.media[1].accepted);
  free(s);
  s = replace(ANSWER, "a=setup:active\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111",
              "a=setup:passive\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111");
  refused(s, "setup");
  free(s);
  s = replace(ANSWER, "a=mid:1", "a=mid:9");
  refused(s, "mid");
  free(s);
  s = replace(ANSWER, "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:96",
              "a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:96");
  refused(s, "recvonly");
  free(s);
  s = replace(
      ANSWER,
      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=inactive\r\n"
      "a=rtpmap:96 VP8/90000\r\n",
      "");
  refused(s, "m-lines");
  free(s);
  refused("garbage", "");
}

/* A feed published in H.264 (a WHIP encoder) is offered in H.264 with the publisher's
 * profile-level-id, and only an answer that keeps H.264 gets it. */
static void test_h264(void) {
  sdp_offer_track h[2] = {tracks[0], tracks[1]};
  snprintf(h[1].h264_profile, sizeof h[1].h264_profile, "42e01f");
  sdp_offer_local l = local(2);
  l.tracks = h;
  buf out = {0};
  char err[200];
  CHECK(sdp_offer_write(&l, &out, err, sizeof err) == 0);
  buf_append(&out, "", 1);
  const char *t = out.data;
  CHECK(strstr(t, "m=video 40000 UDP/TLS/RTP/SAVPF 102 103\r\n") != NULL);
  CHECK(strstr(t, "a=rtpmap:102 H264/90000\r\n") != NULL);
  CHECK(strstr(t, "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
                  "profile-level-id=42e01f\r\n") != NULL);
  CHECK(strstr(t, "a=fmtp:103 apt=102\r\n") != NULL);
  CHECK(strstr(t, "VP8") == NULL);
  sdp_session *s = malloc(sizeof *s);
  CHECK(sdp_parse(t, strlen(t), s, err, sizeof err) == 0);
  const sdp_codec *c = sdp_codec_by_pt(&s->media[1], SDP_OFFER_PT_H264);
  CHECK(c && strcmp(c->name, "H264") == 0 && (c->feedback & SDP_FB_NACK_PLI));
  free(s);
  buf_free(&out);

  /* Chrome's answer keeps 102 and 103. */
  char *two = replace(ANSWER,
                      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
                      "a=inactive\r\na=rtpmap:96 VP8/90000\r\n",
                      "");
  char *a = replace(two, "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
                    "m=video 9 UDP/TLS/RTP/SAVPF 102 103");
  char *b = replace(
      a,
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n",
      "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;"
      "packetization-mode=1;profile-level-id=42e01f\r\n"
      "a=rtcp-fb:102 nack pli\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n");
  sdp_offer_result res;
  CHECK(sdp_offer_accept(&l, b, strlen(b), &res, err, sizeof err) == 0);
  const sdp_choice *v = &res.agreed.media[1];
  CHECK(v->accepted && v->pt == 102 && v->rtx_pt == 103);
  CHECK_STR(v->codec, "H264");
  /* An answer with VP8 at the H.264 track (the VP8 offer's answer): not accepted there.
   */
  CHECK(sdp_offer_accept(&l, two, strlen(two), &res, err, sizeof err) == 0);
  CHECK(res.agreed.media[0].accepted && !res.agreed.media[1].accepted);
  free(two);
  free(a);
  free(b);
}

int main(void) {
  test_offer();
  test_answer();
  test_h264();
  CHECK_DONE();
}
