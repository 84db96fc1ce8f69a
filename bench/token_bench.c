/* token_bench — request_token + release_token pairs per second against one parleyd:
 * N keep-alive connections issue pairs back to back for a fixed time (libuv, one thread).
 */
#include "httpc.h"
#include "opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  httpc http;
  char token[128];
  bool releasing; /* the request in flight is a release_token */
} client;

static struct {
  int port, pid, conns;
  double seconds, warmup;
  const char *alias;
  char path_request[512], path_release[512];
  uint64_t start_ns, measure_ns, stop_ns;
  double cpu_at_measure, cpu_end;
  uint64_t pairs, errors, pairs_measured;
  int open;
  uv_timer_t tick;
} B;

static void next_pair(client *c);

static void finish_client(client *c) {
  httpc_close(&c->http);
  B.open--;
}

static void on_response(httpc *h, int status, const char *body, size_t len) {
  client *c = h->ud;
  uint64_t now = now_ns();
  if (!c->releasing) {
    if (status != 200 ||
        json_string_field(body, len, "token", c->token, sizeof c->token)) {
      fprintf(stderr, "request_token: HTTP %d %.*s\n", status, (int)len, body);
      B.errors++;
      return finish_client(c);
    }
    c->releasing = true;
    char hdr[200];
    snprintf(hdr, sizeof hdr, "token: %s\r\n", c->token);
    return httpc_request(h, "POST", B.path_release, hdr, NULL);
  }
  if (status != 200) {
    fprintf(stderr, "release_token: HTTP %d %.*s\n", status, (int)len, body);
    B.errors++;
    return finish_client(c);
  }
  B.pairs++;
  if (now >= B.measure_ns)
    B.pairs_measured++;
  if (now >= B.stop_ns)
    return finish_client(c);
  next_pair(c);
}

static void next_pair(client *c) {
  c->releasing = false;
  httpc_request(&c->http, "POST", B.path_request, "", "{\"display_name\":\"bench\"}");
}

static void on_connect(httpc *h, int status) {
  client *c = h->ud;
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    B.errors++;
    B.open--;
    return;
  }
  next_pair(c);
}

static void on_close(httpc *h, const char *why) {
  fprintf(stderr, "connection closed: %s\n", why);
  B.errors++;
  B.open--;
  (void)h;
}

static const httpc_callbacks callbacks = {
    .on_response = on_response, .on_connect = on_connect, .on_close = on_close};

/* Reads the server's CPU time as the measured window opens and closes (1 ms ticks),
 * and stops the loop once every connection is done. */
static void on_tick(uv_timer_t *t) {
  uint64_t now = now_ns();
  if (B.cpu_at_measure < 0 && now >= B.measure_ns)
    B.cpu_at_measure = B.pid ? proc_cpu_seconds(B.pid) : 0;
  if (B.cpu_end < 0 && now >= B.stop_ns)
    B.cpu_end = B.pid ? proc_cpu_seconds(B.pid) : 0;
  if (B.open <= 0 || now > B.stop_ns + 5000000000u)
    uv_stop(t->loop);
}

static const char usage[] =
    "usage: token_bench --port P [--alias A] [--conns N] [--seconds S]"
    " [--warmup S] [--pid SERVER_PID]\n";

static void parse_args(int argc, char **argv) {
  const opt opts[] = {{"port", OPT_INT, &B.port},
                      {"alias", OPT_STRING, &B.alias},
                      {"conns", OPT_INT, &B.conns},
                      {"seconds", OPT_DOUBLE, &B.seconds},
                      {"warmup", OPT_DOUBLE, &B.warmup},
                      {"pid", OPT_INT, &B.pid},
                      {NULL, OPT_INT, NULL}};
  B.alias = "bench";
  B.conns = 32;
  B.seconds = 10;
  B.warmup = 1;
  if (!opts_parse(argc, argv, opts) || B.port <= 0 || B.conns <= 0 || B.seconds <= 0)
    opts_usage(usage);
}

static void report(void) {
  double measured_s = (double)(B.stop_ns - B.measure_ns) / 1e9;
  double pairs_s = (double)B.pairs_measured / measured_s;
  printf("token_bench: %d connections, %.1f s measured after %.1f s warm-up\n", B.conns,
         measured_s, B.warmup);
  printf("  pairs: %llu measured (%llu total), errors: %llu\n",
         (unsigned long long)B.pairs_measured, (unsigned long long)B.pairs,
         (unsigned long long)B.errors);
  printf("  pairs/s: %.0f   requests/s: %.0f\n", pairs_s, 2 * pairs_s);
  if (B.pid) {
    double cpu = B.cpu_end - B.cpu_at_measure;
    printf("  server CPU: %.2f s over %.1f s (%.0f%% of one core)\n", cpu, measured_s,
           100 * cpu / measured_s);
    if (cpu > 0)
      printf("  pairs per server CPU-second: %.0f   requests per CPU-second: %.0f\n",
             (double)B.pairs_measured / cpu, 2 * (double)B.pairs_measured / cpu);
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  snprintf(B.path_request, sizeof B.path_request,
           "/api/client/v2/conferences/%s/request_token", B.alias);
  snprintf(B.path_release, sizeof B.path_release,
           "/api/client/v2/conferences/%s/release_token", B.alias);
  uv_loop_t *loop = uv_default_loop();
  B.start_ns = now_ns();
  B.measure_ns = B.start_ns + (uint64_t)(B.warmup * 1e9);
  B.stop_ns = B.measure_ns + (uint64_t)(B.seconds * 1e9);
  B.cpu_at_measure = B.cpu_end = -1;
  client *clients = calloc((size_t)B.conns, sizeof *clients);
  for (int i = 0; i < B.conns; i++, B.open++)
    if (httpc_connect(&clients[i].http, loop, B.port, &callbacks, &clients[i]) != 0)
      return fprintf(stderr, "cannot connect\n"), 1;
  uv_timer_init(loop, &B.tick);
  uv_timer_start(&B.tick, on_tick, 1, 1);
  uv_run(loop, UV_RUN_DEFAULT);
  report();
  return B.errors || B.pairs_measured == 0 ? 1 : 0;
}
