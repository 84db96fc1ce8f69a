/* negotiate — the SDP offer/answer step every WebRTC call shares (client API calls,
 * RTM sessions): parse the offer, agree, write the answer, keep the peer's ICE/DTLS. */
#ifndef PARLEY_NEGOTIATE_H
#define PARLEY_NEGOTIATE_H

#include "core/buf.h"
#include "media/engine.h"

/* Gives m fresh random SSRCs for everything it may send. */
void negotiate_pick_ssrcs(media_call *m);
/* Parses the offer and writes the answer for m; fills m's agreement and remote
 * parameters (new local ICE credentials on the first offer and on an ICE restart).
 * 0, or -1 with the reason in err. */
int negotiate(media_engine *media, const char *sdp, media_call *m, buf *answer,
              bool *ice_restart, char *err, size_t errlen);
/* The same, with a video codec preference (see sdp_local.prefer_video). */
int negotiate_preferring(media_engine *media, const char *sdp, const char *prefer_video,
                         media_call *m, buf *answer, bool *ice_restart, char *err,
                         size_t errlen);

#endif
