/* sdp_answer — codec and extension choice per m-line, and the answer's text. */
#include "rtc/sdp_answer.h"

#include "rtc/sctp.h"
#include "rtc/twcc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define URI_REPAIRED_RID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
/* We answer only the feedback we act on. transport-cc comes with its header extension
 * and replaces goog-remb (REMB only for peers without it). */
#define FEEDBACK_WE_HONOUR                                                               \
  (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_GOOG_REMB |                   \
   SDP_FB_TRANSPORT_CC)

static bool named(const sdp_codec *c, const char *name, uint32_t rate) {
  return strcasecmp(c->name, name) == 0 && c->clock_rate == rate;
}

/* H.264 must be packetization-mode 1; constrained baseline (42e0xx/42c0xx) first. */
static int h264_rank(const sdp_codec *c) {
  char mode[8] = "0", plid[16] = "";
  sdp_fmtp_get(c->fmtp, "packetization-mode", mode, sizeof mode);
  sdp_fmtp_get(c->fmtp, "profile-level-id", plid, sizeof plid);
  if (strcmp(mode, "1") != 0 || strlen(plid) != 6)
    return 0;
  if (strncasecmp(plid, "42e0", 4) == 0 || strncasecmp(plid, "42c0", 4) == 0)
    return 3;
  return strncasecmp(plid, "4200", 4) == 0 ? 2 : 1;
}

/* Our own order (VP8, then H.264 with packetization-mode 1, then VP9 profile 0), unless
 * the caller names a codec to prefer ("offer": the offerer's first usable one). */
static const sdp_codec *choose_video(const sdp_media *m, const char *prefer) {
  const sdp_codec *best = NULL;
  int best_rank = 0;
  for (size_t i = 0; i < m->n_payloads; i++) {
    const sdp_codec *c = sdp_codec_by_pt(m, m->payload_order[i]);
    if (!c)
      continue;
    int rank = 0;
    char profile[8] = "0";
    if (named(c, "VP8", 90000))
      rank = 10;
    else if (named(c, "H264", 90000))
      rank = h264_rank(c) ? 5 + h264_rank(c) : 0;
    else if (named(c, "VP9", 90000) &&
             (!sdp_fmtp_get(c->fmtp, "profile-id", profile, sizeof profile) ||
              strcmp(profile, "0") == 0))
      rank = 4;
    if (rank && prefer && strcmp(prefer, "offer") == 0)
      return c; /* usable, and the offerer listed it first */
    if (rank && prefer && named(c, prefer, 90000))
      rank += 100;
    if (rank > best_rank) {
      best = c;
      best_rank = rank;
    }
  }
  return best;
}

static const sdp_codec *find_in_order(const sdp_media *m, const char *name, uint32_t rate,
                                      int rtx_for) {
  for (size_t i = 0; i < m->n_payloads; i++) {
    const sdp_codec *c = sdp_codec_by_pt(m, m->payload_order[i]);
    if (c && named(c, name, rate) && (rtx_for < 0 || c->rtx_for == rtx_for))
      return c;
  }
  return NULL;
}

static sdp_direction answer_direction(sdp_direction offered) {
  switch (offered) {
  case SDP_SENDONLY:
    return SDP_RECVONLY;
  case SDP_RECVONLY:
    return SDP_SENDONLY;
  default:
    return offered;
  }
}

/* RFC 8841: UDP/DTLS/SCTP (or TCP/DTLS/SCTP for ICE-TCP) webrtc-datachannel with an
 * a=sctp-port; the old "DTLS/SCTP 5000" form with a=sctpmap is not served. */
static void choose_data(const sdp_media *m, const sdp_local *l, sdp_choice *ch) {
  bool bundled_only = m->bundle_only && m->bundled;
  if (!l->data_channels || (m->port == 0 && !bundled_only) || !m->mid[0] ||
      !m->datachannel || !m->sctp_port ||
      (strcmp(m->proto, "UDP/DTLS/SCTP") != 0 && strcmp(m->proto, "TCP/DTLS/SCTP") != 0))
    return;
  /* A data m-line whose transport we could not use is rejected, never the call. */
  if (!m->ice_ufrag[0] || !m->ice_pwd[0] ||
      strcasecmp(m->fingerprint_alg, "sha-256") != 0 || !m->fingerprint[0] ||
      strcmp(m->setup, "passive") == 0)
    return;
  ch->accepted = true;
  ch->direction = SDP_SENDRECV;
  ch->sctp_port = m->sctp_port;
  ch->max_message_size = m->max_message_size;
}

