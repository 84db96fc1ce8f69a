/* echo — the test-call router: each participant's own audio and video come back to it,
 * with SSRC and sequence rewrite, keyframe requests upstream, and NACKs answered. */
#ifndef PARLEY_ECHO_H
#define PARLEY_ECHO_H

#include "media/session.h"

/* Sets up the session as a test call; returns the sink for its transport. A data
 * channel m-line in the agreement gets an SCTP association whose every message comes
 * back on the channel it arrived on. */
transport_sink echo_router_join(media_session *s);
/* After a renegotiation: data channels start if the new agreement has them. */
void echo_router_update(media_session *s);
/* Periodic work: DTMF, sender/receiver reports, pending keyframe requests. */
void echo_router_tick(media_session *s, uint64_t now_ms);

#endif
