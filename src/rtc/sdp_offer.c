/* sdp_offer — server offers for subscribe connections, and their answers checked. */
#include "rtc/sdp_offer.h"

#include "core/mem.h"
#include "rtc/twcc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FEEDBACK_VIDEO                                                                   \
  (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_TRANSPORT_CC)
#define FEEDBACK_AUDIO SDP_FB_TRANSPORT_CC

static void write_feedback(buf *out, int pt, unsigned fb) {
  if (fb & SDP_FB_NACK)
    buf_appendf(out, "a=rtcp-fb:%d nack\r\n", pt);
  if (fb & SDP_FB_NACK_PLI)
    buf_appendf(out, "a=rtcp-fb:%d nack pli\r\n", pt);
  if (fb & SDP_FB_CCM_FIR)
    buf_appendf(out, "a=rtcp-fb:%d ccm fir\r\n", pt);
  if (fb & SDP_FB_TRANSPORT_CC)
    buf_appendf(out, "a=rtcp-fb:%d transport-cc\r\n", pt);
}

static bool is_h264(const sdp_offer_track *t) {
  return t->kind == SDP_VIDEO && t->h264_profile[0];
}

static int video_pt(const sdp_offer_track *t) {
  return is_h264(t) ? SDP_OFFER_PT_H264 : SDP_OFFER_PT_VP8;
}

static int rtx_pt(const sdp_offer_track *t) {
  return is_h264(t) ? SDP_OFFER_PT_H264_RTX : SDP_OFFER_PT_RTX;
}

/* The video codec's rtpmap (and fmtp for H.264). */
static void write_video_codec(buf *out, const sdp_offer_track *t) {
  if (is_h264(t))
    buf_appendf(out,
                "a=rtpmap:%d H264/90000\r\na=fmtp:%d level-asymmetry-allowed=1;"
                "packetization-mode=1;profile-level-id=%.6s\r\n",
                SDP_OFFER_PT_H264, SDP_OFFER_PT_H264, t->h264_profile);
  else
    buf_appendf(out, "a=rtpmap:%d VP8/90000\r\n", SDP_OFFER_PT_VP8);
}

static void write_track(buf *out, const sdp_offer_local *l, const sdp_offer_track *t,
                        bool transport) {
  const char *first = l->addresses->addr[0];
  bool v6 = strchr(first, ':') != NULL;
  bool video = t->kind == SDP_VIDEO;
  if (video)
    buf_appendf(out, "m=video %u UDP/TLS/RTP/SAVPF %d %d\r\n", t->active ? l->port : 0,
                video_pt(t), rtx_pt(t));
  else
    buf_appendf(out, "m=audio %u UDP/TLS/RTP/SAVPF %d\r\n", t->active ? l->port : 0,
                SDP_OFFER_PT_OPUS);
  buf_appendf(out, "c=IN %s %s\r\na=mid:%s\r\n", v6 ? "IP6" : "IP4", first, t->mid);
  if (!t->active) { /* RFC 8843 §7.2: a dropped m-line leaves the group, inactive */
    buf_appendf(out, "a=inactive\r\na=rtcp-mux\r\n");
    if (video) {
      write_video_codec(out, t);
      buf_appendf(out, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", rtx_pt(t),
                  rtx_pt(t), video_pt(t));
    } else
      buf_appendf(out, "a=rtpmap:%d opus/48000/2\r\n", SDP_OFFER_PT_OPUS);
    return;
  }
  if (transport)
    buf_appendf(out, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n",
                l->ice_ufrag, l->ice_pwd);
  buf_appendf(out, "a=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n");
  if (video) {
    write_video_codec(out, t);
    write_feedback(out, video_pt(t), FEEDBACK_VIDEO);
    buf_appendf(out, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", rtx_pt(t),
                rtx_pt(t), video_pt(t));
  } else {
    buf_appendf(out,
                "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n",
                SDP_OFFER_PT_OPUS, SDP_OFFER_PT_OPUS);
    write_feedback(out, SDP_OFFER_PT_OPUS, FEEDBACK_AUDIO);
  }
  buf_appendf(out, "a=extmap:%d %s\r\n", SDP_OFFER_EXT_TWCC, TWCC_URI);
  buf_appendf(out, "a=msid:%s %s\r\n", t->stream_id, t->mid);
  if (video && t->rtx_ssrc)
    buf_appendf(out, "a=ssrc-group:FID %u %u\r\n", t->ssrc, t->rtx_ssrc);
  buf_appendf(out, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", t->ssrc, l->cname,
              t->ssrc, t->stream_id, t->mid);
  if (video && t->rtx_ssrc)
    buf_appendf(out, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", t->rtx_ssrc,
                l->cname, t->rtx_ssrc, t->stream_id, t->mid);
  if (transport)
    sdp_write_candidates(out, l->addresses, l->port, l->tcp_port);
}

