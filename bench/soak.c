/* soak — a long steady load on parleyd: N participants spread over R rooms, each
 * holding an events stream, while refresh_token requests arrive at a fixed rate.
 * Every interval it prints the server's RSS and the refreshes' latency; at the end,
 * whether RSS stayed flat (within 5 %) after the warm-up interval. */
#include "httpc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOIN_CONNS 16
#define MAX_REFRESH_CONNS 256
#define FLAT_PCT 5.0

typedef struct {
  httpc http;
  int index;
  char token[128];
  uint64_t bytes; /* stream bytes read: the stream is read, never left to stall */
  bool ready;     /* its response headers came with 200 */
} member;

typedef struct {
  httpc http;
  int next;       /* joiner: the member it joins next; refresher: the one it refreshes */
  bool busy;      /* refresher: a request is in flight */
  uint64_t since; /* refresher: when it was sent */
} worker;

typedef enum { PH_JOIN, PH_OPEN, PH_LOAD, PH_DONE } phase;

static struct {
  int port, pid, n, rooms, conns, interval_s;
  double rate, minutes;
  const char *prefix;
  member *m;
  worker joiners[JOIN_CONNS], refreshers[MAX_REFRESH_CONNS];
  phase ph;
  int joined, next_join, ready, next_refresh;
  uint64_t phase_ns, load_ns, last_report_ns, issued, missed;
  uint64_t *lat; /* this interval's refresh latencies, ns */
  size_t n_lat, cap_lat;
  uint64_t errors, stream_closes, refreshes;
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

/* --- joining: JOIN_CONNS keep-alive connections issue request_token back to back */

static void join_next(worker *j) {
  if (B.next_join >= B.n)
    return httpc_close(&j->http);
  j->next = B.next_join++;
  char room[64], path[400], body[64];
  room_of(j->next, room, sizeof room);
  snprintf(path, sizeof path, "/api/client/v2/conferences/%s/request_token", room);
  snprintf(body, sizeof body, "{\"display_name\":\"soak %d\"}", j->next);
  httpc_request(&j->http, "POST", path, "", body);
}

static void join_response(httpc *h, int status, const char *body, size_t len) {
  worker *j = h->ud;
  member *m = &B.m[j->next];
  if (status != 200 || json_string_field(body, len, "token", m->token, sizeof m->token)) {
    fprintf(stderr, "request_token: HTTP %d %.*s\n", status, (int)len, body);
    B.errors++;
    return httpc_close(h);
  }
  B.joined++;
  join_next(j);
}

static void join_connect(httpc *h, int status) {
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    B.errors++;
    return;
  }
  join_next(h->ud);
}

static const httpc_callbacks join_cb = {
    .on_response = join_response, .on_connect = join_connect, .on_close = count_close};

/* --- the streams: read and counted, nothing more */

static void stream_data(httpc *h, const char *data, size_t len) {
  (void)data;
  ((member *)h->ud)->bytes += len;
}

static void stream_start(httpc *h, int status) {
  member *m = h->ud;
  if (status != 200) {
    fprintf(stderr, "events %d: HTTP %d\n", m->index, status);
    B.errors++;
    return httpc_close(h);
  }
  m->ready = true;
  B.ready++;
}

static void stream_connect(httpc *h, int status) {
  member *m = h->ud;
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    B.errors++;
    return;
  }
  char room[64], path[512];
  room_of(m->index, room, sizeof room);
  snprintf(path, sizeof path, "/api/client/v2/conferences/%s/events?token=%s", room,
           m->token);
  httpc_request(h, "GET", path, "Accept: text/event-stream\r\n", NULL);
}

static void stream_close(httpc *h, const char *why) {
  if (B.ph == PH_DONE)
    return;
  fprintf(stderr, "stream %d closed: %s\n", ((member *)h->ud)->index, why);
  B.stream_closes++;
  B.errors++;
}

static const httpc_callbacks stream_cb = {.on_stream_start = stream_start,
                                          .on_stream_data = stream_data,
                                          .on_connect = stream_connect,
                                          .on_close = stream_close};

/* --- refreshing: each refresher has one request in flight at a time */

static void refresh_response(httpc *h, int status, const char *body, size_t len) {
  worker *w = h->ud;
  member *m = &B.m[w->next];
  w->busy = false;
  if (status != 200 || json_string_field(body, len, "token", m->token, sizeof m->token)) {
    fprintf(stderr, "refresh_token: HTTP %d %.*s\n", status, (int)len, body);
    B.errors++;
    return;
  }
  if (B.n_lat == B.cap_lat) {
    B.cap_lat = B.cap_lat ? 2 * B.cap_lat : 65536;
    B.lat = realloc(B.lat, B.cap_lat * sizeof *B.lat);
  }
  B.lat[B.n_lat++] = now_ns() - w->since;
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
    snprintf(hdr, sizeof hdr, "token: %s\r\n", m->token);
    w->busy = true;
    w->since = now_ns();
    httpc_request(&w->http, "POST", path, hdr, NULL);
    return true;
  }
  return false;
}

