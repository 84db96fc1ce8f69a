/* test_sdp_answer — answers keep every offered m-line in order, pick Opus and
 * VP8/H.264 (profile-matched) with RTX, reject what we cannot do, and refuse
 * offers with no usable media or the wrong DTLS role. */
#include "check.h"
#include "rtc/sctp.h"
#include "rtc/sdp_answer.h"
#include "rtc/twcc.h"

#include <stdlib.h>

static sdp_session offer, answer;
static char text[SDP_MAX_TEXT];

static size_t load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/sdp/%s", FIXTURES, name);
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f)
    fclose(f);
  text[n] = '\0';
  return n;
}

static const host_addr_list loopback = {.addr = {"127.0.0.1"}, .n = 1};

static const sdp_local local = {
    .ice_ufrag = "abcd1234",
    .ice_pwd = "0123456789abcdefghijklmn",
    .fingerprint = "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
                   "44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
    .addresses = &loopback,
    .port = 40000,
    .cname = "parley",
    .audio_ssrc = 1001,
    .video_ssrc = 1002,
    .video_rtx_ssrc = 1003,
    .slides_ssrc = 1004,
    .slides_rtx_ssrc = 1005};

static int answer_with(const sdp_local *l, size_t len, sdp_agreement *agreed, buf *out,
                       char *err) {
  if (sdp_parse(text, len, &offer, err, 200) != 0)
    return -2;
  return sdp_answer_write(&offer, l, out, agreed, err, 200);
}

static int answer_for(size_t len, sdp_agreement *agreed, buf *out, char *err) {
  return answer_with(&local, len, agreed, out, err);
}

static void test_chrome(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  CHECK(answer_for(load("chrome156_offer.sdp"), &ag, &out, err) == 0);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.ice_lite && answer.n_media == offer.n_media);
  for (size_t i = 0; i < offer.n_media; i++)
    CHECK(strcmp(answer.media[i].mid, offer.media[i].mid) == 0);
  CHECK(ag.media[0].accepted && strcmp(ag.media[0].codec, "opus") == 0 &&
        ag.media[0].pt == 111);
  CHECK(ag.media[1].accepted && strcmp(ag.media[1].codec, "VP8") == 0 &&
        ag.media[1].rtx_pt >= 0);
  CHECK(ag.media[1].remote_ssrc == offer.media[1].fid_primary);
  CHECK(!ag.media[3].accepted && answer.media[3].port == 0);
  CHECK(answer.n_bundle == 3);
  CHECK(strcmp(answer.media[0].setup, "passive") == 0);
  CHECK(answer.media[1].n_codecs == 2 && answer.media[1].n_ssrcs == 2);
  CHECK(answer.media[2].direction == SDP_INACTIVE && answer.media[2].n_ssrcs == 0);
  /* transport-cc replaces goog-remb, with its header extension, on audio and video. */
  for (int i = 0; i < 2; i++) {
    CHECK((ag.media[i].feedback & SDP_FB_TRANSPORT_CC) &&
          !(ag.media[i].feedback & SDP_FB_GOOG_REMB) &&
          ag.media[i].ext_transport_cc == 3);
    CHECK(answer.media[i].codecs[0].feedback & SDP_FB_TRANSPORT_CC);
    CHECK(sdp_extmap_id(&answer.media[i], TWCC_URI) == 3);
  }
  CHECK(ag.media[1].feedback & SDP_FB_NACK_PLI);
  CHECK(strstr(out.data, "a=rtcp-fb:96 transport-cc\r\n") &&
        !strstr(out.data, "goog-remb"));
  buf_free(&out);
}

/* Without the transport-wide extension there is no transport-cc: REMB stays. */
static void test_no_transport_cc(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  size_t len = load("chrome156_offer.sdp");
  for (char *at = strstr(text, "transport-wide-cc"); at;
       at = strstr(at, "transport-wide-cc"))
    *at = 'x';
  CHECK(answer_for(len, &ag, &out, err) == 0);
  CHECK(!(ag.media[1].feedback & SDP_FB_TRANSPORT_CC) &&
        (ag.media[1].feedback & SDP_FB_GOOG_REMB) && ag.media[1].ext_transport_cc == 0);
  CHECK(strstr(out.data, "a=rtcp-fb:96 goog-remb\r\n") &&
        !strstr(out.data, "transport-cc"));
  buf_free(&out);
}

