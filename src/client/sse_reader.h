/* sse_reader — reads a text/event-stream as it arrives, piece by piece, into events
 * (name, data, id) per the HTML living standard's parsing rules: lines end in CR, LF or
 * CRLF; "field: value" with one optional space; data lines joined with LF; a blank line
 * dispatches; comment lines (":...") are counted. Bounded: a line or an event's data
 * longer than the limits is dropped whole, never buffered without end. */
#ifndef PARLEY_CLIENT_SSE_READER_H
#define PARLEY_CLIENT_SSE_READER_H

#include <stdbool.h>
#include <stddef.h>

#define SSE_READER_MAX_LINE (1u << 20) /* bytes of one line */
#define SSE_READER_MAX_DATA (4u << 20) /* bytes of one event's data */

typedef struct {
  const char *name; /* "message" when the event had no "event:" line */
  const char *data; /* NUL-ended, without the last LF */
  size_t data_len;
  const char *id; /* the stream's last event id ("" if none yet) */
} sse_event;

typedef void (*sse_event_cb)(const sse_event *ev, void *ud);

typedef struct {
  char *line;
  size_t line_len, line_cap;
  bool line_too_long, last_was_cr;
  char *data;
  size_t data_len, data_cap;
  bool has_data, data_too_long;
  char name[64];
  bool name_too_long;
  char id[128];
  unsigned long comments; /* comment lines seen (keep-alives) */
  unsigned long dropped;  /* events dropped for being over a limit */
  sse_event_cb cb;
  void *ud;
} sse_reader;

void sse_reader_init(sse_reader *r, sse_event_cb cb, void *ud);
/* Feeds bytes; cb runs for each event they complete. cb may not free the reader. */
void sse_reader_feed(sse_reader *r, const char *bytes, size_t len);
/* Forgets a partial event (a new connection starts afresh); the last id stays. */
void sse_reader_reset(sse_reader *r);
void sse_reader_free(sse_reader *r);

#endif
