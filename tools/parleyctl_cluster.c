/* parleyctl_cluster — parleyctl's cluster commands (--cluster redis://...): cluster
 * status, node drain and node serve, with synchronous hiredis (a CLI may block). */
#include "parleyctl_cluster.h"

#include "cluster/lease.h"
#include "cluster/node.h"
#include "cluster/redis.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int fail(const char *what, const char *why) {
  fprintf(stderr, "parleyctl: %s: %s\n", what, why);
  return 1;
}

static redisContext *open_redis(const char *url) {
  credis_url u;
  char err[300];
  if (credis_parse_url(url, &u, err, sizeof err) != 0) {
    fail("--cluster", err);
    return NULL;
  }
  struct timeval tv = {2, 0};
  redisContext *c = redisConnectWithTimeout(u.host, u.port, tv);
  if (!c || c->err) {
    fail("redis", c ? c->errstr : "cannot connect");
    if (c)
      redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  redisReply *r = NULL;
  if (u.password[0])
    r = u.user[0] ? redisCommand(c, "AUTH %s %s", u.user, u.password)
                  : redisCommand(c, "AUTH %s", u.password);
  if (r && r->type == REDIS_REPLY_ERROR) {
    fail("redis AUTH", r->str);
    freeReplyObject(r);
    redisFree(c);
    return NULL;
  }
  freeReplyObject(r);
  if (u.db) {
    r = redisCommand(c, "SELECT %d", u.db);
    bool bad = !r || r->type == REDIS_REPLY_ERROR;
    if (bad)
      fail("redis SELECT", r ? r->str : c->errstr);
    freeReplyObject(r);
    if (bad) {
      redisFree(c);
      return NULL;
    }
  }
  return c;
}

static uint64_t unix_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* Appends {room, home, epoch} for every pl:room:* key. */
static int leased_rooms(redisContext *c, json_t *rooms) {
  char cursor[32] = "0";
  do {
    redisReply *r = redisCommand(c, "SCAN %s MATCH pl:room:* COUNT 1000", cursor);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      fail("redis SCAN", r && r->str ? r->str : c->errstr);
      freeReplyObject(r);
      return -1;
    }
    snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
    redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
      redisReply *v =
          redisCommand(c, "GET %b", keys->element[i]->str, keys->element[i]->len);
      char node[64];
      uint64_t epoch;
      if (v && v->type == REDIS_REPLY_STRING &&
          lease_parse_holder(v->str, node, sizeof node, &epoch) == 0)
        json_array_append_new(rooms, json_pack("{s:s, s:s, s:I}", "room",
                                               keys->element[i]->str + 8, "home", node,
                                               "epoch", (json_int_t)epoch));
      freeReplyObject(v);
    }
    freeReplyObject(r);
  } while (strcmp(cursor, "0") != 0);
  return 0;
}

static int status(redisContext *c, bool as_json) {
  redisReply *r = redisCommand(c, "EVAL %s 1 pl:nodes", CNODE_LIST_LUA);
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    int rc = fail("redis", r && r->str ? r->str : c->errstr);
    freeReplyObject(r);
    return rc;
  }
  cnode_info nodes[256];
  size_t n = cnode_parse_list(r, nodes, 256);
  freeReplyObject(r);
  uint64_t now = unix_ms();
  json_t *jn = json_array(), *rooms = json_array();
  for (size_t i = 0; i < n; i++) {
    cnode_info *ni = &nodes[i];
    json_int_t age = (json_int_t)(now > ni->updated_ms ? now - ni->updated_ms : 0);
    json_array_append_new(jn, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:I}",
                                        "id", ni->id, "region", ni->region, "state",
                                        ni->draining ? "draining" : "serving", "load",
                                        (int)ni->load, "rooms", (int)ni->rooms, "url",
                                        ni->http_url, "media_addr", ni->media_addr,
                                        "version", ni->version, "age_ms", age));
  }
  if (leased_rooms(c, rooms) != 0) {
    json_decref(jn);
    json_decref(rooms);
    return 1;
  }
  json_t *all = json_pack("{s:o, s:o}", "nodes", jn, "rooms", rooms);
  if (as_json) {
    char *text = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS);
    puts(text);
    free(text);
  } else {
    printf("%-20s %-12s %-9s %6s %6s %8s  %s\n", "NODE", "REGION", "STATE", "LOAD",
           "ROOMS", "AGE_MS", "URL");
    size_t i;
    json_t *v;
    json_array_foreach(jn, i, v) {
      printf("%-20s %-12s %-9s %6d %6d %8lld  %s\n",
             json_string_value(json_object_get(v, "id")),
             json_string_value(json_object_get(v, "region")),
             json_string_value(json_object_get(v, "state")),
             (int)json_integer_value(json_object_get(v, "load")),
             (int)json_integer_value(json_object_get(v, "rooms")),
             (long long)json_integer_value(json_object_get(v, "age_ms")),
             json_string_value(json_object_get(v, "url")));
    }
    printf("\n%-32s %-20s %s\n", "ROOM", "HOME", "EPOCH");
    json_array_foreach(rooms, i, v) {
      printf("%-32s %-20s %lld\n", json_string_value(json_object_get(v, "room")),
             json_string_value(json_object_get(v, "home")),
             (long long)json_integer_value(json_object_get(v, "epoch")));
    }
  }
  json_decref(all);
  return 0;
}

static int drain(redisContext *c, const char *id, bool on) {
  redisReply *r = on ? redisCommand(c, "SET pl:drain:%s 1", id)
                     : redisCommand(c, "DEL pl:drain:%s", id);
  if (!r || r->type == REDIS_REPLY_ERROR) {
    int rc = fail("redis", r ? r->str : c->errstr);
    freeReplyObject(r);
    return rc;
  }
  freeReplyObject(r);
  /* Every node re-reads the membership now (else at its next refresh, up to 2 s). */
  r = redisCommand(c, "PUBLISH %s %s%s", CNODE_CHANNEL, id, on ? " drain" : " serve");
  freeReplyObject(r);
  printf("node %s %s\n", id,
         on ? "draining: it takes no new rooms and keeps its own"
            : "serving: it takes new rooms again");
  return 0;
}

int parleyctl_cluster(const char *url, int argc, char **argv) {
  if (!url)
    return fail(argv[0], "needs --cluster redis://[:PASSWORD@]HOST:PORT[/DB]");
  bool is_status = argc >= 2 && strcmp(argv[0], "cluster") == 0 &&
                   strcmp(argv[1], "status") == 0 &&
                   (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0));
  bool is_node = argc == 3 && strcmp(argv[0], "node") == 0 &&
                 (strcmp(argv[1], "drain") == 0 || strcmp(argv[1], "serve") == 0);
  if (!is_status && !is_node)
    return fail(argv[0],
                "usage: cluster status [--json] | node drain ID | node serve ID");
  redisContext *c = open_redis(url);
  if (!c)
    return 1;
  int rc =
      is_status ? status(c, argc == 3) : drain(c, argv[2], strcmp(argv[1], "drain") == 0);
  redisFree(c);
  return rc;
}
