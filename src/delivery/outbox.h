/* outbox — durable delivery of finished recordings (PUT uploads) and signed webhooks:
 * every job is journaled in SQLite first, retried with backoff, and resumed on restart.
 */
#ifndef PARLEY_OUTBOX_H
#define PARLEY_OUTBOX_H

#include "core/config.h"
#include "http/client.h"
#include "store/jobs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* What crash recovery learns from an unfinished recording file (the recorder fills it).
 */
typedef struct {
  bool ok;
  char error[160];
  uint64_t size_bytes, duration_ms;
  int64_t first_frame_unix_ms, stopped_unix_ms; /* 0 = unknown */
} finalised_recording;

typedef struct {
  int upload_retry_s;  /* how long uploads are retried before upload_failed (default 24 h)
                        */
  int webhook_retry_s; /* same for webhooks (default 24 h) */
  int base_backoff_ms, max_backoff_ms; /* exponential backoff, equal jitter; Retry-After
                                          honoured (defaults 1 s and 10 min) */
  const char *const *upload_allow;  /* NULL-terminated host allow-list (NULL: any host) */
  const char *const *webhook_allow; /* entries: "host" or "*.domain" (any subdomain) */
  const char *self_host_port;       /* parleyd's own listener "127.0.0.1:8080": never a
                                       destination */
  /* Loopback, private, CGNAT, unique-local and link-local addresses may be connected to
   * (default false: refused, whether the URL names the address or a name resolves to
   * it; an address written in an allow-list is let through either way). */
  bool allow_private_destinations;
  /* Finalises a file a crash left open; runs on libuv's threadpool (it may block).
   * result_out points to a finalised_recording. Returns 0 or -1. NULL: files are taken
   * as they are (size from the file system, duration unknown). */
  int (*finalise)(const char *path, void *result_out);
  /* Optional; 0 = defaults. */
  int max_uploads;        /* uploads in flight at once (default 2) */
  int max_webhooks;       /* webhooks in flight at once (default 16) */
  int webhook_timeout_ms; /* per webhook attempt (default 15000) */
  int upload_stall_s; /* an upload moving under 1 byte/s this long fails (default 60) */
} outbox_config;

typedef struct outbox outbox;

/* Resumes every pending job from SQLite. The config is copied. */
outbox *outbox_new(uv_loop_t *loop, store *st, http_client *http,
                   const outbox_config *cfg);
/* Abandons attempts in flight (they stay pending in SQLite and resume next time); the
 * memory goes when the loop has run the close callbacks. */
void outbox_free(outbox *ob);

/* Checks a destination URL against the rules (http/https only, host allow-list, never
 * parleyd itself, no userinfo, no private address unless allowed); 0 if fine, else -1
 * with a reason. A name is checked again as the address it resolves to when sent. */
int outbox_check_url(const outbox *ob, bool webhook, const char *url, char *reason,
                     size_t n);
/* A recording's file is closed: recorded as finished, uploaded (PUT, streamed), then the
 * upload_ready or upload_failed webhook is queued. The file is deleted once uploaded. */
void outbox_recording_done(outbox *ob, const recording_row *finished);
/* Queues a signed webhook POST of body_json to url (at-least-once). */
void outbox_webhook(outbox *ob, const char *url, const char *secret,
                    const char *body_json);
/* Crash recovery at start: finalises (on the threadpool) every recording still in state
 * 'recording', then hands it to outbox_recording_done. stopped_at is the recorder's
 * stopped_unix_ms, or the time finalise returned when that is 0. */
void outbox_recover(outbox *ob);
/* Jobs pending (in SQLite, including those in flight). */
size_t outbox_pending(const outbox *ob);

/* Fills cfg with the defaults above (lists NULL, no finalise). */
void outbox_config_defaults(outbox_config *cfg);

/* parleyd's one call, after the HTTP listener is up (http_port is the port it got):
 * makes the HTTP client, the outbox from the upload-allow, webhook-allow,
 * allow-private-destinations, upload-retry-s and webhook-retry-s settings, and starts
 * crash recovery. outbox_free frees it all. */
outbox *outbox_start(uv_loop_t *loop, store *st, const config *cfg, int http_port,
                     int (*finalise)(const char *path, void *result_out));

#endif
