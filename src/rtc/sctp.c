/* sctp — data channels on usrsctp (AF_CONN, no threads of its own), DCEP, limits. */
#include "rtc/sctp.h"

#include "core/hmap.h"
#include "core/log.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <usrsctp.h>

#define BUFFER_BYTES (1024 * 1024) /* SO_SNDBUF and SO_RCVBUF: the windows */
#define READ_CHUNK 65536
#define MIN_TIMER_STEP_MS 10

typedef enum { CH_FREE, CH_OPENING, CH_OPEN, CH_CLOSING } channel_state;

typedef struct {
  uint8_t state;     /* channel_state */
  uint8_t type;      /* DCEP channel type */
  bool open_pending; /* ours, opened before the association was up: OPEN not sent */
  uint16_t priority;
  uint32_t reliability;
  const char *reason;     /* why we are closing it (static text), NULL if asked to */
  char *label, *protocol; /* kept only while the OPEN is pending */
} channel;

/* An SCTP packet usrsctp made on another thread (its timers), for the owner to send. */
typedef struct packet {
  struct packet *next;
  size_t len;
  uint8_t data[];
} packet;

struct sctp_assoc {
  uint64_t id; /* usrsctp's address for it: the registry key, never reused */
  uv_loop_t *loop;
  pthread_t owner;
  sctp_config cfg;
  struct socket *sock;
  sctp_output_cb output;
  void *output_ud;
  sctp_callbacks cb;
  void *ud;
  bool connecting, up, gone, draining;
  channel *ch;
  size_t n_ch;
  /* A message arriving in pieces (larger than one read), or one being discarded. */
  uint8_t *msg;
  size_t msg_len, msg_cap;
  bool msg_discard;
  /* Rate limit: token buckets refilled per millisecond, one second's worth deep. */
  double tok_msgs, tok_bytes;
  uint64_t tok_ms;
  bool throttled;
  bool read_paused; /* sctp_pause_reading: the router cannot take more now */
  bool want_write;  /* a send found the buffer full: on_writable when it has room */
  uv_timer_t resume;
  uv_async_t wake;
  int open_handles;
  packet *mail_head, **mail_tail; /* under reg_lock */
  sctp_counters counters;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_bool initialized;
/* Guards the registry and every association's mailbox; never held across a usrsctp
 * call (usrsctp calls us with its own locks held, so the order is always usrsctp's
 * locks, then this one). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static hmap *registry; /* id -> sctp_assoc */
static uint64_t next_id = 1;
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_tick_ms;

static uint64_t mono_ms(void) { return uv_hrtime() / 1000000; }

/* Takes reg_lock and returns the live association for usrsctp's address, or NULL
 * (then the lock is released). */
static sctp_assoc *lookup_locked(void *addr) {
  uint64_t id = (uint64_t)(uintptr_t)addr;
  pthread_mutex_lock(&reg_lock);
  sctp_assoc *a = registry ? hmap_get(registry, &id, sizeof id) : NULL;
  if (!a)
    pthread_mutex_unlock(&reg_lock);
  return a;
}

/* usrsctp's output for every association: on the owner's thread the packet goes out at
 * once; from another loop's timer tick it is handed over. */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df) {
  (void)tos, (void)set_df;
  sctp_assoc *a = lookup_locked(addr);
  if (!a)
    return 0; /* gone: nothing to send it on */
  if (pthread_equal(pthread_self(), a->owner)) {
    pthread_mutex_unlock(&reg_lock); /* only this thread frees it */
    a->counters.packets_out++;
    a->output(a->output_ud, buf, len);
    return 0;
  }
  packet *p = xmalloc(sizeof *p + len);
  p->next = NULL;
  p->len = len;
  memcpy(p->data, buf, len);
  *a->mail_tail = p;
  a->mail_tail = &p->next;
  uv_async_send(&a->wake);
  pthread_mutex_unlock(&reg_lock);
  return 0;
}

/* Data or a notification is readable. On the owner's thread the entry point that
 * caused it drains afterwards; from elsewhere (a timer's notification) it is woken. */
static void upcall(struct socket *so, void *arg, int flags) {
  (void)so, (void)flags;
  sctp_assoc *a = lookup_locked(arg);
  if (!a)
    return;
  if (!pthread_equal(pthread_self(), a->owner))
    uv_async_send(&a->wake);
  pthread_mutex_unlock(&reg_lock);
}

