/* upload_sink — HTTP/1.1 PUT and POST receiver on epoll, with keep-alive and
 * "Expect: 100-continue"; bodies need Content-Length (what parleyd's uploads send). */
#include "upload_sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_KEEP 16
#define MAX_HEAD 16384

typedef struct {
  int fd;
  char head[MAX_HEAD + 1];
  size_t head_len;
  bool in_body, is_put;
  char path[512];
  size_t left, got;
  char *post; /* a POST's body so far */
  int file;   /* a kept PUT's file, or -1 */
  char file_path[600];
} conn;

struct upload_sink {
  int listen_fd, ep, port;
  char keep_dir[400];
  char keep[MAX_KEEP][128];
  int n_keep;
  upload_sink_callbacks cb;
  void *ud;
};

static void reply(conn *c, const char *status) {
  char r[128];
  int n = snprintf(r, sizeof r, "HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n", status);
  if (send(c->fd, r, (size_t)n, MSG_NOSIGNAL) < 0)
    return;
}

static void drop(upload_sink *s, conn *c) {
  epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (c->file >= 0)
    close(c->file);
  free(c->post);
  free(c);
}

static bool kept(const upload_sink *s, const char *path) {
  size_t n = strlen(path);
  for (int i = 0; i < s->n_keep; i++) {
    size_t k = strlen(s->keep[i]);
    if (n >= k && strcmp(path + n - k, s->keep[i]) == 0)
      return true;
  }
  return false;
}

/* A request's head is complete: what follows is its body. -1 if it is unusable. */
static int start_body(upload_sink *s, conn *c, size_t head_end) {
  char method[16];
  c->head[head_end] = '\0';
  if (sscanf(c->head, "%15s %511s", method, c->path) != 2)
    return -1;
  c->is_put = strcmp(method, "PUT") == 0;
  const char *cl = strcasestr(c->head, "\r\ncontent-length:");
  if (!cl || (!c->is_put && strcmp(method, "POST") != 0))
    return reply(c, "411 Length Required"), -1;
  c->left = strtoul(cl + 17, NULL, 10);
  c->got = 0;
  c->in_body = true;
  c->file = -1;
  if (c->is_put && kept(s, c->path)) {
    const char *name = strrchr(c->path, '/');
    snprintf(c->file_path, sizeof c->file_path, "%s/%s", s->keep_dir,
             name ? name + 1 : "x");
    c->file = open(c->file_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (!c->is_put)
    c->post = calloc(1, c->left + 1);
  if (strcasestr(c->head, "\r\nexpect: 100-continue"))
    send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
  return 0;
}

static void finish_body(upload_sink *s, conn *c) {
  if (c->is_put) {
    if (c->file >= 0)
      close(c->file);
    if (s->cb.on_put)
      s->cb.on_put(s->ud, c->path, c->got, c->file >= 0 ? c->file_path : NULL);
    c->file = -1;
  } else {
    if (s->cb.on_post)
      s->cb.on_post(s->ud, c->path, c->post);
    free(c->post);
    c->post = NULL;
  }
  reply(c, "200 OK");
  c->in_body = false;
}

/* Feeds received bytes through heads and bodies; -1 drops the connection. */
static int consume(upload_sink *s, conn *c, const char *data, size_t n) {
  while (n > 0) {
    if (c->in_body) {
      size_t take = n < c->left ? n : c->left;
      if (c->file >= 0 && write(c->file, data, take) != (ssize_t)take)
        return -1;
      if (c->post)
        memcpy(c->post + c->got, data, take);
      c->got += take, c->left -= take, data += take, n -= take;
      if (c->left == 0)
        finish_body(s, c);
      continue;
    }
    size_t take = n < MAX_HEAD - c->head_len ? n : MAX_HEAD - c->head_len;
    memcpy(c->head + c->head_len, data, take);
    c->head_len += take;
    c->head[c->head_len] = '\0';
    char *end = strstr(c->head, "\r\n\r\n");
    if (!end) {
      if (c->head_len == MAX_HEAD)
        return -1;
      data += take, n -= take;
      continue;
    }
    size_t head_end = (size_t)(end - c->head) + 4;
    size_t body_in_take = c->head_len - head_end; /* bytes of this read past the head */
    data += take - body_in_take, n -= take - body_in_take;
    c->head_len = 0;
    if (start_body(s, c, head_end) != 0)
      return -1;
    if (c->left == 0)
      finish_body(s, c);
  }
  return 0;
}

static void on_readable(upload_sink *s, conn *c) {
  static char buf[1 << 16];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if (n <= 0 || consume(s, c, buf, (size_t)n) != 0)
      return drop(s, c);
  }
}

static void accept_all(upload_sink *s) {
  for (;;) {
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0)
      return;
    conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    c->file = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
  }
}

void upload_sink_run(upload_sink *s) {
  struct epoll_event evs[64];
  int n;
  while ((n = epoll_wait(s->ep, evs, 64, 0)) > 0)
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == NULL)
        accept_all(s);
      else
        on_readable(s, evs[i].data.ptr);
    }
}

upload_sink *upload_sink_open(const char *keep_dir, upload_sink_callbacks cb, void *ud) {
  upload_sink *s = calloc(1, sizeof *s);
  s->cb = cb, s->ud = ud;
  snprintf(s->keep_dir, sizeof s->keep_dir, "%s", keep_dir ? keep_dir : ".");
  s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  socklen_t alen = sizeof a;
  if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(s->listen_fd, 512) != 0 ||
      getsockname(s->listen_fd, (struct sockaddr *)&a, &alen) != 0) {
    perror("upload_sink");
    close(s->listen_fd);
    free(s);
    return NULL;
  }
  s->port = ntohs(a.sin_port);
  s->ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(s->ep, EPOLL_CTL_ADD, s->listen_fd, &ev);
  return s;
}

int upload_sink_port(const upload_sink *s) { return s->port; }
int upload_sink_fd(const upload_sink *s) { return s->ep; }

void upload_sink_keep(upload_sink *s, const char *name) {
  if (s->n_keep < MAX_KEEP)
    snprintf(s->keep[s->n_keep++], sizeof s->keep[0], "%s", name);
}

void upload_sink_close(upload_sink *s) {
  close(s->listen_fd);
  close(s->ep); /* open connections die with the process: this is a test tool */
  free(s);
}
