/* queue — bounded cross-thread message queue drained on the consumer's loop. */
#include "core/queue.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define DRAIN_BATCH 64

static void drain(uv_async_t *a) {
  msg_queue *q = a->data;
  char batch[DRAIN_BATCH * 256];
  size_t per_batch = sizeof batch / q->msg_size;
  if (per_batch > DRAIN_BATCH)
    per_batch = DRAIN_BATCH;
  for (;;) {
    /* Copy out under the lock, handle outside it: handlers may push again. */
    pthread_mutex_lock(&q->lock);
    size_t n = q->count < per_batch ? q->count : per_batch;
    for (size_t i = 0; i < n; i++) {
      memcpy(batch + i * q->msg_size, q->slots + q->head * q->msg_size, q->msg_size);
      q->head = (q->head + 1) % q->capacity;
    }
    q->count -= n;
    pthread_mutex_unlock(&q->lock);
    if (n == 0)
      return;
    for (size_t i = 0; i < n; i++)
      q->handler(batch + i * q->msg_size, q->ud);
  }
}

int queue_init(msg_queue *q, uv_loop_t *loop, size_t msg_size, size_t capacity,
               queue_handler handler, void *ud) {
  memset(q, 0, sizeof *q);
  if (msg_size > 256 * DRAIN_BATCH)
    return -1;
  pthread_mutex_init(&q->lock, NULL);
  q->slots = xcalloc(capacity, msg_size);
  q->msg_size = msg_size;
  q->capacity = capacity;
  q->handler = handler;
  q->ud = ud;
  q->wake.data = q;
  return uv_async_init(loop, &q->wake, drain);
}

bool queue_push(msg_queue *q, const void *msg) {
  pthread_mutex_lock(&q->lock);
  bool ok = q->count < q->capacity;
  if (ok) {
    size_t tail = (q->head + q->count) % q->capacity;
    memcpy(q->slots + tail * q->msg_size, msg, q->msg_size);
    q->count++;
  } else {
    q->dropped++;
  }
  pthread_mutex_unlock(&q->lock);
  if (ok)
    uv_async_send(&q->wake);
  return ok;
}

static void free_slots(uv_handle_t *h) {
  msg_queue *q = h->data;
  free(q->slots);
  q->slots = NULL;
  pthread_mutex_destroy(&q->lock);
}

void queue_close(msg_queue *q) { uv_close((uv_handle_t *)&q->wake, free_slots); }