/* Count of "needle" in the text of the m-line starting at m (up to the next m=). */
static int count_in_section(const char *m, const char *needle) {
  const char *end = strstr(m + 2, "\r\nm=");
  int n = 0;
  for (const char *at = strstr(m, needle); at && (!end || at < end);
       at = strstr(at + 1, needle))
    n++;
  return n;
}

/* A real Firefox 153 ESR offer (max-bundle): every m-line after the first has port 0
 * and a=bundle-only (RFC 9143 §7.2). Those are bundled, not rejected: video and the
 * presentation line are accepted on the one transport, and the answer puts ICE, DTLS
 * role and candidate only in the first (tagged) m-line (§7.1.3). Firefox offers only
 * telephone-event/8000, which must be accepted for its DTMF. */
static void test_firefox_bundle_only(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  CHECK(answer_for(load("firefox153esr_offer.sdp"), &ag, &out, err) == 0);
  CHECK(offer.n_media == 3 && offer.media[1].port == 0 && offer.media[2].port == 0);
  CHECK(ag.media[0].accepted && strcmp(ag.media[0].codec, "opus") == 0 &&
        ag.media[0].dtmf_pt == 101);
  CHECK(ag.media[1].accepted && strcmp(ag.media[1].codec, "VP8") == 0 &&
        ag.media[1].pt == 120 && ag.media[1].rtx_pt == 124);
  CHECK(ag.media[1].remote_ssrc == 1438902881u);
  CHECK(ag.media[2].accepted && ag.media[2].direction == SDP_INACTIVE);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.n_bundle == 3 && strcmp(answer.bundle[0], "0") == 0);
  for (size_t i = 0; i < 3; i++)
    CHECK(answer.media[i].port == 40000 &&
          strcmp(answer.media[i].mid, offer.media[i].mid) == 0);
  CHECK(strstr(out.data, "a=rtpmap:101 telephone-event/8000\r\n") != NULL);
  /* ICE, DTLS role and candidate once, in the tagged m-line; the parser hands them
   * on. rtcp-mux in each: Chrome refuses a bundled m-line without it. The fingerprint
   * once, at session level: Firefox crashes if m-line 1 has none at either level. */
  const char *m0 = strstr(out.data, "m=audio"), *m1 = strstr(out.data, "m=video");
  const char *m2 = strstr(m1 + 1, "m=video");
  const char *fp = strstr(out.data, "a=fingerprint:");
  CHECK(m0 && m1 && m2 && fp && fp < m0 && !strstr(fp + 1, "a=fingerprint:"));
  CHECK(strcmp(answer.media[2].fingerprint, answer.media[0].fingerprint) == 0);
  CHECK(count_in_section(m0, "a=ice-ufrag:") == 1 &&
        count_in_section(m0, "a=setup:") == 1 &&
        count_in_section(m0, "a=rtcp-mux") == 1 &&
        count_in_section(m0, "a=candidate:") == 1);
  for (const char *m = m1; m; m = m == m1 ? m2 : NULL)
    CHECK(count_in_section(m, "a=ice-ufrag:") == 0 &&
          count_in_section(m, "a=ice-pwd:") == 0 &&
          count_in_section(m, "a=fingerprint:") == 0 &&
          count_in_section(m, "a=setup:") == 0 &&
          count_in_section(m, "a=rtcp-mux") == 1 &&
          count_in_section(m, "a=candidate:") == 0);
  CHECK(strcmp(answer.media[2].ice_ufrag, local.ice_ufrag) == 0 &&
        answer.media[2].rtcp_mux);
  buf_free(&out);
}

/* Port 0 without a=bundle-only, or bundle-only outside the BUNDLE group, is still a
 * rejected m-line (RFC 9143 §7.3 NOTE, §7.3.3). */
static void test_port_zero_rejected(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  size_t len = load("firefox153esr_offer.sdp");
  char *only = strstr(text, "a=bundle-only\r\n");
  memcpy(only, "a=bundle-xxxx", 13); /* mid 1: port 0 and no bundle-only */
  char *group = strstr(text, "a=group:BUNDLE 0 1 2");
  memcpy(group, "a=group:BUNDLE 0 1  ", 20); /* mid 2: bundle-only, not in the group */
  CHECK(answer_for(len, &ag, &out, err) == 0);
  CHECK(ag.media[0].accepted && !ag.media[1].accepted && !ag.media[2].accepted);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.n_bundle == 1 && answer.media[1].port == 0 && answer.media[2].port == 0);
  buf_free(&out);
}

