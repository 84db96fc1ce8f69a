/* test_sdp — real Chrome 156 offers (plain and simulcast), a real Firefox 153 ESR
 * max-bundle offer, and Firefox- and Safari-shaped offers parse into the right media,
 * codecs, feedback, extensions, SSRCs and bundle membership; malformed SDP is refused
 * with a reason. */
#include "check.h"
#include "rtc/sdp.h"

#include <stdlib.h>

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static sdp_session session;

static char *load(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/sdp/%s", FIXTURES, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(1);
  }
  static char text[SDP_MAX_TEXT];
  *len = fread(text, 1, sizeof text, f);
  fclose(f);
  return text;
}

static const sdp_codec *codec_named(const sdp_media *m, const char *name) {
  for (size_t i = 0; i < m->n_codecs; i++)
    if (strcmp(m->codecs[i].name, name) == 0)
      return &m->codecs[i];
  return NULL;
}

static void test_chrome(void) {
  size_t len;
  char err[200];
  const char *text = load("chrome156_offer.sdp", &len);
  CHECK(sdp_parse(text, len, &session, err, sizeof err) == 0);
  CHECK(session.n_media == 4 && session.n_bundle == 4);
  const sdp_media *a = &session.media[0], *v = &session.media[1], *s = &session.media[2];
  CHECK(a->kind == SDP_AUDIO && strcmp(a->mid, "0") == 0 && a->rtcp_mux);
  CHECK(strcmp(a->setup, "actpass") == 0 && strlen(a->ice_pwd) >= 22);
  CHECK(strcmp(a->fingerprint_alg, "sha-256") == 0 && strlen(a->fingerprint) == 95);
  const sdp_codec *opus = codec_named(a, "opus");
  CHECK(opus && opus->pt == 111 && opus->clock_rate == 48000 && opus->channels == 2);
  CHECK(opus && (opus->feedback & SDP_FB_TRANSPORT_CC));
  CHECK(sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:ssrc-audio-level") == 1);
  CHECK(a->n_ssrcs == 1 && a->ssrcs[0].cname[0]);
  CHECK(a->n_candidates >= 1);
  CHECK(v->kind == SDP_VIDEO && v->direction == SDP_SENDRECV && v->rtcp_rsize);
  const sdp_codec *vp8 = codec_named(v, "VP8");
  CHECK(vp8 && (vp8->feedback & SDP_FB_NACK) && (vp8->feedback & SDP_FB_NACK_PLI) &&
        (vp8->feedback & SDP_FB_CCM_FIR) && (vp8->feedback & SDP_FB_GOOG_REMB));
  bool has_rtx_for_vp8 = false;
  for (size_t i = 0; i < v->n_codecs; i++)
    has_rtx_for_vp8 |=
        strcmp(v->codecs[i].name, "rtx") == 0 && vp8 && v->codecs[i].rtx_for == vp8->pt;
  CHECK(has_rtx_for_vp8);
  CHECK(v->fid_primary && v->fid_repair && v->fid_primary != v->fid_repair);
  CHECK(sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:sdes:mid") == 4);
  CHECK(codec_named(v, "H264") && codec_named(v, "VP9"));
  CHECK(s->direction == SDP_INACTIVE && s->n_ssrcs == 0);
  CHECK(session.media[3].kind == SDP_APPLICATION && session.media[3].sctp_port == 5000);
}

static void test_chrome_simulcast(void) {
  size_t len;
  char err[200];
  const char *text = load("chrome156_simulcast_offer.sdp", &len);
  CHECK(sdp_parse(text, len, &session, err, sizeof err) == 0);
  const sdp_media *v = &session.media[1];
  CHECK(v->n_rids == 3 && strcmp(v->rids[0], "h") == 0 && strcmp(v->rids[2], "l") == 0);
  CHECK(strcmp(v->simulcast, "send h;m;l") == 0);
  CHECK(sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id") != 0);
}

static void test_firefox(void) {
  size_t len;
  char err[200];
  const char *text = load("firefox_style_offer.sdp", &len);
  CHECK(sdp_parse(text, len, &session, err, sizeof err) == 0);
  CHECK(session.n_media == 2);
  const sdp_media *a = &session.media[0], *v = &session.media[1];
  /* fingerprint only at session level: inherited */
  CHECK(strncmp(a->fingerprint, "1A:2B", 5) == 0 &&
        strncmp(v->fingerprint, "1A:2B", 5) == 0);
  CHECK(strcmp(a->ice_ufrag, "a1b2c3d4") == 0);
  const sdp_codec *opus = codec_named(a, "opus");
  CHECK(opus && opus->pt == 109 && strstr(opus->fmtp, "useinbandfec=1"));
  CHECK(sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level") == 2);
  const sdp_codec *h264 = codec_named(v, "H264");
  char mode[8];
  CHECK(h264 && sdp_fmtp_get(h264->fmtp, "packetization-mode", mode, sizeof mode) &&
        strcmp(mode, "1") == 0);
  CHECK(sdp_codec_by_pt(v, 124) && sdp_codec_by_pt(v, 124)->rtx_for == 120);
  CHECK(v->fid_primary == 2222222222u && v->fid_repair == 3333333333u);
}

/* A real Firefox 153 ESR max-bundle offer: m-lines 1 and 2 have port 0 and
 * a=bundle-only, and belong to the BUNDLE group (RFC 9143 §7.2). */
static void test_firefox_esr(void) {
  size_t len;
  char err[200];
  const char *text = load("firefox153esr_offer.sdp", &len);
  CHECK(sdp_parse(text, len, &session, err, sizeof err) == 0);
  CHECK(session.n_media == 3 && session.n_bundle == 3);
  CHECK(!session.media[0].bundle_only && session.media[0].port == 9);
  for (size_t i = 1; i < 3; i++)
    CHECK(session.media[i].bundle_only && session.media[i].port == 0 &&
          session.media[i].bundled);
  CHECK(session.media[0].bundled);
  const sdp_codec *te = codec_named(&session.media[0], "telephone-event");
  CHECK(te && te->pt == 101 && te->clock_rate == 8000);
}

/* RFC 9143 §7.1.3: a bundle-only m-line carries no transport attributes of its own;
 * it takes them (ICE, DTLS fingerprint and role, rtcp-mux) from the BUNDLE-tagged one. */
static void test_bundle_only_inherits(void) {
  const char *text =
      "v=0\r\na=group:BUNDLE a v\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=ice-ufrag:uf\r\n"
      "a=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AB:CD\r\n"
      "a=setup:actpass\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=bundle-only\r\n"
      "a=rtpmap:96 VP8/90000\r\n"
      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:x\r\na=bundle-only\r\n"
      "a=rtpmap:96 VP8/90000\r\n";
  char err[200];
  CHECK(sdp_parse(text, strlen(text), &session, err, sizeof err) == 0);
  const sdp_media *v = &session.media[1], *x = &session.media[2];
  CHECK(v->bundled && strcmp(v->ice_ufrag, "uf") == 0 && v->rtcp_mux &&
        strcmp(v->fingerprint, "AB:CD") == 0 && strcmp(v->setup, "actpass") == 0);
  /* not in the group: nothing to take its transport from */
  CHECK(x->bundle_only && !x->bundled && !x->ice_ufrag[0] && !x->rtcp_mux);
}

static void test_safari(void) {
  size_t len;
  char err[200];
  const char *text = load("safari_style_offer.sdp", &len);
  CHECK(sdp_parse(text, len, &session, err, sizeof err) == 0);
  const sdp_media *v = &session.media[1];
  CHECK(v->payload_order[0] == 96 && strcmp(sdp_codec_by_pt(v, 96)->name, "H264") == 0);
  char plid[16];
  CHECK(
      sdp_fmtp_get(sdp_codec_by_pt(v, 98)->fmtp, "profile-level-id", plid, sizeof plid));
  CHECK(strcmp(plid, "42e01f") == 0);
  CHECK(strcmp(v->msid, "s1 v1") == 0);
}

static void expect_error(const char *text, const char *fragment) {
  char err[200] = "";
  CHECK(sdp_parse(text, strlen(text), &session, err, sizeof err) == -1);
  if (!strstr(err, fragment)) {
    fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, fragment);
    check_failures++;
  }
}

static void test_malformed(void) {
  expect_error("", "v=0");
  expect_error("v=0\r\ns=-\r\n", "no m-line");
  expect_error("v=0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n", "port");
  expect_error("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 300\r\n", "payload type");
  expect_error("v=0\r\nm=audio 9 RTP 111\r\na=rtpmap:111 opus\r\n", "clock rate");
  expect_error("v=0\r\nm=audio 9 RTP 111\r\ngarbage\r\n", "line 3");
  expect_error("v=0\r\nm=audio 9 RTP 111\r\na=extmap:0 urn:x\r\n", "extmap");
  char many[4096] = "v=0\r\n";
  for (int i = 0; i < SDP_MAX_MEDIA + 1; i++)
    strcat(many, "m=audio 9 RTP 0\r\n");
  expect_error(many, "m-lines");
}

int main(void) {
  test_chrome();
  test_chrome_simulcast();
  test_firefox();
  test_firefox_esr();
  test_bundle_only_inherits();
  test_safari();
  test_malformed();
  CHECK_DONE();
}
