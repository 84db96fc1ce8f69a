/* test_tiles — last-N order (spotlight, recent speakers, join order), sticky slot
 * assignment, and per-slot layer fitting to hints and a downlink budget. */
#include "check.h"
#include "media/tiles.h"

static const char A = 'A', B = 'B', C = 'C', D = 'D', E = 'E';

static void test_order(void) {
  tile_candidate c[] = {
      {&A, 0, 0, 1},    /* never spoke, joined first */
      {&B, 0, 5000, 2}, /* spoke at 5 s */
      {&C, 2.0, 0, 3},  /* pinned second */
      {&D, 0, 9000, 4}, /* spoke last */
      {&E, 1.0, 100, 5} /* pinned first */
  };
  tiles_order(c, 5);
  const void *want[] = {&E, &C, &D, &B, &A};
  for (int i = 0; i < 5; i++)
    CHECK(c[i].id == want[i]);
  /* Never-spoken ones keep join order among themselves. */
  tile_candidate q[] = {{&B, 0, 0, 7}, {&A, 0, 0, 3}, {&C, 0, 0, 5}};
  tiles_order(q, 3);
  CHECK(q[0].id == &A && q[1].id == &C && q[2].id == &B);
}

static void test_assign_sticky(void) {
  /* C is no longer selected: its slot frees, D (new) takes it; A and B stay put even
   * though their priority changed. */
  const void *slots[3] = {&A, &B, &C};
  const void *sel[] = {&B, &D, &A};
  tiles_assign(slots, 3, sel, 3);
  CHECK(slots[0] == &A && slots[1] == &B && slots[2] == &D);
  /* Free slots fill in slot order, best first. */
  const void *empty[4] = {NULL, &B, NULL, NULL};
  const void *sel2[] = {&E, &B, &A};
  tiles_assign(empty, 4, sel2, 3);
  CHECK(empty[0] == &E && empty[1] == &B && empty[2] == &A && empty[3] == NULL);
  /* Nobody left: every slot frees at once. */
  tiles_assign(empty, 4, NULL, 0);
  CHECK(!empty[0] && !empty[1] && !empty[2] && !empty[3]);
  /* More selected than slots: only the first k count. */
  const void *two[2] = {NULL, &C};
  const void *sel3[] = {&A, &B, &C};
  tiles_assign(two, 2, sel3, 3);
  CHECK(two[0] == &A && two[1] == &B);
}

/* Three layers 180p/360p/720p at 150k/500k/1.5M. */
static tile_layers three(uint16_t w, uint16_t h, bool pausable) {
  return (tile_layers){.n = 3,
                       .height = {180, 360, 720},
                       .bps = {150000, 500000, 1500000},
                       .hint_w = w,
                       .hint_h = h,
                       .pausable = pausable};
}

static void test_fit_hints(void) {
  tile_layers t[4] = {three(1280, 720, false), three(640, 360, true),
                      three(160, 90, true), three(0, 0, true)};
  tiles_fit(t, 4, 100000000);
  CHECK(t[0].choice == 2);  /* 720 tall: the 720p layer */
  CHECK(t[1].choice == 1);  /* 360: the 360p layer */
  CHECK(t[2].choice == 0);  /* 90: the smallest layer at least as tall, 180p */
  CHECK(t[3].choice == -1); /* not shown */
  /* Taller than every layer: the largest. */
  tile_layers big = three(1920, 1080, false);
  tiles_fit(&big, 1, 100000000);
  CHECK(big.choice == 2);
  /* A single-layer publisher: its one layer whatever the hint. */
  tile_layers one = {
      .n = 1, .height = {480}, .bps = {800000}, .hint_w = 160, .hint_h = 90};
  tiles_fit(&one, 1, 100000000);
  CHECK(one.choice == 0);
}

static void test_fit_budget(void) {
  /* 1.5M + 500k + 500k = 2.5M wanted; 2.2M allowed: the smallest tile (slot 2, 320x180
   * hint but 360p chosen... ) goes down first. */
  tile_layers t[3] = {three(1280, 720, false), three(640, 360, true),
                      three(480, 270, true)};
  tiles_fit(t, 3, 2200000);
  CHECK(t[0].choice == 2 && t[1].choice == 1 && t[2].choice == 0);
  /* Tighter: both small tiles at their lowest before the big one moves. */
  tiles_fit(t, 3, 1900000);
  CHECK(t[0].choice == 2 && t[1].choice == 0 && t[2].choice == 0);
  tiles_fit(t, 3, 1000000);
  CHECK(t[0].choice == 1 && t[1].choice == 0 && t[2].choice == 0);
  /* Not even all-lowest fits (450k): slots pause from the last; slot 0 never. */
  tiles_fit(t, 3, 320000);
  CHECK(t[0].choice == 0 && t[1].choice == 0 && t[2].choice == -1);
  tiles_fit(t, 3, 100000);
  CHECK(t[0].choice == 0 && t[1].choice == -1 && t[2].choice == -1);
  /* Nothing usable: nothing chosen, no loop. */
  tile_layers none = {.n = 0, .hint_w = 640, .hint_h = 360, .pausable = true};
  tiles_fit(&none, 1, 0);
  CHECK(none.choice == -1);
}

int main(void) {
  test_order();
  test_assign_sticky();
  test_fit_hints();
  test_fit_budget();
  CHECK_DONE();
}