static void test_h264_profile(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  size_t len = load("safari_style_offer.sdp");
  /* Drop VP8 from the m-line: H.264 constrained baseline (pt 98) must win over High. */
  char *vp8 = strstr(text, " 100 101\r\n");
  CHECK(vp8 != NULL);
  memcpy(vp8, "        ", 8); /* blank out the two payload types */
  CHECK(answer_for(len, &ag, &out, err) == 0);
  CHECK(strcmp(ag.media[1].codec, "H264") == 0 && ag.media[1].pt == 98 &&
        ag.media[1].rtx_pt == 99);
  buf_free(&out);
}

static void test_refusals(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  size_t len = load("firefox_style_offer.sdp");
  char *setup = strstr(text, "a=setup:actpass");
  memcpy(setup, "a=setup:passive", 15); /* same length as actpass */
  CHECK(answer_for(len, &ag, &out, err) == -1 && strstr(err, "DTLS server"));
  const char *pcmu = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=rtcp-mux\r\n"
                     "a=rtpmap:0 PCMU/8000\r\n";
  strcpy(text, pcmu);
  CHECK(answer_for(strlen(pcmu), &ag, &out, err) == -1 && strstr(err, "Opus"));
  const char *no_ice =
      "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtcp-mux\r\n"
      "a=rtpmap:111 opus/48000/2\r\n";
  strcpy(text, no_ice);
  CHECK(answer_for(strlen(no_ice), &ag, &out, err) == -1 && strstr(err, "ICE"));
  buf_free(&out);
}

