/* tls_handshakes — full TLS handshakes per second against parleyd's HTTPS listener, and
 * parleyd's CPU per handshake (from /proc/PID/stat), one connection at a time: connect,
 * handshake, close. No session resumption: every handshake is a full one, the cost of a
 * new client (or of every client right after a restart).
 *
 * usage: tls_handshakes PORT PID [N] [--tls12]
 * e.g. taskset -c 0 parleyd --tls-cert c.pem --tls-key k.pem ... &
 *      taskset -c 1 build/bench/tls_handshakes 8443 $! 5000 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* parleyd's user + system CPU in clock ticks, or -1. */
static long long proc_cpu(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  unsigned long long utime, stime;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                   &stime) != 2)
    return -1;
  return (long long)(utime + stime);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int handshake(SSL_CTX *ctx, const struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = 0;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
  }
  close(fd);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tls_handshakes PORT PID [N] [--tls12]\n");
    return 2;
  }
  int port = atoi(argv[1]), pid = atoi(argv[2]);
  int n = argc > 3 && argv[3][0] != '-' ? atoi(argv[3]) : 5000;
  int tls12 = strcmp(argv[argc - 1], "--tls12") == 0;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* the cost measured is the server's */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (tls12)
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  long hz = sysconf(_SC_CLK_TCK);
  long long cpu0 = proc_cpu(pid);
  double t0 = now_s();
  int done = 0;
  for (int i = 0; i < n; i++)
    done += handshake(ctx, &addr);
  double secs = now_s() - t0;
  long long cpu1 = proc_cpu(pid);
  double server_s = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / (double)hz : -1;
  printf("%s: %d of %d handshakes in %.2f s: %.0f/s; parleyd CPU %.2f s: %.0f us each, "
         "%.0f handshakes per CPU-second\n",
         tls12 ? "TLS 1.2" : "TLS 1.3", done, n, secs, done / secs, server_s,
         server_s * 1e6 / done, done / server_s);
  SSL_CTX_free(ctx);
  return done == n ? 0 : 1;
}