static void global_init(void) {
  usrsctp_init_nothreads(0, conn_output, NULL);
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  /* Channels are closed by stream reset (RFC 8831 §6.7). */
  usrsctp_sysctl_set_sctp_reconfig_enable(1);
  usrsctp_sysctl_set_sctp_pr_enable(1);
  pthread_mutex_lock(&reg_lock);
  registry = hmap_new();
  pthread_mutex_unlock(&reg_lock);
  atomic_store(&initialized, true);
}

void sctp_timers_tick(void) {
  if (!atomic_load(&initialized) || pthread_mutex_trylock(&tick_lock) != 0)
    return; /* another loop is at it: never wait */
  uint64_t now = mono_ms();
  if (!last_tick_ms)
    last_tick_ms = now;
  if (now - last_tick_ms >= MIN_TIMER_STEP_MS) {
    uint32_t elapsed = (uint32_t)(now - last_tick_ms);
    last_tick_ms = now;
    usrsctp_handle_timers(elapsed);
  }
  pthread_mutex_unlock(&tick_lock);
}

sctp_config sctp_config_default(uint16_t remote_port, uint32_t remote_max,
                                bool dtls_client) {
  return (sctp_config){.local_port = SCTP_PORT,
                       .remote_port = remote_port ? remote_port : SCTP_PORT,
                       .remote_max_message = remote_max,
                       .local_max_message = SCTP_MAX_MESSAGE_SIZE,
                       .dtls_client = dtls_client,
                       .max_messages_per_s = 1000,
                       .max_bytes_per_s = 8 * 1024 * 1024};
}

static channel *get_channel(sctp_assoc *a, uint16_t id) {
  return id < a->n_ch && a->ch[id].state != CH_FREE ? &a->ch[id] : NULL;
}

static channel *new_channel(sctp_assoc *a, uint16_t id) {
  if (id >= SCTP_MAX_STREAMS)
    return NULL;
  if (id >= a->n_ch) {
    size_t n = a->n_ch ? a->n_ch : 8;
    while (n <= id)
      n *= 2;
    if (n > SCTP_MAX_STREAMS)
      n = SCTP_MAX_STREAMS;
    a->ch = xrealloc(a->ch, n * sizeof *a->ch);
    memset(a->ch + a->n_ch, 0, (n - a->n_ch) * sizeof *a->ch);
    a->n_ch = n;
  }
  channel *c = &a->ch[id];
  memset(c, 0, sizeof *c);
  return c;
}

static void free_channel(sctp_assoc *a, uint16_t id) {
  channel *c = &a->ch[id];
  free(c->label);
  free(c->protocol);
  memset(c, 0, sizeof *c);
}

static int setopt(sctp_assoc *a, int level, int name, const void *v, socklen_t len) {
  int rc = usrsctp_setsockopt(a->sock, level, name, v, len);
  if (rc != 0)
    log_warn("sctp", "setsockopt %d/%#x: %s", level, (unsigned)name, strerror(errno));
  return rc;
}

/* One message on stream sid as the channel type says (ordered unless unordered, partial
 * reliability by retransmissions or lifetime). */
static int send_raw(sctp_assoc *a, uint16_t sid, uint32_t ppid, const void *data,
                    size_t len, uint8_t type, uint32_t reliability) {
  struct sctp_sendv_spa spa;
  memset(&spa, 0, sizeof spa);
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = sid;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  if (!dcep_ordered(type))
    spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
  if ((type & 0x7f) == DCEP_PARTIAL_RELIABLE_REXMIT ||
      (type & 0x7f) == DCEP_PARTIAL_RELIABLE_TIMED) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = (type & 0x7f) == DCEP_PARTIAL_RELIABLE_REXMIT
                                     ? SCTP_PR_SCTP_RTX
                                     : SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = reliability;
  }
  ssize_t n = usrsctp_sendv(a->sock, data, len, NULL, 0, &spa, (socklen_t)sizeof spa,
                            SCTP_SENDV_SPA, 0);
  if (n >= 0)
    return 0;
  if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) {
    a->counters.send_again++;
    a->want_write = true;
    return SCTP_E_AGAIN;
  }
  log_debug("sctp", "assoc %llu: send on %u failed: %s", (unsigned long long)a->id, sid,
            strerror(errno));
  return SCTP_E_INVALID;
}