static const char *video_codec_with(const char *prefer, bool vp9_first) {
  static sdp_agreement ag;
  size_t len = load("chrome156_offer.sdp");
  if (vp9_first) { /* the offerer lists VP9 (98) and its RTX (99) first, as
                    * setCodecPreferences does; the list keeps its length */
    char *m = strstr(text, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102");
    char *vp9 = strstr(m, " 98 99 ");
    size_t head = strlen("m=video 9 UDP/TLS/RTP/SAVPF ");
    memmove(m + head + 6, m + head, (size_t)(vp9 - (m + head)));
    memcpy(m + head, "98 99 ", 6);
  }
  sdp_local l = local;
  l.prefer_video = prefer;
  buf out = {0};
  char err[200];
  int rc = sdp_parse(text, len, &offer, err, sizeof err) == 0
               ? sdp_answer_write(&offer, &l, &out, &ag, err, sizeof err)
               : -1;
  buf_free(&out);
  return rc == 0 && ag.media[1].accepted ? ag.media[1].codec : "(none)";
}

/* Conferences keep our order (VP8 first); a recording keeps the offerer's; a
 * supervisor takes a named codec. */
static void test_video_preference(void) {
  CHECK_STR(video_codec_with(NULL, true), "VP8");
  CHECK_STR(video_codec_with("offer", false), "VP8");
  CHECK_STR(video_codec_with("offer", true), "VP9");
  CHECK_STR(video_codec_with("VP9", false), "VP9");
  CHECK_STR(video_codec_with("H264", false), "H264");
  CHECK_STR(video_codec_with("AV1", false), "VP8"); /* not ours: our order */
}

/* A dual-stack host: one candidate per address in the tagged m-line, priorities
 * falling with the order, the c= line naming the first address's family. */
static void test_several_addresses(void) {
  static const host_addr_list two = {.addr = {"2001:db8::7", "192.0.2.7"}, .n = 2};
  sdp_local l = local;
  l.addresses = &two;
  sdp_agreement ag;
  buf out = {0};
  char err[200];
  CHECK(answer_with(&l, load("chrome156_offer.sdp"), &ag, &out, err) == 0);
  const char *m0 = strstr(out.data, "m=audio"), *m1 = strstr(out.data, "m=video");
  CHECK(m0 && m1 && count_in_section(m0, "a=candidate:") == 2 &&
        count_in_section(m1, "a=candidate:") == 0);
  CHECK(strstr(m0, "c=IN IP6 2001:db8::7\r\n") != NULL);
  CHECK(strstr(m0, "a=candidate:1 1 udp 2130706431 2001:db8::7 40000 typ host\r\n"));
  CHECK(strstr(m0, "a=candidate:2 1 udp 2130706175 192.0.2.7 40000 typ host\r\n"));
  CHECK(strstr(m0, "a=end-of-candidates\r\n") > strstr(m0, "a=candidate:2"));
  buf_free(&out);
}

/* With ICE-TCP on, the tagged m-line carries a passive TCP host candidate next to the
 * UDP one, priced lower (RFC 8445 §5.1.2.1 with RFC 6544 §4.2's local preference), and
 * the other bundled m-lines none. */
static void test_tcp_candidate(void) {
  CHECK(sdp_candidate_priority(126, 65535) == 2130706431u); /* the UDP one, as before */
  uint32_t tcp = sdp_candidate_priority(SDP_TYPE_PREF_HOST, SDP_LOCAL_PREF_TCP_PASSIVE);
  CHECK(SDP_LOCAL_PREF_TCP_PASSIVE == 40959 && tcp == 2124414975u);
  size_t len = load("firefox153esr_offer.sdp");
  sdp_local l = local;
  l.tcp_port = 40001;
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  CHECK(sdp_parse(text, len, &offer, err, sizeof err) == 0 &&
        sdp_answer_write(&offer, &l, &out, &ag, err, sizeof err) == 0);
  const char *m0 = strstr(out.data, "m=audio"), *m1 = strstr(out.data, "m=video");
  CHECK(m0 && m1 && count_in_section(m0, "a=candidate:") == 2 &&
        count_in_section(m1, "a=candidate:") == 0);
  const char *udp =
      strstr(m0, "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n");
  const char *tcp_line = strstr(
      m0, "a=candidate:2 1 tcp 2124414975 127.0.0.1 40001 typ host tcptype passive\r\n");
  const char *end = strstr(m0, "a=end-of-candidates\r\n");
  CHECK(udp && tcp_line && end && udp < tcp_line && tcp_line < end && end < m1);
  buf_free(&out);
  /* tcp_port 0: the UDP candidate alone. */
  out = (buf){0};
  CHECK(answer_for(len, &ag, &out, err) == 0);
  CHECK(!strstr(out.data, " tcp ") &&
        count_in_section(strstr(out.data, "m=audio"), "a=candidate:") == 1);
  buf_free(&out);
}

static sdp_local multistream_local(void) {
  sdp_local l = local;
  l.multistream = l.simulcast = true;
  for (int i = 0; i < SDP_MAX_SLOTS - 1; i++) {
    l.slot_ssrc[i] = 2001 + (uint32_t)i;
    l.slot_rtx_ssrc[i] = 3001 + (uint32_t)i;
  }
  return l;
}

/* The m-line section of mid in an answer text. */
static const char *section_of(const char *sdp, const char *mid) {
  char needle[48];
  snprintf(needle, sizeof needle, "a=mid:%s\r\n", mid);
  const char *at = strstr(sdp, needle);
  while (at && at > sdp && !(at[0] == 'm' && at[1] == '=' && at[-1] == '\n'))
    at--;
  return at;
}

/* A real Chromium 156 offer: audio, simulcast video (rids l, m, h) and three recvonly
 * video m-lines. */
static void test_multistream_simulcast(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  sdp_local l = multistream_local();
  CHECK(answer_with(&l, load("chrome156_multistream_offer.sdp"), &ag, &out, err) == 0);
  CHECK(ag.n_slots == 4);
  CHECK(ag.media[0].slot == -1);
  for (int i = 1; i <= 4; i++)
    CHECK(ag.media[i].accepted && ag.media[i].slot == i - 1);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.media[1].direction == SDP_SENDRECV);
  for (int i = 2; i <= 4; i++) {
    const sdp_media *m = &answer.media[i];
    CHECK(m->port && m->direction == SDP_SENDONLY);
    CHECK(m->n_ssrcs == 2 && m->fid_primary == 2001 + (uint32_t)(i - 2) &&
          m->fid_repair == 3001 + (uint32_t)(i - 2));
    char msid[96];
    snprintf(msid, sizeof msid, "parley-%s parley-%s", m->mid, m->mid);
    CHECK_STR(m->msid, msid);
  }
  /* Simulcast received on the camera's m-line, by rid, in the offer's order. */
  const sdp_choice *v = &ag.media[1];
  CHECK(v->n_rids == 3 && strcmp(v->rids[0], "l") == 0 && strcmp(v->rids[2], "h") == 0);
  CHECK(v->ext_rid == sdp_extmap_id(&offer.media[1],
                                    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id") &&
        v->ext_rid);
  CHECK(v->ext_repaired_rid && v->remote_ssrc == 0 && v->remote_rtx_ssrc == 0);
  const char *video = section_of(out.data, "1");
  CHECK(video && count_in_section(video, "a=rid:l recv\r\n") == 1);
  CHECK(count_in_section(video, "a=rid:h recv\r\n") == 1);
  CHECK(count_in_section(video, "a=simulcast:recv l;m;h\r\n") == 1);
  CHECK(count_in_section(video, "sdes:rtp-stream-id\r\n") == 1);
  CHECK(count_in_section(video, "sdes:repaired-rtp-stream-id\r\n") == 1);
  /* The receive-only tiles carry no rids. */
  CHECK(count_in_section(section_of(out.data, "2"), "a=rid:") == 0);
  /* Without multistream (echo, RTM, presentation calls): one video stream, no rids. */
  CHECK(answer_for(load("chrome156_multistream_offer.sdp"), &ag, &out, err) == 0);
  CHECK(ag.n_slots == 0 && ag.media[2].slot == -1 && ag.media[1].n_rids == 0);
  CHECK(strstr(out.data, "a=simulcast") == NULL && strstr(out.data, "a=rid") == NULL);
  /* ...and the extra video m-lines rejected: answered, they would all carry the first
   * one's SSRC, which Chromium refuses. */
  CHECK(ag.media[1].accepted && !ag.media[2].accepted && !ag.media[3].accepted &&
        !ag.media[4].accepted);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.media[1].port != 0 && answer.media[2].port == 0 &&
        answer.media[4].port == 0);
  buf_free(&out);
}

