/* test_log — log_escape, and log lines that stay one line whatever their arguments hold
 * (control characters from clients are written as \xNN, backslashes doubled). */
#include "check.h"
#include "core/log.h"

#include <stdlib.h>
#include <unistd.h>

static void escape(void) {
  char out[64];
  CHECK(log_escape("plain text", 10, out, sizeof out) == 10);
  CHECK_STR(out, "plain text");
  CHECK(log_escape("a\nb", 3, out, sizeof out) == 6);
  CHECK_STR(out, "a\\x0ab");
  log_escape("\r\t\x1b[31m\x7f\x01", 9, out, sizeof out);
  CHECK_STR(out, "\\x0d\\x09\\x1b[31m\\x7f\\x01");
  log_escape("a\\x0ab", 6, out, sizeof out); /* a literal "\x0a" stays distinguishable */
  CHECK_STR(out, "a\\\\x0ab");
  log_escape("caf\xc3\xa9", 5, out, sizeof out); /* UTF-8 passes as is */
  CHECK_STR(out, "caf\xc3\xa9");
  /* an escape that does not fit is left out whole */
  CHECK(log_escape("ab\n", 3, out, 6) == 2);
  CHECK_STR(out, "ab");
  CHECK(log_escape("ab\n", 3, out, 7) == 6);
  CHECK(log_escape("abc", 3, out, 1) == 0);
  CHECK_STR(out, "");
  CHECK(log_escape("abc", 3, out, 0) == 0);
}

/* Reads back what log_msg wrote to stderr (redirected to a temporary file). */
static void one_line_per_record(void) {
  char path[] = "/tmp/parley-log-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  log_msg(LOG_INFO, "conf", "join name=\"%s\" role=%s",
          "Eve\n2026-01-01T00:00:00.000Z error x: forged", "guest");
  char big[5000];
  memset(big, '\n', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  log_msg(LOG_WARN, "conf", "long %s", big);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char text[8192];
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  close(fd);
  unlink(path);
  CHECK(n > 0);
  text[n > 0 ? n : 0] = '\0';
  int lines = 0;
  for (char *p = text; *p; p++)
    lines += *p == '\n';
  CHECK(lines == 2);
  CHECK(strstr(text, "join name=\"Eve\\x0a2026-01-01T00:00:00.000Z error x: forged\" "
                     "role=guest\n") != NULL);
  CHECK(strstr(text, "\nforged") == NULL);
  char *second = strchr(text, '\n');
  CHECK(second && strlen(second + 1) <= 2048);
}

int main(void) {
  escape();
  one_line_per_record();
  CHECK_DONE();
}
