/* speaker_hold — when the loudest participant becomes the active speaker: after it stayed
 * the loudest for a number of ticks, so a cough does not move the stage. Both routers use
 * it (conference.c from the mixer's levels, feed_router.c from RFC 6464 levels). */
#ifndef PARLEY_SPEAKER_HOLD_H
#define PARLEY_SPEAKER_HOLD_H

#include "media/session.h"

#include <stdbool.h>

/* The one in the running and for how many ticks it has been the loudest. */
typedef struct {
  media_session *candidate;
  int ticks;
} speaker_hold;

/* One tick: loudest (NULL: nobody speaks) against the current speaker. True when loudest
 * has now been the loudest for hold ticks and is to become the speaker. */
static inline bool speaker_hold_step(speaker_hold *h, media_session *loudest,
                                     const media_session *speaker, int hold) {
  if (!loudest || loudest == speaker) {
    h->candidate = NULL;
    return false;
  }
  h->ticks = loudest == h->candidate ? h->ticks + 1 : 1;
  h->candidate = loudest;
  if (h->ticks < hold)
    return false;
  h->candidate = NULL;
  return true;
}

/* A participant who leaves is no longer in the running. */
static inline void speaker_hold_forget(speaker_hold *h, const media_session *s) {
  if (h->candidate == s)
    h->candidate = NULL;
}

#endif
