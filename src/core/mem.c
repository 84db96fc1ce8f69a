/* mem — allocation wrappers that end the process, with the size, when memory is out. */
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom_default(size_t n) {
  /* No log_* here: logging may itself allocate. */
  fprintf(stderr, "parley: out of memory allocating %zu bytes\n", n);
  fflush(stderr);
  abort();
}

void (*mem_oom_handler)(size_t n) = oom_default;

/* Zero-size requests get one byte, so a NULL always means failure. */
void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    mem_oom_handler(n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  if (size && n > (size_t)-1 / size)
    mem_oom_handler((size_t)-1);
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    mem_oom_handler(n * size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    mem_oom_handler(n);
  return q;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = xmalloc(n);
  memcpy(p, s, n);
  return p;
}

char *xstrndup(const char *s, size_t n) {
  size_t len = strnlen(s, n);
  char *p = xmalloc(len + 1);
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}
