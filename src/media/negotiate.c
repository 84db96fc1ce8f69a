/* negotiate — SDP offer in, answer out, agreement and remote credentials kept. */
#include "media/negotiate.h"

#include "core/ids.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t random_ssrc(void) {
  uint32_t v;
  do
    ids_random(&v, sizeof v);
  while (v == 0);
  return v;
}

/* The offer's first usable ICE and DTLS parameters (all m-lines are bundled). */
static const sdp_media *transport_media(const sdp_session *offer,
                                        const sdp_agreement *agreed) {
  for (size_t i = 0; i < agreed->n_media; i++)
    if (agreed->media[i].accepted)
      return &offer->media[i];
  return NULL;
}

static void fill_local(media_engine *media, const media_call *m, sdp_local *l) {
  uint16_t port = (uint16_t)media_engine_port_for(media, m);
  *l = (sdp_local){.ice_ufrag = m->local_ufrag,
                   .ice_pwd = m->local_pwd,
                   .fingerprint = media_engine_fingerprint(media),
                   .addresses = media_engine_announce(media),
                   .port = port,
                   .tcp_port = media_engine_ice_tcp(media) ? port : 0,
                   .cname = "parley",
                   .audio_ssrc = m->audio_ssrc,
                   .video_ssrc = m->video_ssrc,
                   .video_rtx_ssrc = m->video_rtx_ssrc,
                   .slides_ssrc = m->slides_ssrc,
                   .slides_rtx_ssrc = m->slides_rtx_ssrc};
  /* Tile slots and simulcast are for a conference's main call only. */
  bool main_call = m->mode == MEDIA_CONFERENCE && m->present == 0;
  l->multistream = main_call;
  /* A pub/sub publish call: its camera may simulcast, its screen is the slides m-line. */
  l->simulcast = main_call || m->mode == MEDIA_PUBSUB_PUB;
  l->slides_mid = m->slides_mid[0] ? m->slides_mid : NULL;
  /* Data channels: the echo router serves them (test calls); others answer port 0. */
  l->data_channels = m->mode == MEDIA_ECHO;
  memcpy(l->slot_ssrc, m->slot_ssrc, sizeof l->slot_ssrc);
  memcpy(l->slot_rtx_ssrc, m->slot_rtx_ssrc, sizeof l->slot_rtx_ssrc);
}

static void new_credentials(media_call *m) {
  ice_lite fresh;
  ice_lite_new_credentials(&fresh);
  snprintf(m->local_ufrag, sizeof m->local_ufrag, "%s", fresh.local_ufrag);
  snprintf(m->local_pwd, sizeof m->local_pwd, "%s", fresh.local_pwd);
}

/* The offer's ICE ufrag: every m-line is bundled, so the first live one's. */
static const char *offered_ufrag(const sdp_session *offer) {
  for (size_t i = 0; i < offer->n_media; i++)
    if (offer->media[i].port && offer->media[i].ice_ufrag[0])
      return offer->media[i].ice_ufrag;
  return "";
}

int negotiate(media_engine *media, const char *sdp, media_call *m, buf *answer,
              bool *ice_restart, char *err, size_t errlen) {
  return negotiate_preferring(media, sdp, NULL, m, answer, ice_restart, err, errlen);
}

int negotiate_preferring(media_engine *media, const char *sdp, const char *prefer_video,
                         media_call *m, buf *answer, bool *ice_restart, char *err,
                         size_t errlen) {
  sdp_session *offer = xmalloc(sizeof *offer);
  int rc = sdp_parse(sdp, strlen(sdp), offer, err, errlen);
  if (rc == 0) {
    media_call next = *m;
    /* A new ufrag from the peer is an ICE restart: we restart too (RFC 8445 §9). */
    const char *ufrag = offered_ufrag(offer);
    *ice_restart = m->remote_ufrag[0] && strcmp(m->remote_ufrag, ufrag) != 0;
    if (*ice_restart || !next.local_ufrag[0])
      new_credentials(&next);
    sdp_local local;
    fill_local(media, &next, &local);
    local.prefer_video = prefer_video;
    rc = sdp_answer_write(offer, &local, answer, &next.agreed, err, errlen);
    const sdp_media *tm = rc == 0 ? transport_media(offer, &next.agreed) : NULL;
    if (tm) {
      snprintf(next.remote_ufrag, sizeof next.remote_ufrag, "%s", tm->ice_ufrag);
      snprintf(next.remote_fingerprint, sizeof next.remote_fingerprint, "%s %s",
               tm->fingerprint_alg, tm->fingerprint);
      *m = next;
    }
  }
  free(offer);
  return rc;
}

void negotiate_pick_ssrcs(media_call *m) {
  m->audio_ssrc = random_ssrc();
  m->video_ssrc = random_ssrc();
  m->video_rtx_ssrc = random_ssrc();
  m->slides_ssrc = random_ssrc();
  m->slides_rtx_ssrc = random_ssrc();
  for (int i = 0; i < SDP_MAX_SLOTS - 1; i++) {
    m->slot_ssrc[i] = random_ssrc();
    m->slot_rtx_ssrc[i] = random_ssrc();
  }
  m->hint_width[0] = 1280, m->hint_height[0] = 720;
  for (int i = 1; i < SDP_MAX_SLOTS; i++)
    m->hint_width[i] = 640, m->hint_height[i] = 360;
}
