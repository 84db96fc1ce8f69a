/* refusal — how every boundary says no, in one shape: nothing changed, and here is
 * why. The conference core (conf_*), request bodies (api/body) and RTM sessions (rtm)
 * all refuse with it; the API layer turns it into an HTTP answer or an RTM `error`. */
#ifndef PARLEY_REFUSAL_H
#define PARLEY_REFUSAL_H

typedef struct {
  int status;        /* 0: not refused; else the HTTP status that says what kind */
  const char *code;  /* a protocol's own name for it (RTM's RTM_E_*), else NULL */
  char message[200]; /* for the client: what to fix, never internals */
} refusal;

#define REFUSAL_NONE ((refusal){0})

/* A refusal with status and a formatted message, by value (code NULL). */
refusal refusal_of(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Fills *r with status, code and a formatted message; returns -1, for functions that
 * answer 0 or -1. */
int refusal_set(refusal *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
