/* sse_reader — incremental text/event-stream parser for the client side. */
#include "client/sse_reader.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sse_reader_init(sse_reader *r, sse_event_cb cb, void *ud) {
  memset(r, 0, sizeof *r);
  r->cb = cb;
  r->ud = ud;
}

void sse_reader_reset(sse_reader *r) {
  r->line_len = 0;
  r->line_too_long = r->last_was_cr = false;
  r->data_len = 0;
  r->has_data = r->data_too_long = r->name_too_long = false;
  r->name[0] = '\0';
}

void sse_reader_free(sse_reader *r) {
  free(r->line);
  free(r->data);
  r->line = r->data = NULL;
  r->line_cap = r->data_cap = 0;
}

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < *len + n + 1)
      c *= 2;
    *buf = xrealloc(*buf, c);
    *cap = c;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  (*buf)[*len] = '\0';
}

static void dispatch(sse_reader *r) {
  if (r->has_data && !r->data_too_long && !r->name_too_long) {
    if (!r->data) /* data: with an empty value */
      append(&r->data, &r->data_len, &r->data_cap, "", 0);
    size_t len = r->data_len;
    if (len && r->data[len - 1] == '\n')
      r->data[--len] = '\0';
    sse_event ev = {.name = r->name[0] ? r->name : "message",
                    .data = r->data,
                    .data_len = len,
                    .id = r->id};
    r->cb(&ev, r->ud);
  } else if (r->has_data) {
    r->dropped++;
  }
  r->data_len = 0;
  r->has_data = r->data_too_long = r->name_too_long = false;
  r->name[0] = '\0';
}

static void field(sse_reader *r, const char *line, size_t len) {
  if (len == 0) {
    dispatch(r);
    return;
  }
  if (line[0] == ':') {
    r->comments++;
    return;
  }
  const char *colon = memchr(line, ':', len);
  size_t nlen = colon ? (size_t)(colon - line) : len;
  const char *val = colon ? colon + 1 : line + len;
  size_t vlen = colon ? len - nlen - 1 : 0;
  if (vlen && val[0] == ' ') {
    val++;
    vlen--;
  }
  if (nlen == 5 && memcmp(line, "event", 5) == 0) {
    if (vlen >= sizeof r->name || memchr(val, '\0', vlen)) {
      r->name_too_long = true;
    } else {
      memcpy(r->name, val, vlen);
      r->name[vlen] = '\0';
    }
  } else if (nlen == 4 && memcmp(line, "data", 4) == 0) {
    r->has_data = true;
    if (r->data_too_long || r->data_len + vlen + 1 > SSE_READER_MAX_DATA) {
      r->data_too_long = true;
      return;
    }
    append(&r->data, &r->data_len, &r->data_cap, val, vlen);
    append(&r->data, &r->data_len, &r->data_cap, "\n", 1);
  } else if (nlen == 2 && memcmp(line, "id", 2) == 0) {
    if (vlen < sizeof r->id && !memchr(val, '\0', vlen)) {
      memcpy(r->id, val, vlen);
      r->id[vlen] = '\0';
    }
  } /* retry and unknown fields are ignored */
}

static void end_line(sse_reader *r) {
  if (r->line_too_long) {
    r->line_too_long = false;
    r->line_len = 0;
    /* A lost line may have been data: the event is not whole any more. */
    r->data_too_long = true;
    r->has_data = true;
    return;
  }
  field(r, r->line ? r->line : "", r->line_len);
  r->line_len = 0;
}

void sse_reader_feed(sse_reader *r, const char *bytes, size_t len) {
  size_t i = 0;
  while (i < len) {
    char c = bytes[i];
    if (c == '\n' && r->last_was_cr) { /* the LF of a CRLF */
      r->last_was_cr = false;
      i++;
      continue;
    }
    r->last_was_cr = false;
    if (c == '\r' || c == '\n') {
      r->last_was_cr = c == '\r';
      end_line(r);
      i++;
      continue;
    }
    /* A run of ordinary bytes up to the next line end. */
    size_t j = i;
    while (j < len && bytes[j] != '\r' && bytes[j] != '\n')
      j++;
    size_t n = j - i;
    if (!r->line_too_long) {
      if (r->line_len + n > SSE_READER_MAX_LINE)
        r->line_too_long = true;
      else
        append(&r->line, &r->line_len, &r->line_cap, bytes + i, n);
    }
    i = j;
  }
}
