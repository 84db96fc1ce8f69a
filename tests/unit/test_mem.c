/* test_mem — the out-of-memory policy: a failed or overflowing allocation reaches the
 * handler with the size asked for, zero sizes still give distinct memory, and the
 * string copies are exact. */
#include "check.h"
#include "core/mem.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

static jmp_buf escape;
static size_t oom_size;
static void *block; /* outlives the longjmp */

/* Under ASan a huge malloc must return NULL, as glibc's does, not end the test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* Stands in for the abort so the test can look at what it was told. */
static void catch_oom(size_t n) {
  oom_size = n;
  longjmp(escape, 1);
}

/* 1 if calling fn reached the handler. */
#define REACHES_HANDLER(expr) (setjmp(escape) ? 1 : ((void)(expr), 0))

int main(void) {
  mem_oom_handler = catch_oom;

  /* n * size wraps around: refused before calloc could get a small block. */
  oom_size = 0;
  CHECK(REACHES_HANDLER(xcalloc(SIZE_MAX / 2, 4)));
  CHECK(oom_size == SIZE_MAX);
  /* More than the address space: malloc fails, the handler hears the size. */
  oom_size = 0;
  CHECK(REACHES_HANDLER(xmalloc(SIZE_MAX - 4096)));
  CHECK(oom_size == SIZE_MAX - 4096);
  block = xmalloc(16);
  oom_size = 0;
  CHECK(REACHES_HANDLER(block = xrealloc(block, SIZE_MAX - 4096)));
  CHECK(oom_size == SIZE_MAX - 4096);
  free(block); /* a failed realloc leaves the block as it was */

  /* Zero sizes: real, distinct blocks (a NULL would read as a failure). */
  void *a = xmalloc(0), *b = xcalloc(0, 8);
  CHECK(a && b && a != b);
  free(a);
  free(b);
  uint8_t *z = xcalloc(64, 1);
  int sum = 0;
  for (int i = 0; i < 64; i++)
    sum += z[i];
  CHECK(sum == 0);
  free(z);

  char *s = xstrdup("parley");
  CHECK_STR(s, "parley");
  free(s);
  s = xstrndup("parleyd", 6);
  CHECK_STR(s, "parley");
  free(s);
  s = xstrndup("ab", 10); /* shorter than n: no read past its end */
  CHECK_STR(s, "ab");
  free(s);
  CHECK_DONE();
}
