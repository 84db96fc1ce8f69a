/* opts — parses a benchmark's --name VALUE options into ints, doubles and strings. */
#ifndef PARLEY_BENCH_OPTS_H
#define PARLEY_BENCH_OPTS_H

#include <stdbool.h>

typedef enum { OPT_INT, OPT_DOUBLE, OPT_STRING } opt_kind;

typedef struct {
  const char *name; /* without the leading "--" */
  opt_kind kind;
  void *to; /* an int, a double or a const char * */
} opt;

#define OPTS_MAX 16

/* Stores each --name VALUE of argv where its entry of opts (ended by a NULL name)
 * points; false at the first unknown option or missing value (getopt has said so). */
bool opts_parse(int argc, char **argv, const opt *opts);

/* Prints usage to stderr and exits with status 2. */
_Noreturn void opts_usage(const char *usage);

#endif
