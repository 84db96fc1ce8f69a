/* webhook_bench — webhooks delivered per second through the outbox (SQLite journal, the
 * libcurl client, signing) to tests/tools/http_sink.mjs on loopback, which it starts. */
#define FIXTURES SINK_FIXTURES
#include "../tests/unit/sink.h"
#include "core/log.h"
#include "delivery/outbox.h"
#include "store/sync.h"

#include <time.h>

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool drained(void *ud) { return outbox_pending(ud) == 0; }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  int in_flight = argc > 2 ? atoi(argv[2]) : 16;
  signal(SIGPIPE, SIG_IGN);
  log_set_level(LOG_WARN);
  char dir[] = "/tmp/parley-whbench-XXXXXX";
  char err[256];
  sink sk;
  if (!mkdtemp(dir) || sink_start(&sk, dir) != 0) {
    fprintf(stderr, "webhook_bench: cannot start the sink (node on PATH?)\n");
    return 1;
  }
  store *st = store_open(dir, err, sizeof err);
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* As parleyd runs it: BENCH_STORE_SYNC_MS (--store-sync, default 1000); 0 = one
   * fsync per commit on the loop, SQLite's default. */
  const char *sync_env = getenv("BENCH_STORE_SYNC_MS");
  int sync_ms = sync_env ? atoi(sync_env) : 1000;
  store_sync *sync = store_sync_start(st, &loop, sync_ms);
  http_client *http = http_client_new(&loop);
  outbox_config cfg;
  outbox_config_defaults(&cfg);
  cfg.max_webhooks = in_flight;
  cfg.allow_private_destinations = true; /* the sink listens on loopback */
  outbox *ob = outbox_new(&loop, st, http, &cfg);
  char url[128];
  snprintf(url, sizeof url, "%s/bench", sk.base);
  const char *body = "{\"status\":\"upload_ready\",\"msg\":\"recording uploaded\","
                     "\"rec_id\":\"0f9c1e2a-1111-4222-8333-944445555666\"}";
  double t0 = seconds_now();
  for (int i = 0; i < n; i++)
    outbox_webhook(ob, url, "bench-secret", body);
  double queued = seconds_now() - t0;
  bool ok = run_until(&loop, drained, ob, 600000);
  double total = seconds_now() - t0;
  size_t delivered = sink_log_count(&sk);
  printf("webhook_bench: %d webhooks, %d in flight, store-sync %d ms: queued in %.3f s "
         "(%.0f/s, one SQLite commit each), all delivered in %.3f s: %.0f webhooks/s end "
         "to end; sink saw %zu%s\n",
         n, in_flight, sync_ms, queued, n / queued, total, n / total, delivered,
         ok ? "" : " (TIMEOUT)");
  outbox_free(ob);
  http_client_free(http);
  store_sync_stop(sync);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  store_close(st);
  sink_stop(&sk);
  snprintf(err, sizeof err, "rm -rf %s", dir);
  return system(err) == 0 && ok ? 0 : 1;
}
