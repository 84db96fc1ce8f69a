/* test_log_journal — when stderr is the journal (JOURNAL_STREAM names its device and
 * inode), every log line starts with its sd-daemon <N> priority so journalctl -p can
 * filter; a JOURNAL_STREAM naming another file leaves lines as they were. */
#include "check.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void read_back(int fd, char *out, size_t cap) {
  lseek(fd, 0, SEEK_SET);
  ssize_t n = read(fd, out, cap - 1);
  out[n < 0 ? 0 : n] = '\0';
}

int main(void) {
  char path[] = "/tmp/parley-journal-XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  struct stat sb;
  CHECK(fstat(fd, &sb) == 0);
  char mine[64], other[64];
  snprintf(mine, sizeof mine, "%llu:%llu", (unsigned long long)sb.st_dev,
           (unsigned long long)sb.st_ino);
  snprintf(other, sizeof other, "%llu:%llu", (unsigned long long)sb.st_dev,
           (unsigned long long)sb.st_ino + 1);
  CHECK(log_is_journal_stream(mine, fd) == 1);
  CHECK(log_is_journal_stream(other, fd) == 0);
  CHECK(log_is_journal_stream(NULL, fd) == 0);
  CHECK(log_is_journal_stream("", fd) == 0);
  CHECK(log_is_journal_stream("12", fd) == 0);
  char trailing[80];
  snprintf(trailing, sizeof trailing, "%sx", mine);
  CHECK(log_is_journal_stream(trailing, fd) == 0);

  /* stderr is the file from here on; the first log line decides. */
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  setenv("JOURNAL_STREAM", mine, 1);
  log_set_level(LOG_DEBUG);
  log_msg(LOG_DEBUG, "t", "d %d", 1);
  log_msg(LOG_INFO, "t", "i");
  log_msg(LOG_WARN, "t", "w");
  log_msg(LOG_ERROR, "t", "e\nforged");
  log_always("t", "a");
  dup2(saved, STDERR_FILENO);
  char text[1024];
  read_back(fd, text, sizeof text);
  CHECK_STR(text, "<7>debug t: d 1\n"
                  "<6>info t: i\n"
                  "<4>warn t: w\n"
                  "<3>error t: e\\x0aforged\n"
                  "<6>info t: a\n");
  close(fd);
  CHECK_DONE();
}