static void reset_outgoing(sctp_assoc *a, uint16_t sid) {
  union {
    struct sctp_reset_streams srs;
    uint8_t bytes[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)];
  } r;
  memset(&r, 0, sizeof r);
  r.srs.srs_assoc_id = SCTP_ALL_ASSOC;
  r.srs.srs_flags = SCTP_STREAM_RESET_OUTGOING;
  r.srs.srs_number_streams = 1;
  r.srs.srs_stream_list[0] = sid;
  setopt(a, IPPROTO_SCTP, SCTP_RESET_STREAMS, &r, (socklen_t)sizeof r);
}

static void send_open(sctp_assoc *a, uint16_t id) {
  channel *c = &a->ch[id];
  dcep_open o = {
      .channel_type = c->type, .priority = c->priority, .reliability = c->reliability};
  o.label_len = (uint16_t)strlen(c->label ? c->label : "");
  o.protocol_len = (uint16_t)strlen(c->protocol ? c->protocol : "");
  memcpy(o.label, c->label ? c->label : "", o.label_len);
  memcpy(o.protocol, c->protocol ? c->protocol : "", o.protocol_len);
  uint8_t msg[DCEP_OPEN_HEADER + 2 * DCEP_MAX_LABEL];
  size_t n = dcep_write_open(&o, msg, sizeof msg);
  c->open_pending = false;
  free(c->label), free(c->protocol);
  c->label = c->protocol = NULL;
  send_raw(a, id, DCEP_PPID_CONTROL, msg, n, DCEP_RELIABLE, 0);
}

static void report_open(sctp_assoc *a, uint16_t id, const char *label,
                        const char *protocol) {
  channel *c = &a->ch[id];
  c->state = CH_OPEN;
  if (!a->cb.on_open)
    return;
  sctp_channel_info info = {.id = id,
                            .channel_type = c->type,
                            .reliability = c->reliability,
                            .priority = c->priority,
                            .label = label,
                            .protocol = protocol};
  a->cb.on_open(a, &info, a->ud);
}

static void closed(sctp_assoc *a, uint16_t id) {
  const char *reason = a->ch[id].reason;
  free_channel(a, id);
  if (a->cb.on_close)
    a->cb.on_close(a, id, reason, a->ud);
}

static void assoc_gone(sctp_assoc *a) {
  if (a->gone)
    return;
  a->gone = true;
  a->up = false;
  for (size_t i = 0; i < a->n_ch; i++)
    if (a->ch[i].state != CH_FREE)
      closed(a, (uint16_t)i);
  if (a->cb.on_state)
    a->cb.on_state(a, false, a->ud);
}

static void on_control(sctp_assoc *a, uint16_t sid, const uint8_t *data, size_t len) {
  static _Thread_local dcep_open o;
  int kind = dcep_parse(data, len, &o);
  channel *c = get_channel(a, sid);
  if (kind == DCEP_MSG_OPEN && !c) {
    c = new_channel(a, sid);
    if (!c)
      return;
    c->type = o.channel_type;
    c->reliability = o.reliability;
    c->priority = o.priority;
    c->state = CH_OPEN;
    uint8_t ack[1];
    send_raw(a, sid, DCEP_PPID_CONTROL, ack, dcep_write_ack(ack, sizeof ack),
             DCEP_RELIABLE, 0);
    report_open(a, sid, o.label, o.protocol);
  } else if (kind == DCEP_MSG_ACK && c && c->state == CH_OPENING) {
    report_open(a, sid, "", "");
  } else {
    log_debug("sctp", "assoc %llu: DCEP message %d on stream %u ignored",
              (unsigned long long)a->id, kind, sid);
  }
}

static void take_tokens(sctp_assoc *a, size_t len) {
  if (a->cfg.max_messages_per_s)
    a->tok_msgs -= 1;
  if (a->cfg.max_bytes_per_s)
    a->tok_bytes -= (double)len;
}

