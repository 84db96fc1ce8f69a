/* log — leveled, structured log lines on stderr. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static log_level current_level = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level level) { current_level = level; }

int log_enabled(log_level level) { return level >= current_level; }

int log_parse_level(const char *text, log_level *out) {
  for (int i = 0; i <= LOG_ERROR; i++) {
    if (strcmp(text, level_names[i]) == 0) {
      *out = (log_level)i;
      return 0;
    }
  }
  return -1;
}

static void write_line(log_level level, const char *module, const char *fmt, va_list ap);

void log_msg(log_level level, const char *module, const char *fmt, ...) {
  if (!log_enabled(level))
    return;
  va_list ap;
  va_start(ap, fmt);
  write_line(level, module, fmt, ap);
  va_end(ap);
}

void log_always(const char *module, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  write_line(LOG_INFO, module, fmt, ap);
  va_end(ap);
}

size_t log_escape(const char *in, size_t len, char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (cap == 0)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    char esc[4];
    size_t n = 0;
    if (c < 0x20 || c == 0x7f) {
      esc[n++] = '\\';
      esc[n++] = 'x';
      esc[n++] = hex[c >> 4];
      esc[n++] = hex[c & 15];
    } else if (c == '\\') {
      esc[n++] = '\\';
      esc[n++] = '\\';
    } else {
      esc[n++] = (char)c;
    }
    if (o + n >= cap)
      break;
    memcpy(out + o, esc, n);
    o += n;
  }
  out[o] = '\0';
  return o;
}

int log_is_journal_stream(const char *journal_stream, int fd) {
  unsigned long long dev, ino;
  char extra;
  struct stat sb;
  if (!journal_stream || sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &extra) != 2)
    return 0;
  return fstat(fd, &sb) == 0 && (unsigned long long)sb.st_dev == dev &&
         (unsigned long long)sb.st_ino == ino;
}

/* sd-daemon(3) priorities: debug 7, info 6, warning 4, err 3. */
static const char journal_prefix[][4] = {"<7>", "<6>", "<4>", "<3>"};
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int to_journal;

static void detect_journal(void) {
  to_journal = log_is_journal_stream(getenv("JOURNAL_STREAM"), STDERR_FILENO);
}

/* The journal stamps each line itself: there a line is "<N>level module: message". */
static int line_start(log_level level, char *line, size_t cap) {
  pthread_once(&journal_once, detect_journal);
  if (to_journal)
    return snprintf(line, cap, "%s%s ", journal_prefix[level], level_names[level]);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  int n = (int)strftime(line, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  return n + snprintf(line + n, cap - (size_t)n, ".%03dZ %s ", (int)(tv.tv_usec / 1000),
                      level_names[level]);
}

static void write_line(log_level level, const char *module, const char *fmt, va_list ap) {
  char line[2048];
  int n = line_start(level, line, sizeof line);
  n += snprintf(line + n, sizeof line - (size_t)n, "%s: ", module);
  /* Formatted first, then escaped into the line: the format strings are ours, their
   * arguments may be anything a client sent. */
  char msg[2048];
  int m = vsnprintf(msg, sizeof msg, fmt, ap);
  size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
  size_t len = (size_t)n + log_escape(msg, mlen, line + n, sizeof line - 1 - (size_t)n);
  line[len++] = '\n';
  /* One write per line so lines from a crash or a signal are not interleaved. */
  fwrite(line, 1, len, stderr);
  fflush(stderr);
}
