/* test_hmap — the hash map keeps every key through growth and deletion,
 * including deletions that shift probe runs backwards. */
#include "check.h"
#include "core/hmap.h"

#include <stdlib.h>

enum { N = 5000 };
static char keys[N][16];

static int dropped;
static bool every_third(void *value, void *ud) {
  (void)ud;
  return ((long)value - 1) % 3 == 0;
}
static void count_drop(void *value, void *ud) {
  (void)value, (void)ud;
  dropped++;
}

int main(void) {
  hmap *m = hmap_new();

  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "key-%d", i);
    CHECK(hmap_put(m, keys[i], strlen(keys[i]), (void *)(long)(i + 1)) == NULL);
  }
  CHECK(hmap_count(m) == N);
  for (int i = 0; i < N; i++)
    CHECK(hmap_get(m, keys[i], strlen(keys[i])) == (void *)(long)(i + 1));
  for (int i = 0; i < N; i += 2)
    CHECK(hmap_remove(m, keys[i], strlen(keys[i])) == (void *)(long)(i + 1));
  CHECK(hmap_count(m) == N / 2);
  for (int i = 0; i < N; i++) {
    void *want = (i % 2) ? (void *)(long)(i + 1) : NULL;
    CHECK(hmap_get(m, keys[i], strlen(keys[i])) == want);
  }
  CHECK(hmap_put(m, keys[1], strlen(keys[1]), (void *)7L) == (void *)2L);
  CHECK(hmap_get(m, "absent", 6) == NULL);
  CHECK(hmap_remove(m, "absent", 6) == NULL);
  size_t pos = 0, seen = 0;
  while (hmap_next(m, &pos))
    seen++;
  CHECK(seen == N / 2);
  hmap_free(m);

  /* remove_if: every third entry goes, each handed to drop once, the rest stay. */
  m = hmap_new();
  for (int i = 0; i < N; i++)
    hmap_put(m, keys[i], strlen(keys[i]), (void *)(long)(i + 1));
  dropped = 0;
  CHECK(hmap_remove_if(m, every_third, count_drop, NULL) == (N + 2) / 3);
  CHECK(dropped == (N + 2) / 3 && hmap_count(m) == N - (N + 2) / 3);
  for (int i = 0; i < N; i++) {
    void *want = (i % 3 == 0) ? NULL : (void *)(long)(i + 1);
    CHECK(hmap_get(m, keys[i], strlen(keys[i])) == want);
  }
  hmap_free(m);
  CHECK_DONE();
}
