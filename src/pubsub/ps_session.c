/* ps_session — the publish/subscribe registry and its participants' life cycle:
 * sessions under their account, join / resume / leave, the resume grace, data. */
#include "pubsub/ps_session.h"

#include "pubsub/ps_internal.h"

#include "core/hmap.h"
#include "core/ids.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

/* An account's participants here, for its limit. */
typedef struct {
  char cid[64];
  size_t participants;
} ps_account;

static void on_timer(uv_timer_t *t);

ps_core *ps_core_new(uv_loop_t *loop, const ps_config *cfg) {
  ps_core *core = xcalloc(1, sizeof *core);
  core->loop = loop;
  core->cfg = *cfg;
  core->sessions = hmap_new();
  core->by_token = hmap_new();
  core->accounts = hmap_new();
  core->calls = hmap_new();
  LIST_INIT(&core->kept);
  uv_timer_init(loop, &core->timer);
  core->timer.data = core;
  return core;
}

void ps_core_counters(const ps_core *core, ps_counters *out) {
  *out = core->n;
  out->sessions = hmap_count(core->sessions);
}

/* ---- events --------------------------------------------------------------------- */

void ps_emit(ps_participant *p, const char *ev, json_t *data) {
  if (p->link_ud)
    p->link.event(p->link_ud, ev, data);
  else
    json_decref(data); /* kept for resume: events meanwhile are lost (docs/PUBSUB.md) */
}

/* ev to every member but `except`; data is copied per member and stolen. */
void ps_broadcast(ps_session *s, const ps_participant *except, const char *ev,
                  json_t *data) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &s->members) {
    ps_participant *q = list_entry(pos, ps_participant, node);
    if (q != except)
      ps_emit(q, ev, json_deep_copy(data));
  }
  json_decref(data);
}

static json_t *participant_json(const ps_participant *p) {
  return json_pack("{s:s, s:s?, s:O?}", "uid", p->uid, "name", p->name, "meta", p->meta);
}

/* The join / resume reply: the session as p sees it. */
static json_t *reply_for(const ps_participant *p) {
  const ps_session *s = p->s;
  json_t *members = json_array();
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, (list_node *)&s->members) {
    ps_participant *q = list_entry(pos, ps_participant, node);
    if (q != p)
      json_array_append_new(members, participant_json(q));
  }
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "cid", s->cid, "sid", s->sid, "uid",
                   p->uid, "session_token", p->token, "participants", members, "feeds",
                   ps_media_feeds_json(s, p));
}

/* ---- sessions ------------------------------------------------------------------- */

static size_t session_key(char *key, const char *cid, const char *sid) {
  int n = snprintf(key, PS_KEY_MAX, "%s\n%s", cid, sid);
  return n < 0 ? 0 : (size_t)n >= PS_KEY_MAX ? PS_KEY_MAX - 1 : (size_t)n;
}

static ps_session *session_find(ps_core *core, const char *cid, const char *sid) {
  char key[PS_KEY_MAX];
  size_t len = session_key(key, cid, sid);
  return hmap_get(core->sessions, key, len);
}

static ps_session *session_new(ps_core *core, const char *cid, const char *sid) {
  ps_session *s = xcalloc(1, sizeof *s);
  s->core = core;
  snprintf(s->cid, sizeof s->cid, "%s", cid);
  snprintf(s->sid, sizeof s->sid, "%s", sid);
  s->key_len = session_key(s->key, cid, sid);
  s->by_uid = hmap_new();
  s->feeds = hmap_new();
  LIST_INIT(&s->members);
  LIST_INIT(&s->all_feeds);
  uint64_t h = 1469598103934665603ULL; /* FNV-1a of the key: where its calls meet */
  for (size_t i = 0; i < s->key_len; i++)
    h = (h ^ (uint8_t)s->key[i]) * 1099511628211ULL;
  s->room_key = (int64_t)(h >> 1);
  hmap_put(core->sessions, s->key, s->key_len, s);
  core->n.sessions_started++;
  log_info("pubsub", "session %s of %s started", sid, cid);
  return s;
}

static void session_free(ps_session *s) {
  hmap_remove(s->core->sessions, s->key, s->key_len);
  log_info("pubsub", "session %s of %s ended", s->sid, s->cid);
  hmap_free(s->by_uid);
  hmap_free(s->feeds);
  free(s);
}

/* ---- participants --------------------------------------------------------------- */

