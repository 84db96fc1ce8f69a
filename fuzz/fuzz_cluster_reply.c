/* fuzz_cluster_reply — libFuzzer harness for what a node reads back from Redis: RESP
 * bytes through hiredis's reader into the node-list and lease-holder parsers, checked
 * against their bounds. */
#include "cluster/lease.h"
#include "cluster/node.h"

#include "check.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CAP 8

static void check_nodes(const redisReply *r) {
  cnode_info nodes[CAP];
  size_t n = cnode_parse_list(r, nodes, CAP);
  CHECK(n <= CAP);
  for (size_t i = 0; i < n; i++) {
    CHECK(strlen(nodes[i].id) < sizeof nodes[i].id);
    CHECK(strlen(nodes[i].http_url) < sizeof nodes[i].http_url);
    CHECK(strlen(nodes[i].region) < sizeof nodes[i].region);
  }
  if (n > 0)
    CHECK(cnode_pick(nodes, n, "default", 7) < (int)n);
}

static void check_holder(const redisReply *r) {
  if (r->type != REDIS_REPLY_STRING)
    return;
  char *v = malloc(r->len + 1);
  memcpy(v, r->str, r->len);
  v[r->len] = '\0';
  char node[64];
  uint64_t epoch = 0;
  if (lease_parse_holder(v, node, sizeof node, &epoch) == 0)
    CHECK(strlen(node) < sizeof node);
  free(v);
}

/* hiredis 0.14 allocates a multi-bulk's element array (and a bulk's buffer) up front
 * from the count in the header, and Redis is a peer we run ourselves: counts beyond
 * what a real reply holds are skipped rather than reported as our out-of-memory. */
static int sane_counts(const uint8_t *d, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (d[i] != '*' && d[i] != '$')
      continue;
    unsigned long v = 0;
    for (size_t j = i + 1; j < len && d[j] >= '0' && d[j] <= '9'; j++)
      if ((v = v * 10 + (unsigned long)(d[j] - '0')) > 65536)
        return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  if (!sane_counts(data, len))
    return 0;
  redisReader *rd = redisReaderCreate();
  if (redisReaderFeed(rd, (const char *)data, len) == REDIS_OK) {
    void *reply = NULL;
    /* Several replies may follow each other, as on the connection. */
    for (int i = 0; i < 16 && redisReaderGetReply(rd, &reply) == REDIS_OK && reply; i++) {
      check_nodes(reply);
      check_holder(reply);
      freeReplyObject(reply);
      reply = NULL;
    }
  }
  redisReaderFree(rd);
  return 0;
}
