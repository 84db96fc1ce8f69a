/* whip — WHIP ingest (RFC 9725): an encoder such as OBS, or a browser, POSTs an SDP offer
 * to /api/rtc/v1/whip/<sid> and becomes a publisher of that publish/subscribe session
 * (a participant without a WebSocket, with one feed); DELETE on the resource it was
 * given ends it. docs/PUBSUB.md "WHIP" is the reference. */
#ifndef PARLEY_WHIP_H
#define PARLEY_WHIP_H

#include "api/api.h"

#include <stdint.h>

typedef struct whip whip;

typedef struct {
  size_t live;                               /* resources now */
  uint64_t created, deleted, refused, ended; /* ended: media lost, or shutdown */
} whip_counters;

whip *whip_new(void);
/* After ps_core_free (which ends every WHIP participant): frees what is left. */
void whip_free(whip *w);
void whip_get_counters(const whip *w, whip_counters *out);

/* Answers a request under /api/rtc/v1/whip/ (any method, OPTIONS too); false if the
 * path is another. */
bool whip_handle(api *a, h2o_req_t *req);

#endif
