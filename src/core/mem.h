/* mem — Parley's one out-of-memory policy, stated once: an allocation that fails ends
 * the process at once with the size it asked for (as redis's zmalloc does).
 *
 * Why abort rather than return NULL: a media node that cannot get a few hundred bytes
 * is already lost, and every NULL path is code that never runs in tests. Sizes that
 * come from the network or from files are bounded before they are allocated (request
 * bodies by max_body_bytes, recorded clusters by WEBM_MAX_CLUSTER, frames by
 * MAX_FRAME), so bad input meets a clear refusal, never this. Use these instead of
 * malloc/calloc/realloc/strdup everywhere in src/ and tools/. */
#ifndef PARLEY_MEM_H
#define PARLEY_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
/* Zeroed; n * size is checked for overflow (which also ends the process). */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* What happens on failure: prints "out of memory allocating N bytes" and aborts.
 * Tests may replace it (it must not return). */
extern void (*mem_oom_handler)(size_t n);

#endif
