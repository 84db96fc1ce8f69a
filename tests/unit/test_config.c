/* test_config — defaults, the config file and flags agree, flags override the
 * file, and bad values are refused with a message naming the option. */
#include "check.h"
#include "core/config.h"

#include <stdlib.h>
#include <unistd.h>

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
  CHECK_DONE();
}
