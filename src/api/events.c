/* events — GET events: binds a participant's event sink in the core to an SSE
 * stream, encoding each event once as an SSE frame shared by all its streams (§C). */
#include "api/api.h"

#include "core/buf.h"
#include "core/mem.h"
#include "http/sse.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  event_sink sink; /* first: the core hands this pointer back */
  sse_stream *sse;
  bool snapshot; /* the roster snapshot is being written: no bound applies */
} client_stream;

static void frame(buf *b, const conf_event *ev) {
  buf_appendf(b, "event: %s\ndata: %s\nid: %llu\n\n", ev->name, ev->data,
              (unsigned long long)ev->id);
}

/* One SSE frame, or a batch's frames back to back, built once per event. */
static void encode(conf_event *ev) {
  buf b = {0};
  if (ev->n_parts == 0)
    frame(&b, ev);
  for (size_t i = 0; i < ev->n_parts; i++)
    frame(&b, ev->parts[i]);
  ev->wire = shared_bytes_new(b.data, b.len);
  buf_free(&b);
}

static void deliver(event_sink *sink, conf_event *ev) {
  client_stream *cs = (client_stream *)sink;
  if (!ev->wire)
    encode(ev);
  if (cs->snapshot) {
    sse_write_shared_unbounded(cs->sse, ev->wire);
    return;
  }
  /* On overflow the stream closes itself and on_closed frees cs. */
  sse_write_shared(cs->sse, ev->wire);
}

static void finish(event_sink *sink) { sse_finish(((client_stream *)sink)->sse); }

static void on_closed(void *ud) {
  client_stream *cs = ud;
  conf_unsubscribe(&cs->sink);
  free(cs);
}

void client_v2_events(api_call *c) {
  client_stream *cs = xcalloc(1, sizeof *cs);
  cs->sink.deliver = deliver;
  cs->sink.finish = finish;
  /* The snapshot grows with the room; the bound is for live events that pile up. */
  refusal st = conf_subscribe(c->self, &cs->sink);
  if (st.status) {
    free(cs);
    return reply_failed(c, st.status, st.message);
  }
  cs->sse = sse_start(c->req, (size_t)c->api->cfg->sse_queue_bytes, on_closed, cs);
  cs->snapshot = true;
  conf_send_snapshot(&cs->sink);
  cs->snapshot = false;
}
