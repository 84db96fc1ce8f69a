/* test_bwe — the estimator against simulated links fed as transport-wide feedback:
 * a wide link with a constant delay lets the estimate grow, a bottleneck whose queue
 * grows brings it under the bottleneck within about a second, loss brings it down, and
 * padding probes bring it back up once the bottleneck is gone. */
#include "check.h"
#include "media/bwe.h"

#include <stdint.h>

#define MAX_PACKETS 200000
#define STEP_MS 5
#define FEEDBACK_MS 50
#define PACKET 1200

typedef struct {
  int64_t send_us, recv_us; /* recv -1: lost */
} sim_packet;

typedef struct {
  double capacity_bps; /* the bottleneck */
  int64_t delay_us;    /* propagation */
  int loss_every;      /* every n-th packet lost; 0: none */
  double media_bps;    /* what the sender has to send; 0: as much as the estimate */
  bool probe;          /* pad up to bwe_probe_rate while a probe runs */
  sim_packet *p;
  size_t n, reported;
  int64_t link_free_us; /* when the bottleneck has sent everything queued */
  double owed_bytes;
  uint64_t now_ms;
} link_sim;

static sim_packet packets[MAX_PACKETS];
static bwe est;

static void send_packet(link_sim *l, int64_t now_us) {
  if (l->n == MAX_PACKETS)
    return;
  sim_packet *p = &l->p[l->n++];
  p->send_us = now_us;
  int64_t start = now_us > l->link_free_us ? now_us : l->link_free_us;
  l->link_free_us = start + (int64_t)(PACKET * 8 * 1e6 / l->capacity_bps);
  p->recv_us = l->link_free_us + l->delay_us;
  if (l->loss_every && l->n % (size_t)l->loss_every == 0)
    p->recv_us = -1;
}

/* Reports every packet up to the last that has arrived by now (later ones next time):
 * losses among them as lost, as a receiver's feedback does. */
static void feedback(link_sim *l, int64_t now_us) {
  size_t upto = l->reported;
  for (size_t i = l->reported; i < l->n; i++)
    if (l->p[i].recv_us >= 0 && l->p[i].recv_us <= now_us)
      upto = i + 1;
    else if (l->p[i].recv_us >= 0)
      break;
  twcc_result r[4096];
  size_t k = 0;
  for (size_t i = l->reported; i < upto && k < 4096; i++)
    r[k++] = (twcc_result){
        .send_us = l->p[i].send_us, .recv_us = l->p[i].recv_us, .size = PACKET};
  l->reported = upto;
  bwe_on_results(&est, r, k, l->now_ms);
}

/* Runs the link for ms; returns the estimate at the end. */
static uint64_t run(link_sim *l, int ms) {
  for (int t = 0; t < ms; t += STEP_MS) {
    l->now_ms += STEP_MS;
    int64_t now_us = (int64_t)l->now_ms * 1000;
    double rate = l->media_bps;
    if (rate <= 0)
      rate = est.estimate_bps ? (double)est.estimate_bps : (double)BWE_START_BPS;
    if (l->probe) {
      uint64_t probe = bwe_probe_rate(&est, l->now_ms);
      if ((double)probe > rate)
        rate = (double)probe;
    }
    l->owed_bytes += rate * STEP_MS / 8000.0;
    while (l->owed_bytes >= PACKET) {
      l->owed_bytes -= PACKET;
      send_packet(l, now_us);
    }
    if (l->now_ms % FEEDBACK_MS == 0)
      feedback(l, now_us);
  }
  return bwe_estimate_bps(&est);
}

static link_sim start(double capacity, int64_t delay_us) {
  bwe_init(&est);
  return (link_sim){
      .capacity_bps = capacity, .delay_us = delay_us, .p = packets, .now_ms = 1000};
}

static void test_constant_delay_grows(void) {
  link_sim l = start(20e6, 30000);
  CHECK(bwe_estimate_bps(&est) == 0); /* nothing before feedback */
  run(&l, 100);
  CHECK(bwe_estimate_bps(&est) == BWE_START_BPS);
  uint64_t e = run(&l, 10000);
  CHECK(e > 3500000); /* 8 %/s and what was received */
  CHECK(bwe_get_signal(&est) == BWE_NORMAL);
  CHECK(bwe_loss_ratio(&est) == 0);
}