const sdp_choice *sdp_agreement_data(const sdp_agreement *a) {
  for (size_t i = 0; i < a->n_media; i++)
    if (a->media[i].accepted && a->media[i].kind == SDP_APPLICATION)
      return &a->media[i];
  return NULL;
}

static void choose(const sdp_media *m, const sdp_local *l, sdp_choice *ch) {
  const char *prefer_video = l->prefer_video;
  memset(ch, 0, sizeof *ch);
  ch->kind = m->kind;
  ch->pt = ch->rtx_pt = ch->dtmf_pt = -1;
  ch->slot = -1;
  snprintf(ch->mid, sizeof ch->mid, "%s", m->mid);
  ch->slides = strcmp(m->content, "slides") == 0 ||
               (l->slides_mid && strcmp(m->mid, l->slides_mid) == 0);
  ch->direction = answer_direction(m->direction);
  if (m->kind == SDP_APPLICATION)
    return choose_data(m, l, ch);
  /* Port 0 rejects the m-line, unless bundle-only and bundled (RFC 9143 §7.3 NOTE). */
  bool bundled_only = m->bundle_only && m->bundled;
  if ((m->port == 0 && !bundled_only) || !m->mid[0] || !m->rtcp_mux ||
      !strstr(m->proto, "SAVPF"))
    return;
  const sdp_codec *c = NULL;
  if (m->kind == SDP_AUDIO) {
    c = find_in_order(m, "opus", 48000, -1);
    /* Opus's own clock first; Firefox offers only telephone-event/8000. */
    const sdp_codec *dtmf = find_in_order(m, "telephone-event", 48000, -1);
    if (!dtmf)
      dtmf = find_in_order(m, "telephone-event", 8000, -1);
    ch->dtmf_pt = dtmf ? dtmf->pt : -1;
    ch->dtmf_rate = dtmf ? dtmf->clock_rate : 0;
    ch->ext_audio_level = sdp_extmap_id(m, URI_AUDIO_LEVEL);
  } else if (m->kind == SDP_VIDEO) {
    c = choose_video(m, prefer_video);
    const sdp_codec *rtx = c ? find_in_order(m, "rtx", 90000, c->pt) : NULL;
    ch->rtx_pt = rtx ? rtx->pt : -1;
  }
  if (!c || (c->channels != 2 && m->kind == SDP_AUDIO))
    return;
  ch->accepted = true;
  ch->pt = c->pt;
  snprintf(ch->codec, sizeof ch->codec, "%s", c->name);
  ch->feedback = c->feedback & FEEDBACK_WE_HONOUR;
  ch->ext_transport_cc = sdp_extmap_id(m, TWCC_URI);
  if (ch->ext_transport_cc > 14)
    ch->ext_transport_cc = 0; /* we write one-byte elements only */
  if (ch->ext_transport_cc && (ch->feedback & SDP_FB_TRANSPORT_CC))
    ch->feedback &= ~(unsigned)SDP_FB_GOOG_REMB;
  else {
    ch->feedback &= ~(unsigned)SDP_FB_TRANSPORT_CC;
    ch->ext_transport_cc = 0;
  }
  ch->ext_abs_send_time = sdp_extmap_id(m, URI_ABS_SEND_TIME);
  ch->ext_mid = sdp_extmap_id(m, URI_MID);
  ch->remote_ssrc = m->fid_primary ? m->fid_primary : (m->n_ssrcs ? m->ssrcs[0].ssrc : 0);
  ch->remote_rtx_ssrc = m->fid_repair;
}

/* Multistream (Parley's extension): in a conference's main call, the first video m-line
 * (not slides) and every later one the offerer receives on are tile slots, answered
 * sendonly (the first keeps its direction: the camera comes in there); two or more make
 * the call multistream. Slots past SDP_MAX_SLOTS are rejected. */
