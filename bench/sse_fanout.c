/* sse_fanout — chat fan-out latency over SSE: N participants of one room each hold an
 * events stream; one of them posts timestamped messages and every stream times them. */
#include "crowd.h"
#include "lat.h"
#include "opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  crowd_member cm; /* first: the stream's ud */
  char *sse;       /* decoded stream bytes not yet split into frames */
  size_t sse_len, sse_cap;
  bool ready; /* its initial burst (ending with "stage") has arrived */
} listener;

typedef enum { PH_JOIN, PH_OPEN, PH_SETTLE, PH_SEND, PH_DRAIN, PH_DONE } phase;

static struct {
  int port, pid, n, messages;
  double rate;
  const char *alias;
  listener *listeners;
  crowd crowd;
  httpc sender;
  phase ph;
  int ready, sent, acked;
  uint64_t phase_ns, open_ns, ready_ns;
  long rss_start, rss_joined, rss_streams;
  lat lat;
  uint64_t errors, other_events;
  uv_timer_t tick;
} B;

static void set_phase(phase p) {
  B.ph = p;
  B.phase_ns = now_ns();
}

/* --- joining: every participant joins the one room, --alias */

static void room_of(int i, char *out, size_t cap) {
  (void)i;
  snprintf(out, cap, "%s", B.alias);
}

static crowd_member *member_of(int i) { return &B.listeners[i].cm; }

static void count_close(httpc *h, const char *why) {
  fprintf(stderr, "connection closed: %s\n", why);
  B.errors++;
  (void)h;
}

/* --- listening: one events stream per participant */

static void on_frame(listener *l, const char *f, size_t len, uint64_t at) {
  static const char msg[] = "event: message_received\n";
  static const char stage[] = "event: stage\n";
  if (len >= sizeof msg - 1 && memcmp(f, msg, sizeof msg - 1) == 0) {
    const char *p = memmem(f, len, "\"payload\":\"t=", 13);
    if (!p) {
      B.errors++;
      return;
    }
    uint64_t sent = strtoull(p + 13, NULL, 10);
    lat_add(&B.lat, at - sent);
  } else if (len >= sizeof stage - 1 && memcmp(f, stage, sizeof stage - 1) == 0) {
    if (!l->ready) {
      l->ready = true;
      B.ready++;
    }
  } else if (len > 0 && f[0] != ':') {
    B.other_events++;
  }
}

static void stream_data(httpc *h, const char *data, size_t len) {
  listener *l = h->ud;
  uint64_t at = now_ns(); /* one clock read per socket read: when the bytes came */
  if (l->sse_cap - l->sse_len < len) {
    while (l->sse_cap - l->sse_len < len)
      l->sse_cap = l->sse_cap ? 2 * l->sse_cap : 4096;
    l->sse = realloc(l->sse, l->sse_cap);
  }
  memcpy(l->sse + l->sse_len, data, len);
  l->sse_len += len;
  size_t off = 0;
  const char *end;
  while ((end = memmem(l->sse + off, l->sse_len - off, "\n\n", 2))) {
    size_t flen = (size_t)(end - (l->sse + off));
    on_frame(l, l->sse + off, flen, at);
    off += flen + 2;
  }
  memmove(l->sse, l->sse + off, l->sse_len - off);
  l->sse_len -= off;
}

static void stream_start(httpc *h, int status) {
  if (status != 200) {
    fprintf(stderr, "events: HTTP %d\n", status);
    B.errors++;
    httpc_close(h);
  }
}

/* --- sending: participant 0 posts on its own keep-alive connection */

static void send_response(httpc *h, int status, const char *body, size_t len) {
  (void)h;
  if (status != 200) {
    fprintf(stderr, "message: HTTP %d %.*s\n", status, (int)len, body);
    B.errors++;
  }
  B.acked++;
}

static void on_send(uv_timer_t *t);

static void send_connect(httpc *h, int status) {
  static uv_timer_t sender;
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    B.errors++;
    return;
  }
  uv_timer_init(h->tcp.loop, &sender);
  uint64_t every = (uint64_t)(1000.0 / B.rate);
  uv_timer_start(&sender, on_send, 0, every ? every : 1);
}

static const httpc_callbacks send_cb = {
    .on_response = send_response, .on_connect = send_connect, .on_close = count_close};

static void send_message(void) {
  char path[400], hdr[200], body[128];
  snprintf(path, sizeof path, "/api/client/v2/conferences/%s/message", B.alias);
  snprintf(hdr, sizeof hdr, "token: %s\r\n", B.listeners[0].cm.token);
  snprintf(body, sizeof body, "{\"type\":\"text/plain\",\"payload\":\"t=%llu\"}",
           (unsigned long long)now_ns());
  httpc_request(&B.sender, "POST", path, hdr, body);
  B.sent++;
}

static void on_send(uv_timer_t *t) {
  send_message();
  if (B.sent >= B.messages) {
    uv_timer_stop(t);
    set_phase(PH_DRAIN);
  }
}

/* --- the run: join, open the streams, let them idle, send, drain, report */

