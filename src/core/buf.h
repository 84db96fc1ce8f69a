/* buf — a growable byte buffer for building responses and stream output. */
#ifndef PARLEY_BUF_H
#define PARLEY_BUF_H

#include <stddef.h>

typedef struct {
  char *data;
  size_t len, cap;
} buf;

void buf_append(buf *b, const void *data, size_t len);
void buf_appendf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(buf *b);
void buf_free(buf *b);

#endif
