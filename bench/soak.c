/* soak — a long steady load on parleyd: N participants spread over R rooms, each
 * holding an events stream, while refresh_token requests arrive at a fixed rate.
 * Every interval it prints the server's RSS and the refreshes' latency; at the end,
 * whether RSS stayed flat (within 5 %) after the warm-up interval. */
#include "crowd.h"
#include "lat.h"
#include "opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFRESH_CONNS 256
#define FLAT_PCT 5.0

typedef struct {
  crowd_member cm; /* first: the stream's ud */
  uint64_t bytes;  /* stream bytes read: the stream is read, never left to stall */
  bool ready;      /* its response headers came with 200 */
} member;

typedef struct {
  httpc http;
  int next;       /* the member it refreshes */
  bool busy;      /* a request is in flight */
  uint64_t since; /* when it was sent */
} worker;

typedef enum { PH_JOIN, PH_OPEN, PH_LOAD, PH_DONE } phase;

static struct {
  int port, pid, n, rooms, conns, interval_s;
  double rate, minutes;
  const char *prefix;
  member *m;
  crowd crowd;
  worker refreshers[MAX_REFRESH_CONNS];
  phase ph;
  int ready, next_refresh;
  uint64_t phase_ns, load_ns, last_report_ns, issued, missed;
  lat lat; /* this interval's refresh latencies, ns */
  uint64_t errors, refreshes;
  long rss_warm, rss_min, rss_max;
  int reports, refreshers_up, warmup_s;
  bool all_open;
  uv_timer_t tick;
} B;

static void set_phase(phase p) {
  B.ph = p;
  B.phase_ns = now_ns();
}

static void room_of(int i, char *out, size_t cap) {
  snprintf(out, cap, "%s%d", B.prefix, i % B.rooms);
}

static void count_close(httpc *h, const char *why) {
  (void)h;
  if (B.ph == PH_DONE)
    return;
  fprintf(stderr, "connection closed: %s\n", why);
  B.errors++;
}

/* --- joining: member i joins room i % --rooms */

static crowd_member *member_of(int i) { return &B.m[i].cm; }

/* --- the streams: read and counted, nothing more */

static void stream_data(httpc *h, const char *data, size_t len) {
  (void)data;
  ((member *)h->ud)->bytes += len;
}

static void stream_start(httpc *h, int status) {
  member *m = h->ud;
  if (status != 200) {
    fprintf(stderr, "events %d: HTTP %d\n", m->cm.index, status);
    B.errors++;
    return httpc_close(h);
  }
  m->ready = true;
  B.ready++;
}

/* --- refreshing: each refresher has one request in flight at a time */

static void refresh_response(httpc *h, int status, const char *body, size_t len) {
  worker *w = h->ud;
  member *m = &B.m[w->next];
  w->busy = false;
  if (status != 200 ||
      json_string_field(body, len, "token", m->cm.token, sizeof m->cm.token)) {
    fprintf(stderr, "refresh_token: HTTP %d %.*s\n", status, (int)len, body);
    B.errors++;
    return;
  }
  lat_add(&B.lat, now_ns() - w->since);
  B.refreshes++;
}

static void refresh_connect(httpc *h, int status) {
  (void)h;
  B.refreshers_up++;
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    B.errors++;
  }
}

static const httpc_callbacks refresh_cb = {.on_response = refresh_response,
                                           .on_connect = refresh_connect,
                                           .on_close = count_close};

static bool send_refresh(void) {
  for (int i = 0; i < B.conns; i++) {
    worker *w = &B.refreshers[(B.next_refresh + i) % B.conns];
    if (w->busy || w->http.closed)
      continue;
    B.next_refresh = (B.next_refresh + i + 1) % B.conns;
    w->next = (int)(B.issued % (uint64_t)B.n);
    member *m = &B.m[w->next];
    char room[64], path[400], hdr[200];
    room_of(w->next, room, sizeof room);
    snprintf(path, sizeof path, "/api/client/v2/conferences/%s/refresh_token", room);
    snprintf(hdr, sizeof hdr, "token: %s\r\n", m->cm.token);
    w->busy = true;
    w->since = now_ns();
    httpc_request(&w->http, "POST", path, hdr, NULL);
    return true;
  }
  return false;
}

