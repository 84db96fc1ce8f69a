/* crowd — joins N participants in rooms over 16 keep-alive connections, keeps tokens. */
#include "crowd.h"

#include <stdio.h>

static void join_next(crowd_joiner *j) {
  crowd *c = j->crowd;
  if (c->next_join >= c->n)
    return httpc_close(&j->http);
  j->next = c->next_join++;
  char room[256], path[400], body[64];
  c->h->room(j->next, room, sizeof room);
  snprintf(path, sizeof path, "/api/client/v2/conferences/%s/request_token", room);
  snprintf(body, sizeof body, "{\"display_name\":\"%s %d\"}", c->h->name, j->next);
  httpc_request(&j->http, "POST", path, "", body);
}

static void join_response(httpc *h, int status, const char *body, size_t len) {
  crowd_joiner *j = h->ud;
  crowd *c = j->crowd;
  char *token = c->h->member(j->next)->token;
  if (status != 200 || json_string_field(body, len, "token", token, CROWD_TOKEN)) {
    fprintf(stderr, "request_token: HTTP %d %.*s\n", status, (int)len, body);
    (*c->h->errors)++;
    return httpc_close(h);
  }
  c->joined++;
  join_next(j);
}

static bool connected(crowd *c, int status) {
  if (status != 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    (*c->h->errors)++;
  }
  return status == 0;
}

static void join_connect(httpc *h, int status) {
  crowd_joiner *j = h->ud;
  if (connected(j->crowd, status))
    join_next(j);
}

void crowd_start(crowd *c, const crowd_hooks *h, int n, uv_loop_t *loop, int port) {
  *c = (crowd){.h = h, .n = n};
  for (int i = 0; i < c->n; i++)
    *c->h->member(i) = (crowd_member){.crowd = c, .index = i};
  c->cb = (httpc_callbacks){.on_response = join_response,
                            .on_connect = join_connect,
                            .on_close = c->h->on_close};
  for (int i = 0; i < CROWD_CONNS; i++) {
    c->joiners[i].crowd = c;
    httpc_connect(&c->joiners[i].http, loop, port, &c->cb, &c->joiners[i]);
  }
}

static void stream_connect(httpc *h, int status) {
  crowd_member *m = h->ud;
  if (!connected(m->crowd, status))
    return;
  char room[256], path[512];
  m->crowd->h->room(m->index, room, sizeof room);
  snprintf(path, sizeof path, "/api/client/v2/conferences/%s/events?token=%s", room,
           m->token);
  httpc_request(h, "GET", path, "Accept: text/event-stream\r\n", NULL);
}

static void stream_close(httpc *h, const char *why) {
  crowd_member *m = h->ud;
  if (m->crowd->done)
    return;
  fprintf(stderr, "stream %d closed: %s\n", m->index, why);
  m->crowd->closes++;
  (*m->crowd->h->errors)++;
}

void crowd_open_streams(crowd *c, uv_loop_t *loop, int port,
                        void (*start)(httpc *h, int status),
                        void (*data)(httpc *h, const char *data, size_t len)) {
  c->stream_cb = (httpc_callbacks){.on_stream_start = start,
                                   .on_stream_data = data,
                                   .on_connect = stream_connect,
                                   .on_close = stream_close};
  for (int i = 0; i < c->n; i++)
    httpc_connect(&c->h->member(i)->http, loop, port, &c->stream_cb, c->h->member(i));
}
