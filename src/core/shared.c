/* shared — reference-counted immutable bytes. */
#include "core/shared.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

shared_bytes *shared_bytes_new(const void *data, size_t len) {
  shared_bytes *b = xmalloc(sizeof *b + len + 1);
  b->refs = 1;
  b->queued = 0;
  b->len = len;
  if (len)
    memcpy(b->data, data, len);
  b->data[len] = '\0';
  return b;
}

shared_bytes *shared_bytes_ref(shared_bytes *b) {
  b->refs++;
  return b;
}

void shared_bytes_unref(shared_bytes *b) {
  if (b && --b->refs == 0)
    free(b);
}
