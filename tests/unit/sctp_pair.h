/* sctp_pair — two SCTP associations (rtc/sctp.c) joined back to back on one libuv loop,
 * as a browser and Parley would be over DTLS: each one's packets are queued for the
 * other and delivered from an idle handle (never from inside usrsctp), usrsctp's timers
 * run from a 10 ms timer. Used by test_sctp and bench/sctp_bench. */
#ifndef PARLEY_SCTP_PAIR_H
#define PARLEY_SCTP_PAIR_H

#include "core/mem.h"
#include "rtc/sctp.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct pair_packet {
  struct pair_packet *next;
  size_t len;
  uint8_t data[];
} pair_packet;

typedef struct pair_end {
  sctp_assoc *a;
  struct pair_end *peer;
  struct sctp_pair *pair;
  pair_packet *in_head, **in_tail; /* packets from the peer, not yet input */
  uint64_t sent_packets, dropped_packets;
  unsigned drop_every; /* drop every n-th packet this end sends (0: none) */
} pair_end;

typedef struct sctp_pair {
  uv_loop_t *loop;
  uv_idle_t idle;
  uv_timer_t timers;
  pair_end end[2]; /* 0: the DTLS server (odd ids), 1: the client (even ids) */
} sctp_pair;

static void pair_pump(uv_idle_t *h);
static const uv_idle_cb pair_pump_fn = pair_pump;

static void pair_output(void *ud, const uint8_t *pkt, size_t len) {
  pair_end *e = ud;
  e->sent_packets++;
  if (e->drop_every && e->sent_packets % e->drop_every == 0) {
    e->dropped_packets++;
    return;
  }
  pair_packet *p = xmalloc(sizeof *p + len);
  p->next = NULL;
  p->len = len;
  memcpy(p->data, pkt, len);
  pair_end *to = e->peer;
  *to->in_tail = p;
  to->in_tail = &p->next;
  uv_idle_start(&e->pair->idle, pair_pump_fn);
}

static void pair_pump(uv_idle_t *h) {
  sctp_pair *p = h->data;
  bool any = false;
  for (int i = 0; i < 2; i++) {
    pair_end *e = &p->end[i];
    pair_packet *q = e->in_head;
    e->in_head = NULL;
    e->in_tail = &e->in_head;
    while (q) {
      pair_packet *next = q->next;
      sctp_input(e->a, q->data, q->len);
      free(q);
      q = next;
      any = true;
    }
  }
  if (!any && !p->end[0].in_head && !p->end[1].in_head)
    uv_idle_stop(h);
}

static void pair_tick(uv_timer_t *t) {
  (void)t;
  sctp_timers_tick();
}

static void pair_no_tick(uv_timer_t *t) { (void)t; }

/* cfg[0] is the server's, cfg[1] the client's; cb and ud for both. Without tick,
 * usrsctp's timers must be run by another thread (the loop's 10 ms timer still runs,
 * as a media loop's tick does, doing nothing). */
static void sctp_pair_init(sctp_pair *p, uv_loop_t *loop, const sctp_config cfg[2],
                           const sctp_callbacks *cb, void *ud, bool tick) {
  memset(p, 0, sizeof *p);
  p->loop = loop;
  uv_idle_init(loop, &p->idle);
  p->idle.data = p;
  uv_timer_init(loop, &p->timers);
  uv_timer_start(&p->timers, tick ? pair_tick : pair_no_tick, 10, 10);
  for (int i = 0; i < 2; i++) {
    pair_end *e = &p->end[i];
    e->pair = p;
    e->peer = &p->end[1 - i];
    e->in_tail = &e->in_head;
    e->a = sctp_new(loop, &cfg[i], pair_output, e, cb, ud);
  }
  sctp_connect(p->end[0].a);
  sctp_connect(p->end[1].a);
}

/* Runs the loop until *flag is set or ms pass; returns whether it was set. */
static bool sctp_pair_run_until(sctp_pair *p, const volatile bool *flag, uint64_t ms) {
  uint64_t deadline = uv_now(p->loop) + ms;
  while (!*flag && uv_now(p->loop) < deadline) {
    uv_run(p->loop, UV_RUN_ONCE);
  }
  return *flag;
}

static void sctp_pair_free(sctp_pair *p) {
  for (int i = 0; i < 2; i++)
    sctp_free(p->end[i].a); /* their ABORTs are queued, then dropped below */
  for (int i = 0; i < 2; i++) {
    pair_packet *q = p->end[i].in_head;
    while (q) {
      pair_packet *next = q->next;
      free(q);
      q = next;
    }
  }
  uv_close((uv_handle_t *)&p->idle, NULL);
  uv_close((uv_handle_t *)&p->timers, NULL);
  uv_run(p->loop, UV_RUN_NOWAIT);
}

#endif
