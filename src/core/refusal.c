/* refusal — building the one refusal shape (status, code, message). */
#include "core/refusal.h"

#include <stdarg.h>
#include <stdio.h>

refusal refusal_of(int status, const char *fmt, ...) {
  refusal r = {.status = status};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r.message, sizeof r.message, fmt, ap);
  va_end(ap);
  return r;
}

int refusal_set(refusal *r, int status, const char *code, const char *fmt, ...) {
  r->status = status;
  r->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  return -1;
}
