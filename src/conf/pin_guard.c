/* pin_guard — throttles PIN guessing without letting guessers deny a room to its
 * members: a window of wrong attempts per (room, source address), and, once a room
 * sees ten times that from all addresses together, growing waits for every source
 * that guesses wrong there. A source that has not guessed wrong is never held back. */
#include "conf/internal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char key[96];
  uint32_t failures;
  uint64_t window_start;
  uint64_t next_try; /* loop time before which this source's PINs are not looked at */
} pin_window;

#define ROOM_WIDE_FACTOR 10
#define FIRST_WAIT_MS 1000

static pin_window *lookup(conf_core *core, int64_t room_id, const char *addr,
                          bool create) {
  char key[96];
  int n = snprintf(key, sizeof key, "%lld|%s", (long long)room_id, addr);
  pin_window *w = hmap_get(core->pin_failures, key, (size_t)n);
  uint64_t now = uv_now(core->loop);
  uint64_t window = (uint64_t)core->cfg->pin_window_s * 1000;
  if (w && now - w->window_start >= window) {
    w->failures = 0;
    w->window_start = now;
  }
  if (!w && create) {
    w = xcalloc(1, sizeof *w);
    memcpy(w->key, key, (size_t)n + 1);
    w->window_start = now;
    hmap_put(core->pin_failures, w->key, (size_t)n, w);
  }
  return w;
}

pin_guard_verdict pin_guard_check(conf_core *core, int64_t room_id, const char *addr,
                                  uint32_t *wait_s) {
  pin_window *mine = lookup(core, room_id, addr, false);
  if (!mine)
    return PIN_GUARD_TRY; /* never guessed wrong here: always heard at once */
  if (mine->failures >= (uint32_t)core->cfg->pin_attempts)
    return PIN_GUARD_LOCKED; /* this source only, until its window ends */
  uint64_t now = uv_now(core->loop);
  if (now >= mine->next_try)
    return PIN_GUARD_TRY;
  *wait_s = (uint32_t)((mine->next_try - now + 999) / 1000);
  return PIN_GUARD_WAIT;
}

/* Under pressure (the room's wrong PINs past ten times --pin-attempts in its
 * window), a source that guesses wrong waits 1 s times the room's pressure (its
 * wrong PINs over that threshold, at least 1) doubled for each of the source's own
 * earlier wrong PINs, at most the window: with the defaults (10 per 60 s), an
 * address gets about six guesses a minute at pressure 1 and three at pressure 10,
 * instead of ten. */
static uint64_t wait_ms(const conf_core *core, uint32_t mine, uint32_t room_wide) {
  uint32_t threshold = (uint32_t)core->cfg->pin_attempts * ROOM_WIDE_FACTOR;
  if (room_wide < threshold)
    return 0;
  uint64_t pressure = room_wide / threshold;
  uint64_t window = (uint64_t)core->cfg->pin_window_s * 1000;
  uint32_t doublings = mine > 1 ? mine - 1 : 0;
  if (doublings > 20)
    doublings = 20;
  uint64_t ms = FIRST_WAIT_MS * pressure << doublings;
  return ms < window ? ms : window;
}

void pin_guard_failure(conf_core *core, int64_t room_id, const char *addr) {
  pin_window *mine = lookup(core, room_id, addr, true);
  pin_window *all = lookup(core, room_id, "*", true);
  mine->failures++;
  all->failures++;
  mine->next_try = uv_now(core->loop) + wait_ms(core, mine->failures, all->failures);
  core->counters.pin_failures++;
}

typedef struct {
  uint64_t now, window;
  bool all;
} sweep_args;

static bool window_over(void *value, void *ud) {
  const sweep_args *a = ud;
  const pin_window *w = value;
  return a->all || (a->now - w->window_start >= a->window && a->now >= w->next_try);
}

static void free_window(void *value, void *ud) {
  (void)ud;
  free(value);
}

void pin_guard_sweep(conf_core *core, bool all) {
  sweep_args a = {uv_now(core->loop), (uint64_t)core->cfg->pin_window_s * 1000, all};
  hmap_remove_if(core->pin_failures, window_over, free_window, &a);
}