/* --- reporting */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct_ms(double p) {
  if (B.n_lat == 0)
    return 0;
  size_t i = (size_t)(p * (double)(B.n_lat - 1) + 0.5);
  return (double)B.lat[i] / 1e6;
}

static void report_interval(uint64_t now) {
  double t = (double)(now - B.load_ns) / 1e9;
  double span = (double)(now - B.last_report_ns) / 1e9;
  long rss = B.pid ? proc_rss_kib(B.pid) : 0;
  qsort(B.lat, B.n_lat, sizeof *B.lat, cmp_u64);
  printf("t=%5.0fs  rss %7.1f MiB  refresh %6.0f/s  p50 %6.2f ms  p99 %7.2f ms  "
         "streams %d  errors %llu\n",
         t, (double)rss / 1024, (double)B.n_lat / span, pct_ms(0.50), pct_ms(0.99),
         B.ready - (int)B.stream_closes, (unsigned long long)B.errors);
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
  B.n_lat = 0;
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
  printf("  stream closes: %llu, errors: %llu\n", (unsigned long long)B.stream_closes,
         (unsigned long long)B.errors);
  return flat;
}

static void finish(uv_loop_t *loop) {
  set_phase(PH_DONE);
  /* Only what was started has a handle (joins may have failed first). */
  for (int i = 0; i < B.n; i++)
    if (B.m[i].http.tcp.loop)
      httpc_close(&B.m[i].http);
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
    if (B.joined == B.n) {
      printf("joined: %d in %.1f s\n", B.n, in_phase);
      for (int i = 0; i < B.conns; i++)
        httpc_connect(&B.refreshers[i].http, t->loop, B.port, &refresh_cb,
                      &B.refreshers[i]);
      set_phase(PH_OPEN);
    } else if (in_phase > 120 || (B.errors && B.joined + (int)B.errors >= B.n)) {
      finish(t->loop);
    }
    break;
  case PH_OPEN:
    if (B.refreshers_up == B.conns) {
      for (int i = 0; i < B.n; i++)
        httpc_connect(&B.m[i].http, t->loop, B.port, &stream_cb, &B.m[i]);
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

static void usage(void) {
  fprintf(stderr, "usage: soak --port P [--pid SERVER_PID] [--streams N] [--rooms R]"
                  " [--prefix ALIAS] [--rate REFRESH_PER_S] [--conns C] [--minutes M]"
                  " [--interval S] [--warmup S]\n");
  exit(2);
}

static void parse_args(int argc, char **argv) {
  static const struct option opts[] = {{"port", 1, 0, 'p'},
                                       {"pid", 1, 0, 'P'},
                                       {"streams", 1, 0, 'n'},
                                       {"rooms", 1, 0, 'r'},
                                       {"prefix", 1, 0, 'a'},
                                       {"rate", 1, 0, 'R'},
                                       {"conns", 1, 0, 'c'},
                                       {"minutes", 1, 0, 'm'},
                                       {"interval", 1, 0, 'i'},
                                       {"warmup", 1, 0, 'w'},
                                       {0, 0, 0, 0}};
  B.prefix = "soak";
  B.n = 10000;
  B.rooms = 10;
  B.rate = 1000;
  B.conns = 32;
  B.minutes = 10;
  B.interval_s = 30;
  B.warmup_s = 60;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'p':
      B.port = atoi(optarg);
      break;
    case 'P':
      B.pid = atoi(optarg);
      break;
    case 'n':
      B.n = atoi(optarg);
      break;
    case 'r':
      B.rooms = atoi(optarg);
      break;
    case 'a':
      B.prefix = optarg;
      break;
    case 'R':
      B.rate = atof(optarg);
      break;
    case 'c':
      B.conns = atoi(optarg);
      break;
    case 'm':
      B.minutes = atof(optarg);
      break;
    case 'i':
      B.interval_s = atoi(optarg);
      break;
    case 'w':
      B.warmup_s = atoi(optarg);
      break;
    default:
      usage();
    }
  }
  if (B.port <= 0 || B.n < 1 || B.rooms < 1 || B.rate <= 0 || B.conns < 1 ||
      B.conns > MAX_REFRESH_CONNS || B.minutes <= 0 || B.interval_s < 1)
    usage();
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  uv_loop_t *loop = uv_default_loop();
  B.m = calloc((size_t)B.n, sizeof *B.m);
  for (int i = 0; i < B.n; i++)
    B.m[i].index = i;
  set_phase(PH_JOIN);
  for (int i = 0; i < JOIN_CONNS; i++)
    httpc_connect(&B.joiners[i].http, loop, B.port, &join_cb, &B.joiners[i]);
  uv_timer_init(loop, &B.tick);
  uv_timer_start(&B.tick, on_tick, 1, 1);
  uv_run(loop, UV_RUN_DEFAULT);
  bool flat = report_end();
  return B.errors || !flat ? 1 : 0;
}
