/* websocket — server WebSocket connections on the HTTP server (libh2o's upgrade with
 * libwslay framing): text messages in, text messages out, close codes, bounded output. */
#ifndef PARLEY_WEBSOCKET_H
#define PARLEY_WEBSOCKET_H

#include <h2o.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A message past this is discarded as it arrives (on_too_large); the socket stays open.
 * The API refuses smaller ones itself. */
#define WS_HARD_MAX_MESSAGE (1024 * 1024)

typedef struct ws_conn ws_conn;

typedef struct {
  /* One whole text message; binary messages are answered by the API as errors. */
  void (*on_message)(ws_conn *ws, bool text, const char *data, size_t len, void *ud);
  /* A message over WS_HARD_MAX_MESSAGE (len bytes) came and was dropped unread. */
  void (*on_too_large)(ws_conn *ws, bool text, uint64_t len, void *ud);
  /* The connection is gone: code is the peer's close code (1000, 1001, ...), or 1006
   * when it vanished without one. ws is freed after this returns. */
  void (*on_close)(ws_conn *ws, int code, void *ud);
} ws_handlers;

/* True when req asks for a WebSocket upgrade. */
bool ws_is_upgrade(h2o_req_t *req);
/* Answers 101 and takes the connection over; NULL (with a 400 sent) if the handshake
 * is malformed. */
ws_conn *ws_accept(h2o_req_t *req, ws_handlers handlers, void *ud);
/* Queues a text message. A peer that lets more than WS_MAX_QUEUED messages pile up
 * is cut off (1008): a slow reader must not hold memory without limit. */
void ws_send_text(ws_conn *ws, const char *data, size_t len);
/* Starts the closing handshake once what is queued has gone out (at most a few seconds
 * for a peer that does not read); on_close follows. */
void ws_close(ws_conn *ws, int code, const char *reason);

#endif