static void unkeep(ps_participant *p) {
  if (p->kept_until_ms) {
    list_unlink(&p->kept);
    p->kept_until_ms = 0;
  }
}

/* The account's count changes by delta (+1 or -1); freed at zero. */
static void account_count(ps_core *core, const char *cid, int delta) {
  ps_account *a = hmap_get(core->accounts, cid, strlen(cid));
  if (!a) {
    a = xcalloc(1, sizeof *a);
    snprintf(a->cid, sizeof a->cid, "%s", cid);
    hmap_put(core->accounts, a->cid, strlen(a->cid), a);
  }
  a->participants = delta > 0 ? a->participants + 1 : a->participants - 1;
  if (a->participants == 0) {
    hmap_remove(core->accounts, a->cid, strlen(a->cid));
    free(a);
  }
}

static void participant_free(ps_participant *p) {
  ps_core *core = p->s->core;
  account_count(core, p->s->cid, -1);
  unkeep(p);
  hmap_remove(core->by_token, p->token, strlen(p->token));
  hmap_remove(p->s->by_uid, p->uid, strlen(p->uid));
  list_unlink(&p->node);
  p->s->n_members--;
  core->n.participants--;
  free(p->name);
  json_decref(p->meta);
  free(p);
}

static void attach(ps_participant *p, ps_link link, void *ud) {
  if (p->link_ud) /* still linked: the old socket is told to go */
    p->link.detached(p->link_ud, 1008, "this participant resumed on another connection");
  unkeep(p);
  p->link = link;
  p->link_ud = ud;
}

int ps_join(ps_core *core, const pubsub_identity *who, const char *sid, const char *uid,
            const char *name, const json_t *meta, ps_link link, void *link_ud,
            ps_participant **out, json_t **reply, refusal *why) {
  if (strcmp(who->sid, "*") != 0 && strcmp(who->sid, sid) != 0)
    return ps_refuse(why, PS_E_FORBIDDEN, "this token is for another session");
  if (who->uid[0] && uid && strcmp(who->uid, uid) != 0)
    return ps_refuse(why, PS_E_FORBIDDEN, "this token is for another participant id");
  if (!uid && who->uid[0])
    uid = who->uid;
  char made[PS_MAX_ID + 1];
  if (!uid) {
    char u[IDS_UUID_LEN + 1];
    ids_uuid(u);
    snprintf(made, sizeof made, "u-%s", u);
    uid = made;
  }
  ps_session *s = session_find(core, who->cid, sid);
  if (s && hmap_get(s->by_uid, uid, strlen(uid)))
    return ps_refuse(why, PS_E_ALREADY_JOINED,
                     "participant \"%s\" is already in session %s", uid, sid);
  if (s && s->n_members >= (size_t)core->cfg.max_participants)
    return ps_refuse(why, PS_E_LIMIT, "session %s is full (%d participants)", sid,
                     core->cfg.max_participants);
  ps_account *acc = hmap_get(core->accounts, who->cid, strlen(who->cid));
  if (acc && acc->participants >= (size_t)core->cfg.max_per_account)
    return ps_refuse(why, PS_E_LIMIT, "this account has %d participants here already",
                     core->cfg.max_per_account);
  if (!s)
    s = session_new(core, who->cid, sid);
  ps_participant *p = xcalloc(1, sizeof *p);
  p->s = s;
  snprintf(p->uid, sizeof p->uid, "%s", uid);
  ids_token(p->token);
  p->name = name ? xstrdup(name) : NULL;
  p->meta = meta ? json_deep_copy(meta) : NULL;
  p->who = *who;
  p->link = link;
  p->link_ud = link_ud;
  LIST_INIT(&p->kept);
  hmap_put(s->by_uid, p->uid, strlen(p->uid), p);
  hmap_put(core->by_token, p->token, strlen(p->token), p);
  ps_broadcast(s, NULL, "participant_joined", participant_json(p));
  list_push_back(&s->members, &p->node);
  s->n_members++;
  account_count(core, s->cid, +1);
  core->n.participants++;
  core->n.joins++;
  *out = p;
  *reply = reply_for(p);
  return 0;
}

