/* test_destination — "never parleyd's own listener": hosts compared as addresses, so that
 * IPv4-mapped IPv6, other spellings of loopback and names under .localhost are refused,
 * while other hosts and ports stay allowed. */
#include "check.h"
#include "delivery/destination.h"

static char why[200];

static const char *name(const char *self) { return self ? self : "(none)"; }

static int check(const char *url, const char *self) {
  why[0] = '\0';
  int rc = destination_check(url, NULL, self, why, sizeof why);
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

int main(void) {
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
