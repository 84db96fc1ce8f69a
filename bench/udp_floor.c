/* udp_floor — what the kernel alone charges a sender per 1,200-byte UDP datagram on this
 * machine: sendmmsg round-robin to N loopback sockets, nothing else (no SRTP, no RTP).
 *
 * usage: udp_floor [N] [DATAGRAMS] [BATCH] [--sleeping]
 *
 * The receivers are drained by a child process pinned to the other CPU. By default it
 * spins (epoll_wait with timeout 0), as the forwarding benchmarks' clients do; with
 * --sleeping it blocks in epoll_wait, and each wake-up it needs is charged to the sender.
 * On loopback the receive path (IP and UDP input, the socket queue) runs in the sender's
 * softirq, so it is in the figure too: it is the floor under any forwarding server's
 * egress cost measured this way (parleyd's and Janus's alike). Run it on the server's
 * CPU: taskset -c 0 build/bench/udp_floor 100 1000000 64 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DATAGRAM 1200
#define MAX_BATCH 64

static double cpu_us(const struct rusage *a, const struct rusage *b, int sys) {
  const struct timeval *x = sys ? &a->ru_stime : &a->ru_utime;
  const struct timeval *y = sys ? &b->ru_stime : &b->ru_utime;
  return (double)(y->tv_sec - x->tv_sec) * 1e6 + (double)(y->tv_usec - x->tv_usec);
}

/* The receivers' side, on the other CPU, until killed. */
static void drain(const int *fds, int n, int sleeping) {
  int other = sched_getcpu() == 0 ? 1 : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(other, &set);
  sched_setaffinity(0, sizeof set, &set);
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  char buf[2048];
  struct epoll_event evs[256];
  for (;;) {
    int k = epoll_wait(ep, evs, 256, sleeping ? -1 : 0);
    for (int j = 0; j < k; j++)
      while (recv(fds[evs[j].data.u32], buf, sizeof buf, MSG_DONTWAIT) > 0) {
      }
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  long total = argc > 2 ? atol(argv[2]) : 1000000;
  int batch = argc > 3 ? atoi(argv[3]) : MAX_BATCH;
  int sleeping = argc > 4 && strcmp(argv[4], "--sleeping") == 0;
  if (n < 1 || total < 1 || batch < 1 || batch > MAX_BATCH) {
    fprintf(stderr, "usage: udp_floor [N] [DATAGRAMS] [BATCH<=64] [--sleeping]\n");
    return 2;
  }
  int *fds = calloc((size_t)n, sizeof *fds);
  struct sockaddr_in *to = calloc((size_t)n, sizeof *to);
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 4 << 20;
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof to[i];
    if (bind(fds[i], (struct sockaddr *)&a, sizeof a) ||
        getsockname(fds[i], (struct sockaddr *)&to[i], &len))
      return perror("bind"), 1;
  }
  pid_t child = fork();
  if (child == 0)
    drain(fds, n, sleeping);
  int tx = socket(AF_INET, SOCK_DGRAM, 0);
  static uint8_t payload[MAX_BATCH][DATAGRAM];
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  memset(msgs, 0, sizeof msgs);
  usleep(100000);
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  long sent = 0;
  int next = 0;
  while (sent < total) {
    for (int b = 0; b < batch; b++, next = (next + 1) % n) {
      iov[b] = (struct iovec){payload[b], DATAGRAM};
      msgs[b].msg_hdr = (struct msghdr){.msg_name = &to[next],
                                        .msg_namelen = sizeof to[next],
                                        .msg_iov = &iov[b],
                                        .msg_iovlen = 1};
    }
    int k = sendmmsg(tx, msgs, (unsigned)batch, 0);
    if (k > 0)
      sent += k;
  }
  getrusage(RUSAGE_SELF, &r1);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  double user = cpu_us(&r0, &r1, 0) / (double)sent,
         sys = cpu_us(&r0, &r1, 1) / (double)sent;
  printf(
      "udp_floor: %ld datagrams of %d bytes to %d loopback sockets, sendmmsg batch %d, "
      "receivers %s\n",
      sent, DATAGRAM, n, batch, sleeping ? "sleeping in epoll" : "spinning");
  printf("sender CPU per datagram: user %.2f us + system %.2f us = %.2f us -> at most "
         "%.0f datagrams per CPU-second\n",
         user, sys, user + sys, 1e6 / (user + sys));
  printf(
      "RESULT udp_floor n=%d batch=%d sleeping=%d us_per_datagram=%.2f per_cpu_s=%.0f\n",
      n, batch, sleeping, user + sys, 1e6 / (user + sys));
  return 0;
}