int ps_resume(ps_core *core, const char *sid, const char *uid, const char *token,
              ps_link link, void *link_ud, ps_participant **out, json_t **reply,
              refusal *why) {
  ps_participant *p = hmap_get(core->by_token, token, strlen(token));
  if (!p || strcmp(p->uid, uid) != 0 || strcmp(p->s->sid, sid) != 0)
    return ps_refuse(why, PS_E_NOT_FOUND,
                     "nothing to resume: join again (a participant is kept %d s)",
                     core->cfg.resume_s);
  attach(p, link, link_ud);
  core->n.resumes++;
  *out = p;
  *reply = reply_for(p);
  return 0;
}

void ps_leave(ps_participant *p) {
  ps_session *s = p->s;
  p->link_ud = NULL; /* nothing more to its own socket */
  ps_media_participant_gone(p);
  ps_broadcast(s, p, "participant_left", json_pack("{s:s}", "uid", p->uid));
  participant_free(p);
  if (s->n_members == 0)
    session_free(s);
}

static void arm(ps_core *core) {
  if (list_empty(&core->kept)) {
    uv_timer_stop(&core->timer);
    return;
  }
  ps_participant *first = list_entry(core->kept.next, ps_participant, kept);
  uint64_t now = uv_now(core->loop);
  uv_timer_start(&core->timer, on_timer,
                 first->kept_until_ms > now ? first->kept_until_ms - now : 0, 0);
}

static void on_timer(uv_timer_t *t) {
  ps_core *core = t->data;
  uint64_t now = uv_now(core->loop);
  while (!list_empty(&core->kept)) {
    ps_participant *p = list_entry(core->kept.next, ps_participant, kept);
    if (p->kept_until_ms > now)
      break;
    log_info("pubsub", "%s of session %s not resumed in %d s: left", p->uid, p->s->sid,
             core->cfg.resume_s);
    ps_leave(p);
  }
  arm(core);
}

void ps_link_lost(ps_participant *p) {
  ps_core *core = p->s->core;
  p->link_ud = NULL;
  unkeep(p);
  p->kept_until_ms = uv_now(core->loop) + (uint64_t)core->cfg.resume_s * 1000;
  if (!p->kept_until_ms)
    p->kept_until_ms = 1;
  list_push_back(&core->kept, &p->kept); /* same grace for all: deadlines ascend */
  arm(core);
}

int ps_data(ps_participant *p, const char *to, const json_t *payload, refusal *why) {
  ps_core *core = p->s->core;
  uint64_t now = uv_now(core->loop);
  if (now - p->data_window_ms >= 1000) {
    p->data_window_ms = now;
    p->data_in_window = 0;
  }
  if (p->data_in_window >= core->cfg.data_per_s) {
    core->n.data_limited++;
    return ps_refuse(why, PS_E_LIMIT, "at most %d data messages a second",
                     core->cfg.data_per_s);
  }
  ps_participant *dst = NULL;
  if (to) {
    dst = hmap_get(p->s->by_uid, to, strlen(to));
    if (!dst || dst == p)
      return ps_refuse(why, PS_E_NOT_FOUND, "no other participant \"%s\" in this session",
                       to);
  }
  p->data_in_window++;
  core->n.data_sent++;
  json_t *data = json_pack("{s:s, s:O}", "from", p->uid, "payload", (json_t *)payload);
  if (dst)
    ps_emit(dst, "data", data);
  else
    ps_broadcast(p->s, p, "data", data);
  return 0;
}

const char *ps_participant_uid(const ps_participant *p) { return p->uid; }
const char *ps_participant_cid(const ps_participant *p) { return p->s->cid; }
const char *ps_participant_sid(const ps_participant *p) { return p->s->sid; }
const pubsub_identity *ps_participant_identity(const ps_participant *p) {
  return &p->who;
}

static void on_timer_closed(uv_handle_t *h) { free(h->data); }

void ps_core_free(ps_core *core) {
  size_t pos = 0;
  ps_session *s;
  while ((pos = 0, s = hmap_next(core->sessions, &pos))) {
    while (!list_empty(&s->members)) {
      ps_participant *p = list_entry(s->members.next, ps_participant, node);
      if (p->link_ud)
        p->link.detached(p->link_ud, 1001, "the server is shutting down");
      p->link_ud = NULL;
      ps_media_participant_gone(p);
      participant_free(p);
    }
    session_free(s);
  }
  hmap_free(core->sessions);
  hmap_free(core->by_token);
  hmap_free(core->accounts); /* empty: every participant was counted out */
  hmap_free(core->calls);
  core->timer.data = core;
  uv_close((uv_handle_t *)&core->timer, on_timer_closed);
}
