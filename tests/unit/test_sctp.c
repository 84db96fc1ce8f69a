/* test_sctp — data channels between two of our own SCTP associations (sctp_pair.h):
 * association up, channels opened from either side with DCEP (ids by DTLS role, types
 * and labels carried), strings, binary and empty messages, a large message in pieces,
 * close by stream reset, the size limit both ways (refused at send, and a peer that
 * ignores it has its channel closed), loss (reliable recovers, unreliable does not
 * wait), the rate limit (flow control: slower, nothing lost), and two media loops on
 * two threads where one runs every timer (packets handed to the owner). */
#include "check.h"
#include "sctp_pair.h"

#include <stdatomic.h>

typedef struct {
  sctp_pair *p;
  bool up[2];
  int opened[2]; /* last channel id on_open gave each end */
  uint8_t type[2];
  char label[2][64];
  int msgs[2]; /* messages each end received */
  bool binary[2];
  size_t last_len[2];
  uint8_t *last[2];
  int closed[2];
  const char *reason[2];
  int in_order_errors; /* messages "m<i>" that did not arrive as the next expected */
  int next_expected[2];
  volatile bool flag;
} ctx;

static int side(ctx *c, sctp_assoc *a) { return a == c->p->end[0].a ? 0 : 1; }

static void on_state(sctp_assoc *a, bool up, void *ud) {
  ctx *c = ud;
  c->up[side(c, a)] = up;
  if (c->up[0] && c->up[1])
    c->flag = true;
}

static void on_open(sctp_assoc *a, const sctp_channel_info *ch, void *ud) {
  ctx *c = ud;
  int s = side(c, a);
  c->opened[s] = ch->id;
  c->type[s] = ch->channel_type;
  snprintf(c->label[s], sizeof c->label[s], "%s", ch->label);
  c->flag = true;
}

static void on_message(sctp_assoc *a, uint16_t id, bool binary, const uint8_t *data,
                       size_t len, void *ud) {
  (void)id;
  ctx *c = ud;
  int s = side(c, a);
  c->msgs[s]++;
  c->binary[s] = binary;
  c->last_len[s] = len;
  free(c->last[s]);
  c->last[s] = xmalloc(len + 1);
  memcpy(c->last[s], data, len);
  int n;
  if (!binary && len < 16 && sscanf((const char *)c->last[s], "m%d", &n) == 1) {
    c->last[s][len] = 0;
    if (sscanf((const char *)c->last[s], "m%d", &n) == 1 && n != c->next_expected[s]++)
      c->in_order_errors++;
  }
  c->flag = true;
}

static void on_close(sctp_assoc *a, uint16_t id, const char *reason, void *ud) {
  ctx *c = ud;
  int s = side(c, a);
  c->closed[s]++;
  c->reason[s] = reason;
  (void)id;
  c->flag = true;
}

static const sctp_callbacks callbacks = {on_state, on_open, on_message, on_close, NULL};

static void configs(sctp_config cfg[2]) {
  cfg[0] = sctp_config_default(5000, 0, false);
  cfg[1] = sctp_config_default(5000, SCTP_MAX_MESSAGE_SIZE, true);
  cfg[0].remote_max_message = SCTP_MAX_MESSAGE_SIZE;
}

#define RUN(c, cond, ms)                                                                 \
  do {                                                                                   \
    uint64_t until_ = uv_now((c)->p->loop) + (ms);                                       \
    while (!(cond) && uv_now((c)->p->loop) < until_) {                                   \
      (c)->flag = false;                                                                 \
      sctp_pair_run_until((c)->p, &(c)->flag, 50);                                       \
    }                                                                                    \
  } while (0)

static sctp_channel_opts reliable(const char *label) {
  return (sctp_channel_opts){
      .label = label, .max_retransmits = -1, .max_lifetime_ms = -1};
}