/* Chrome's simulcast offer with an inactive second video m-line: simulcast, but one
 * slot only, so not a multistream call. */
static void test_simulcast_single(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  sdp_local l = multistream_local();
  CHECK(answer_with(&l, load("chrome156_simulcast_offer.sdp"), &ag, &out, err) == 0);
  CHECK(ag.n_slots == 0 && ag.media[1].slot == -1 && ag.media[2].slot == -1);
  CHECK(ag.media[1].n_rids == 3 && strcmp(ag.media[1].rids[0], "h") == 0);
  CHECK(strstr(out.data, "a=simulcast:recv h;m;l\r\n") != NULL);
  buf_free(&out);
}

/* Eleven receiving video m-lines: nine slots, the last two rejected. */
static void test_slot_limit(void) {
  size_t len = load("chrome156_multistream_offer.sdp");
  const char *last = strstr(text, "a=mid:4\r\n");
  while (last > text && !(last[0] == 'm' && last[1] == '=' && last[-1] == '\n'))
    last--;
  char section[8192];
  size_t n = len - (size_t)(last - text);
  CHECK(n < sizeof section);
  memcpy(section, last, n);
  section[n] = '\0';
  char *more = malloc(SDP_MAX_TEXT);
  snprintf(more, SDP_MAX_TEXT, "%s", text);
  char *bundle = strstr(more, "a=group:BUNDLE 0 1 2 3 4");
  CHECK(bundle != NULL);
  char group[128] = "a=group:BUNDLE 0 1 2 3 4 5 6 7 8 9 10 11";
  char *eol = strstr(bundle, "\r\n");
  char rest[SDP_MAX_TEXT / 2];
  snprintf(rest, sizeof rest, "%s", eol);
  snprintf(bundle, SDP_MAX_TEXT - (size_t)(bundle - more), "%s%s", group, rest);
  for (int mid = 5; mid <= 11; mid++) {
    char copy[8192], *at;
    snprintf(copy, sizeof copy, "%s", section);
    at = strstr(copy, "a=mid:4\r\n");
    char tail[8192];
    snprintf(tail, sizeof tail, "%s", at + strlen("a=mid:4\r\n"));
    snprintf(at, sizeof copy - (size_t)(at - copy), "a=mid:%d\r\n%s", mid, tail);
    strncat(more, copy, SDP_MAX_TEXT - strlen(more) - 1);
  }
  snprintf(text, sizeof text, "%s", more);
  free(more);
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  sdp_local l = multistream_local();
  CHECK(answer_with(&l, strlen(text), &ag, &out, err) == 0);
  CHECK(ag.n_media == 12 && ag.n_slots == 9);
  CHECK(ag.media[9].slot == 8 && ag.media[9].accepted);
  CHECK(!ag.media[10].accepted && !ag.media[11].accepted);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.media[10].port == 0 && answer.media[11].port == 0);
  CHECK(answer.media[9].fid_primary == 2008);
  buf_free(&out);
}

