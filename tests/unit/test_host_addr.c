/* test_host_addr — which addresses media announces: --media-ip lists parse or fail
 * clearly, and a host's interfaces yield their reachable addresses, IPv4 first. */
#include "check.h"
#include "core/host_addr.h"

#include <arpa/inet.h>

static uv_interface_address_t v4(const char *a, int internal) {
  uv_interface_address_t ifa = {.is_internal = internal};
  ifa.address.address4.sin_family = AF_INET;
  inet_pton(AF_INET, a, &ifa.address.address4.sin_addr);
  return ifa;
}

static uv_interface_address_t v6(const char *a, int internal) {
  uv_interface_address_t ifa = {.is_internal = internal};
  ifa.address.address6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, a, &ifa.address.address6.sin6_addr);
  return ifa;
}

static void test_pick(void) {
  uv_interface_address_t ifs[] = {
      v4("127.0.0.1", 1), v6("::1", 1),
      v6("fe80::1", 0),   v6("2001:db8::5", 0),
      v4("10.1.2.3", 0),  v4("169.254.9.9", 0),
      v4("192.0.2.4", 0), v4("10.1.2.3", 0), /* a second interface, same one */
      v6("fd00:1::2", 0), v6("::ffff:10.9.9.9", 0),
  };
  host_addr_list l = {0};
  host_addr_pick(ifs, (int)(sizeof ifs / sizeof ifs[0]), true, &l);
  CHECK(l.n == 4);
  CHECK_STR(l.addr[0], "10.1.2.3");
  CHECK_STR(l.addr[1], "192.0.2.4");
  CHECK_STR(l.addr[2], "2001:db8::5");
  CHECK_STR(l.addr[3], "fd00:1::2");
  host_addr_list only4 = {0};
  host_addr_pick(ifs, (int)(sizeof ifs / sizeof ifs[0]), false, &only4);
  CHECK(only4.n == 2);
  char joined[200];
  host_addr_join(&l, joined, sizeof joined);
  CHECK_STR(joined, "10.1.2.3, 192.0.2.4, 2001:db8::5, fd00:1::2");
}

static void test_parse_list(void) {
  host_addr_list l;
  char err[200];
  CHECK(host_addr_parse_list("203.0.113.9", &l, err, sizeof err) == 0 && l.n == 1);
  CHECK(host_addr_parse_list("203.0.113.9, [2001:db8::9],203.0.113.9", &l, err,
                             sizeof err) == 0 &&
        l.n == 2);
  CHECK_STR(l.addr[1], "2001:db8::9");
  CHECK(host_addr_parse_list("media.example.com", &l, err, sizeof err) == -1);
  CHECK(strstr(err, "not an IP address") != NULL);
  CHECK(host_addr_parse_list("0.0.0.0", &l, err, sizeof err) == -1);
  CHECK(host_addr_parse_list("1.2.3.4,,5.6.7.8", &l, err, sizeof err) == -1);
  CHECK(host_addr_parse_list("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,"
                             "1.1.1.8,1.1.1.9",
                             &l, err, sizeof err) == -1);
  CHECK(strstr(err, "more than 8") != NULL);
}

static void test_names(void) {
  char bare[HOST_ADDR_LEN];
  host_addr_unbracket("[::]", bare);
  CHECK_STR(bare, "::");
  host_addr_unbracket("10.0.0.1", bare);
  CHECK_STR(bare, "10.0.0.1");
  CHECK(host_addr_is_wildcard("0.0.0.0") && host_addr_is_wildcard("[::]") &&
        host_addr_is_wildcard("::") && !host_addr_is_wildcard("127.0.0.1"));
  CHECK(host_addr_is_ipv6("::") && !host_addr_is_ipv6("10.0.0.1"));
}

int main(void) {
  test_pick();
  test_parse_list();
  test_names();
  CHECK_DONE();
}