static void deliver(sctp_assoc *a, const struct sctp_rcvinfo *info, const uint8_t *data,
                    size_t len) {
  uint32_t ppid = ntohl(info->rcv_ppid);
  uint16_t sid = info->rcv_sid;
  if (ppid == DCEP_PPID_CONTROL)
    return on_control(a, sid, data, len);
  bool binary = ppid == DCEP_PPID_BINARY || ppid == DCEP_PPID_BINARY_EMPTY;
  bool text = ppid == DCEP_PPID_STRING || ppid == DCEP_PPID_STRING_EMPTY;
  channel *c = get_channel(a, sid);
  if (!c || c->state == CH_CLOSING || !(binary || text))
    return;
  if (c->state == CH_OPENING) /* RFC 8832 §6: any message implies the peer's ACK */
    report_open(a, sid, "", "");
  if (ppid == DCEP_PPID_STRING_EMPTY || ppid == DCEP_PPID_BINARY_EMPTY)
    len = 0;
  take_tokens(a, len);
  a->counters.messages_in++;
  a->counters.bytes_in += len;
  if (a->cb.on_message)
    a->cb.on_message(a, sid, binary, data, len, a->ud);
}

/* A piece of a message (the whole of it when eor and nothing was kept before). */
static void on_data(sctp_assoc *a, const struct sctp_rcvinfo *info, const uint8_t *data,
                    size_t n, bool eor) {
  if (!a->msg_discard && a->msg_len + n > a->cfg.local_max_message) {
    a->msg_discard = true;
    a->msg_len = 0;
    a->counters.refused_too_big++;
    channel *c = get_channel(a, info->rcv_sid);
    log_info("sctp", "assoc %llu: a message over %u bytes on channel %u: closed",
             (unsigned long long)a->id, a->cfg.local_max_message, info->rcv_sid);
    if (c && c->state != CH_CLOSING) {
      c->state = CH_CLOSING;
      c->reason = "message larger than our a=max-message-size";
      reset_outgoing(a, info->rcv_sid);
    }
  }
  if (a->msg_discard) {
    if (eor)
      a->msg_discard = false;
    return;
  }
  if (eor && a->msg_len == 0)
    return deliver(a, info, data, n);
  if (a->msg_len + n > a->msg_cap) {
    a->msg_cap = a->msg_len + n > 2 * a->msg_cap ? a->msg_len + n : 2 * a->msg_cap;
    a->msg = xrealloc(a->msg, a->msg_cap);
  }
  memcpy(a->msg + a->msg_len, data, n);
  a->msg_len += n;
  if (!eor)
    return;
  size_t total = a->msg_len;
  a->msg_len = 0;
  deliver(a, info, a->msg, total);
}

static void on_notification(sctp_assoc *a, const uint8_t *buf, size_t n) {
  const union sctp_notification *sn = (const void *)buf;
  if (n < sizeof sn->sn_header)
    return;
  switch (sn->sn_header.sn_type) {
  case SCTP_ASSOC_CHANGE: {
    uint16_t state = sn->sn_assoc_change.sac_state;
    if ((state == SCTP_COMM_UP || state == SCTP_RESTART) && !a->up && !a->gone) {
      a->up = true;
      log_debug("sctp", "assoc %llu up", (unsigned long long)a->id);
      for (size_t i = 0; i < a->n_ch; i++)
        if (a->ch[i].state == CH_OPENING && a->ch[i].open_pending)
          send_open(a, (uint16_t)i);
      if (a->cb.on_state)
        a->cb.on_state(a, true, a->ud);
    } else if (state == SCTP_COMM_LOST || state == SCTP_SHUTDOWN_COMP ||
               state == SCTP_CANT_STR_ASSOC) {
      log_info("sctp", "assoc %llu ended (state %u)", (unsigned long long)a->id, state);
      assoc_gone(a);
    }
    break;
  }
  case SCTP_STREAM_RESET_EVENT: {
    const struct sctp_stream_reset_event *e = &sn->sn_strreset_event;
    if (e->strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED) ||
        !(e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) || e->strreset_length > n)
      break; /* our own reset done (outgoing) or refused: the peer's side closes it */
    size_t k = (e->strreset_length - sizeof *e) / sizeof(uint16_t);
    for (size_t i = 0; i < k; i++) {
      uint16_t sid = e->strreset_stream_list[i];
      channel *c = get_channel(a, sid);
      if (!c)
        continue;
      if (c->state != CH_CLOSING) /* the peer closed it: we close our side too */
        reset_outgoing(a, sid);
      closed(a, sid);
    }
    break;
  }
  default:
    break;
  }
}

