/* test_cluster — the pure parts of src/cluster: the Redis URL parser and room
 * placement's choice among the live nodes. */
#include "check.h"
#include "cluster/lease.h"
#include "cluster/node.h"
#include "cluster/redis.h"

static void test_url(void) {
  credis_url u;
  char err[200];
  CHECK(credis_parse_url("redis://127.0.0.1:6380", &u, err, sizeof err) == 0);
  CHECK_STR(u.host, "127.0.0.1");
  CHECK(u.port == 6380 && u.db == 0 && !u.password[0] && !u.user[0]);
  CHECK(credis_parse_url("redis://redis.example.com", &u, err, sizeof err) == 0);
  CHECK_STR(u.host, "redis.example.com");
  CHECK(u.port == 6379);
  CHECK(credis_parse_url("redis://:s%40cret@10.0.0.2:7000/3", &u, err, sizeof err) == 0);
  CHECK_STR(u.password, "s@cret");
  CHECK_STR(u.host, "10.0.0.2");
  CHECK(u.port == 7000 && u.db == 3 && !u.user[0]);
  CHECK(credis_parse_url("redis://parley:pw@h:1/", &u, err, sizeof err) == 0);
  CHECK_STR(u.user, "parley");
  CHECK_STR(u.password, "pw");
  CHECK(u.db == 0);
  CHECK(credis_parse_url("redis://[::1]:6379/2", &u, err, sizeof err) == 0);
  CHECK_STR(u.host, "::1");
  CHECK(u.db == 2);
  CHECK(credis_parse_url("rediss://h:1", &u, err, sizeof err) == -1);
  CHECK(strstr(err, "TLS") != NULL);
  CHECK(credis_parse_url("http://h:1", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://h:0", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://h:65536", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://h:12x", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://h:1/x", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://h:1/-1", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://nopass@h", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://:@h", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://:%4@h", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://[::1", &u, err, sizeof err) == -1);
  CHECK(credis_parse_url("redis://h o", &u, err, sizeof err) == -1);
}

static cnode_info node(const char *id, const char *region, bool draining, unsigned load) {
  cnode_info n = {0};
  snprintf(n.id, sizeof n.id, "%s", id);
  snprintf(n.region, sizeof n.region, "%s", region);
  n.draining = draining;
  n.load = load;
  return n;
}

static void test_pick(void) {
  cnode_info ns[5] = {node("a", "eu", false, 5), node("b", "eu", false, 2),
                      node("c", "us", false, 0), node("d", "eu", true, 0),
                      node("e", "eu", false, 2)};
  /* least load in the region, draining skipped; ties b/e both chosen over many rnd */
  int seen_b = 0, seen_e = 0;
  for (unsigned r = 0; r < 200; r++) {
    int i = cnode_pick(ns, 5, "eu", r * 2654435761u);
    CHECK(i == 1 || i == 4);
    seen_b += i == 1;
    seen_e += i == 4;
  }
  CHECK(seen_b > 40 && seen_e > 40);
  CHECK(cnode_pick(ns, 5, "us", 7) == 2);
  /* a policy's location, then its overflow locations in order, then anywhere */
  const char *loc[] = {"mars", "us", "eu"};
  CHECK(cnode_pick_in(ns, 5, loc, 3, 7) == 2);
  const char *none[] = {"mars", "moon"};
  CHECK(cnode_pick_in(ns, 5, none, 2, 7) == 2); /* least loaded of all */
  /* no serving node in the region: any serving node, least loaded */
  CHECK(cnode_pick(ns, 5, "ap", 7) == 2);
  ns[2].draining = true;
  CHECK(cnode_pick(ns, 5, "us", 7) == 1 || cnode_pick(ns, 5, "us", 7) == 4);
  for (int i = 0; i < 5; i++)
    ns[i].draining = true;
  CHECK(cnode_pick(ns, 5, "eu", 1) == -1);
  CHECK(cnode_pick(ns, 0, "eu", 1) == -1);
}

static void test_holder(void) {
  char n[64];
  uint64_t e = 0;
  CHECK(lease_parse_holder("node-1 42", n, sizeof n, &e) == 0);
  CHECK_STR(n, "node-1");
  CHECK(e == 42);
  CHECK(lease_parse_holder("node-1", n, sizeof n, &e) == -1);
  CHECK(lease_parse_holder("node-1 4x", n, sizeof n, &e) == -1);
  CHECK(lease_parse_holder(" 4", n, sizeof n, &e) == -1);
  CHECK(lease_parse_holder("n ", n, sizeof n, &e) == -1);
}

int main(void) {
  test_url();
  test_pick();
  test_holder();
  CHECK_DONE();
}
