/* feed_data — pub/sub data channels: the envelope, and messages relayed between the
 * publish calls of one session's room on its media loop. */
#include "media/feed_data.h"

#include "core/log.h"
#include "core/mem.h"
#include "media/feed_router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RELIABLE, LOSSY, N_KINDS };

/* A publish call's channels: the ids the client opened with our two labels. */
struct feed_data {
  int id[N_KINDS]; /* -1: not open */
};

static bool uid_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == ':' || c == '-';
}

int feed_data_parse(const uint8_t *msg, size_t len, feed_data_envelope *out,
                    const char **why) {
  memset(out, 0, sizeof *out);
  if (len < 2)
    return *why = "a message starts with 2 bytes: flags and the uid's length", -1;
  if (msg[0] & ~(FEED_DATA_TEXT | FEED_DATA_ERROR))
    return *why = "unknown flags in the envelope", -1;
  size_t n = msg[1];
  if (n > FEED_DATA_UID_MAX || len < 2 + n)
    return *why = "the envelope's uid is longer than 64 bytes or than the message", -1;
  for (size_t i = 0; i < n; i++)
    if (!uid_char((char)msg[2 + i]))
      return *why = "the envelope's uid has a character outside [A-Za-z0-9_.:-]", -1;
  if (len - 2 - n > FEED_DATA_MAX_PAYLOAD)
    return *why = "a data channel message carries at most 64 KiB", -2;
  out->flags = msg[0];
  out->uid = (const char *)msg + 2;
  out->uid_len = n;
  out->payload = msg + 2 + n;
  out->payload_len = len - 2 - n;
  return 0;
}

size_t feed_data_header(uint8_t flags, const char *uid, size_t uid_len, uint8_t *out) {
  if (uid_len > FEED_DATA_UID_MAX)
    uid_len = FEED_DATA_UID_MAX;
  out[0] = flags;
  out[1] = (uint8_t)uid_len;
  memcpy(out + 2, uid, uid_len);
  return 2 + uid_len;
}

/* ---- relaying ------------------------------------------------------------------- */

static void reply_error(media_session *s, int id, const char *code, const char *message) {
  char json[300];
  int n = snprintf(json, sizeof json, "{\"code\":\"%s\",\"message\":\"%s\"}", code,
                   message); /* our own sentences: no quotes to escape */
  uint8_t msg[2 + sizeof json];
  size_t h = feed_data_header(FEED_DATA_ERROR | FEED_DATA_TEXT, "", 0, msg);
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof json ? sizeof json - 1 : (size_t)n;
  memcpy(msg + h, json, len);
  sctp_send(s->transport->sctp, (uint16_t)id, true, msg, h + len);
}

static int kind_of(const media_session *s, uint16_t id) {
  for (int k = 0; k < N_KINDS; k++)
    if (s->dc && s->dc->id[k] == id)
      return k;
  return -1;
}

/* m's channel of that kind, or NULL when it has none open. */
static sctp_assoc *channel(const media_session *m, int kind, int *id) {
  if (m->params.mode != MEDIA_PUBSUB_PUB || !m->dc || m->dc->id[kind] < 0 ||
      !m->transport || !m->transport->sctp || !sctp_is_up(m->transport->sctp))
    return NULL;
  *id = m->dc->id[kind];
  return m->transport->sctp;
}

static bool owned_by(const media_session *m, const char *uid, size_t len) {
  return strlen(m->params.owner) == len && memcmp(m->params.owner, uid, len) == 0;
}

