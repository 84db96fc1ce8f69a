/* sse — Server-Sent Event streams over libh2o: a bounded send queue per stream,
 * keep-alive comments on one shared timer, and abrupt close of a stream that lags. */
#ifndef PARLEY_SSE_H
#define PARLEY_SSE_H

#include "core/shared.h"

#include <h2o.h>
#include <stdbool.h>
#include <uv.h>

typedef struct sse_stream sse_stream;

/* Called once when the stream ends for any reason (client gone, overflow,
 * finished); the stream must not be used after it. */
typedef void (*sse_closed_cb)(void *ud);

/* total_bytes bounds what all streams together hold unsent (each shared run counted
 * once); 0 for no bound. Past it, every reader whose write has been stuck for a
 * second is cut. */
void sse_init(uv_loop_t *loop, unsigned keepalive_s, size_t total_bytes);
/* Starts the response (200, text/event-stream) on req. */
sse_stream *sse_start(h2o_req_t *req, size_t queue_limit, sse_closed_cb on_closed,
                      void *ud);
/* Queues bytes. Returns -1, and closes the stream, when a reader cannot keep up:
 * more than queue_limit unsent behind a write stuck for a second, or eight times
 * queue_limit at any moment. Such a reader is cut off, not buffered. */
int sse_write(sse_stream *s, const char *bytes, size_t len);
/* Queues a reference to b (no copy), bounded as sse_write. */
int sse_write_shared(sse_stream *s, shared_bytes *b);
/* Queues a reference to b regardless of the stream's bound: for the snapshot every
 * stream starts with, which is as large as the room and must arrive whole. */
void sse_write_shared_unbounded(sse_stream *s, shared_bytes *b);
/* Ends the stream once what is queued has been sent. */
void sse_finish(sse_stream *s);
size_t sse_count(void);
uint64_t sse_overflows(void);
/* Bytes all streams hold unsent, each shared run counted once. */
size_t sse_queued_bytes(void);

/* Follows the "id: N" lines of an event stream read piece by piece (a relay must know the
 * last id it passed on, so that an event it adds carries the next). Lines longer than the
 * buffer are skipped whole; ids are read as unsigned decimal, anything else ignored. */
typedef struct {
  char line[24];
  size_t len;
  bool too_long;
  unsigned long long last_id;
} sse_id_scan;
void sse_id_scan_feed(sse_id_scan *s, const char *data, size_t len);

#endif
