/* log — leveled, structured log lines on stderr. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

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

static void write_line(log_level level, const char *module, const char *fmt, va_list ap) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char line[2048];
  int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  n += snprintf(line + n, sizeof line - (size_t)n,
                ".%03dZ %s %s: ", (int)(tv.tv_usec / 1000), level_names[level], module);
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  /* One write per line so lines from a crash or a signal are not interleaved. */
  fwrite(line, 1, len, stderr);
  fflush(stderr);
}
