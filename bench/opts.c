/* opts — parses a benchmark's --name VALUE options into ints, doubles and strings. */
#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void store(const opt *o, const char *value) {
  if (o->kind == OPT_INT)
    *(int *)o->to = atoi(value);
  else if (o->kind == OPT_DOUBLE)
    *(double *)o->to = atof(value);
  else
    *(const char **)o->to = value;
}

bool opts_parse(int argc, char **argv, const opt *opts) {
  struct option long_opts[OPTS_MAX + 1] = {{0}};
  int n = 0;
  for (; opts[n].name && n < OPTS_MAX; n++)
    long_opts[n] = (struct option){opts[n].name, required_argument, NULL, n};
  int o;
  while ((o = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
    if (o < 0 || o >= n)
      return false;
    store(&opts[o], optarg);
  }
  return true;
}

void opts_usage(const char *usage) {
  fputs(usage, stderr);
  exit(2);
}
