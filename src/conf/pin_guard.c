/* pin_guard — throttles PIN guessing: a window of wrong attempts per (room, source
 * address), and a ten times larger one per room against guessing from many addresses. */
#include "conf/internal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char key[96];
  uint32_t failures;
  uint64_t window_start;
} pin_window;

#define ROOM_WIDE_FACTOR 10

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

bool pin_guard_blocked(conf_core *core, int64_t room_id, const char *addr) {
  uint32_t limit = (uint32_t)core->cfg->pin_attempts;
  pin_window *mine = lookup(core, room_id, addr, false);
  pin_window *all = lookup(core, room_id, "*", false);
  return (mine && mine->failures >= limit) ||
         (all && all->failures >= limit * ROOM_WIDE_FACTOR);
}

void pin_guard_failure(conf_core *core, int64_t room_id, const char *addr) {
  lookup(core, room_id, addr, true)->failures++;
  lookup(core, room_id, "*", true)->failures++;
  core->counters.pin_failures++;
}

typedef struct {
  uint64_t now, window;
  bool all;
} sweep_args;

static bool window_over(void *value, void *ud) {
  const sweep_args *a = ud;
  return a->all || a->now - ((pin_window *)value)->window_start >= a->window;
}

static void free_window(void *value, void *ud) {
  (void)ud;
  free(value);
}

void pin_guard_sweep(conf_core *core, bool all) {
  sweep_args a = {uv_now(core->loop), (uint64_t)core->cfg->pin_window_s * 1000, all};
  hmap_remove_if(core->pin_failures, window_over, free_window, &a);
}
