/* test_sse_reader — the client's event-stream parser: named events with ids, multi-line
 * data, CR / LF / CRLF line ends split anywhere, comments counted, unnamed events called
 * "message", oversized data dropped whole without breaking the events after it. */
#include "check.h"
#include "client/sse_reader.h"

#include <stdlib.h>

typedef struct {
  char names[8][64], data[8][256], ids[8][64];
  int n;
} seen;

static void on_event(const sse_event *ev, void *ud) {
  seen *s = ud;
  if (s->n >= 8)
    return;
  snprintf(s->names[s->n], 64, "%s", ev->name);
  snprintf(s->data[s->n], 256, "%s", ev->data);
  snprintf(s->ids[s->n], 64, "%s", ev->id);
  s->n++;
}

int main(void) {
  const char *stream =
      "event: participant_create\ndata: {\"uuid\":\"a\"}\nid: 7\n\n"
      ":keep-alive\n\n"
      "event: message_received\r\ndata: line1\r\ndata:line2\r\nid: 8\r\n\r\n"
      "data: no name\rid: 9\r\r";
  /* Fed in every possible two-piece split, the result is the same. */
  for (size_t cut = 0; cut <= strlen(stream); cut++) {
    seen s = {0};
    sse_reader r;
    sse_reader_init(&r, on_event, &s);
    sse_reader_feed(&r, stream, cut);
    sse_reader_feed(&r, stream + cut, strlen(stream) - cut);
    CHECK(s.n == 3);
    CHECK_STR(s.names[0], "participant_create");
    CHECK_STR(s.data[0], "{\"uuid\":\"a\"}");
    CHECK_STR(s.ids[0], "7");
    CHECK_STR(s.names[1], "message_received");
    CHECK_STR(s.data[1], "line1\nline2");
    CHECK_STR(s.ids[1], "8");
    CHECK_STR(s.names[2], "message");
    CHECK_STR(s.data[2], "no name");
    CHECK(r.comments == 1);
    sse_reader_free(&r);
    if (check_failures)
      break;
  }

  /* An event whose data is over the bound is dropped; the next one arrives. */
  seen s = {0};
  sse_reader r;
  sse_reader_init(&r, on_event, &s);
  char *big = calloc(1, SSE_READER_MAX_LINE + 2);
  memset(big, 'x', SSE_READER_MAX_LINE + 1);
  sse_reader_feed(&r, "event: big\ndata: ", 17);
  sse_reader_feed(&r, big, SSE_READER_MAX_LINE + 1);
  sse_reader_feed(&r, "\n\nevent: small\ndata: ok\n\n", 25);
  CHECK(s.n == 1);
  CHECK_STR(s.names[0], "small");
  CHECK(r.dropped == 1);
  free(big);
  /* Events without data are not dispatched; reset forgets a partial event. */
  sse_reader_feed(&r, "event: nodata\n\nevent: half\ndata: x", 34);
  sse_reader_reset(&r);
  sse_reader_feed(&r, "\n\n", 2);
  CHECK(s.n == 1);
  sse_reader_free(&r);
  CHECK_DONE();
}
