/* queue — a bounded queue of fixed-size messages from any thread to one libuv loop,
 * woken with uv_async: how the control loop and media loops talk without sharing state.
 */
#ifndef PARLEY_QUEUE_H
#define PARLEY_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef void (*queue_handler)(void *msg, void *ud);

typedef struct {
  pthread_mutex_t lock;
  uv_async_t wake;
  char *slots;
  size_t msg_size, capacity, head, count;
  queue_handler handler;
  void *ud;
  unsigned long dropped;
} msg_queue;

/* Set up on the consumer's loop (call from that loop's thread). */
int queue_init(msg_queue *q, uv_loop_t *loop, size_t msg_size, size_t capacity,
               queue_handler handler, void *ud);
/* Copies msg in; false (and counted in dropped) when the queue is full. */
bool queue_push(msg_queue *q, const void *msg);
/* Closes the async handle; call on the consumer's loop. */
void queue_close(msg_queue *q);

#endif
