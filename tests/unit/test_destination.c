/* test_destination — "never parleyd's own listener": hosts compared as addresses, so that
 * IPv4-mapped IPv6, other spellings of loopback and names under .localhost are refused,
 * while other hosts and ports stay allowed; and "no private address by default", for
 * address literals in URLs and for the addresses curl is about to connect to. */
#include "check.h"
#include "delivery/destination.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static char why[200];

static const char *name(const char *self) { return self ? self : "(none)"; }

static int check(const char *url, const char *self) {
  why[0] = '\0';
  destination_rules rules = {.allow_private = true, .self_host_port = self};
  int rc = destination_check(url, &rules, why, sizeof why);
  CHECK(rc == 0 || why[0] != '\0');
  return rc;
}

#define REFUSED(url, self)                                                               \
  do {                                                                                   \
    if (check(url, self) != -1 || !strstr(why, "this server")) {                         \
      fprintf(stderr, "  %s with listener %s: not refused as this server (%s)\n", url,   \
              self, why);                                                                \
      check_failures++;                                                                  \
    }                                                                                    \
  } while (0)
#define ALLOWED(url, self)                                                               \
  do {                                                                                   \
    if (check(url, self) != 0) {                                                         \
      fprintf(stderr, "  %s with listener %s: refused (%s)\n", url, name(self), why);    \
      check_failures++;                                                                  \
    }                                                                                    \
  } while (0)

static int check_private(const char *url, const char *const *allow, bool allow_private) {
  why[0] = '\0';
  destination_rules rules = {.allow = allow, .allow_private = allow_private};
  int rc = destination_check(url, &rules, why, sizeof why);
  CHECK(rc == 0 || why[0] != '\0');
  return rc;
}

static int check_sockaddr(const char *addr, int port, bool allow_private) {
  struct sockaddr_storage ss = {0};
  struct sockaddr_in *in = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
  } else {
    CHECK(inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
  }
  static const char *const allow[] = {"hooks.example.com", "10.9.8.7", "[fd00::7]", NULL};
  destination_rules rules = {
      .allow = allow, .allow_private = allow_private, .self_host_port = "0.0.0.0:8080"};
  why[0] = '\0';
  int rc = destination_check_addr((struct sockaddr *)&ss, &rules, why, sizeof why);
  CHECK(rc == 0 || why[0] != '\0');
  return rc;
}

/* Loopback, unspecified, private, CGNAT, link-local and unique-local addresses, in every
 * form, refused by default: in a URL, and as the address a name resolved to. */
static void test_private_refused(void) {
  static const char *const refused[] = {
      "127.0.0.1",
      "127.9.9.9",
      "0.0.0.0",
      "0.1.2.3",
      "10.0.0.1",
      "10.255.255.255",
      "172.16.0.1",
      "172.31.255.254",
      "192.168.1.1",
      "100.64.0.1",
      "100.127.255.254",
      "169.254.169.254",
      "::1",
      "::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "febf::1",
      "::ffff:127.0.0.1",
      "::ffff:10.1.2.3",
      "::ffff:169.254.169.254",
      "::ffff:192.168.0.1",
      "::ffff:100.64.0.1",
      "::ffff:0.0.0.0",
      "::10.1.2.3",
  };
  static const char *const public[] = {
      "8.8.8.8",        "172.15.255.255",  "172.32.0.1",  "192.169.0.1",
      "100.63.255.255", "100.128.0.1",     "169.253.0.1", "11.0.0.1",
      "2001:db8::1",    "fec0::1",         "fe7f::1",     "fbff::1",
      "::ffff:8.8.8.8", "2606:4700::1111",
  };
  char url[128];
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    const char *a = refused[i];
    snprintf(url, sizeof url,
             strchr(a, ':') ? "http://[%s]:9000/up" : "http://%s:9000/up", a);
    if (check_private(url, NULL, false) != -1 || !strstr(why, "refused")) {
      fprintf(stderr, "  %s: not refused by default (%s)\n", url, why);
      check_failures++;
    }
    CHECK(check_private(url, NULL, true) == 0);
    if (check_sockaddr(a, 9000, false) != -1 || !strstr(why, a)) {
      fprintf(stderr, "  connecting to %s: not refused by default (%s)\n", a, why);
      check_failures++;
    }
    CHECK(check_sockaddr(a, 9000, true) == 0);
    CHECK(check_sockaddr(a, 8080, true) == -1 && strstr(why, "this server"));
  }
  for (size_t i = 0; i < sizeof public / sizeof public[0]; i++) {
    const char *a = public[i];
    snprintf(url, sizeof url,
             strchr(a, ':') ? "http://[%s]:9000/up" : "http://%s:9000/up", a);
    if (check_private(url, NULL, false) != 0 || check_sockaddr(a, 9000, false) != 0) {
      fprintf(stderr, "  %s: refused (%s)\n", a, why);
      check_failures++;
    }
  }
  /* a name is checked when it has been resolved, not here (no DNS on the loop) */
  CHECK(check_private("http://localhost:9000/up", NULL, false) == 0);
  CHECK(check_private("https://hooks.example.com/", NULL, false) == 0);
  /* an address written in the allow-list is let through; a name or a wildcard is not */
  static const char *const allow[] = {"10.9.8.7", "[fd00::7]", "*.example.com", NULL};
  CHECK(check_private("http://10.9.8.7/", allow, false) == 0);
  CHECK(check_private("http://[::ffff:10.9.8.7]/", allow, false) == -1); /* by name */
  CHECK(check_private("http://[fd00::7]/", allow, false) == 0);
  CHECK(check_sockaddr("10.9.8.7", 80, false) == 0);
  CHECK(check_sockaddr("::ffff:10.9.8.7", 80, false) == 0);
  CHECK(check_sockaddr("fd00::7", 80, false) == 0);
  CHECK(check_sockaddr("10.9.8.6", 80, false) == -1);
  CHECK(check_sockaddr("fd00::8", 80, false) == -1);
}

