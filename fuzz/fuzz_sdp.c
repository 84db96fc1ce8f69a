/* fuzz_sdp — libFuzzer harness for SDP: sdp_parse on the input as an offer and, when
 * it parses, sdp_answer_write with a fixed local side (and each video preference),
 * checking what both produce. */
#include "core/buf.h"
#include "rtc/sdp.h"
#include "rtc/sdp_answer.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sdp_session offer; /* large: static, and sdp_parse clears it each time */
static sdp_agreement agreed;

static const host_addr_list announced = {.addr = {"192.0.2.10", "2001:db8::10"}, .n = 2};

static const sdp_local local = {
    .ice_ufrag = "pRlY",
    .ice_pwd = "0123456789abcdefghijklmn",
    .fingerprint = "sha-256 "
                   "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                   "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
    .addresses = &announced,
    .port = 40000,
    .cname = "parley",
    .audio_ssrc = 1001,
    .video_ssrc = 2001,
    .video_rtx_ssrc = 2002,
    .slides_ssrc = 3001,
    .slides_rtx_ssrc = 3002,
};

static void check_text(const char *s, size_t cap) { CHECK(strnlen(s, cap) < cap); }

static void check_offer(void) {
  CHECK(offer.n_media >= 1 && offer.n_media <= SDP_MAX_MEDIA);
  CHECK(offer.n_bundle <= SDP_MAX_MEDIA);
  for (size_t i = 0; i < offer.n_media; i++) {
    const sdp_media *m = &offer.media[i];
    CHECK(m->n_codecs <= SDP_MAX_CODECS && m->n_payloads <= SDP_MAX_CODECS);
    CHECK(m->n_extmaps <= SDP_MAX_EXTMAPS && m->n_ssrcs <= SDP_MAX_SSRCS);
    CHECK(m->n_rids <= SDP_MAX_RIDS && m->n_candidates <= SDP_MAX_CANDIDATES);
    check_text(m->mid, sizeof m->mid);
    check_text(m->ice_ufrag, sizeof m->ice_ufrag);
    check_text(m->fingerprint, sizeof m->fingerprint);
    for (size_t c = 0; c < m->n_codecs; c++)
      check_text(m->codecs[c].fmtp, sizeof m->codecs[c].fmtp);
  }
}

/* A video preference only picks among usable codecs: it never changes which m-lines
 * are accepted, or whether an answer can be written at all. */
static void check_preferences(int rc_default) {
  static const char *const prefs[] = {"offer", "VP9", "H264"};
  static sdp_agreement preferred;
  for (size_t p = 0; p < sizeof prefs / sizeof *prefs; p++) {
    sdp_local l = local;
    l.prefer_video = prefs[p];
    buf out = {0};
    char err[256];
    int rc = sdp_answer_write(&offer, &l, &out, &preferred, err, sizeof err);
    CHECK(rc == rc_default);
    for (size_t i = 0; rc == 0 && i < preferred.n_media; i++)
      CHECK(preferred.media[i].accepted == agreed.media[i].accepted);
    buf_free(&out);
  }
}

/* Multistream and simulcast (a conference's main call): slots are numbered 0.. in
 * order, never more than SDP_MAX_SLOTS; rids only on an accepted video m-line, each
 * a NUL-terminated name. */
static void check_multistream(void) {
  static sdp_agreement ms;
  sdp_local l = local;
  l.multistream = l.simulcast = true;
  for (int i = 0; i < SDP_MAX_SLOTS - 1; i++)
    l.slot_ssrc[i] = 5001 + (uint32_t)i, l.slot_rtx_ssrc[i] = 6001 + (uint32_t)i;
  buf out = {0};
  char err[256];
  if (sdp_answer_write(&offer, &l, &out, &ms, err, sizeof err) == 0) {
    CHECK(ms.n_slots <= SDP_MAX_SLOTS && ms.n_slots != 1);
    int next = 0;
    for (size_t i = 0; i < ms.n_media; i++) {
      const sdp_choice *ch = &ms.media[i];
      if (ch->slot >= 0) {
        CHECK(ms.n_slots >= 2 && ch->accepted && ch->slot == next++);
        CHECK(ch->kind == SDP_VIDEO && !ch->slides);
      }
      CHECK(ch->n_rids <= SDP_MAX_LAYERS);
      CHECK(!ch->n_rids || (ch->accepted && ch->kind == SDP_VIDEO && ch->ext_rid));
      for (size_t r = 0; r < ch->n_rids; r++)
        check_text(ch->rids[r], sizeof ch->rids[r]);
    }
    CHECK(next == ms.n_slots);
  }
  buf_free(&out);
}

/* Data channels served: at most one application m-line accepted, with a port; the
 * audio and video agreement is what it is without them; the answer parses back with
 * our sctp-port on that m-line. */
static void check_data_channels(int rc_default) {
  static sdp_agreement dc;
  static sdp_session back;
  sdp_local l = local;
  l.data_channels = true;
  buf out = {0};
  char err[256];
  int rc = sdp_answer_write(&offer, &l, &out, &dc, err, sizeof err);
  CHECK(rc_default != 0 || rc == 0); /* more can be accepted, never less */
  if (rc == 0) {
    int apps = 0;
    for (size_t i = 0; i < dc.n_media; i++) {
      const sdp_choice *ch = &dc.media[i];
      if (ch->kind == SDP_APPLICATION && ch->accepted) {
        apps++;
        CHECK(ch->sctp_port != 0 && sdp_agreement_data(&dc) != NULL);
      } else if (rc_default == 0) {
        CHECK(ch->accepted == agreed.media[i].accepted);
      }
    }
    CHECK(apps <= 1);
    char perr[256];
    CHECK(sdp_parse(out.data, out.len, &back, perr, sizeof perr) == 0);
    for (size_t i = 0; i < back.n_media && i < dc.n_media; i++)
      if (dc.media[i].kind == SDP_APPLICATION && dc.media[i].accepted)
        CHECK(back.media[i].sctp_port == 5000 && back.media[i].datachannel);
  }
  buf_free(&out);
}

static void check_answer(void) {
  buf out = {0};
  char err[256];
  int rc = sdp_answer_write(&offer, &local, &out, &agreed, err, sizeof err);
  if (rc == 0) {
    CHECK(out.len > 0 && out.len <= out.cap && out.data);
    CHECK(agreed.n_media == offer.n_media); /* every offered m-line kept, in order */
    for (size_t i = 0; i < agreed.n_media; i++)
      check_text(agreed.media[i].mid, sizeof agreed.media[i].mid);
  } else {
    CHECK(rc == -1);
    check_text(err, sizeof err);
  }
  buf_free(&out);
  check_preferences(rc);
  check_multistream();
  check_data_channels(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size ? size : 1); /* exact size, not NUL-terminated */
  if (size)
    memcpy(text, data, size);
  char err[256];
  if (sdp_parse(text, size, &offer, err, sizeof err) == 0) {
    check_offer();
    check_answer();
  } else {
    check_text(err, sizeof err);
  }
  free(text);
  return 0;
}
