/* test_cluster — the pure parts of src/cluster: the Redis URL parser and room
 * placement's choice among the live nodes. */
#include "check.h"
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

int main(void) {
  test_url();
  CHECK_DONE();
}
