/* test_srv_order — RFC 2782 ordering of SRV targets: priority first, weighted random
 * within a priority with the RFC's odds (r drawn in [0, sum], zero weights first), a
 * seeded generator giving the same order twice, and records never lost or duplicated. */
#include "check.h"
#include "client/srv_order.h"

#include <math.h>
#include <stdio.h>

static srv_target rec(const char *host, uint16_t prio, uint16_t weight, uint16_t port) {
  srv_target t = {.priority = prio, .weight = weight, .port = port};
  snprintf(t.host, sizeof t.host, "%s", host);
  return t;
}

/* How often (of runs) each host comes first, after ordering a fresh copy each run. */
static void first_counts(const srv_target *in, size_t n, int runs, uint64_t seed,
                         int *counts) {
  uint64_t rng = seed;
  for (size_t i = 0; i < n; i++)
    counts[i] = 0;
  for (int k = 0; k < runs; k++) {
    srv_target t[8];
    memcpy(t, in, n * sizeof *t);
    srv_order(t, n, &rng);
    for (size_t i = 0; i < n; i++)
      if (strcmp(t[0].host, in[i].host) == 0)
        counts[i]++;
  }
}

static int near(double got, double want) { return fabs(got - want) < 0.01; }

int main(void) {
  /* Priority decides first, whatever the weights; equal priorities stay together. */
  srv_target t[5] = {rec("c", 30, 100, 3), rec("a", 10, 0, 1), rec("b2", 20, 5, 22),
                     rec("b1", 20, 5, 21), rec("d", 40, 1, 4)};
  uint64_t rng = 42;
  srv_order(t, 5, &rng);
  CHECK_STR(t[0].host, "a");
  CHECK(t[0].port == 1);
  CHECK(t[1].priority == 20 && t[2].priority == 20);
  CHECK(strcmp(t[1].host, t[2].host) != 0);
  CHECK_STR(t[3].host, "c");
  CHECK_STR(t[4].host, "d");
  CHECK(t[4].port == 4 && t[3].weight == 100);

  /* The same seed gives the same order; every record is still there once. */
  srv_target in[6] = {rec("n1", 1, 10, 1), rec("n2", 1, 20, 2), rec("n3", 1, 30, 3),
                      rec("n4", 1, 0, 4),  rec("n5", 1, 40, 5), rec("n6", 1, 0, 6)};
  srv_target x[6], y[6];
  memcpy(x, in, sizeof in);
  memcpy(y, in, sizeof in);
  uint64_t s1 = 7, s2 = 7;
  srv_order(x, 6, &s1);
  srv_order(y, 6, &s2);
  CHECK(memcmp(x, y, sizeof x) == 0);
  int seen = 0;
  for (int i = 0; i < 6; i++)
    seen |= 1 << (x[i].port - 1);
  CHECK(seen == 0x3f);

  /* Weights 1 and 3: r in {0..4}; r <= 1 takes the first, so 2/5 and 3/5. */
  enum { RUNS = 200000 };
  int c[8];
  srv_target w13[2] = {rec("one", 5, 1, 1), rec("three", 5, 3, 2)};
  first_counts(w13, 2, RUNS, 1, c);
  CHECK(near((double)c[0] / RUNS, 2.0 / 5));
  CHECK(near((double)c[1] / RUNS, 3.0 / 5));

  /* Weight 0 is placed first and wins only when r is 0: 1/(sum+1). Listed last here. */
  srv_target w0[3] = {rec("ten", 5, 10, 1), rec("twenty", 5, 20, 2),
                      rec("zero", 5, 0, 3)};
  first_counts(w0, 3, RUNS, 2, c);
  CHECK(near((double)c[2] / RUNS, 1.0 / 31));
  CHECK(near((double)c[0] / RUNS, 10.0 / 31));
  CHECK(near((double)c[1] / RUNS, 20.0 / 31));

  /* All weights 0: r is always 0, so the answer's order is kept. */
  srv_target zz[3] = {rec("z1", 1, 0, 1), rec("z2", 1, 0, 2), rec("z3", 1, 0, 3)};
  rng = 99;
  srv_order(zz, 3, &rng);
  CHECK_STR(zz[0].host, "z1");
  CHECK_STR(zz[1].host, "z2");
  CHECK_STR(zz[2].host, "z3");

  /* A zero-weight record among weighted ones is usually last: second in line only when
   * the first draw picked it (1/31) or the second draw did (r = 0 of [0, 20 or 10]). */
  first_counts(w0, 3, 1000, 3, c);
  CHECK(c[2] < 100);

  /* Nothing to do for 0 or 1 records. */
  srv_order(t, 0, &rng);
  srv_target one = rec("only", 3, 0, 9);
  srv_order(&one, 1, &rng);
  CHECK_STR(one.host, "only");
  CHECK_DONE();
}
