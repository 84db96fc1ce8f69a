/* test_config — defaults, the config file and flags agree, flags override the
 * file, and bad values are refused with a message naming the option. */
#include "check.h"
#include "core/config.h"

#include <stdlib.h>
#include <unistd.h>

/* Parses argv into fresh defaults; returns what config_parse_args did. */
static int parse(config *cfg, int argc, char **argv, char *err, size_t errlen) {
  config_defaults(cfg);
  return config_parse_args(cfg, argc, argv, err, errlen);
}

/* TURN and STUN: lists from flags and the file, scheme checks, the secret's sources. */
static void check_turn_options(void) {
  config cfg;
  char err[256];
  CHECK(parse(&cfg, 1, (char *[]){"parleyd"}, err, sizeof err) == 0);
  CHECK(cfg.turn_ttl_s == 86400 && !cfg.turn_urls[0] && !cfg.stun_urls[0]);

  char *two[] = {
      "parleyd",
      "--turn-url",
      "turn:t.example.com:3478?transport=udp , turns:t.example.com:443?transport=tcp",
      "--turn-url=turn:[2001:db8::1]",
      "--turn-secret",
      "s3cret",
      "--stun-url",
      "stun:t.example.com:3478",
      "--turn-ttl",
      "3600"};
  CHECK(parse(&cfg, 10, two, err, sizeof err) == 0);
  CHECK_STR(cfg.turn_urls, "turn:t.example.com:3478?transport=udp,"
                           "turns:t.example.com:443?transport=tcp,turn:[2001:db8::1]");
  CHECK_STR(cfg.turn_secret, "s3cret");
  CHECK_STR(cfg.stun_urls, "stun:t.example.com:3478");
  CHECK(cfg.turn_ttl_s == 3600);

  const char *bad_urls[] = {"http://t.example.com",
                            "turn://t.example.com",
                            "turn:",
                            "turn:t.example.com:0",
                            "turn:t.example.com:x",
                            "turn:t.example.com?transport=sctp",
                            "stun:t.example.com",
                            "turn:a b",
                            "turn:[2001:db8::1",
                            "turn:t.example.com:3478/x",
                            "turn:ok.example.com,,",
                            ","};
  for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
    char *argv[] = {"parleyd", "--turn-url", (char *)bad_urls[i], "--turn-secret", "s"};
    err[0] = '\0';
    int rc = parse(&cfg, 5, argv, err, sizeof err);
    if (i == 10) { /* empty items between commas are skipped */
      CHECK(rc == 0);
      continue;
    }
    CHECK(rc == -1);
    CHECK(strstr(err, "--turn-url") != NULL);
  }
  char *cleared[] = {
      "parleyd", "--turn-url", "turn:a.example.com", "--turn-url", "", "--stun-url", ""};
  CHECK(parse(&cfg, 7, cleared, err, sizeof err) == 0);
  CHECK(!cfg.turn_urls[0] && !cfg.stun_urls[0]);
  char *bad_stun[] = {"parleyd", "--stun-url", "turn:t.example.com"};
  CHECK(parse(&cfg, 3, bad_stun, err, sizeof err) == -1);
  CHECK(strstr(err, "stun: or stuns:") != NULL);
  char *stun_transport[] = {"parleyd", "--stun-url", "stun:t.example.com?transport=udp"};
  CHECK(parse(&cfg, 3, stun_transport, err, sizeof err) == -1);

  /* URLs without a secret, a secret without URLs, a ttl out of range */
  char *no_secret[] = {"parleyd", "--turn-url", "turn:t.example.com"};
  CHECK(parse(&cfg, 3, no_secret, err, sizeof err) == -1);
  CHECK(strstr(err, "--turn-secret") != NULL);
  char *no_url[] = {"parleyd", "--turn-secret", "s"};
  CHECK(parse(&cfg, 3, no_url, err, sizeof err) == -1);
  char *short_ttl[] = {"parleyd", "--turn-ttl", "10"};
  CHECK(parse(&cfg, 3, short_ttl, err, sizeof err) == -1);

  /* The file's list, replaced by flags; the secret from a file, not both sources. */
  char conf[] = "/tmp/parley-turn-conf-XXXXXX",
       secret[] = "/tmp/parley-turn-secret-XXXXXX";
  int cfd = mkstemp(conf), sfd = mkstemp(secret);
  const char ctext[] = "turn-url = turn:a.example.com\nturn-url = turn:b.example.com\n"
                       "turn-secret-file = ";
  CHECK(write(cfd, ctext, sizeof ctext - 1) == (ssize_t)(sizeof ctext - 1));
  CHECK(write(cfd, secret, strlen(secret)) == (ssize_t)strlen(secret));
  CHECK(write(cfd, "\n", 1) == 1);
  close(cfd);
  CHECK(write(sfd, "from-file \nsecond line\n", 24) == 24);
  close(sfd);
  char *from_file[] = {"parleyd", "--config", conf};
  CHECK(parse(&cfg, 3, from_file, err, sizeof err) == 0);
  CHECK_STR(cfg.turn_urls, "turn:a.example.com,turn:b.example.com");
  CHECK_STR(cfg.turn_secret, "from-file");
  char *override[] = {"parleyd", "--config", conf, "--turn-url", "turn:c.example.com"};
  CHECK(parse(&cfg, 5, override, err, sizeof err) == 0);
  CHECK_STR(cfg.turn_urls, "turn:c.example.com");
  char *both[] = {"parleyd", "--config", conf, "--turn-secret", "s"};
  CHECK(parse(&cfg, 5, both, err, sizeof err) == -1);
  CHECK(strstr(err, "not both") != NULL);
  unlink(secret);
  CHECK(parse(&cfg, 3, from_file, err, sizeof err) == -1);
  CHECK(strstr(err, "--turn-secret-file: cannot open") != NULL);
  unlink(conf);
}