static void dc_message(sctp_assoc *a, uint16_t id, bool binary, const uint8_t *data,
                       size_t len, void *ud) {
  media_session *s = ud;
  int kind = kind_of(s, id);
  if (kind < 0 || !s->feeds)
    return; /* a channel of the app's own: not ours to relay */
  feed_data_envelope e = {0};
  const char *why = "clients send no error envelope";
  int rc = binary ? feed_data_parse(data, len, &e, &why) : -1;
  if (!binary)
    why = "Parley's channels carry binary envelopes";
  if (rc != 0 || (e.flags & FEED_DATA_ERROR))
    return reply_error(s, id, rc == -2 ? "LIMIT" : "BAD_REQUEST", why);
  size_t owner_len = strlen(s->params.owner);
  uint8_t *out = xmalloc(2 + owner_len + e.payload_len);
  /* The header may cut the uid to FEED_DATA_UID_MAX: the length is what it wrote. */
  size_t h = feed_data_header(e.flags & FEED_DATA_TEXT, s->params.owner, owner_len, out);
  memcpy(out + h, e.payload, e.payload_len);
  size_t out_len = h + e.payload_len;
  size_t n;
  media_session *const *members = feed_room_members(s->feeds, &n);
  bool found = false;
  for (size_t i = 0; i < n; i++) {
    media_session *m = members[i];
    int to_id;
    sctp_assoc *to;
    if (m == s || !(to = channel(m, kind, &to_id)) ||
        (e.uid_len && !owned_by(m, e.uid, e.uid_len)))
      continue;
    found = true;
    int sent = sctp_send(to, (uint16_t)to_id, true, out, out_len);
    if (sent != 0 && e.uid_len)
      reply_error(s, id, "LIMIT",
                  sent == SCTP_E_AGAIN ? "the recipient is not reading fast enough"
                                       : "the recipient's channel refused the message");
  }
  free(out);
  if (e.uid_len && !found)
    reply_error(s, id, "NOT_FOUND",
                "no participant of that uid with an open data channel");
  (void)a;
}

static void dc_open(sctp_assoc *a, const sctp_channel_info *ch, void *ud) {
  media_session *s = ud;
  (void)a;
  if (!s->dc)
    return;
  int kind = strcmp(ch->label, FEED_DATA_LABEL) == 0         ? RELIABLE
             : strcmp(ch->label, FEED_DATA_LABEL_LOSSY) == 0 ? LOSSY
                                                             : -1;
  if (kind >= 0)
    s->dc->id[kind] = ch->id;
}

static void dc_close(sctp_assoc *a, uint16_t id, const char *reason, void *ud) {
  media_session *s = ud;
  (void)a, (void)reason;
  int kind = kind_of(s, id);
  if (kind >= 0)
    s->dc->id[kind] = -1;
}

static void dc_state(sctp_assoc *a, bool up, void *ud) {
  media_session *s = ud;
  (void)a;
  log_debug("media", "call %s: pub/sub data channels %s", s->params.call_uuid,
            up ? "up" : "gone");
  if (!up && s->dc)
    s->dc->id[RELIABLE] = s->dc->id[LOSSY] = -1;
}

void feed_data_update(media_session *s) {
  const sdp_choice *dc = sdp_agreement_data(&s->params.agreed);
  if (!dc || !s->transport || s->transport->sctp)
    return;
  /* No on_writable: a fan-out never waits for one slow recipient; a message to one uid
   * that does not fit is refused to its sender (LIMIT) instead. */
  static const sctp_callbacks cb = {.on_state = dc_state,
                                    .on_open = dc_open,
                                    .on_message = dc_message,
                                    .on_close = dc_close,
                                    .on_writable = NULL};
  sctp_config cfg = sctp_config_default(dc->sctp_port, dc->max_message_size, false);
  cfg.max_messages_per_s = FEED_DATA_MESSAGES_PER_S;
  cfg.max_bytes_per_s = FEED_DATA_BYTES_PER_S;
  if (!s->dc) {
    s->dc = xcalloc(1, sizeof *s->dc);
    s->dc->id[RELIABLE] = s->dc->id[LOSSY] = -1;
  }
  transport_enable_sctp(s->transport, &cfg, &cb, s);
}

void feed_data_leave(media_session *s) {
  free(s->dc);
  s->dc = NULL;
}
