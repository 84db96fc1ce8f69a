/* test_cluster_redis — cluster_locate, placement and leases against a real redis-server
 * (started here on a free port; skipped when redis-server is not installed): two nodes
 * on one loop, a room placed on the least-loaded one, found THERE from the other, a
 * relayed join refused, a lease taken by another holder detected as lost. */
#include "check.h"
#include "cluster/cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static uv_loop_t *loop;
static void on_stop(uv_timer_t *t) { uv_stop(t->loop); }
static void run_for(uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, on_stop, ms, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  bind(s, (struct sockaddr *)&a, sizeof a);
  getsockname(s, (struct sockaddr *)&a, &n);
  close(s);
  return ntohs(a.sin_port);
}

static unsigned load_a = 0, load_b = 5;
static char lost_room[64];
static bool active(const char *room_key, void *ud) {
  (void)room_key;
  (void)ud;
  return true;
}
static unsigned parts(void *ud) { return *(unsigned *)ud; }
static void lost(const char *room_key, void *ud) {
  (void)ud;
  snprintf(lost_room, sizeof lost_room, "%s", room_key);
}

static cluster_location got;
static int answers;
static void on_loc(const cluster_location *l, void *ud) {
  (void)ud;
  got = *l;
  answers++;
}

static cluster *node(const char *id, const char *url, const char *secret, int port,
                     unsigned *load) {
  config cfg;
  config_defaults(&cfg);
  snprintf(cfg.cluster_url, sizeof cfg.cluster_url, "%s", url);
  snprintf(cfg.node_id, sizeof cfg.node_id, "%s", id);
  snprintf(cfg.region, sizeof cfg.region, "eu");
  snprintf(cfg.cluster_secret_file, sizeof cfg.cluster_secret_file, "%s", secret);
  cfg.http_port = port;
  char err[300];
  cluster *c = cluster_new(loop, &cfg, NULL, err, sizeof err);
  if (!c)
    fprintf(stderr, "cluster_new: %s\n", err);
  else
    cluster_set_rooms(c, active, parts, lost, load);
  return c;
}

static void locate(cluster *c, const char *room, bool join, bool relayed) {
  int before = answers;
  cluster_locate(c, room, join, relayed, on_loc, NULL);
  for (int i = 0; i < 100 && answers == before; i++)
    run_for(20);
  CHECK(answers == before + 1);
}

static void on_set(redisReply *r, void *ud) {
  (void)ud;
  CHECK(r && r->type == REDIS_REPLY_STATUS);
}

int main(void) {
  if (system("command -v redis-server >/dev/null 2>&1") != 0) {
    fprintf(stderr, "test_cluster_redis: no redis-server, skipped\n");
    return 0;
  }
  int port = free_port();
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", 1);
    dup2(devnull, 1);
    execlp("redis-server", "redis-server", "--port", portstr, "--bind", "127.0.0.1",
           "--save", "", "--appendonly", "no", (char *)NULL);
    _exit(127);
  }
  char secret[] = "/tmp/parley-test-secret-XXXXXX";
  int fd = mkstemp(secret);
  CHECK(write(fd, "0123456789abcdef0123456789abcdef0123", 36) == 36);
  close(fd);
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
  loop = uv_default_loop();
  usleep(200000);
  cluster *a = node("a", url, secret, 1001, &load_a),
          *b = node("b", url, secret, 1002, &load_b);
  CHECK(a && b);
  if (!a || !b)
    goto out;
  /* both registered with their loads (refresh every 2 s, load sampled every 1 s) */
  run_for(2600);
  buf m = {0};
  cluster_metrics(a, &m);
  buf_append(&m, "", 1);
  CHECK(strstr(m.data, "parley_cluster_redis_up 1") != NULL);
  CHECK(strstr(m.data, "parley_cluster_nodes 2") != NULL);
  buf_free(&m);

  /* placed on the least-loaded node: a, wherever the join arrives */
  locate(b, "room1", true, false);
  CHECK(got.where == CLUSTER_THERE);
  CHECK_STR(got.node_id, "a");
  CHECK_STR(got.http_url, "http://127.0.0.1:1001");
  locate(a, "room1", true, true); /* the relayed join: a acquires */
  CHECK(got.where == CLUSTER_HERE);
  CHECK(got.epoch == 1);
  locate(b, "room1", false, false);
  CHECK(got.where == CLUSTER_THERE);
  CHECK(got.epoch == 1);
  locate(b, "room1", true, true); /* relayed to the wrong node: never THERE */
  CHECK(got.where == CLUSTER_UNAVAILABLE);
  CHECK(got.reason[0] != '\0');

  /* another holder (a later epoch): a's next renewal finds it and ends the room */
  const char *argv[] = {"SET", "pl:room:room1", "b 7", "PX", "8000"};
  credis_command(cluster_redis(b), on_set, NULL, 5, argv, NULL);
  for (int i = 0; i < 150 && !lost_room[0]; i++)
    run_for(20);
  CHECK_STR(lost_room, "room1");
  m = (buf){0};
  cluster_metrics(a, &m);
  buf_append(&m, "", 1);
  CHECK(strstr(m.data, "parley_cluster_lease_lost_total 1") != NULL);
  CHECK(strstr(m.data, "parley_cluster_rooms_homed 0") != NULL);
  buf_free(&m);

  /* Redis gone: a known home is still THERE, an unknown room UNAVAILABLE */
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  pid = 0;
  run_for(300);
  locate(a, "room1", false, false);
  CHECK(got.where == CLUSTER_UNAVAILABLE || got.where == CLUSTER_THERE);
  locate(a, "room2", true, false);
  CHECK(got.where == CLUSTER_UNAVAILABLE);
  CHECK(strstr(got.reason, "cannot be reached") != NULL);
out:
  cluster_free(a);
  cluster_free(b);
  run_for(50);
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  unlink(secret);
  CHECK_DONE();
}