/* 0 when the peer may send another message now, else how many ms until it may. */
static uint64_t rate_wait_ms(sctp_assoc *a) {
  double m = a->cfg.max_messages_per_s, b = a->cfg.max_bytes_per_s;
  if (m <= 0 && b <= 0)
    return 0;
  uint64_t now = mono_ms();
  double dt = (double)(now - a->tok_ms) / 1000.0;
  a->tok_ms = now;
  a->tok_msgs = a->tok_msgs + dt * m > m ? m : a->tok_msgs + dt * m;
  a->tok_bytes = a->tok_bytes + dt * b > b ? b : a->tok_bytes + dt * b;
  double wait_m = m > 0 && a->tok_msgs < 1 ? (1 - a->tok_msgs) / m : 0;
  double wait_b = b > 0 && a->tok_bytes < 0 ? -a->tok_bytes / b : 0;
  double wait = wait_m > wait_b ? wait_m : wait_b;
  return wait > 0 ? (uint64_t)(wait * 1000.0) + 1 : 0;
}

static void drain(sctp_assoc *a);

static void on_resume(uv_timer_t *t) {
  sctp_assoc *a = t->data;
  a->throttled = false;
  drain(a);
}

static void flush_mail(sctp_assoc *a) {
  pthread_mutex_lock(&reg_lock);
  packet *p = a->mail_head;
  a->mail_head = NULL;
  a->mail_tail = &a->mail_head;
  pthread_mutex_unlock(&reg_lock);
  while (p) {
    packet *next = p->next;
    a->counters.packets_out++;
    a->counters.packets_handed++;
    a->output(a->output_ud, p->data, p->len);
    free(p);
    p = next;
  }
}

/* A send found the buffer full and it has room now (the peer acknowledged data): the
 * router is told, once per drain (a send that still does not fit waits for the next
 * acknowledgement, which comes through sctp_input and drains again). */
static void check_writable(sctp_assoc *a) {
  if (!a->want_write || !(usrsctp_get_events(a->sock) & SCTP_EVENT_WRITE))
    return;
  a->want_write = false;
  if (a->cb.on_writable)
    a->cb.on_writable(a, a->ud);
}

/* Everything readable: notifications and messages, in order, unless the rate limit
 * says wait or the router paused reading (then the rest stays in usrsctp's buffer and
 * its window closes). */
static void drain(sctp_assoc *a) {
  if (a->draining || !a->sock)
    return;
  a->draining = true;
  flush_mail(a);
  check_writable(a);
  static _Thread_local uint8_t buf[READ_CHUNK];
  while (!a->throttled && !a->read_paused) {
    uint64_t wait = rate_wait_ms(a);
    if (wait) {
      a->throttled = true;
      a->counters.throttled++;
      uv_timer_start(&a->resume, on_resume, wait, 0);
      break;
    }
    struct sctp_rcvinfo info;
    memset(&info, 0, sizeof info);
    socklen_t infolen = sizeof info, fromlen = sizeof(struct sockaddr_conn);
    struct sockaddr_conn from;
    unsigned int infotype = 0;
    int flags = 0;
    ssize_t n = usrsctp_recvv(a->sock, buf, sizeof buf, (struct sockaddr *)&from,
                              &fromlen, &info, &infolen, &infotype, &flags);
    if (n < 0)
      break; /* EWOULDBLOCK: nothing more */
    if (n == 0) {
      if (a->up || a->connecting)
        assoc_gone(a); /* the peer shut the association down */
      break;
    }
    if (flags & MSG_NOTIFICATION)
      on_notification(a, buf, (size_t)n);
    else if (infotype == SCTP_RECVV_RCVINFO)
      on_data(a, &info, buf, (size_t)n, (flags & MSG_EOR) != 0);
  }
  a->draining = false;
}

static void on_wake(uv_async_t *h) { drain(h->data); }

static void on_handle_closed(uv_handle_t *h) {
  sctp_assoc *a = h->data;
  if (--a->open_handles == 0)
    free(a);
}

