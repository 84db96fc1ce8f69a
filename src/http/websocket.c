/* websocket — libh2o/libwslay server connections with a reentrancy-safe send path. */
#include "http/websocket.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"

#include <h2o/websocket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_MAX_QUEUED 1024
/* A delivered message's buffer larger than this is freed, not kept for the next. */
#define WS_KEEP_BUFFER (64 * 1024)

struct ws_conn {
  h2o_websocket_conn_t *h2o;
  ws_handlers handlers;
  void *ud;
  int depth;    /* > 0 while h2o is calling us: it proceeds by itself afterwards */
  bool closing; /* ws_close was called */
  bool dead;    /* h2o reported the close; freed when the outermost call unwinds */
  /* wslay sends a queued close frame ahead of queued messages and nothing after it, so
   * a close asked for while messages wait is queued once they are out (checked each
   * second, and forced after a few seconds for a peer that does not read). */
  uint16_t close_code;
  char close_reason[64];
  h2o_context_t *ctx;
  h2o_timeout_entry_t flush_wait;
  int flush_checks;
  /* The message being received: wslay hands us frames unbuffered, so that one past
   * WS_HARD_MAX_MESSAGE is counted and dropped as it streams in, never held whole. */
  buf msg;
  uint64_t msg_len;   /* bytes of the message so far, kept or not */
  bool msg_text;      /* its first frame's opcode was text */
  bool frame_is_data; /* the frame being received belongs to it (not a control frame) */
  bool frame_fin;
};

#define FLUSH_CHECKS_MAX 5

bool ws_is_upgrade(h2o_req_t *req) {
  const char *key;
  return h2o_is_websocket_handshake(req, &key) == 0 && key != NULL;
}

static void release(ws_conn *ws) {
  ws->dead = true;
  if (h2o_timeout_is_linked(&ws->flush_wait))
    h2o_timeout_unlink(&ws->flush_wait);
  int code = wslay_event_get_status_code_received(ws->h2o->ws_ctx);
  if (code == 0 || code == WSLAY_CODE_NO_STATUS_RCVD)
    code = ws->closing ? 1000 : WSLAY_CODE_ABNORMAL_CLOSURE;
  ws->handlers.on_close(ws, code, ws->ud);
  h2o_websocket_close(ws->h2o);
  buf_free(&ws->msg);
  free(ws);
}

static void on_h2o_event(h2o_websocket_conn_t *conn,
                         const struct wslay_event_on_msg_recv_arg *arg) {
  ws_conn *ws = conn->data;
  if (!arg) {
    if (ws->depth > 0)
      ws->dead = true; /* freed once our caller has unwound */
    else
      release(ws);
    return;
  }
  /* Ping, pong and close are wslay's business; text and binary messages arrive here
   * empty (unbuffered) and were delivered by on_frame_end. */
}

static void on_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg,
                           void *user_data) {
  (void)ctx;
  ws_conn *ws = ((h2o_websocket_conn_t *)user_data)->data;
  ws->frame_is_data = arg->opcode == WSLAY_TEXT_FRAME ||
                      arg->opcode == WSLAY_BINARY_FRAME ||
                      arg->opcode == WSLAY_CONTINUATION_FRAME;
  ws->frame_fin = arg->fin;
  if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
    ws->msg_text = arg->opcode == WSLAY_TEXT_FRAME; /* a new message */
    ws->msg_len = 0;
    buf_reset(&ws->msg);
  }
}

static void on_frame_chunk(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg,
                           void *user_data) {
  (void)ctx;
  ws_conn *ws = ((h2o_websocket_conn_t *)user_data)->data;
  if (!ws->frame_is_data)
    return;
  ws->msg_len += arg->data_length;
  if (ws->msg_len <= WS_HARD_MAX_MESSAGE)
    buf_append(&ws->msg, arg->data, arg->data_length);
  else if (ws->msg.cap)
    buf_free(&ws->msg); /* too large: the rest is only counted */
}

