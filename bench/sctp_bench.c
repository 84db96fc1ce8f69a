/* sctp_bench — data channel throughput through one association: two of Parley's own
 * SCTP associations (rtc/sctp.c) back to back on one thread, each packet DTLS-encrypted
 * and decrypted by our dtls.c (AES-GCM record layer, as with a browser), one reliable
 * ordered channel kept full; messages/s, MB/s and CPU per message. Both ends run on the
 * one core measured, so the figures are for sender and receiver together.
 * usrsctp's timers run from a --tick-ms timer (20: a media loop's tick), which also
 * refills the sender. --threads N runs N such pairs on N threads (usrsctp is shared).
 * Usage: sctp_bench [--size B] [--seconds S] [--tick-ms MS] [--no-dtls] [--limits]
 *                   [--threads N] */
#include "core/log.h"
#include "core/mem.h"
#include "rtc/dtls.h"
#include "rtc/sctp.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

typedef struct pkt {
  struct pkt *next;
  size_t len;
  uint8_t data[];
} pkt;

typedef struct end {
  struct bench *b;
  struct end *peer;
  sctp_assoc *a;
  dtls *d;
  pkt *in_head, **in_tail; /* datagrams (or bare SCTP packets) from the peer */
} end;

typedef struct bench {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_timer_t tick;
  end e[2]; /* 0: server (receives), 1: client (sends) */
  bool use_dtls, up[2], open;
  int channel;
  size_t size;
  uint64_t received, bytes;
  uint8_t *msg;
} bench;

static dtls_context *ctx;
static int seconds = 5, threads = 1, tick_ms = 20;
static size_t size = 1024;
static bool use_dtls = true, limits = false;

static void queue_to(end *to, const uint8_t *data, size_t len) {
  pkt *p = xmalloc(sizeof *p + len);
  p->next = NULL;
  p->len = len;
  memcpy(p->data, data, len);
  *to->in_tail = p;
  to->in_tail = &p->next;
}

static void pump(uv_idle_t *h);

/* A DTLS datagram (or, without DTLS, an SCTP packet) for the peer. */
static void wire_send(void *ud, const uint8_t *data, size_t len) {
  end *e = ud;
  queue_to(e->peer, data, len);
  uv_idle_start(&e->b->idle, pump);
}

static void sctp_out(void *ud, const uint8_t *data, size_t len) {
  end *e = ud;
  if (e->b->use_dtls)
    dtls_send_app(e->d, data, len);
  else
    wire_send(e, data, len);
}

static void app_in(void *ud, const uint8_t *data, size_t len) {
  end *e = ud;
  sctp_input(e->a, data, len);
}

static void fill(bench *b);

static void pump(uv_idle_t *h) {
  bench *b = h->data;
  for (int i = 0; i < 2; i++) {
    end *e = &b->e[i];
    pkt *p = e->in_head;
    e->in_head = NULL;
    e->in_tail = &e->in_head;
    while (p) {
      pkt *next = p->next;
      if (b->use_dtls) {
        bool was = dtls_get_state(e->d) == DTLS_CONNECTED;
        dtls_receive(e->d, p->data, p->len);
        if (!was && dtls_get_state(e->d) == DTLS_CONNECTED)
          sctp_connect(e->a);
      } else {
        sctp_input(e->a, p->data, p->len);
      }
      free(p);
      p = next;
    }
  }
  fill(b);
  if (!b->e[0].in_head && !b->e[1].in_head)
    uv_idle_stop(h);
}

static void on_state(sctp_assoc *a, bool up, void *ud) {
  bench *b = ud;
  b->up[a == b->e[0].a ? 0 : 1] = up;
}

static void on_open(sctp_assoc *a, const sctp_channel_info *ch, void *ud) {
  bench *b = ud;
  if (a == b->e[1].a)
    b->open = true;
  (void)ch;
}

static void on_message(sctp_assoc *a, uint16_t id, bool binary, const uint8_t *data,
                       size_t len, void *ud) {
  bench *b = ud;
  (void)a, (void)id, (void)binary, (void)data;
  b->received++;
  b->bytes += len;
}

static const sctp_callbacks callbacks = {on_state, on_open, on_message, NULL, NULL};

/* Keeps the sender's buffer full. */
static void fill(bench *b) {
  if (!b->open)
    return;
  for (;;) {
    if (sctp_send(b->e[1].a, (uint16_t)b->channel, true, b->msg, b->size) != 0)
      break;
  }
}

static void on_tick(uv_timer_t *t) {
  bench *b = t->data;
  sctp_timers_tick();
  fill(b);
  uv_idle_start(&b->idle, pump);
}