int main(void) {
  config cfg;
  char err[256];
  config_defaults(&cfg);
  CHECK(cfg.token_lifetime_s == 120 && cfg.keepalive_s == 15 && cfg.http_port == 8080);

  char path[] = "/tmp/parley-config-XXXXXX";
  int fd = mkstemp(path);
  const char text[] = "# comment\nhttp = 0.0.0.0:9000\ntoken-lifetime = 30\n\n"
                      "data-dir = /tmp/x\n";
  CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
  close(fd);
  char *argv[] = {"parleyd", "--config", path, "--token-lifetime=45", "--keepalive", "5"};
  CHECK(config_parse_args(&cfg, 6, argv, err, sizeof err) == 0);
  CHECK_STR(cfg.http_host, "0.0.0.0");
  CHECK(cfg.http_port == 9000);
  CHECK(cfg.token_lifetime_s == 45);
  CHECK(cfg.keepalive_s == 5);
  CHECK_STR(cfg.data_dir, "/tmp/x");

  char *bad1[] = {"parleyd", "--token-lifetime", "1"};
  CHECK(config_parse_args(&cfg, 3, bad1, err, sizeof err) == -1);
  CHECK(strstr(err, "token-lifetime") != NULL);
  char *bad2[] = {"parleyd", "--nope", "1"};
  CHECK(config_parse_args(&cfg, 3, bad2, err, sizeof err) == -1);
  char *bad3[] = {"parleyd", "--http", "localhost"};
  CHECK(config_parse_args(&cfg, 3, bad3, err, sizeof err) == -1);
  char *bad4[] = {"parleyd", "--log-level", "loud"};
  CHECK(config_parse_args(&cfg, 3, bad4, err, sizeof err) == -1);

  /* outbox settings: lists may be empty, retry periods are bounded */
  CHECK(cfg.upload_retry_s == 86400 && cfg.webhook_retry_s == 86400);
  CHECK_STR(cfg.upload_allow, "");
  char *outbox_args[] = {"parleyd",
                         "--upload-allow",
                         "s3.example.com,*.store.example",
                         "--webhook-allow=hooks.example.com",
                         "--upload-retry-s",
                         "600",
                         "--webhook-retry-s",
                         "30"};
  CHECK(config_parse_args(&cfg, 8, outbox_args, err, sizeof err) == 0);
  CHECK_STR(cfg.upload_allow, "s3.example.com,*.store.example");
  CHECK_STR(cfg.webhook_allow, "hooks.example.com");
  CHECK(cfg.upload_retry_s == 600 && cfg.webhook_retry_s == 30);
  char *bad5[] = {"parleyd", "--upload-retry-s", "0"};
  CHECK(config_parse_args(&cfg, 3, bad5, err, sizeof err) == -1);
  CHECK(strstr(err, "upload-retry-s") != NULL);

  FILE *f = fopen(path, "w");
  fputs("unknown-key = 1\n", f);
  fclose(f);
  CHECK(config_load_file(&cfg, path, err, sizeof err) == -1);
  CHECK(strstr(err, ":1:") != NULL);
  unlink(path);
  check_turn_options();
  CHECK_DONE();
}