static void test_channels(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  sctp_pair p;
  ctx c = {.p = &p};
  sctp_config cfg[2];
  configs(cfg);
  cfg[0].local_max_message = 100000; /* the server's limit, which the client ignores */
  cfg[1].remote_max_message = 1 << 20;
  sctp_pair_init(&p, &loop, cfg, &callbacks, &c, true);
  /* Opened before the association is up: sent when it comes up. */
  int sid = sctp_open_channel(p.end[0].a, &(sctp_channel_opts){.label = "from-server",
                                                               .protocol = "json",
                                                               .max_retransmits = -1,
                                                               .max_lifetime_ms = -1});
  CHECK(sid == 1); /* the DTLS server's ids are odd */
  RUN(&c, c.up[0] && c.up[1] && c.opened[0] == 1 && c.opened[1] == 1, 5000);
  CHECK(c.up[0] && c.up[1]);
  CHECK(c.opened[1] == 1 && strcmp(c.label[1], "from-server") == 0);
  CHECK(c.opened[0] == 1 && c.type[1] == DCEP_RELIABLE);

  CHECK(sctp_send(p.end[0].a, 1, false, "hello", 5) == 0);
  RUN(&c, c.msgs[1] == 1, 2000);
  CHECK(c.msgs[1] == 1 && !c.binary[1] && c.last_len[1] == 5 &&
        memcmp(c.last[1], "hello", 5) == 0);
  CHECK(sctp_send(p.end[1].a, 1, true, NULL, 0) == 0); /* empty binary */
  RUN(&c, c.msgs[0] == 1, 2000);
  CHECK(c.msgs[0] == 1 && c.binary[0] && c.last_len[0] == 0);
  CHECK(sctp_send(p.end[0].a, 1, false, "", 0) == 0); /* empty string */
  RUN(&c, c.msgs[1] == 2, 2000);
  CHECK(c.msgs[1] == 2 && !c.binary[1] && c.last_len[1] == 0);

  /* The client opens one: even id, its type and reliability reach the server. */
  c.opened[0] = c.opened[1] = -1;
  int cid = sctp_open_channel(p.end[1].a, &(sctp_channel_opts){.label = "fast",
                                                               .unordered = true,
                                                               .max_retransmits = 0,
                                                               .max_lifetime_ms = -1});
  CHECK(cid == 0);
  RUN(&c, c.opened[0] == 0 && c.opened[1] == 0, 2000);
  CHECK(c.opened[0] == 0 && c.type[0] == DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED);
  CHECK(strcmp(c.label[0], "fast") == 0);
  CHECK(sctp_open_channel(p.end[1].a, &(sctp_channel_opts){.max_retransmits = 1,
                                                           .max_lifetime_ms = 1}) ==
        SCTP_E_INVALID);

  /* 90,000 bytes arrive whole (in pieces inside usrsctp). */
  size_t big = 90000;
  uint8_t *buf = xmalloc(200000);
  for (size_t i = 0; i < 200000; i++)
    buf[i] = (uint8_t)(i * 7);
  CHECK(sctp_send(p.end[1].a, 1, true, buf, big) == 0);
  RUN(&c, c.msgs[0] == 2, 3000);
  CHECK(c.msgs[0] == 2 && c.last_len[0] == big && memcmp(c.last[0], buf, big) == 0);

  /* Over the peer's a=max-message-size: refused at send. */
  CHECK(sctp_send(p.end[0].a, 1, true, buf, SCTP_MAX_MESSAGE_SIZE + 1) == SCTP_E_TOO_BIG);
  CHECK(sctp_send(p.end[0].a, 77, true, buf, 1) == SCTP_E_NOT_OPEN);

  /* A client that ignores the server's limit: that channel is closed, with a reason. */
  CHECK(sctp_send(p.end[1].a, 1, true, buf, 150000) == 0);
  RUN(&c, c.closed[0] == 1 && c.closed[1] == 1, 3000);
  CHECK(c.closed[0] == 1 && c.reason[0] && strstr(c.reason[0], "max-message-size"));
  CHECK(c.closed[1] == 1 && c.reason[1] == NULL);
  CHECK(sctp_get_counters(p.end[0].a)->refused_too_big == 1);
  CHECK(sctp_send(p.end[1].a, 1, false, "x", 1) == SCTP_E_NOT_OPEN);
  /* ... and the other channel still works both ways. */
  CHECK(sctp_send(p.end[1].a, 0, false, "m0", 2) == 0);
  RUN(&c, c.msgs[0] == 3, 2000);
  CHECK(c.msgs[0] == 3);

  /* Close by the client: both sides hear it; the id is free again. */
  sctp_close_channel(p.end[1].a, 0);
  RUN(&c, c.closed[0] == 2 && c.closed[1] == 2, 2000);
  CHECK(c.closed[0] == 2 && c.closed[1] == 2 && !c.reason[0] && !c.reason[1]);
  CHECK(sctp_open_channel(p.end[1].a, &(sctp_channel_opts){.max_retransmits = -1,
                                                           .max_lifetime_ms = -1}) == 0);
  free(buf);
  free(c.last[0]), free(c.last[1]);
  sctp_pair_free(&p);
  uv_loop_close(&loop);
}

