/* log — leveled, structured log lines on stderr.
 * One line per record: "<ISO time> <level> <module>: <message>", key=value pairs in the
 * message. The message is escaped as a whole (log_escape): strings from clients (display
 * names, client ids, reasons) cannot break a line or forge another.
 * When stderr is the systemd journal (JOURNAL_STREAM names its device and inode), a line
 * is "<N><level> <module>: <message>" instead: the sd-daemon priority prefix, which
 * journald stores as the line's priority (journalctl -p), and no time of our own. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level level);
/* Copies in[0..len) to out (cap bytes, NUL-terminated) with every control character
 * (0x00-0x1f, 0x7f) written as \xNN and '\' as \\, so that one record is one line and
 * an escape in the text cannot pass for one of ours. Stops before an escape that would
 * not fit. Returns the length written. */
size_t log_escape(const char *in, size_t len, char *out, size_t cap);
int log_enabled(log_level level);
/* 1 if journal_stream (the JOURNAL_STREAM variable, "DEV:INODE") names the file open on
 * fd, i.e. fd is a stream to journald; 0 otherwise (also for NULL). */
int log_is_journal_stream(const char *journal_stream, int fd);
/* Parses "debug", "info", "warn" or "error"; returns 0 on success. */
int log_parse_level(const char *text, log_level *out);
void log_msg(log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...)                                                              \
  do {                                                                                   \
    if (log_enabled(LOG_DEBUG))                                                          \
      log_msg(LOG_DEBUG, mod, __VA_ARGS__);                                              \
  } while (0)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
/* An info line shown at every level: for the few lines operators always need. */
void log_always(const char *module, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)

#endif