static void assign_slots(const sdp_session *offer, const sdp_local *l, sdp_agreement *a) {
  if (!l->multistream)
    return;
  size_t idx[SDP_MAX_MEDIA], n = 0;
  for (size_t i = 0; i < a->n_media; i++) {
    const sdp_choice *ch = &a->media[i];
    sdp_direction d = offer->media[i].direction;
    if (!ch->accepted || ch->kind != SDP_VIDEO || ch->slides)
      continue;
    if (n == 0 || d == SDP_RECVONLY || d == SDP_SENDRECV)
      idx[n++] = i;
  }
  if (n < 2)
    return;
  for (size_t k = 0; k < n; k++) {
    sdp_choice *ch = &a->media[idx[k]];
    if (k >= SDP_MAX_SLOTS) {
      ch->accepted = false;
      continue;
    }
    ch->slot = (int8_t)k;
    if (k > 0)
      ch->direction = SDP_SENDONLY;
  }
  a->n_slots = (uint8_t)(n < SDP_MAX_SLOTS ? n : SDP_MAX_SLOTS);
}

/* One m-line per role: the first audio, the first main video (or the tile slots of a
 * multistream call) and the first slides m-line. Any further one would be answered with
 * the same SSRC as its first (when we send on it), which Chromium refuses outright and
 * Firefox accepts and then shows nothing on (seen with the web app's multistream offer in
 * a test-call room), so it is rejected instead: the offerer sees port 0 and keeps its
 * other m-lines. */
static void reject_extra_media(sdp_agreement *a) {
  bool audio = false, video = false, slides = false, data = false;
  for (size_t i = 0; i < a->n_media; i++) {
    sdp_choice *ch = &a->media[i];
    if (!ch->accepted || ch->slot > 0)
      continue;
    if (ch->kind == SDP_APPLICATION) { /* one SCTP association per transport */
      ch->accepted = !data;
      data = true;
      continue;
    }
    bool *seen = ch->kind == SDP_AUDIO ? &audio : ch->slides ? &slides : &video;
    bool sends = ch->direction == SDP_SENDRECV || ch->direction == SDP_SENDONLY;
    if (*seen && sends)
      ch->accepted = false; /* an inactive or receive-only one carries no SSRC of ours */
    *seen = true;
  }
}

/* Simulcast (RFC 8853) on the main video m-line: rids it sends, a=simulcast:send, the
 * rtp-stream-id extension, and VP8 (its keyframes tell the layers' sizes). */
static void accept_simulcast(const sdp_session *offer, const sdp_local *l,
                             sdp_agreement *a) {
  if (!l->simulcast)
    return;
  for (size_t i = 0; i < a->n_media; i++) {
    sdp_choice *ch = &a->media[i];
    const sdp_media *m = &offer->media[i];
    if (!ch->accepted || ch->kind != SDP_VIDEO || ch->slides)
      continue;
    /* Only the first main video m-line publishes. */
    uint8_t ext = sdp_extmap_id(m, URI_RID);
    if (m->n_rids >= 2 && strncmp(m->simulcast, "send ", 5) == 0 && ext &&
        strcasecmp(ch->codec, "VP8") == 0 &&
        (m->direction == SDP_SENDRECV || m->direction == SDP_SENDONLY)) {
      ch->ext_rid = ext;
      ch->ext_repaired_rid = sdp_extmap_id(m, URI_REPAIRED_RID);
      for (size_t r = 0; r < m->n_rids && r < SDP_MAX_LAYERS; r++)
        snprintf(ch->rids[ch->n_rids++], sizeof ch->rids[0], "%s", m->rids[r]);
      ch->remote_ssrc = ch->remote_rtx_ssrc = 0; /* layers are learned by rid */
    }
    return;
  }
}

static const char *direction_text(sdp_direction d) {
  static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
  return names[d];
}

static void write_rejected(buf *out, const sdp_media *m) {
  buf_appendf(out, "m=%s 0 %s ", m->kind_name, m->proto);
  if (m->kind == SDP_APPLICATION)
    buf_appendf(out, "webrtc-datachannel\r\n");
  else
    buf_appendf(out, "%u\r\n", m->n_payloads ? m->payload_order[0] : 0);
  buf_appendf(out, "c=IN IP4 0.0.0.0\r\n");
  if (m->mid[0])
    buf_appendf(out, "a=mid:%s\r\n", m->mid);
  buf_appendf(out, "a=inactive\r\n");
}