static void report(void) {
  size_t expected = (size_t)B.messages * (size_t)(B.n - 1);
  printf("sse_fanout: %d participants with a stream each, %d messages at %.0f/s\n", B.n,
         B.messages, B.rate);
  printf("  streams ready: %d of %d in %.2f s, closed early: %d\n", B.ready, B.n,
         (double)(B.ready_ns - B.open_ns) / 1e9, B.crowd.closes);
  printf("  deliveries: %zu (expected %zu = %d x %d)%s\n", B.lat.n, expected, B.messages,
         B.n - 1, B.lat.n == expected ? "" : "  MISMATCH");
  if (B.lat.n > 0) {
    lat_sort(&B.lat);
    double sum = 0;
    for (size_t i = 0; i < B.lat.n; i++)
      sum += (double)B.lat.v[i];
    printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f\n",
           lat_pct_ms(&B.lat, 0.50), lat_pct_ms(&B.lat, 0.90), lat_pct_ms(&B.lat, 0.99),
           (double)B.lat.v[B.lat.n - 1] / 1e6, sum / (double)B.lat.n / 1e6);
  }
  if (B.pid) {
    printf("  server VmRSS KiB: start %ld, after joins %ld, with %d idle streams %ld\n",
           B.rss_start, B.rss_joined, B.ready, B.rss_streams);
    if (B.ready > 0)
      printf("  RSS per idle stream: %.1f KiB\n",
             (double)(B.rss_streams - B.rss_joined) / B.ready);
  }
  printf("  errors: %llu\n", (unsigned long long)B.errors);
}

static void finish(uv_loop_t *loop) {
  set_phase(PH_DONE);
  B.crowd.done = true;
  report();
  for (int i = 0; i < B.n; i++)
    httpc_close(&B.listeners[i].cm.http);
  httpc_close(&B.sender);
  uv_stop(loop);
}

static void open_streams(uv_loop_t *loop) {
  B.open_ns = now_ns();
  crowd_open_streams(&B.crowd, loop, B.port, stream_start, stream_data);
  set_phase(PH_OPEN);
}

static void on_tick(uv_timer_t *t) {
  double in_phase = (double)(now_ns() - B.phase_ns) / 1e9;
  size_t expected = (size_t)B.messages * (size_t)(B.n - 1);
  switch (B.ph) {
  case PH_JOIN:
    if (B.crowd.joined == B.n) {
      B.rss_joined = B.pid ? proc_rss_kib(B.pid) : 0;
      open_streams(t->loop);
    } else if (in_phase > 60 || (B.errors && B.crowd.joined + (int)B.errors >= B.n)) {
      finish(t->loop);
    }
    break;
  case PH_OPEN:
    if (B.ready + B.crowd.closes >= B.n) {
      B.ready_ns = now_ns();
      set_phase(PH_SETTLE);
    } else if (in_phase > 60) {
      B.ready_ns = now_ns();
      finish(t->loop);
    }
    break;
  case PH_SETTLE: /* let the bursts' buffers drain before RSS is read */
    if (in_phase >= 1.0) {
      B.rss_streams = B.pid ? proc_rss_kib(B.pid) : 0;
      /* Connected only now: an idle keep-alive connection would time out meanwhile. */
      httpc_connect(&B.sender, t->loop, B.port, &send_cb, NULL);
      set_phase(PH_SEND);
    }
    break;
  case PH_SEND:
    if (in_phase > 10 + B.messages / B.rate) /* the sender never got going */
      finish(t->loop);
    break;
  case PH_DRAIN:
    if ((B.lat.n >= expected && B.acked >= B.messages) || in_phase > 10)
      finish(t->loop);
    break;
  case PH_DONE:
    break;
  }
}

static const char usage[] =
    "usage: sse_fanout --port P [--alias A] [--streams N] [--messages M]"
    " [--rate PER_S] [--pid SERVER_PID]\n";

static void parse_args(int argc, char **argv) {
  const opt opts[] = {{"port", OPT_INT, &B.port},    {"alias", OPT_STRING, &B.alias},
                      {"streams", OPT_INT, &B.n},    {"messages", OPT_INT, &B.messages},
                      {"rate", OPT_DOUBLE, &B.rate}, {"pid", OPT_INT, &B.pid},
                      {NULL, OPT_INT, NULL}};
  B.alias = "fanout";
  B.n = 1000;
  B.messages = 200;
  B.rate = 20;
  if (!opts_parse(argc, argv, opts) || B.port <= 0 || B.n < 2 || B.messages <= 0 ||
      B.rate <= 0)
    opts_usage(usage);
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  uv_loop_t *loop = uv_default_loop();
  B.listeners = calloc((size_t)B.n, sizeof *B.listeners);
  B.rss_start = B.pid ? proc_rss_kib(B.pid) : 0;
  set_phase(PH_JOIN);
  static const crowd_hooks hooks = {"listener", room_of, member_of, count_close,
                                    &B.errors};
  crowd_start(&B.crowd, &hooks, B.n, loop, B.port);
  uv_timer_init(loop, &B.tick);
  uv_timer_start(&B.tick, on_tick, 5, 5);
  uv_run(loop, UV_RUN_DEFAULT);
  size_t expected = (size_t)B.messages * (size_t)(B.n - 1);
  return B.errors || B.lat.n != expected ? 1 : 0;
}
