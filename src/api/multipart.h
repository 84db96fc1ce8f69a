/* multipart — finds one named part of a multipart/form-data body (RFC 7578), as image
 * slides arrive (field "frame"). Pure and allocation-free; fuzzed in fuzz/. */
#ifndef PARLEY_MULTIPART_H
#define PARLEY_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const char *data; /* points into the body */
  size_t len;
  char type[64]; /* the part's Content-Type, "" if none */
} multipart_part;

/* content_type is the request's Content-Type header (with boundary=...). Returns 0
 * and fills part, or -1 with a reason in err when the body or header is unusable or
 * the part is absent. */
int multipart_find(const char *body, size_t len, const char *content_type, size_t ct_len,
                   const char *name, multipart_part *part, char *err, size_t errlen);

#endif
