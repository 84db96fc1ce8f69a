/* ps_errors — the HTTP class of each publish/subscribe error code, and refusals. */
#include "pubsub/ps_errors.h"

#include "core/refusal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ps_error_status(const char *code) {
  static const struct {
    const char *code;
    int status;
  } map[] = {{PS_E_BAD_REQUEST, 400}, {PS_E_UNAUTHORIZED, 401},
             {PS_E_FORBIDDEN, 403},   {PS_E_NOT_FOUND, 404},
             {PS_E_NOT_JOINED, 409},  {PS_E_ALREADY_JOINED, 409},
             {PS_E_LIMIT, 429},       {PS_E_INTERNAL, 500}};
  for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].code, code) == 0)
      return map[i].status;
  return 400;
}

int ps_refuse(refusal *why, const char *code, const char *fmt, ...) {
  why->status = ps_error_status(code);
  why->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why->message, sizeof why->message, fmt, ap);
  va_end(ap);
  return -1;
}
