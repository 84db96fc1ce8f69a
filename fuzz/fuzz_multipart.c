/* fuzz_multipart — multipart_find on arbitrary bodies and Content-Type headers (the
 * first line of the input is the header): results must lie inside the body. */
#include "api/multipart.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *in = (const char *)data;
  const char *nl = memchr(in, '\n', size);
  size_t ct_len = nl ? (size_t)(nl - in) : size;
  const char *body = nl ? nl + 1 : in + size;
  size_t len = nl ? size - ct_len - 1 : 0;
  multipart_part p;
  char err[120];
  if (multipart_find(body, len, in, ct_len, "frame", &p, err, sizeof err) == 0) {
    if (p.data < body || p.data + p.len > body + len)
      abort();
    if (strlen(p.type) >= sizeof p.type)
      abort();
  } else if (!memchr(err, '\0', sizeof err)) {
    abort();
  }
  return 0;
}