int main(void) {
  test_private_refused();
  const char *lo = "127.0.0.1:8080";
  /* loopback in every spelling curl accepts, on the listener's port */
  static const char *const loopbacks[] = {
      "http://127.0.0.1:8080/",
      "http://127.9.9.9:8080/",
      "http://[::1]:8080/",
      "http://[0:0:0:0:0:0:0:1]:8080/",
      "http://[::ffff:127.0.0.1]:8080/",
      "http://[::ffff:7f00:1]:8080/",
      "http://[::FFFF:7F00:0001]:8080/",
      "http://[0:0:0:0:0:ffff:127.0.0.1]:8080/",
      "http://[::127.0.0.1]:8080/", /* IPv4-compatible */
      "http://2130706433:8080/",
      "http://0x7f.1:8080/",
      "http://127.1:8080/",
      "http://localhost:8080/",
      "http://LOCALHOST.:8080/",
      "http://api.localhost:8080/",
      "http://0:8080/",
      "http://0.0.0.0:8080/",
      "http://[::]:8080/",
      "http://[::ffff:0.0.0.0]:8080/",
      "https://[::ffff:127.0.0.1]:8080/hook",
  };
  for (size_t i = 0; i < sizeof loopbacks / sizeof loopbacks[0]; i++) {
    REFUSED(loopbacks[i], lo);
    REFUSED(loopbacks[i], "[::1]:8080");
    REFUSED(loopbacks[i], "0.0.0.0:8080");
  }
  /* the default port of the scheme is the listener's port too */
  REFUSED("http://[::ffff:127.0.0.1]/", "127.0.0.1:80");
  REFUSED("https://[::ffff:7f00:1]/", "127.0.0.1:443");

  /* a listener on a specific address: that address in any spelling */
  REFUSED("http://10.1.2.3:8080/", "10.1.2.3:8080");
  REFUSED("http://[::ffff:10.1.2.3]:8080/", "10.1.2.3:8080");
  REFUSED("http://[::ffff:a01:203]:8080/", "10.1.2.3:8080");
  REFUSED("http://167838211:8080/", "10.1.2.3:8080");
  REFUSED("http://[2001:db8::1]:8080/", "[2001:DB8:0:0::1]:8080");
  REFUSED("http://parley.example:8080/", "PARLEY.example:8080");
  ALLOWED("http://10.1.2.4:8080/", "10.1.2.3:8080");
  ALLOWED("http://[::ffff:10.1.2.4]:8080/", "10.1.2.3:8080");
  ALLOWED("http://[2001:db8::2]:8080/", "[2001:db8::1]:8080");

  /* other ports and other hosts stay allowed */
  ALLOWED("http://127.0.0.1:8081/", lo);
  ALLOWED("http://[::ffff:127.0.0.1]:8081/", lo);
  ALLOWED("http://localhost:9000/", lo);
  ALLOWED("https://hooks.example.com/", lo);
  ALLOWED("https://hooks.example.com:8080/", lo);
  ALLOWED("http://[::ffff:8.8.8.8]:8080/", lo);
  ALLOWED("http://[2001:db8::1]:8080/", lo);
  ALLOWED("http://notlocalhost:8080/", lo);
  ALLOWED("http://localhost.example:8080/", lo);
  ALLOWED("http://[::ffff:127.0.0.1]:8080/", NULL); /* no listener given */
  CHECK_DONE();
}