sctp_assoc *sctp_new(uv_loop_t *loop, const sctp_config *cfg, sctp_output_cb output,
                     void *output_ud, const sctp_callbacks *cb, void *ud) {
  pthread_once(&init_once, global_init);
  sctp_assoc *a = xcalloc(1, sizeof *a);
  a->loop = loop;
  a->owner = pthread_self();
  a->cfg = *cfg;
  if (!a->cfg.remote_max_message)
    a->cfg.remote_max_message = SCTP_DEFAULT_REMOTE_MAX_MESSAGE;
  if (!a->cfg.local_max_message)
    a->cfg.local_max_message = SCTP_MAX_MESSAGE_SIZE;
  a->output = output;
  a->output_ud = output_ud;
  if (cb)
    a->cb = *cb;
  a->ud = ud;
  a->mail_tail = &a->mail_head;
  a->tok_msgs = a->cfg.max_messages_per_s;
  a->tok_bytes = a->cfg.max_bytes_per_s;
  a->tok_ms = mono_ms();
  uv_async_init(loop, &a->wake, on_wake);
  uv_timer_init(loop, &a->resume);
  a->wake.data = a->resume.data = a;
  a->open_handles = 2;
  pthread_mutex_lock(&reg_lock);
  a->id = next_id++;
  hmap_put(registry, &a->id, sizeof a->id, a);
  pthread_mutex_unlock(&reg_lock);
  void *addr = (void *)(uintptr_t)a->id;
  usrsctp_register_address(addr);
  a->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!a->sock) {
    log_error("sctp", "usrsctp_socket: %s", strerror(errno));
    a->gone = true;
    return a;
  }
  usrsctp_set_non_blocking(a->sock, 1);
  usrsctp_set_upcall(a->sock, upcall, addr);
  struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close = ABORT, nothing lingers */
  setopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  int bufsize = BUFFER_BYTES, on = 1;
  setopt(a, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setopt(a, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  setopt(a, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
  setopt(a, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  struct sctp_assoc_value reset = {.assoc_id = SCTP_FUTURE_ASSOC,
                                   .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
  setopt(a, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset);
  struct sctp_initmsg init = {.sinit_num_ostreams = SCTP_MAX_STREAMS,
                              .sinit_max_instreams = SCTP_MAX_STREAMS};
  setopt(a, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init);
  static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT,
                                    SCTP_SEND_FAILED_EVENT};
  for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
    struct sctp_event ev = {
        .se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1};
    setopt(a, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
  }
  struct sockaddr_conn local = {.sconn_family = AF_CONN,
                                .sconn_port = htons(a->cfg.local_port),
                                .sconn_addr = addr};
  if (usrsctp_bind(a->sock, (struct sockaddr *)&local, sizeof local) != 0) {
    log_error("sctp", "usrsctp_bind: %s", strerror(errno));
    a->gone = true;
  }
  return a;
}

void sctp_connect(sctp_assoc *a) {
  if (a->connecting || a->gone || !a->sock)
    return;
  a->connecting = true;
  struct sockaddr_conn remote = {.sconn_family = AF_CONN,
                                 .sconn_port = htons(a->cfg.remote_port),
                                 .sconn_addr = (void *)(uintptr_t)a->id};
  if (usrsctp_connect(a->sock, (struct sockaddr *)&remote, sizeof remote) != 0 &&
      errno != EINPROGRESS) {
    log_warn("sctp", "assoc %llu: connect: %s", (unsigned long long)a->id,
             strerror(errno));
    assoc_gone(a);
    return;
  }
  /* Our packets must fit one DTLS record in one datagram: no path MTU discovery. */
  struct sctp_paddrparams pp;
  memset(&pp, 0, sizeof pp);
  memcpy(&pp.spp_address, &remote, sizeof remote);
  pp.spp_flags = SPP_PMTUD_DISABLE;
  pp.spp_pathmtu = SCTP_MTU;
  setopt(a, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
  drain(a);
}

void sctp_input(sctp_assoc *a, const uint8_t *pkt, size_t len) {
  if (!a->sock || a->gone)
    return;
  a->counters.packets_in++;
  usrsctp_conninput((void *)(uintptr_t)a->id, pkt, len, 0);
  drain(a);
}

void sctp_free(sctp_assoc *a) {
  if (!a)
    return;
  if (a->sock) {
    usrsctp_set_upcall(a->sock, NULL, NULL);
    usrsctp_close(a->sock); /* SO_LINGER 0: an ABORT goes out now, on this thread */
    a->sock = NULL;
  }
  usrsctp_deregister_address((void *)(uintptr_t)a->id);
  pthread_mutex_lock(&reg_lock);
  hmap_remove(registry, &a->id, sizeof a->id);
  packet *p = a->mail_head;
  a->mail_head = NULL;
  pthread_mutex_unlock(&reg_lock);
  while (p) {
    packet *next = p->next;
    free(p);
    p = next;
  }
  for (size_t i = 0; i < a->n_ch; i++)
    free_channel(a, (uint16_t)i);
  free(a->ch);
  free(a->msg);
  uv_timer_stop(&a->resume);
  uv_close((uv_handle_t *)&a->resume, on_handle_closed);
  uv_close((uv_handle_t *)&a->wake, on_handle_closed);
}

int sctp_open_channel(sctp_assoc *a, const sctp_channel_opts *o) {
  if (a->gone || !a->sock || (o->max_retransmits >= 0 && o->max_lifetime_ms >= 0))
    return SCTP_E_INVALID;
  const char *label = o->label ? o->label : "",
             *protocol = o->protocol ? o->protocol : "";
  if (strlen(label) > DCEP_MAX_LABEL || strlen(protocol) > DCEP_MAX_LABEL)
    return SCTP_E_INVALID;
  uint16_t id = a->cfg.dtls_client ? 0 : 1;
  while (id < SCTP_MAX_STREAMS && get_channel(a, id))
    id += 2;
  channel *c = new_channel(a, id);
  if (!c)
    return SCTP_E_INVALID;
  c->state = CH_OPENING;
  c->priority = o->priority;
  if (o->max_retransmits >= 0) {
    c->type = DCEP_PARTIAL_RELIABLE_REXMIT;
    c->reliability = (uint32_t)o->max_retransmits;
  } else if (o->max_lifetime_ms >= 0) {
    c->type = DCEP_PARTIAL_RELIABLE_TIMED;
    c->reliability = (uint32_t)o->max_lifetime_ms;
  } else {
    c->type = DCEP_RELIABLE;
  }
  if (o->unordered)
    c->type |= 0x80;
  c->label = xstrdup(label);
  c->protocol = xstrdup(protocol);
  c->open_pending = true;
  if (a->up)
    send_open(a, id);
  return id;
}

int sctp_send(sctp_assoc *a, uint16_t id, bool binary, const void *data, size_t len) {
  channel *c = get_channel(a, id);
  if (!c || c->state == CH_CLOSING)
    return SCTP_E_NOT_OPEN;
  if (len > a->cfg.remote_max_message)
    return SCTP_E_TOO_BIG;
  if (a->gone || !a->up)
    return a->gone ? SCTP_E_INVALID : SCTP_E_AGAIN;
  static const uint8_t zero = 0;
  uint32_t ppid = binary ? (len ? DCEP_PPID_BINARY : DCEP_PPID_BINARY_EMPTY)
                         : (len ? DCEP_PPID_STRING : DCEP_PPID_STRING_EMPTY);
  /* RFC 8832 §6: ordered until the peer's ACK. */
  uint8_t type = c->state == CH_OPENING ? (uint8_t)(c->type & 0x7f) : c->type;
  int rc = send_raw(a, id, ppid, len ? data : &zero, len ? len : 1, type, c->reliability);
  if (rc == 0) {
    a->counters.messages_out++;
    a->counters.bytes_out += len;
  }
  return rc;
}

void sctp_close_channel(sctp_assoc *a, uint16_t id) {
  channel *c = get_channel(a, id);
  if (!c || c->state == CH_CLOSING)
    return;
  if (!a->up || c->open_pending) {
    closed(a, id); /* nothing of it reached the peer */
    return;
  }
  c->state = CH_CLOSING;
  reset_outgoing(a, id);
}

bool sctp_is_up(const sctp_assoc *a) { return a->up; }

void sctp_pause_reading(sctp_assoc *a, bool pause) {
  if (a->read_paused == pause)
    return;
  a->read_paused = pause;
  if (pause)
    a->counters.read_paused++;
  else if (!a->draining) /* inside drain (on_writable), its loop goes on */
    drain(a);
}

const sctp_counters *sctp_get_counters(const sctp_assoc *a) { return &a->counters; }
