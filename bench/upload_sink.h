/* upload_sink — the far end of recording uploads and webhooks for load clients: an
 * HTTP/1.1 server on 127.0.0.1 that takes PUTs (counted; some kept on disk) and POSTs. */
#ifndef PARLEY_BENCH_UPLOAD_SINK_H
#define PARLEY_BENCH_UPLOAD_SINK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct upload_sink upload_sink;

typedef struct {
  /* A PUT's whole body arrived (bytes long); kept_as is its file, or NULL. */
  void (*on_put)(void *ud, const char *path, size_t bytes, const char *kept_as);
  /* A POST's body (a webhook), NUL-terminated. */
  void (*on_post)(void *ud, const char *path, const char *body);
} upload_sink_callbacks;

/* Listens on 127.0.0.1:0. PUT bodies whose path ends in one of keep's names are written
 * under keep_dir; the others are only counted. NULL on failure. */
upload_sink *upload_sink_open(const char *keep_dir, upload_sink_callbacks cb, void *ud);
int upload_sink_port(const upload_sink *s);
/* A descriptor that becomes readable when the sink has work: add it to your poll set. */
int upload_sink_fd(const upload_sink *s);
/* Does whatever is ready without blocking. */
void upload_sink_run(upload_sink *s);
/* Keeps the body of PUTs to paths ending in name (up to 16 names). */
void upload_sink_keep(upload_sink *s, const char *name);
void upload_sink_close(upload_sink *s);

#endif