static void write_codec(buf *out, const sdp_media *m, int pt, unsigned feedback) {
  const sdp_codec *c = sdp_codec_by_pt(m, (uint8_t)pt);
  if (c->channels > 1)
    buf_appendf(out, "a=rtpmap:%d %s/%u/%u\r\n", pt, c->name, c->clock_rate, c->channels);
  else
    buf_appendf(out, "a=rtpmap:%d %s/%u\r\n", pt, c->name, c->clock_rate);
  if (c->fmtp[0])
    buf_appendf(out, "a=fmtp:%d %s\r\n", pt, c->fmtp);
  static const struct {
    unsigned flag;
    const char *text;
  } fbs[] = {{SDP_FB_NACK, "nack"},
             {SDP_FB_NACK_PLI, "nack pli"},
             {SDP_FB_CCM_FIR, "ccm fir"},
             {SDP_FB_GOOG_REMB, "goog-remb"},
             {SDP_FB_TRANSPORT_CC, "transport-cc"}};
  for (size_t i = 0; i < sizeof fbs / sizeof *fbs; i++)
    if (feedback & fbs[i].flag)
      buf_appendf(out, "a=rtcp-fb:%d %s\r\n", pt, fbs[i].text);
}

static void write_slot_ssrcs(buf *out, const sdp_local *l, const sdp_choice *ch) {
  uint32_t ssrc = l->slot_ssrc[ch->slot - 1];
  uint32_t rtx = ch->rtx_pt < 0 ? 0 : l->slot_rtx_ssrc[ch->slot - 1];
  /* One stream and track per m-line, named by its mid: the browser makes one track each.
   */
  buf_appendf(out, "a=msid:parley-%s parley-%s\r\n", ch->mid, ch->mid);
  if (rtx)
    buf_appendf(out, "a=ssrc-group:FID %u %u\r\n", ssrc, rtx);
  buf_appendf(out, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:parley-%s parley-%s\r\n", ssrc,
              l->cname, ssrc, ch->mid, ch->mid);
  if (rtx)
    buf_appendf(out, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:parley-%s parley-%s\r\n", rtx,
                l->cname, rtx, ch->mid, ch->mid);
}

static void write_ssrcs(buf *out, const sdp_local *l, const sdp_choice *ch) {
  if (ch->slot > 0)
    return write_slot_ssrcs(out, l, ch);
  uint32_t ssrc = ch->kind == SDP_AUDIO ? l->audio_ssrc
                  : ch->slides          ? l->slides_ssrc
                                        : l->video_ssrc;
  uint32_t rtx = ch->rtx_pt < 0 ? 0 : ch->slides ? l->slides_rtx_ssrc : l->video_rtx_ssrc;
  const char *track = ch->kind == SDP_AUDIO ? "audio" : ch->slides ? "slides" : "video";
  buf_appendf(out, "a=msid:parley %s%s\r\n", track, ch->mid);
  if (rtx)
    buf_appendf(out, "a=ssrc-group:FID %u %u\r\n", ssrc, rtx);
  buf_appendf(out, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:parley %s%s\r\n", ssrc, l->cname,
              ssrc, track, ch->mid);
  if (rtx)
    buf_appendf(out, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:parley %s%s\r\n", rtx,
                l->cname, rtx, track, ch->mid);
}

uint32_t sdp_candidate_priority(uint32_t type_pref, uint32_t local_pref) {
  return (type_pref << 24) + (local_pref << 8) + (256 - 1); /* component 1 */
}

/* Our host candidates, one per announced address: UDP, and with ICE-TCP a passive TCP
 * one a client whose UDP is blocked can use. The local preference falls with the
 * list's order (RFC 8445 §5.1.2.1); TCP's starts lower (RFC 6544 §4.2). Each address
 * and protocol is its own foundation (§5.1.1.3): UDP 1..n, TCP n+1..2n. */
void sdp_write_candidates(buf *out, const host_addr_list *addresses, uint16_t port,
                          uint16_t tcp_port) {
  int n = addresses->n;
  for (int i = 0; i < n; i++)
    buf_appendf(
        out, "a=candidate:%d 1 udp %u %s %u typ host\r\n", i + 1,
        sdp_candidate_priority(SDP_TYPE_PREF_HOST, SDP_LOCAL_PREF_UDP - (uint32_t)i),
        addresses->addr[i], port);
  for (int i = 0; tcp_port && i < n; i++)
    buf_appendf(out, "a=candidate:%d 1 tcp %u %s %u typ host tcptype passive\r\n",
                n + i + 1,
                sdp_candidate_priority(SDP_TYPE_PREF_HOST,
                                       SDP_LOCAL_PREF_TCP_PASSIVE - (uint32_t)i),
                addresses->addr[i], tcp_port);
  buf_appendf(out, "a=end-of-candidates\r\n");
}

