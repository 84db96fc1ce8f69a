/* fuzz_sdp_offer — libFuzzer harness for answers to our subscribe offers:
 * sdp_offer_accept on any bytes against a fixed three-track offer, with the invariants
 * that an accepted answer agrees on every m-line in order and only on what we offered. */
#include "rtc/sdp_offer.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static host_addr_list addrs = {.addr = {"192.0.2.7"}, .n = 1};
static const sdp_offer_track tracks[3] = {
    {.mid = "0", .kind = SDP_AUDIO, .active = true, .ssrc = 1, .stream_id = "f"},
    {.mid = "1",
     .kind = SDP_VIDEO,
     .active = true,
     .ssrc = 2,
     .rtx_ssrc = 3,
     .stream_id = "f"},
    {.mid = "2", .kind = SDP_VIDEO, .active = false, .ssrc = 4, .stream_id = "g"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sdp_offer_local l = {.ice_ufrag = "u",
                       .ice_pwd = "p",
                       .fingerprint = "sha-256 AA",
                       .addresses = &addrs,
                       .port = 9,
                       .cname = "c",
                       .tracks = tracks,
                       .n_tracks = 3};
  sdp_offer_result res;
  char err[200] = "";
  if (sdp_offer_accept(&l, (const char *)data, size, &res, err, sizeof err) == 0) {
    CHECK(res.agreed.n_media == 3);
    bool any = false;
    for (size_t i = 0; i < 3; i++) {
      const sdp_choice *ch = &res.agreed.media[i];
      CHECK(strcmp(ch->mid, tracks[i].mid) == 0 && ch->kind == tracks[i].kind);
      CHECK(!ch->accepted || tracks[i].active);
      if (ch->accepted) {
        any = true;
        CHECK(ch->pt == (ch->kind == SDP_VIDEO ? SDP_OFFER_PT_VP8 : SDP_OFFER_PT_OPUS));
        CHECK(ch->direction == SDP_SENDONLY);
      }
    }
    CHECK(!any || (res.remote_ufrag[0] && res.remote_fingerprint[0]));
  } else {
    CHECK(err[0] != '\0');
  }
  return 0;
}