/* --- reporting */

static void report_interval(uint64_t now) {
  double t = (double)(now - B.load_ns) / 1e9;
  double span = (double)(now - B.last_report_ns) / 1e9;
  long rss = B.pid ? proc_rss_kib(B.pid) : 0;
  lat_sort(&B.lat);
  printf("t=%5.0fs  rss %7.1f MiB  refresh %6.0f/s  p50 %6.2f ms  p99 %7.2f ms  "
         "streams %d  errors %llu\n",
         t, (double)rss / 1024, (double)B.lat.n / span, lat_pct_ms(&B.lat, 0.50),
         lat_pct_ms(&B.lat, 0.99), B.ready - B.crowd.closes,
         (unsigned long long)B.errors);
  fflush(stdout);
  /* The warm-up (streams opening, old tokens reaching their steady count, the
   * allocator's arenas and the hash maps growing) ends with the first report at
   * or past --warmup; RSS is judged against that one's. */
  if (B.rss_warm == 0 && t >= B.warmup_s - 1) {
    B.rss_warm = B.rss_min = B.rss_max = rss;
    B.reports = 1;
  } else if (B.rss_warm) {
    B.reports++;
    B.rss_min = rss < B.rss_min ? rss : B.rss_min;
    B.rss_max = rss > B.rss_max ? rss : B.rss_max;
  }
  B.lat.n = 0;
  B.last_report_ns = now;
}

static bool report_end(void) {
  printf("soak: %d streams in %d rooms, refresh_token at %.0f/s on %d connections, "
         "%.1f min\n",
         B.n, B.rooms, B.rate, B.conns, B.minutes);
  printf("  refreshes: %llu; sends skipped, all connections busy: %llu\n",
         (unsigned long long)B.refreshes, (unsigned long long)B.missed);
  bool flat = true;
  if (B.reports >= 2 && B.rss_warm > 0) {
    double lo = 100.0 * (double)(B.rss_min - B.rss_warm) / (double)B.rss_warm;
    double hi = 100.0 * (double)(B.rss_max - B.rss_warm) / (double)B.rss_warm;
    flat = lo >= -FLAT_PCT && hi <= FLAT_PCT;
    printf(
        "  RSS after warm-up: %.1f MiB, then %.1f..%.1f MiB (%+.1f %% .. %+.1f %%): %s\n",
        (double)B.rss_warm / 1024, (double)B.rss_min / 1024, (double)B.rss_max / 1024, lo,
        hi, flat ? "flat (within 5 %)" : "NOT flat");
  } else {
    printf("  RSS: too short a run to judge (needs two reports after the warm-up)\n");
  }
  printf("  stream closes: %llu, errors: %llu\n", (unsigned long long)B.crowd.closes,
         (unsigned long long)B.errors);
  return flat;
}

static void finish(uv_loop_t *loop) {
  set_phase(PH_DONE);
  B.crowd.done = true;
  /* Only what was started has a handle (joins may have failed first). */
  for (int i = 0; i < B.n; i++)
    if (B.m[i].cm.http.tcp.loop)
      httpc_close(&B.m[i].cm.http);
  for (int i = 0; i < B.conns; i++)
    if (B.refreshers[i].http.tcp.loop)
      httpc_close(&B.refreshers[i].http);
  uv_stop(loop);
}

static void start_load(uv_loop_t *loop) {
  (void)loop;
  B.load_ns = B.last_report_ns = now_ns();
  set_phase(PH_LOAD);
}

/* Open loop at B.rate: what is due since the load began is sent now; a send no
 * connection is free for is skipped and counted. */
static void pace(uint64_t now) {
  uint64_t due = (uint64_t)((double)(now - B.load_ns) / 1e9 * B.rate);
  while (B.issued < due) {
    if (!send_refresh())
      B.missed++;
    B.issued++;
  }
}