/* RFC 8841 §5: our SCTP port and the largest message we accept. */
static void write_data(buf *out, const sdp_media *m, const sdp_local *l, bool transport) {
  const char *first = l->addresses->addr[0];
  buf_appendf(out, "m=application %u %s webrtc-datachannel\r\nc=IN %s %s\r\na=mid:%s\r\n",
              l->port, m->proto, strchr(first, ':') ? "IP6" : "IP4", first, m->mid);
  if (transport)
    buf_appendf(out, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=setup:passive\r\n",
                l->ice_ufrag, l->ice_pwd);
  buf_appendf(out, "a=sctp-port:%u\r\na=max-message-size:%u\r\n", SCTP_PORT,
              l->max_message_size ? l->max_message_size : SCTP_MAX_MESSAGE_SIZE);
  if (transport)
    sdp_write_candidates(out, l->addresses, l->port, l->tcp_port);
}

/* transport: this m-line describes the transport, ICE, DTLS role and candidate (RFC
 * 9143 §7.1.3: only the tagged one of a BUNDLE group does; the others share it). */
static void write_accepted(buf *out, const sdp_media *m, const sdp_choice *ch,
                           const sdp_local *l, bool transport) {
  const char *first = l->addresses->addr[0];
  bool v6 = strchr(first, ':') != NULL;
  buf_appendf(out, "m=%s %u %s %d", m->kind_name, l->port, m->proto, ch->pt);
  if (ch->rtx_pt >= 0)
    buf_appendf(out, " %d", ch->rtx_pt);
  if (ch->dtmf_pt >= 0)
    buf_appendf(out, " %d", ch->dtmf_pt);
  buf_appendf(out, "\r\nc=IN %s %s\r\na=mid:%s\r\n", v6 ? "IP6" : "IP4", first, m->mid);
  if (transport)
    buf_appendf(out, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=setup:passive\r\n",
                l->ice_ufrag, l->ice_pwd);
  /* rtcp-mux in every m-line: Chrome refuses a bundled one without it ("rtcp-mux must
   * be enabled when BUNDLE is enabled"), as JSEP (RFC 8829 §5.3.1) has it. */
  buf_appendf(out, "a=%s\r\na=rtcp-mux\r\n", direction_text(ch->direction));
  if (m->rtcp_rsize)
    buf_appendf(out, "a=rtcp-rsize\r\n");
  if (m->content[0])
    buf_appendf(out, "a=content:%s\r\n", m->content);
  write_codec(out, m, ch->pt, ch->feedback);
  if (ch->rtx_pt >= 0)
    write_codec(out, m, ch->rtx_pt, 0);
  if (ch->dtmf_pt >= 0)
    write_codec(out, m, ch->dtmf_pt, 0);
  if (ch->ext_audio_level)
    buf_appendf(out, "a=extmap:%u %s\r\n", ch->ext_audio_level, URI_AUDIO_LEVEL);
  if (ch->ext_abs_send_time)
    buf_appendf(out, "a=extmap:%u %s\r\n", ch->ext_abs_send_time, URI_ABS_SEND_TIME);
  if (ch->ext_mid)
    buf_appendf(out, "a=extmap:%u %s\r\n", ch->ext_mid, URI_MID);
  if (ch->ext_rid)
    buf_appendf(out, "a=extmap:%u %s\r\n", ch->ext_rid, URI_RID);
  if (ch->ext_repaired_rid)
    buf_appendf(out, "a=extmap:%u %s\r\n", ch->ext_repaired_rid, URI_REPAIRED_RID);
  if (ch->ext_transport_cc)
    buf_appendf(out, "a=extmap:%u %s\r\n", ch->ext_transport_cc, TWCC_URI);
  if (ch->direction == SDP_SENDRECV || ch->direction == SDP_SENDONLY)
    write_ssrcs(out, l, ch);
  if (ch->n_rids) {
    for (size_t r = 0; r < ch->n_rids; r++)
      buf_appendf(out, "a=rid:%s recv\r\n", ch->rids[r]);
    buf_appendf(out, "a=simulcast:recv ");
    for (size_t r = 0; r < ch->n_rids; r++)
      buf_appendf(out, "%s%s", r ? ";" : "", ch->rids[r]);
    buf_appendf(out, "\r\n");
  }
  if (transport)
    sdp_write_candidates(out, l->addresses, l->port, l->tcp_port);
}

/* RFC 9143 §7.3.1: the tagged m-line is the first mid of the offer's BUNDLE group that
 * we accept and that has a port (a bundle-only one cannot be tagged). */
