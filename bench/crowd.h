/* crowd — joins N participants in rooms over 16 keep-alive connections, keeps tokens. */
#ifndef PARLEY_BENCH_CROWD_H
#define PARLEY_BENCH_CROWD_H

#include "httpc.h"

#define CROWD_CONNS 16  /* keep-alive connections issuing request_token back to back */
#define CROWD_TOKEN 128 /* the size of a participant's token buffer */

typedef struct crowd crowd;

/* The first field of a program's participant: its stream's ud points to both. */
typedef struct {
  httpc http; /* its events stream */
  crowd *crowd;
  int index;
  char token[CROWD_TOKEN];
} crowd_member;

typedef struct {
  httpc http;
  crowd *crowd;
  int next; /* the participant it joins next */
} crowd_joiner;

/* What differs between the programs. */
typedef struct {
  const char *name;                            /* display names are "<name> <i>" */
  void (*room)(int i, char *out, size_t cap);  /* participant i's room alias */
  crowd_member *(*member)(int i);              /* participant i */
  void (*on_close)(httpc *h, const char *why); /* a joining connection was lost */
  uint64_t *errors; /* counts failed joins, connects and early stream closes */
} crowd_hooks;

struct crowd {
  const crowd_hooks *h;
  int n;     /* participants 0..n-1 */
  bool done; /* set by the program: the run is over, streams closing are no error */
  int joined, next_join, closes;
  httpc_callbacks cb, stream_cb;
  crowd_joiner joiners[CROWD_CONNS];
};

/* Numbers the n participants and connects the joining connections; each closes once no
 * participant is left to join. */
void crowd_start(crowd *c, const crowd_hooks *h, int n, uv_loop_t *loop, int port);
/* Opens every participant's events stream; start and data are the program's. */
void crowd_open_streams(crowd *c, uv_loop_t *loop, int port,
                        void (*start)(httpc *h, int status),
                        void (*data)(httpc *h, const char *data, size_t len));

#endif