/* Data channels (RFC 8841): accepted only where the router serves them, answered with
 * our sctp-port and max-message-size; alone in an offer too; the old "DTLS/SCTP 5000"
 * form and an m-line without a=sctp-port are rejected. */
static void test_data_channels(void) {
  buf out = {0};
  sdp_agreement ag;
  char err[200];
  sdp_local l = local;
  l.data_channels = true;
  size_t len = load("chrome156_offer.sdp");
  CHECK(answer_with(&l, len, &ag, &out, err) == 0);
  CHECK(ag.media[3].accepted && ag.media[3].kind == SDP_APPLICATION);
  const sdp_choice *dc = sdp_agreement_data(&ag);
  CHECK(dc == &ag.media[3] && dc->sctp_port == 5000 && dc->max_message_size == 262144);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.n_bundle == 4 && strcmp(answer.bundle[3], "3") == 0);
  CHECK(answer.media[3].port == 40000 && answer.media[3].datachannel);
  CHECK(strcmp(answer.media[3].proto, "UDP/DTLS/SCTP") == 0);
  CHECK(answer.media[3].sctp_port == SCTP_PORT);
  CHECK(answer.media[3].max_message_size == SCTP_MAX_MESSAGE_SIZE);
  const char *app = strstr(out.data, "m=application");
  CHECK(app && !strstr(app, "a=rtcp-mux") && !strstr(app, "a=ice-ufrag"));
  /* Audio and video are as without it. */
  CHECK(ag.media[0].accepted && ag.media[1].accepted);

  /* Without data_channels (conference rooms today): port 0, as before. */
  CHECK(answer_for(len, &ag, &out, err) == 0 && !ag.media[3].accepted);
  CHECK(sdp_agreement_data(&ag) == NULL);

  /* The application m-line alone: it is the transport. */
  char *m = strstr(text, "m=application");
  char alone[4096];
  snprintf(alone, sizeof alone,
           "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
           "a=group:BUNDLE 3\r\n%s",
           m);
  memcpy(text, alone, strlen(alone) + 1);
  CHECK(answer_with(&l, strlen(text), &ag, &out, err) == 0);
  CHECK(ag.n_media == 1 && ag.media[0].accepted);
  CHECK(sdp_parse(out.data, out.len, &answer, err, sizeof err) == 0);
  CHECK(answer.media[0].port == 40000 && answer.media[0].ice_ufrag[0]);
  CHECK(strstr(out.data, "a=candidate:") && strstr(out.data, "a=setup:passive"));
  /* ... and refused where data channels are not served: nothing usable. */
  CHECK(answer_for(strlen(text), &ag, &out, err) == -1);

  /* No a=sctp-port (the legacy a=sctpmap form): rejected. */
  char *port = strstr(text, "a=sctp-port:5000");
  memcpy(port, "a=sctpmap:5000 ", 15);
  CHECK(answer_with(&l, strlen(text), &ag, &out, err) == -1);
  buf_free(&out);
}

int main(void) {
  test_data_channels();
  test_multistream_simulcast();
  test_simulcast_single();
  test_slot_limit();
  test_chrome();
  test_no_transport_cc();
  test_tcp_candidate();
  test_firefox_bundle_only();
  test_port_zero_rejected();
  test_video_preference();
  test_h264_profile();
  test_refusals();
  test_several_addresses();
  CHECK_DONE();
}