static void test_loss_and_rate(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  sctp_pair p;
  ctx c = {.p = &p};
  sctp_config cfg[2];
  configs(cfg);
  cfg[0].max_messages_per_s = 500; /* what the client may send the server */
  sctp_pair_init(&p, &loop, cfg, &callbacks, &c, true);
  RUN(&c, c.up[0] && c.up[1], 5000);
  sctp_channel_opts r = reliable("r");
  int rel = sctp_open_channel(p.end[1].a, &r);
  int unrel = sctp_open_channel(p.end[1].a, &(sctp_channel_opts){.label = "u",
                                                                 .unordered = true,
                                                                 .max_retransmits = 0,
                                                                 .max_lifetime_ms = -1});
  RUN(&c, c.opened[0] == unrel && c.opened[1] == unrel, 2000);
  /* Reliable through 1 packet in 7 lost: all arrive, in order. */
  p.end[1].drop_every = 7;
  uint64_t t0 = uv_now(&loop);
  char m[16];
  for (int i = 0; i < 1000; i++) {
    int n = snprintf(m, sizeof m, "m%d", i);
    CHECK(sctp_send(p.end[1].a, (uint16_t)rel, false, m, (size_t)n) == 0);
  }
  RUN(&c, c.msgs[0] == 1000, 10000);
  uint64_t took = uv_now(&loop) - t0;
  CHECK(c.msgs[0] == 1000 && c.in_order_errors == 0);
  CHECK(p.end[1].dropped_packets > 0);
  /* 500 a second, a second's worth at once: the rest waited (flow control). */
  CHECK(took >= 800);
  CHECK(sctp_get_counters(p.end[0].a)->throttled > 0);
  fprintf(stderr, "1000 messages at 500/s through 1/7 loss: %llu ms\n",
          (unsigned long long)took);
  /* Unreliable, no retransmissions, through 1 in 3 lost: some never come, and the
   * rest are not held back for them. */
  p.end[1].drop_every = 3;
  int before = c.msgs[0];
  uint8_t blob[1000] = {0};
  for (int i = 0; i < 200; i++)
    CHECK(sctp_send(p.end[1].a, (uint16_t)unrel, true, blob, sizeof blob) == 0);
  RUN(&c, false, 1500);
  int got = c.msgs[0] - before;
  fprintf(stderr, "unreliable: %d of 200 through 1/3 loss\n", got);
  CHECK(got > 50 && got < 200);
  free(c.last[0]), free(c.last[1]);
  sctp_pair_free(&p);
  uv_loop_close(&loop);
}

/* Two loops on two threads; only the first runs usrsctp's timers, so the second's
 * retransmissions and delayed SACKs are made on the first thread and handed over. (Each
 * loop has a 10 ms timer, as a media loop has its tick: the sender below waits for
 * buffer space by running its loop a little.) */
static atomic_bool second_done;

typedef struct {
  bool tick;
  int received;
  uint64_t handed;
  int errors;
} thread_result;