static void test_queue_decreases(void) {
  link_sim l = start(1e6, 30000);
  uint64_t e = run(&l, 1000);
  CHECK(e < BWE_START_BPS); /* the queue was seen within a second */
  e = run(&l, 1500);
  CHECK(e < 1000000); /* under the bottleneck */
  CHECK(e > 300000);  /* but not collapsed */
  e = run(&l, 10000); /* and it stays near it, the queue drained */
  CHECK(e < 1200000 && e > 500000);
  CHECK(bwe_received_bps(&est) < 1100000);
}

static void test_loss_decreases(void) {
  link_sim l = start(20e6, 30000);
  l.loss_every = 4; /* 25 % */
  l.media_bps = 2e6;
  uint64_t e = run(&l, 2000);
  CHECK(bwe_loss_ratio(&est) > 0.2 && bwe_loss_ratio(&est) < 0.3);
  CHECK(e < 1800000); /* 90 % of what it sends */
  /* 5 % loss holds, never raises. */
  l.loss_every = 20;
  uint64_t before = run(&l, 2000);
  CHECK(run(&l, 3000) <= before);
}

/* A sender with 300 kbit/s of media, a 500 kbit/s bottleneck that goes away: probes
 * find the room within 15 s. */
static void test_probe_climbs_back(void) {
  link_sim l = start(500e3, 30000);
  l.probe = true;
  l.media_bps = 300e3;
  run(&l, 8000);
  uint64_t low = bwe_estimate_bps(&est);
  CHECK(low < 700000);
  l.capacity_bps = 50e6;
  uint64_t probes = est.probes;
  uint64_t high = run(&l, 15000);
  CHECK(high > 1500000);
  CHECK(est.probes > probes);
  /* No probe past the ceiling. */
  run(&l, 20000);
  CHECK(bwe_estimate_bps(&est) >= BWE_PROBE_CEILING_BPS ||
        bwe_probe_rate(&est, l.now_ms) <= BWE_PROBE_CEILING_BPS);
}

/* Probing stops at the ceiling and backs off when it does not pay. */
static void test_probe_schedule(void) {
  bwe_init(&est);
  CHECK(bwe_probe_rate(&est, 1000) == 0); /* no estimate yet */
  est.estimate_bps = 1000000;
  uint64_t r = bwe_probe_rate(&est, 1000);
  CHECK(r == 2000000);
  CHECK(bwe_probe_rate(&est, 1200) == 2000000); /* runs for 500 ms */
  CHECK(bwe_probe_rate(&est, 1500) == 0);       /* ended, estimate unchanged */
  CHECK(bwe_probe_rate(&est, 3000) == 0);       /* backed off to 3 s */
  CHECK(bwe_probe_rate(&est, 4600) == 2000000);
  est.estimate_bps = BWE_PROBE_CEILING_BPS;
  CHECK(bwe_probe_rate(&est, 5200) == 0);
  CHECK(bwe_probe_rate(&est, 20000) == 0); /* at the ceiling: none */
}

/* A rise in what is wanted ends the back-off, only while the estimate is short of it
 * and no probe runs. */
static void test_probe_soon(void) {
  bwe_init(&est);
  est.estimate_bps = 1000000;
  CHECK(bwe_probe_rate(&est, 1000) == 2000000);
  CHECK(bwe_probe_rate(&est, 1500) == 0); /* did not raise it: next at 4500 */
  bwe_probe_soon(&est, 900000, 2000);     /* wanted less than the estimate: no change */
  CHECK(bwe_probe_rate(&est, 2000) == 0);
  bwe_probe_soon(&est, 3000000, 2000);
  CHECK(bwe_probe_rate(&est, 2000) == 2000000); /* at once */
  bwe_probe_soon(&est, 3000000, 2100);          /* while it runs: nothing changes */
  CHECK(bwe_probe_rate(&est, 2100) == 2000000);
  CHECK(bwe_probe_rate(&est, 2500) == 0);
  CHECK(bwe_probe_rate(&est, 4000) == 0); /* the gap after a failed one still holds */
}

int main(void) {
  test_constant_delay_grows();
  test_queue_decreases();
  test_loss_decreases();
  test_probe_climbs_back();
  test_probe_schedule();
  test_probe_soon();
  CHECK_DONE();
}