static int bundle_tag(const sdp_session *offer, const sdp_agreement *agreed) {
  for (size_t b = 0; b < offer->n_bundle; b++)
    for (size_t i = 0; i < offer->n_media; i++)
      if (agreed->media[i].accepted && offer->media[i].port &&
          strcmp(offer->media[i].mid, offer->bundle[b]) == 0)
        return (int)i;
  return -1;
}

/* Without such a tag there is no BUNDLE group, so bundle-only m-lines are rejected.
 * Decided before tile slots are numbered, which must count accepted m-lines only. */
static void reject_unbundled(const sdp_session *offer, sdp_agreement *agreed) {
  if (bundle_tag(offer, agreed) >= 0)
    return;
  for (size_t i = 0; i < offer->n_media; i++)
    if (offer->media[i].port == 0)
      agreed->media[i].accepted = false;
}

/* The tag, else (no group at all) the first accepted m-line with a port; -1 if none. */
static int choose_tag(const sdp_session *offer, const sdp_agreement *agreed) {
  int tag = bundle_tag(offer, agreed);
  for (size_t i = 0; tag < 0 && i < offer->n_media; i++)
    if (agreed->media[i].accepted && offer->media[i].port)
      tag = (int)i;
  return tag;
}

static int check_transport(const sdp_session *offer, const sdp_agreement *agreed,
                           char *err, size_t errlen) {
  for (size_t i = 0; i < agreed->n_media; i++) {
    const sdp_media *m = &offer->media[i];
    if (!agreed->media[i].accepted)
      continue;
    if (!m->ice_ufrag[0] || !m->ice_pwd[0]) {
      snprintf(err, errlen, "m-line %zu (mid %s) has no ICE credentials", i, m->mid);
      return -1;
    }
    if (strcasecmp(m->fingerprint_alg, "sha-256") != 0 || !m->fingerprint[0]) {
      snprintf(err, errlen, "m-line %zu (mid %s) has no sha-256 DTLS fingerprint", i,
               m->mid);
      return -1;
    }
    if (strcmp(m->setup, "passive") == 0) {
      snprintf(err, errlen,
               "offer wants to be the DTLS server (a=setup:passive); "
               "Parley is always the DTLS server");
      return -1;
    }
  }
  return 0;
}

int sdp_answer_write(const sdp_session *offer, const sdp_local *local, buf *out,
                     sdp_agreement *agreed, char *err, size_t errlen) {
  memset(agreed, 0, sizeof *agreed);
  for (size_t i = 0; i < offer->n_media; i++)
    choose(&offer->media[i], local, &agreed->media[i]);
  agreed->n_media = offer->n_media;
  reject_unbundled(offer, agreed);
  assign_slots(offer, local, agreed);
  reject_extra_media(agreed);
  accept_simulcast(offer, local, agreed);
  int tag = choose_tag(offer, agreed);
  if (tag < 0) {
    snprintf(err, errlen,
             "offer has no audio (Opus) or video (VP8, VP9, H.264 "
             "packetization-mode 1) with rtcp-mux over UDP/TLS/RTP/SAVPF");
    return -1;
  }
  if (check_transport(offer, agreed, err, errlen) != 0)
    return -1;
  buf_reset(out);
  /* The fingerprint at session level (RFC 8122 §5), for every m-line: Firefox 153
   * ESR's content process crashes (SIGSEGV) on an answer whose bundled m-line has
   * none, session- or media-level. Firefox's own offers put it there too. */
  buf_appendf(out,
              "v=0\r\no=- %u 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
              "a=fingerprint:%s\r\n",
              local->audio_ssrc, local->fingerprint);
  buf_appendf(out, "a=group:BUNDLE %s", agreed->media[tag].mid); /* the tag first */
  for (size_t i = 0; i < agreed->n_media; i++)
    if (agreed->media[i].accepted && i != (size_t)tag)
      buf_appendf(out, " %s", agreed->media[i].mid);
  buf_appendf(out, "\r\na=msid-semantic: WMS parley\r\n");
  for (size_t i = 0; i < offer->n_media; i++) {
    bool transport = i == (size_t)tag || !offer->media[i].bundled;
    if (agreed->media[i].accepted && agreed->media[i].kind == SDP_APPLICATION)
      write_data(out, &offer->media[i], local, transport);
    else if (agreed->media[i].accepted)
      write_accepted(out, &offer->media[i], &agreed->media[i], local, transport);
    else
      write_rejected(out, &offer->media[i]);
  }
  return 0;
}