static void setup(bench *b) {
  memset(b, 0, sizeof *b);
  b->use_dtls = use_dtls;
  b->size = size;
  b->msg = xcalloc(1, size);
  uv_loop_init(&b->loop);
  uv_idle_init(&b->loop, &b->idle);
  b->idle.data = b;
  uv_timer_init(&b->loop, &b->tick);
  b->tick.data = b;
  uv_timer_start(&b->tick, on_tick, (uint64_t)tick_ms, (uint64_t)tick_ms);
  for (int i = 0; i < 2; i++) {
    end *e = &b->e[i];
    e->b = b;
    e->peer = &b->e[1 - i];
    e->in_tail = &e->in_head;
    sctp_config cfg = sctp_config_default(SCTP_PORT, SCTP_MAX_MESSAGE_SIZE, i == 1);
    if (!limits)
      cfg.max_messages_per_s = cfg.max_bytes_per_s = 0;
    e->a = sctp_new(&b->loop, &cfg, sctp_out, e, &callbacks, b);
    if (use_dtls) {
      const char *fp = dtls_context_fingerprint(ctx);
      e->d = i == 0 ? dtls_new(ctx, fp, wire_send, e)
                    : dtls_new_client(ctx, fp, wire_send, e);
      dtls_set_app_handler(e->d, app_in, e);
    }
  }
  if (use_dtls) {
    dtls_start_client(b->e[1].d);
  } else {
    sctp_connect(b->e[0].a);
    sctp_connect(b->e[1].a);
  }
  uv_idle_start(&b->idle, pump);
}

static void run_for(bench *b, uint64_t ms) {
  uint64_t until = uv_now(&b->loop) + ms;
  while (uv_now(&b->loop) < until)
    uv_run(&b->loop, UV_RUN_ONCE);
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct {
  double msgs_s, mb_s, cpu_us_per_msg;
  uint64_t handed;
} result;

static void bench_thread(void *arg) {
  result *r = arg;
  bench *b = xmalloc(sizeof *b);
  setup(b);
  while (!b->up[0] || !b->up[1])
    run_for(b, 10);
  sctp_channel_opts o = {.label = "bench", .max_retransmits = -1, .max_lifetime_ms = -1};
  b->channel = sctp_open_channel(b->e[1].a, &o);
  while (!b->open)
    run_for(b, 10);
  run_for(b, 500); /* warm up: the congestion window opens */
  uint64_t m0 = b->received, by0 = b->bytes;
  double c0 = cpu_s(), t0 = (double)uv_hrtime() / 1e9;
  run_for(b, (uint64_t)seconds * 1000);
  double dt = (double)uv_hrtime() / 1e9 - t0, dc = cpu_s() - c0;
  uint64_t m = b->received - m0;
  r->msgs_s = (double)m / dt;
  r->mb_s = (double)(b->bytes - by0) / dt / 1e6;
  r->cpu_us_per_msg = m ? dc * 1e6 / (double)m : 0;
  r->handed = sctp_get_counters(b->e[0].a)->packets_handed +
              sctp_get_counters(b->e[1].a)->packets_handed;
  b->open = false; /* no more sends */
  for (int i = 0; i < 2; i++) {
    sctp_free(b->e[i].a);
    dtls_free(b->e[i].d);
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--size") && i + 1 < argc)
      size = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--tick-ms") && i + 1 < argc)
      tick_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-dtls"))
      use_dtls = false;
    else if (!strcmp(argv[i], "--limits"))
      limits = true;
    else {
      fprintf(
          stderr,
          "usage: %s [--size B] [--seconds S] [--threads N] [--tick-ms MS] [--no-dtls] "
          "[--limits]\n",
          argv[0]);
      return 2;
    }
  }
  log_set_level(LOG_WARN);
  char err[200];
  ctx = dtls_context_new("SRTP_AEAD_AES_128_GCM", err, sizeof err);
  if (!ctx) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  result *r = xcalloc((size_t)threads, sizeof *r);
  uv_thread_t *t = xcalloc((size_t)threads, sizeof *t);
  for (int i = 0; i < threads; i++)
    uv_thread_create(&t[i], bench_thread, &r[i]);
  double msgs = 0, mb = 0;
  for (int i = 0; i < threads; i++) {
    uv_thread_join(&t[i]);
    msgs += r[i].msgs_s;
    mb += r[i].mb_s;
    printf("association %d: %zu-byte messages, %s, tick %d ms, limits %s: %.0f msg/s, "
           "%.1f MB/s, %.2f us CPU per message (both ends), %llu packets handed over\n",
           i, size, use_dtls ? "DTLS" : "no DTLS", tick_ms, limits ? "on" : "off",
           r[i].msgs_s, r[i].mb_s, r[i].cpu_us_per_msg, (unsigned long long)r[i].handed);
  }
  if (threads > 1)
    printf("total over %d threads: %.0f msg/s, %.1f MB/s\n", threads, msgs, mb);
  free(r);
  free(t);
  dtls_context_free(ctx);
  return 0;
}