int sdp_offer_write(const sdp_offer_local *l, buf *out, char *err, size_t errlen) {
  if (l->n_tracks == 0 || l->n_tracks > SDP_MAX_MEDIA) {
    snprintf(err, errlen, "a subscribe connection has 1 to %d m-lines", SDP_MAX_MEDIA);
    return -1;
  }
  int tag = -1;
  for (size_t i = 0; i < l->n_tracks && tag < 0; i++)
    if (l->tracks[i].active)
      tag = (int)i;
  buf_reset(out);
  buf_appendf(out,
              "v=0\r\no=- %llu %u IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
              "a=fingerprint:%s\r\n",
              (unsigned long long)l->session_id, l->version, l->fingerprint);
  if (tag >= 0) {
    buf_appendf(out, "a=group:BUNDLE");
    for (size_t i = 0; i < l->n_tracks; i++)
      if (l->tracks[i].active)
        buf_appendf(out, " %s", l->tracks[i].mid);
    buf_appendf(out, "\r\n");
  }
  buf_appendf(out, "a=msid-semantic: WMS *\r\n");
  for (size_t i = 0; i < l->n_tracks; i++)
    write_track(out, l, &l->tracks[i], (int)i == tag);
  return 0;
}

/* ---- the answer --------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *msg, size_t i, const char *mid) {
  snprintf(err, errlen, "answer m-line %zu (mid %.32s): %s", i, mid, msg);
  return -1;
}

/* One answered m-line against what we offered there; ch is filled when accepted. */
static int accept_media(const sdp_offer_track *t, const sdp_media *m, size_t i,
                        sdp_choice *ch, char *err, size_t errlen) {
  memset(ch, 0, sizeof *ch);
  ch->pt = ch->rtx_pt = ch->dtmf_pt = -1;
  ch->slot = -1;
  if (strcmp(m->mid, t->mid) != 0)
    return fail(err, errlen, "its mid differs from the offer's", i, m->mid);
  if (m->kind != t->kind)
    return fail(err, errlen, "its kind differs from the offer's", i, m->mid);
  ch->kind = t->kind;
  snprintf(ch->mid, sizeof ch->mid, "%s", t->mid);
  if (!t->active || m->port == 0 || m->direction == SDP_INACTIVE)
    return 0; /* dropped, or refused by the client: not accepted, not an error */
  if (m->direction != SDP_RECVONLY)
    return fail(err, errlen, "answer a sendonly m-line with a=recvonly", i, m->mid);
  int want = t->kind == SDP_VIDEO ? video_pt(t) : SDP_OFFER_PT_OPUS;
  const sdp_codec *c = sdp_codec_by_pt(m, (uint8_t)want);
  const char *name = t->kind == SDP_AUDIO ? "opus" : is_h264(t) ? "H264" : "VP8";
  if (!c || strcasecmp(c->name, name) != 0)
    return 0; /* our codec refused: nothing can be sent there */
  ch->accepted = true;
  ch->direction = SDP_SENDONLY;
  ch->pt = want;
  snprintf(ch->codec, sizeof ch->codec, "%s", c->name);
  ch->feedback = c->feedback & (t->kind == SDP_VIDEO ? FEEDBACK_VIDEO : FEEDBACK_AUDIO);
  const sdp_codec *rtx = sdp_codec_by_pt(m, (uint8_t)rtx_pt(t));
  if (t->kind == SDP_VIDEO && rtx && rtx->rtx_for == want)
    ch->rtx_pt = rtx_pt(t);
  uint8_t twcc = sdp_extmap_id(m, TWCC_URI);
  ch->ext_transport_cc = twcc == SDP_OFFER_EXT_TWCC ? twcc : 0;
  return 0;
}

static int check_transport(const sdp_media *m, size_t i, sdp_offer_result *out, char *err,
                           size_t errlen) {
  if (!m->ice_ufrag[0] || !m->ice_pwd[0])
    return fail(err, errlen, "no ICE credentials", i, m->mid);
  if (strcasecmp(m->fingerprint_alg, "sha-256") != 0 || !m->fingerprint[0])
    return fail(err, errlen, "no sha-256 DTLS fingerprint", i, m->mid);
  if (strcmp(m->setup, "active") != 0)
    return fail(err, errlen, "a=setup must be active (Parley is the DTLS server)", i,
                m->mid);
  snprintf(out->remote_ufrag, sizeof out->remote_ufrag, "%s", m->ice_ufrag);
  snprintf(out->remote_pwd, sizeof out->remote_pwd, "%s", m->ice_pwd);
  snprintf(out->remote_fingerprint, sizeof out->remote_fingerprint, "%s %s",
           m->fingerprint_alg, m->fingerprint);
  return 0;
}

int sdp_offer_accept(const sdp_offer_local *l, const char *answer, size_t len,
                     sdp_offer_result *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  sdp_session *a = xmalloc(sizeof *a);
  int rc = sdp_parse(answer, len, a, err, errlen);
  if (rc == 0 && a->n_media != l->n_tracks) {
    snprintf(err, errlen, "the answer has %zu m-lines, the offer %zu", a->n_media,
             l->n_tracks);
    rc = -1;
  }
  bool transport = false;
  for (size_t i = 0; rc == 0 && i < a->n_media; i++) {
    sdp_choice *ch = &out->agreed.media[i];
    rc = accept_media(&l->tracks[i], &a->media[i], i, ch, err, errlen);
    if (rc == 0 && ch->accepted && !transport) {
      rc = check_transport(&a->media[i], i, out, err, errlen);
      transport = true;
    }
  }
  if (rc == 0)
    out->agreed.n_media = a->n_media;
  free(a);
  return rc;
}