static void on_tick(uv_timer_t *t) {
  uint64_t now = now_ns();
  double in_phase = (double)(now - B.phase_ns) / 1e9;
  switch (B.ph) {
  case PH_JOIN:
    /* The refreshers connect first, then the streams open while they run: 10,000
     * streams queued in the accept backlog ahead of them would let tokens lapse. */
    if (B.crowd.joined == B.n) {
      printf("joined: %d in %.1f s\n", B.n, in_phase);
      for (int i = 0; i < B.conns; i++)
        httpc_connect(&B.refreshers[i].http, t->loop, B.port, &refresh_cb,
                      &B.refreshers[i]);
      set_phase(PH_OPEN);
    } else if (in_phase > 120 || (B.errors && B.crowd.joined + (int)B.errors >= B.n)) {
      finish(t->loop);
    }
    break;
  case PH_OPEN:
    if (B.refreshers_up == B.conns) {
      crowd_open_streams(&B.crowd, t->loop, B.port, stream_start, stream_data);
      start_load(t->loop);
    } else if (in_phase > 30) {
      finish(t->loop);
    }
    break;
  case PH_LOAD:
    if (!B.all_open && B.ready == B.n) {
      B.all_open = true;
      printf("streams open: %d in %.1f s\n", B.n, in_phase);
    }
    pace(now);
    if ((double)(now - B.last_report_ns) / 1e9 >= B.interval_s)
      report_interval(now);
    if ((double)(now - B.load_ns) / 1e9 >= B.minutes * 60) {
      if ((double)(now - B.last_report_ns) / 1e9 >= B.interval_s / 2.0)
        report_interval(now); /* the last interval, a few ms short */
      finish(t->loop);
    }
    break;
  case PH_DONE:
    break;
  }
}

static const char usage[] =
    "usage: soak --port P [--pid SERVER_PID] [--streams N] [--rooms R]"
    " [--prefix ALIAS] [--rate REFRESH_PER_S] [--conns C] [--minutes M]"
    " [--interval S] [--warmup S]\n";

static void parse_args(int argc, char **argv) {
  const opt opts[] = {{"port", OPT_INT, &B.port},
                      {"pid", OPT_INT, &B.pid},
                      {"streams", OPT_INT, &B.n},
                      {"rooms", OPT_INT, &B.rooms},
                      {"prefix", OPT_STRING, &B.prefix},
                      {"rate", OPT_DOUBLE, &B.rate},
                      {"conns", OPT_INT, &B.conns},
                      {"minutes", OPT_DOUBLE, &B.minutes},
                      {"interval", OPT_INT, &B.interval_s},
                      {"warmup", OPT_INT, &B.warmup_s},
                      {NULL, OPT_INT, NULL}};
  B.prefix = "soak";
  B.n = 10000;
  B.rooms = 10;
  B.rate = 1000;
  B.conns = 32;
  B.minutes = 10;
  B.interval_s = 30;
  B.warmup_s = 60;
  if (!opts_parse(argc, argv, opts) || B.port <= 0 || B.n < 1 || B.rooms < 1 ||
      B.rate <= 0 || B.conns < 1 || B.conns > MAX_REFRESH_CONNS || B.minutes <= 0 ||
      B.interval_s < 1)
    opts_usage(usage);
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  uv_loop_t *loop = uv_default_loop();
  B.m = calloc((size_t)B.n, sizeof *B.m);
  set_phase(PH_JOIN);
  static const crowd_hooks hooks = {"soak", room_of, member_of, count_close, &B.errors};
  crowd_start(&B.crowd, &hooks, B.n, loop, B.port);
  uv_timer_init(loop, &B.tick);
  uv_timer_start(&B.tick, on_tick, 1, 1);
  uv_run(loop, UV_RUN_DEFAULT);
  bool flat = report_end();
  return B.errors || !flat ? 1 : 0;
}
