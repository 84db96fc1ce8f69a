/* shared — an immutable, reference-counted run of bytes: an event's encoding that
 * every stream sending it holds by reference instead of copying. */
#ifndef PARLEY_SHARED_H
#define PARLEY_SHARED_H

#include <stddef.h>

typedef struct shared_bytes {
  unsigned refs;
  unsigned queued; /* send queues holding it, for their owner's memory accounting */
  size_t len;
  char data[];
} shared_bytes;

/* A copy of data (len bytes, plus a NUL not counted in len), with one reference. */
shared_bytes *shared_bytes_new(const void *data, size_t len);
/* Another holder of b. */
shared_bytes *shared_bytes_ref(shared_bytes *b);
void shared_bytes_unref(shared_bytes *b);

#endif