static void on_frame_end(wslay_event_context_ptr ctx, void *user_data) {
  (void)ctx;
  ws_conn *ws = ((h2o_websocket_conn_t *)user_data)->data;
  if (!ws->frame_is_data || !ws->frame_fin || ws->dead)
    return;
  ws->depth++;
  if (ws->msg_len > WS_HARD_MAX_MESSAGE)
    ws->handlers.on_too_large(ws, ws->msg_text, ws->msg_len, ws->ud);
  else
    ws->handlers.on_message(ws, ws->msg_text, ws->msg.data ? ws->msg.data : "",
                            ws->msg.len, ws->ud);
  ws->depth--;
  if (ws->msg.cap > WS_KEEP_BUFFER)
    buf_free(&ws->msg);
  buf_reset(&ws->msg);
  ws->msg_len = 0;
}

/* Pushes queued frames out, unless h2o is already inside a proceed of its own. */
static void proceed(ws_conn *ws) {
  /* Before the 101 is out h2o has no socket yet; it proceeds itself once it has. */
  if (ws->depth > 0 || ws->dead || !ws->h2o->sock)
    return;
  ws->depth++;
  h2o_websocket_proceed(ws->h2o);
  ws->depth--;
  if (ws->dead)
    release(ws);
}

static void queue_close(ws_conn *ws) {
  wslay_event_queue_close(ws->h2o->ws_ctx, ws->close_code,
                          (const uint8_t *)ws->close_reason, strlen(ws->close_reason));
}

static void on_flush_check(h2o_timeout_entry_t *entry) {
  ws_conn *ws = H2O_STRUCT_FROM_MEMBER(ws_conn, flush_wait, entry);
  if (wslay_event_get_queued_msg_count(ws->h2o->ws_ctx) > 0 &&
      ++ws->flush_checks < FLUSH_CHECKS_MAX) {
    h2o_timeout_link(ws->ctx->loop, &ws->ctx->one_sec_timeout, &ws->flush_wait);
    return;
  }
  queue_close(ws);
  proceed(ws);
}

ws_conn *ws_accept(h2o_req_t *req, ws_handlers handlers, void *ud) {
  const char *key;
  if (h2o_is_websocket_handshake(req, &key) != 0 || !key) {
    h2o_send_error_400(req, "Bad Request", "malformed WebSocket handshake", 0);
    return NULL;
  }
  ws_conn *ws = xcalloc(1, sizeof *ws);
  ws->handlers = handlers;
  ws->ud = ud;
  ws->h2o = h2o_upgrade_to_websocket(req, key, ws, on_h2o_event);
  /* h2o's callbacks stay (they read and write its socket); ours see the frames. wslay
   * then checks only each frame's length, which no longer matters: we count. */
  struct wslay_event_callbacks cbs = ws->h2o->ws_callbacks;
  cbs.on_frame_recv_start_callback = on_frame_start;
  cbs.on_frame_recv_chunk_callback = on_frame_chunk;
  cbs.on_frame_recv_end_callback = on_frame_end;
  wslay_event_config_set_callbacks(ws->h2o->ws_ctx, &cbs);
  wslay_event_config_set_no_buffering(ws->h2o->ws_ctx, 1);
  wslay_event_config_set_max_recv_msg_length(ws->h2o->ws_ctx, UINT64_MAX);
  ws->ctx = req->conn->ctx;
  ws->flush_wait.cb = on_flush_check;
  return ws;
}

void ws_send_text(ws_conn *ws, const char *data, size_t len) {
  if (ws->closing || ws->dead)
    return;
  if (wslay_event_get_queued_msg_count(ws->h2o->ws_ctx) >= WS_MAX_QUEUED) {
    log_warn("ws", "peer is not reading: closing its WebSocket");
    ws_close(ws, 1008, "too many unread messages");
    return;
  }
  struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)data, len};
  wslay_event_queue_msg(ws->h2o->ws_ctx, &msg);
  proceed(ws);
}

void ws_close(ws_conn *ws, int code, const char *reason) {
  if (ws->closing || ws->dead)
    return;
  ws->closing = true;
  ws->close_code = (uint16_t)code;
  snprintf(ws->close_reason, sizeof ws->close_reason, "%s", reason ? reason : "");
  if (wslay_event_get_queued_msg_count(ws->h2o->ws_ctx) == 0 || !ws->h2o->sock)
    queue_close(ws);
  else
    h2o_timeout_link(ws->ctx->loop, &ws->ctx->one_sec_timeout, &ws->flush_wait);
  proceed(ws);
}