static void thread_main(void *arg) {
  thread_result *res = arg;
  uv_loop_t loop;
  uv_loop_init(&loop);
  sctp_pair p;
  ctx c = {.p = &p};
  sctp_config cfg[2];
  configs(cfg);
  cfg[0].max_messages_per_s = cfg[0].max_bytes_per_s = 0;
  sctp_pair_init(&p, &loop, cfg, &callbacks, &c, res->tick);
  RUN(&c, c.up[0] && c.up[1], 5000);
  sctp_channel_opts r = reliable("t");
  int id = sctp_open_channel(p.end[1].a, &r);
  RUN(&c, c.opened[0] == id, 2000);
  p.end[1].drop_every = 11; /* losses need the retransmission timer */
  char m[16];
  for (int i = 0; i < 2000; i++) {
    int n = snprintf(m, sizeof m, "m%d", i);
    while (sctp_send(p.end[1].a, (uint16_t)id, false, m, (size_t)n) == SCTP_E_AGAIN)
      RUN(&c, false, 10);
    if (i % 100 == 0)
      RUN(&c, false, 1);
  }
  RUN(&c, c.msgs[0] == 2000, 20000);
  res->received = c.msgs[0];
  /* One lone packet: its SACK is delayed, so a timer sends it. */
  p.end[1].drop_every = 0;
  sctp_send(p.end[1].a, (uint16_t)id, true, "!", 1);
  RUN(&c, false, 500);
  res->errors = c.in_order_errors;
  res->handed = sctp_get_counters(p.end[0].a)->packets_handed +
                sctp_get_counters(p.end[1].a)->packets_handed;
  if (!res->tick)
    atomic_store(&second_done, true);
  else
    while (!atomic_load(&second_done)) /* keep the timers running for the other */
      RUN(&c, false, 20);
  free(c.last[0]), free(c.last[1]);
  sctp_pair_free(&p);
  uv_loop_close(&loop);
}

/* The byte limit with large messages: 200 of 16 KiB at 1 MiB/s all arrive, paced. */
static void test_byte_limit(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  sctp_pair p;
  ctx c = {.p = &p};
  sctp_config cfg[2];
  configs(cfg);
  cfg[0].max_messages_per_s = 0;
  cfg[0].max_bytes_per_s = 1024 * 1024;
  sctp_pair_init(&p, &loop, cfg, &callbacks, &c, true);
  RUN(&c, c.up[0] && c.up[1], 5000);
  sctp_channel_opts r = reliable("big");
  int id = sctp_open_channel(p.end[1].a, &r);
  RUN(&c, c.opened[0] == id, 2000);
  static uint8_t msg[16384];
  int sent = 0;
  uint64_t t0 = uv_now(&loop), give_up = t0 + 20000;
  while ((sent < 200 || c.msgs[0] < 200) && uv_now(&loop) < give_up) {
    while (sent < 200 && sctp_send(p.end[1].a, (uint16_t)id, true, msg, sizeof msg) == 0)
      sent++;
    RUN(&c, false, 5);
  }
  uint64_t took = uv_now(&loop) - t0;
  fprintf(stderr, "200 x 16 KiB at 1 MiB/s: %d arrived in %llu ms\n", c.msgs[0],
          (unsigned long long)took);
  CHECK(c.msgs[0] == 200 && took >= 1500);
  free(c.last[0]), free(c.last[1]);
  sctp_pair_free(&p);
  uv_loop_close(&loop);
}

static void test_two_threads(void) {
  thread_result r[2] = {{.tick = true}, {.tick = false}};
  uv_thread_t t[2];
  for (int i = 0; i < 2; i++)
    uv_thread_create(&t[i], thread_main, &r[i]);
  for (int i = 0; i < 2; i++)
    uv_thread_join(&t[i]);
  for (int i = 0; i < 2; i++) {
    CHECK(r[i].received == 2000 && r[i].errors == 0);
    fprintf(stderr, "thread %d: %d received, %llu packets handed over\n", i,
            r[i].received, (unsigned long long)r[i].handed);
  }
  CHECK(r[1].handed > 0); /* its timers ran on the other thread */
}

int main(void) {
  test_channels();
  test_loss_and_rate();
  test_byte_limit();
  test_two_threads();
  CHECK_DONE();
}
