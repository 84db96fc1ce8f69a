/* retry_after — reads a Retry-After response header (RFC 9110 §10.2.3): delta-seconds or
 * an HTTP-date, turned into seconds from now. Pure functions over network bytes; fuzzed.
 */
#ifndef PARLEY_RETRY_AFTER_H
#define PARLEY_RETRY_AFTER_H

#include <stddef.h>
#include <time.h>

/* Longest wait we believe: anything later is treated as this (one day). */
#define RETRY_AFTER_MAX_S 86400

/* Parses a header value; returns seconds from now (0 for a date in the past), capped at
 * RETRY_AFTER_MAX_S, or -1 if the value is neither form. */
int retry_after_value(const char *value, size_t len, time_t now);
/* Given one raw header line ("Name: value\r\n"), returns 1 and sets *seconds (-1 if the
 * value is unreadable) when it is Retry-After, else 0. */
int retry_after_header(const char *line, size_t len, time_t now, int *seconds);

#endif
