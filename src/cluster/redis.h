/* redis — Parley's Redis client: hiredis 0.14 async on the node's libuv loop, two
 * connections (commands, subscriptions), AUTH/SELECT from the URL, reconnect with
 * backoff, and fail-fast while Redis is down. Nothing here ever blocks the loop. */
#ifndef PARLEY_CLUSTER_REDIS_H
#define PARLEY_CLUSTER_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct credis credis;
typedef void (*credis_reply_cb)(redisReply *r /* NULL: failed or disconnected */,
                                void *ud);

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], parsed (the password percent-decoded). */
typedef struct {
  char host[256]; /* without brackets for IPv6 */
  int port;       /* 6379 when not given */
  char user[128]; /* "" = AUTH with the password alone */
  char password[256];
  int db; /* 0 when not given */
} credis_url;
/* Returns 0, or -1 with a sentence in err (rediss:// is refused: hiredis 0.14 has no
 * TLS). */
int credis_parse_url(const char *url, credis_url *out, char *err, size_t errlen);

credis *credis_new(uv_loop_t *loop, const char *url, char *err, size_t errlen);
/* Pending callbacks run with NULL before it returns; the loop must run once more after
 * it for the handles' close callbacks. */
void credis_free(credis *r);
bool credis_up(const credis *r); /* command connection ready (AUTH/SELECT done) */
/* Queues a command (argv form, binary-safe; lens NULL: strlen of each); cb runs on the
 * loop exactly once. Fails fast (cb(NULL) on the next iteration) while down. Returns 0,
 * or -1 when it was refused (cb still runs, with NULL). */
int credis_command(credis *r, credis_reply_cb cb, void *ud, int argc, const char **argv,
                   const size_t *lens);
/* Subscriptions live on a second connection; re-subscribed after every reconnect.
 * on_msg gets each message published on channel. Returns 0. */
int credis_subscribe(credis *r, const char *channel,
                     void (*on_msg)(const char *data, size_t len, void *ud), void *ud);
/* Called after every (re)connect of the command connection (e.g. to re-assert leases).
 * Several may be registered. */
void credis_on_up(credis *r, void (*cb)(void *ud), void *ud);
/* Called when the command connection goes down (after being up). Several may be
 * registered. */
void credis_on_down(credis *r, void (*cb)(void *ud), void *ud);
/* Counters for metrics. */
unsigned long credis_reconnects(const credis *r);
unsigned long credis_commands_total(const credis *r);
unsigned long credis_failed_total(const credis *r);

#endif
