/* fuzz_request — libFuzzer harness for whole HTTP requests: the input goes over a
 * loopback TCP connection into parleyd's own server, API layer and conference core.
 *
 * Each input runs against a fresh conference core holding a joined participant whose
 * token and UUID replace the markers "@T" and "@U" in the input (and "@V" a second
 * participant's UUID), so the fuzzer reaches the authenticated endpoints. The first
 * byte picks how many more participants join (0-15): enough of them make the initial
 * event burst exceed the small SSE queue configured here. */
#include "api/api.h"
#include "core/log.h"
#include "http/sse.h"
#include "store/db.h"
#include "store/rooms.h"

#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST 16384
#define MAX_ROUNDS 400 /* loop turns allowed for one input before giving up on it */

static config cfg;
static api front;
static store *db;
static uv_loop_t *loop;
static int port;
static bool verbose; /* FUZZ_REQUEST_VERBOSE=1 shows the answers */
static char data_dir[] = "/tmp/parley-fuzz-request.XXXXXX";

static void add_room(const char *alias, const char *pin, bool guests, bool lecture,
                     bool reception) {
  room_record r = {.name = (char *)alias,
                   .pin = (char *)pin,
                   .allow_guests = guests,
                   .lecture = lecture,
                   .reception = reception,
                   .n_aliases = 1};
  r.aliases[0] = (char *)alias;
  char err[200];
  CHECK(store_room_add(db, &r, err, sizeof err) == 0);
}

static void remove_data_dir(void) {
  static const char *const files[] = {"parley.db", "parley.db-wal", "parley.db-shm"};
  char path[128];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    snprintf(path, sizeof path, "%s/%s", data_dir, files[i]);
    unlink(path);
  }
  rmdir(data_dir);
}

/* One server for the whole run, listening on a loopback port. */
static void setup(void) {
  char err[512];
  log_set_level(LOG_ERROR);
  signal(SIGPIPE, SIG_IGN); /* as parleyd does: clients hang up mid-write */
  verbose = getenv("FUZZ_REQUEST_VERBOSE") != NULL;
  CHECK(mkdtemp(data_dir));
  atexit(remove_data_dir);
  db = store_open(data_dir, err, sizeof err);
  CHECK(db);
  add_room("meet", NULL, false, false, false);
  add_room("pinned", "1234", true, false, false);
  add_room("lecture", "4321", true, true, false);
  add_room("lobby", NULL, false, false, true);
  config_defaults(&cfg);
  cfg.sse_queue_bytes = 4096; /* the smallest allowed: reach the overflow paths */
  cfg.max_body_bytes = 4096;
  loop = uv_default_loop();
  sse_init(loop, 3600, (size_t)cfg.sse_total_bytes);
  front.cfg = &cfg;
  front.srv = http_server_start(loop, "127.0.0.1", 0, MAX_REQUEST, NULL, api_handle,
                                &front, err, sizeof err);
  CHECK(front.srv);
  port = http_server_port(front.srv);
}

static participant *join(const char *alias, char token[IDS_TOKEN_LEN + 1]) {
  join_request jr = {.alias = alias, .display_name = "fuzz", .remote_addr = "127.0.0.1"};
  join_result res;
  conf_join(front.core, &jr, &res);
  CHECK(res.outcome == JOIN_OK);
  memcpy(token, res.token, IDS_TOKEN_LEN + 1);
  return res.p;
}

/* Copies in to out with the markers replaced; returns the length. */
static size_t substitute(const uint8_t *in, size_t len, char *out, const char *token,
                         const char *self, const char *other) {
  size_t o = 0;
  for (size_t i = 0; i < len && o + 64 < MAX_REQUEST; i++) {
    const char *rep = NULL;
    if (in[i] == '@' && i + 1 < len)
      rep = in[i + 1] == 'T'   ? token
            : in[i + 1] == 'U' ? self
            : in[i + 1] == 'V' ? other
                               : NULL;
    if (rep) {
      size_t n = strlen(rep);
      memcpy(out + o, rep, n);
      o += n;
      i++;
    } else {
      out[o++] = (char)in[i];
    }
  }
  return o;
}

static int connect_client(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
  return fd;
}

/* Turns the loop until the server has no connection left (or MAX_ROUNDS), reading
 * and dropping whatever the server answers so that it never blocks on us. */
static void pump(int fd) {
  char sink[65536];
  for (int round = 0; round < MAX_ROUNDS; round++) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (fd >= 0) {
      ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n > 0 && verbose)
        fwrite(sink, 1, (size_t)n, stderr);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        close(fd);
        fd = -1;
      }
    }
    if (fd < 0 && http_server_connections(front.srv) == 0)
      return;
    if (round == MAX_ROUNDS / 2 && fd >= 0) {
      close(fd); /* an open stream: hang up as a client would */
      fd = -1;
    }
  }
  if (fd >= 0)
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char request[MAX_REQUEST];
  if (!loop)
    setup();
  if (size == 0)
    return 0;
  front.core = conf_create(loop, &cfg, db);
  char token[IDS_TOKEN_LEN + 1], other_token[IDS_TOKEN_LEN + 1];
  participant *self = join("meet", token);
  participant *other = join("meet", other_token);
  for (int i = 0; i < data[0] % 16; i++)
    join("meet", other_token);
  char self_uuid[IDS_UUID_LEN + 1], other_uuid[IDS_UUID_LEN + 1];
  memcpy(self_uuid, self->uuid, sizeof self_uuid);
  memcpy(other_uuid, other->uuid, sizeof other_uuid);
  size_t len = substitute(data + 1, size - 1, request, token, self_uuid, other_uuid);

  int fd = connect_client();
  size_t sent = 0;
  while (sent < len) {
    uv_run(loop, UV_RUN_NOWAIT); /* accept, and read what we wrote so far */
    ssize_t n = send(fd, request + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      break;
    sent += n > 0 ? (size_t)n : 0;
  }
  shutdown(fd, SHUT_WR);
  pump(fd);
  conf_destroy(front.core);
  front.core = NULL;
  pump(-1); /* let the core's close callbacks run */
  return 0;
}
