/* policy — asks the external policy server (client API §E) on the libcurl multi handle:
 * builds Pexip's GET requests and query parameters, keeps the per-request budget,
 * classifies every outcome for the metrics, and caches avatars briefly. */
#include "policy/policy.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"
#include "http/client.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX (64 * 1024)    /* a policy answer is a few hundred bytes */
#define AVATAR_MAX (256 * 1024) /* larger images are refused (404 to the client) */
#define AVATAR_TTL_MS 60000     /* a cached image is served this long */
#define AVATAR_CACHE_BYTES (8u << 20)
#define AVATAR_CACHE_N 128

typedef enum {
  OUT_USED,      /* 200, usable, applied */
  OUT_REJECT,    /* 200, action reject */
  OUT_CONTINUE,  /* 200, well-formed, nothing to apply (action continue) */
  OUT_INVALID,   /* 200 but not JSON, status != success, wrong fields, not a JPEG */
  OUT_NOT_FOUND, /* 404 */
  OUT_HTTP,      /* another status */
  OUT_TIMEOUT,   /* no answer within the budget */
  OUT_ERROR,     /* connection refused, reset, name not found... */
  OUTCOMES
} outcome;

static const char *const outcome_names[OUTCOMES] = {"used",    "reject",    "continue",
                                                    "invalid", "not_found", "http_error",
                                                    "timeout", "error"};
static const char *const kind_names[POLICY_KINDS] = {"service", "participant", "location",
                                                     "avatar"};
static const char *const kind_paths[POLICY_KINDS] = {
    "/policy/v1/service/configuration", "/policy/v1/participant/properties",
    "/policy/v1/participant/location", "/policy/v1/participant/avatar/"};

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

typedef struct avatar_entry {
  char *key; /* "alias\nwidth\nheight" */
  char *jpeg;
  size_t len;
  uint64_t at_ms;
} avatar_entry;

struct policy {
  uv_loop_t *loop;
  const config *cfg;
  http_client *http;
  char base[512]; /* the URL without a trailing '/' */
  char auth[600]; /* "Authorization: Basic ..." or "" */
  bool asks[POLICY_KINDS];
  policy_call *live;
  uint64_t counts[POLICY_KINDS][OUTCOMES];
  uint64_t hist[POLICY_KINDS][N_BUCKETS];
  double seconds[POLICY_KINDS];
  avatar_entry avatars[AVATAR_CACHE_N];
  size_t avatar_bytes;
};

struct policy_call {
  policy *p;
  policy_kind kind;
  http_call *http;
  uint64_t started_ns;
  union {
    policy_service_cb service;
    policy_participant_cb participant;
    policy_location_cb location;
    policy_avatar_cb avatar;
  } cb;
  void *ud;
  char local_alias[256];
  char avatar_key[300];
  char participant[48]; /* for the log */
  policy_call *prev, *next;
};

policy *policy_new(uv_loop_t *loop, const config *cfg) {
  if (!cfg->policy_url[0])
    return NULL;
  policy *p = xcalloc(1, sizeof *p);
  p->loop = loop;
  p->cfg = cfg;
  p->http = http_client_new(loop);
  snprintf(p->base, sizeof p->base, "%s", cfg->policy_url);
  size_t n = strlen(p->base);
  while (n && p->base[n - 1] == '/')
    p->base[--n] = '\0';
  p->asks[POLICY_KIND_SERVICE] = cfg->policy_service != 0;
  p->asks[POLICY_KIND_PARTICIPANT] = cfg->policy_participant != 0;
  p->asks[POLICY_KIND_LOCATION] = cfg->policy_media_location != 0;
  p->asks[POLICY_KIND_AVATAR] = cfg->policy_avatar != 0;
  if (cfg->policy_user[0]) {
    char plain[400];
    unsigned char enc[560];
    int len =
        snprintf(plain, sizeof plain, "%s:%s", cfg->policy_user, cfg->policy_password);
    if (len > 0 && (size_t)len < sizeof plain) {
      EVP_EncodeBlock(enc, (const unsigned char *)plain, len);
      snprintf(p->auth, sizeof p->auth, "Authorization: Basic %s", (const char *)enc);
    }
    OPENSSL_cleanse(plain, sizeof plain);
  }
  log_info("policy",
           "policy server %s: service=%d participant=%d location=%d avatar=%d%s", p->base,
           p->asks[0], p->asks[1], p->asks[2], p->asks[3],
           p->auth[0] ? " (basic auth)" : "");
  return p;
}

static void unlink_call(policy_call *c) {
  policy *p = c->p;
  if (c->prev)
    c->prev->next = c->next;
  else if (p->live == c)
    p->live = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

void policy_free(policy *p) {
  if (!p)
    return;
  while (p->live) { /* their owners may still cancel them: orphaned, freed then */
    policy_call *c = p->live;
    unlink_call(c);
    c->p = NULL;
    c->http = NULL; /* http_client_free drops its transfer */
    if (c->kind == POLICY_KIND_LOCATION && !c->cb.location)
      free(c); /* nobody else holds it */
  }
  http_client_free(p->http);
  for (size_t i = 0; i < AVATAR_CACHE_N; i++) {
    free(p->avatars[i].key);
    free(p->avatars[i].jpeg);
  }
  OPENSSL_cleanse(p->auth, sizeof p->auth);
  free(p);
}

bool policy_asks(const policy *p, policy_kind kind) { return p && p->asks[kind]; }

void policy_call_cancel(policy_call *c) {
  if (!c)
    return;
  if (c->p) {
    http_call_cancel(c->http);
    unlink_call(c);
  }
  free(c);
}

/* ---- the request ---- */

void policy_query_add(buf *out, const char *key, const char *value) {
  static const char hex[] = "0123456789ABCDEF";
  if (out->len)
    buf_append(out, "&", 1);
  for (int part = 0; part < 2; part++) {
    const unsigned char *s = (const unsigned char *)(part ? (value ? value : "") : key);
    for (; *s; s++) {
      bool plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                   (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' ||
                   *s == '~';
      if (plain) {
        buf_append(out, s, 1);
      } else {
        char esc[3] = {'%', hex[*s >> 4], hex[*s & 15]};
        buf_append(out, esc, 3);
      }
    }
    if (!part)
      buf_append(out, "=", 1);
  }
}

static const char *tf(bool v) { return v ? "True" : "False"; }

/* The parameters every request carries (§E.2's common set), as a web client's
 * request_token produces them on Infinity: protocol api, trigger web, dial_in. */
static void common_params(const policy *p, buf *q, const policy_params *c,
                          policy_kind kind) {
  const config *cfg = p->cfg;
  policy_query_add(q, "local_alias", c->local_alias);
  policy_query_add(q, "remote_alias", c->remote_alias);
  policy_query_add(q, "remote_display_name", c->remote_display_name);
  policy_query_add(q, "remote_address", c->remote_address);
  policy_query_add(q, "remote_port", "");
  policy_query_add(q, "call_direction", "dial_in");
  policy_query_add(q, "protocol", "api");
  policy_query_add(q, "bandwidth", "0");
  policy_query_add(q, "vendor", c->vendor);
  policy_query_add(q, "encryption", "On");
  policy_query_add(q, "registered", "False");
  policy_query_add(q, "trigger", kind == POLICY_KIND_AVATAR ? "web_avatar_fetch" : "web");
  policy_query_add(q, "call_tag", c->call_tag);
  policy_query_add(q, "idp_uuid", "");
  policy_query_add(q, "has_authenticated_display_name", "False");
  policy_query_add(q, "supports_direct_media", tf(c->supports_direct_media));
  policy_query_add(q, "teams_tenant_id", "");
  policy_query_add(q, "location", cfg->region);
  policy_query_add(q, "node_ip", cfg->http_host);
  policy_query_add(q, "version_id", "36");
  policy_query_add(q, "pseudo_version_id", parley_version());
  policy_query_add(q, "breakout_uuid", "");
  policy_query_add(q, "display_count", "");
  policy_query_add(q, "previous_service_name", "");
}

static void service_params(buf *q, const policy_params *c) {
  policy_query_add(q, "service_name", c->service_name);
  policy_query_add(q, "service_tag", c->service_tag);
  policy_query_add(q, "unique_service_name", c->service_name);
}

static void on_done(const http_result *res, void *ud);

static policy_call *start(policy *p, policy_kind kind, const policy_params *c, buf *q,
                          const char *path_tail, void *cb, void *ud) {
  policy_call *call = xcalloc(1, sizeof *call);
  call->p = p;
  call->kind = kind;
  call->ud = ud;
  call->started_ns = uv_hrtime();
  snprintf(call->local_alias, sizeof call->local_alias, "%s",
           c->local_alias ? c->local_alias : "");
  snprintf(call->participant, sizeof call->participant, "%s",
           c->participant_uuid ? c->participant_uuid : "");
  switch (kind) {
  case POLICY_KIND_SERVICE:
    call->cb.service = (policy_service_cb)cb;
    break;
  case POLICY_KIND_PARTICIPANT:
    call->cb.participant = (policy_participant_cb)cb;
    break;
  case POLICY_KIND_LOCATION:
    call->cb.location = (policy_location_cb)cb;
    break;
  default:
    call->cb.avatar = (policy_avatar_cb)cb;
    break;
  }
  buf url = {0};
  buf_appendf(&url, "%s%s", p->base, kind_paths[kind]);
  if (path_tail) {
    buf seg = {0}; /* the alias as one path segment: policy_query_add's encoding */
    policy_query_add(&seg, "", path_tail);
    buf_append(&url, seg.data + 1, seg.len - 1); /* without the "=" */
    buf_free(&seg);
  }
  buf_appendf(&url, "?%.*s", (int)q->len, q->data ? q->data : "");
  const char *headers[3] = {"Accept: application/json", NULL, NULL};
  if (kind == POLICY_KIND_AVATAR)
    headers[0] = "Accept: image/jpeg";
  if (p->auth[0])
    headers[1] = p->auth;
  int budget = c->timeout_ms > 0 && c->timeout_ms < p->cfg->policy_timeout_ms
                   ? c->timeout_ms
                   : p->cfg->policy_timeout_ms;
  http_request req = {
      .method = "GET",
      .url = url.data,
      .headers = headers,
      .timeout_ms = budget,
      .connect_timeout_ms = budget,
      .max_response_bytes = (kind == POLICY_KIND_AVATAR ? AVATAR_MAX : JSON_MAX) + 1,
  };
  call->next = p->live;
  if (p->live)
    p->live->prev = call;
  p->live = call;
  call->http = http_client_send(p->http, &req, on_done, call);
  log_debug("policy", "GET %s", url.data);
  buf_free(&url);
  buf_free(q);
  return call;
}

policy_call *policy_ask_service(policy *p, const policy_params *c, policy_service_cb cb,
                                void *ud) {
  buf q = {0};
  common_params(p, &q, c, POLICY_KIND_SERVICE);
  return start(p, POLICY_KIND_SERVICE, c, &q, NULL, (void *)cb, ud);
}

policy_call *policy_ask_participant(policy *p, const policy_params *c,
                                    policy_participant_cb cb, void *ud) {
  buf q = {0};
  common_params(p, &q, c, POLICY_KIND_PARTICIPANT);
  service_params(&q, c);
  policy_query_add(&q, "participant_uuid", c->participant_uuid);
  policy_query_add(&q, "call_uuid", "");
  policy_query_add(&q, "participant_type", "api");
  policy_query_add(&q, "preauthenticated_role", c->preauthenticated_role);
  policy_query_add(&q, "bypass_lock", "False");
  policy_query_add(&q, "receive_from_audio_mix", "main");
  policy_query_add(&q, "send_to_audio_mixes_mix_name", "main");
  policy_query_add(&q, "send_to_audio_mixes_prominent", "False");
  return start(p, POLICY_KIND_PARTICIPANT, c, &q, NULL, (void *)cb, ud);
}

policy_call *policy_ask_location(policy *p, const policy_params *c, policy_location_cb cb,
                                 void *ud) {
  buf q = {0};
  common_params(p, &q, c, POLICY_KIND_LOCATION);
  service_params(&q, c);
  policy_query_add(&q, "participant_uuid", c->participant_uuid);
  policy_query_add(&q, "proxy_node_address", "");
  policy_query_add(&q, "proxy_node_location", "");
  policy_query_add(&q, "request_id", c->participant_uuid);
  return start(p, POLICY_KIND_LOCATION, c, &q, NULL, (void *)cb, ud);
}

static void avatar_key(const policy_params *c, char *out, size_t n) {
  snprintf(out, n, "%s\n%d\n%d", c->remote_alias ? c->remote_alias : "", c->width,
           c->height);
}

bool policy_avatar_cached(policy *p, const policy_params *c, const char **jpeg,
                          size_t *len) {
  char key[300];
  avatar_key(c, key, sizeof key);
  uint64_t now = uv_now(p->loop);
  for (size_t i = 0; i < AVATAR_CACHE_N; i++) {
    avatar_entry *e = &p->avatars[i];
    if (e->key && strcmp(e->key, key) == 0 && now - e->at_ms < AVATAR_TTL_MS) {
      *jpeg = e->jpeg;
      *len = e->len;
      return true;
    }
  }
  return false;
}

static void avatar_store(policy *p, const char *key, const char *jpeg, size_t len) {
  uint64_t now = uv_now(p->loop);
  avatar_entry *slot = NULL;
  for (size_t i = 0; i < AVATAR_CACHE_N; i++) { /* the same key, or the oldest */
    avatar_entry *e = &p->avatars[i];
    if (e->key && strcmp(e->key, key) == 0) {
      slot = e;
      break;
    }
    if (!slot || !e->key || (slot->key && e->at_ms < slot->at_ms))
      slot = e;
  }
  /* Past the byte bound, expired entries go first, then the oldest. */
  for (size_t i = 0; i < AVATAR_CACHE_N && p->avatar_bytes + len > AVATAR_CACHE_BYTES;
       i++) {
    avatar_entry *e = &p->avatars[i];
    if (e != slot && e->key && now - e->at_ms >= AVATAR_TTL_MS) {
      p->avatar_bytes -= e->len;
      free(e->key);
      free(e->jpeg);
      memset(e, 0, sizeof *e);
    }
  }
  if (slot->key) {
    p->avatar_bytes -= slot->len;
    free(slot->key);
    free(slot->jpeg);
  }
  if (p->avatar_bytes + len > AVATAR_CACHE_BYTES) {
    memset(slot, 0, sizeof *slot);
    return;
  }
  slot->key = xstrdup(key);
  slot->jpeg = xmalloc(len);
  memcpy(slot->jpeg, jpeg, len);
  slot->len = len;
  slot->at_ms = now;
  p->avatar_bytes += len;
}

policy_call *policy_ask_avatar(policy *p, const policy_params *c, policy_avatar_cb cb,
                               void *ud) {
  buf q = {0};
  common_params(p, &q, c, POLICY_KIND_AVATAR);
  service_params(&q, c);
  policy_query_add(&q, "participant_uuid", c->participant_uuid);
  char num[16];
  snprintf(num, sizeof num, "%d", c->width);
  policy_query_add(&q, "width", num);
  snprintf(num, sizeof num, "%d", c->height);
  policy_query_add(&q, "height", num);
  policy_query_add(&q, "role", c->role ? c->role : "unknown");
  policy_call *call = start(p, POLICY_KIND_AVATAR, c, &q,
                            c->remote_alias ? c->remote_alias : "", (void *)cb, ud);
  avatar_key(c, call->avatar_key, sizeof call->avatar_key);
  return call;
}

/* ---- the answer ---- */

static void count(policy *p, policy_kind kind, outcome o, uint64_t started_ns) {
  double s = (double)(uv_hrtime() - started_ns) / 1e9;
  p->counts[kind][o]++;
  p->seconds[kind] += s;
  for (size_t i = 0; i < N_BUCKETS; i++)
    if (s <= buckets[i])
      p->hist[kind][i]++;
}

static outcome transport_outcome(const http_result *res) {
  if (res->status == 0)
    return res->error && strstr(res->error, "timed out") ? OUT_TIMEOUT : OUT_ERROR;
  return res->status == 404 ? OUT_NOT_FOUND : OUT_HTTP;
}

static outcome of_verdict(policy_verdict v) {
  return v == POLICY_USE ? OUT_USED : v == POLICY_REJECT ? OUT_REJECT : OUT_CONTINUE;
}

static void on_done(const http_result *res, void *ud) {
  policy_call *call = ud;
  policy *p = call->p;
  call->http = NULL;
  unlink_call(call);
  policy_kind kind = call->kind;
  bool answered = res->status == 200;
  const char *body = answered ? res->body : NULL;
  size_t len = answered ? res->body_len : 0;
  size_t max = kind == POLICY_KIND_AVATAR ? AVATAR_MAX : JSON_MAX;
  bool too_big = answered && len > max;
  outcome o = answered ? OUT_INVALID : transport_outcome(res);
  if (too_big)
    body = NULL, len = 0;
  char why[200];
  why[0] = '\0';
  switch (kind) {
  case POLICY_KIND_SERVICE: {
    policy_service ans;
    policy_parse_service(body, len, call->local_alias, &ans);
    if (answered && !too_big)
      o = ans.invalid ? OUT_INVALID : of_verdict(ans.verdict);
    if (!answered || too_big)
      ans.verdict = POLICY_FALLBACK;
    snprintf(why, sizeof why, "%s", ans.why);
    count(p, kind, o, call->started_ns);
    call->cb.service(&ans, call->ud);
    room_record_free(ans.rec);
    break;
  }
  case POLICY_KIND_PARTICIPANT: {
    policy_participant ans;
    policy_parse_participant(body, len, &ans);
    if (answered && !too_big)
      o = ans.invalid ? OUT_INVALID : of_verdict(ans.verdict);
    if (!answered || too_big)
      ans.verdict = POLICY_FALLBACK;
    snprintf(why, sizeof why, "%s", ans.why);
    count(p, kind, o, call->started_ns);
    call->cb.participant(&ans, call->ud);
    break;
  }
  case POLICY_KIND_LOCATION: {
    policy_location ans;
    policy_parse_location(body, len, &ans);
    if (answered && !too_big)
      o = ans.verdict == POLICY_USE ? OUT_USED : OUT_INVALID;
    if (!answered || too_big)
      ans.verdict = POLICY_FALLBACK;
    snprintf(why, sizeof why, "%s", ans.why);
    count(p, kind, o, call->started_ns);
    if (ans.verdict == POLICY_USE)
      log_info("policy",
               "media location for %s participant %s: %s (%zu overflow); logged only, "
               "rooms are placed before it is asked",
               call->local_alias, call->participant, ans.location, ans.n_overflow);
    if (call->cb.location)
      call->cb.location(&ans, call->ud);
    break;
  }
  default: {
    bool jpeg = body && policy_is_jpeg(body, len);
    o = answered && !too_big ? (jpeg ? OUT_USED : OUT_INVALID) : o;
    if (jpeg)
      avatar_store(p, call->avatar_key, body, len);
    else if (answered)
      snprintf(why, sizeof why, too_big ? "larger than %d bytes" : "not a JPEG",
               AVATAR_MAX);
    count(p, kind, o, call->started_ns);
    call->cb.avatar(jpeg ? body : NULL, jpeg ? len : 0, call->ud);
    break;
  }
  }
  if (o != OUT_USED && o != OUT_REJECT && o != OUT_CONTINUE && o != OUT_NOT_FOUND)
    log_warn("policy", "%s for %s: %s%s%s; the local store decides", kind_names[kind],
             call->local_alias, outcome_names[o], res->status ? "" : ": ",
             res->status ? why : res->error);
  free(call);
}

void policy_metrics(const policy *p, buf *out) {
  if (!p)
    return;
  buf_appendf(out, "# HELP parley_policy_requests_total Requests to the policy server, "
                   "by type and outcome.\n"
                   "# TYPE parley_policy_requests_total counter\n");
  for (int k = 0; k < POLICY_KINDS; k++)
    for (int o = 0; o < OUTCOMES; o++)
      buf_appendf(out, "parley_policy_requests_total{type=\"%s\",outcome=\"%s\"} %llu\n",
                  kind_names[k], outcome_names[o], (unsigned long long)p->counts[k][o]);
  buf_appendf(out, "# HELP parley_policy_request_seconds How long policy requests took.\n"
                   "# TYPE parley_policy_request_seconds histogram\n");
  for (int k = 0; k < POLICY_KINDS; k++) {
    uint64_t n = 0;
    for (int o = 0; o < OUTCOMES; o++)
      n += p->counts[k][o];
    for (size_t i = 0; i < N_BUCKETS; i++)
      buf_appendf(out,
                  "parley_policy_request_seconds_bucket{type=\"%s\",le=\"%g\"} %llu\n",
                  kind_names[k], buckets[i], (unsigned long long)p->hist[k][i]);
    buf_appendf(out,
                "parley_policy_request_seconds_bucket{type=\"%s\",le=\"+Inf\"} %llu\n"
                "parley_policy_request_seconds_sum{type=\"%s\"} %.6f\n"
                "parley_policy_request_seconds_count{type=\"%s\"} %llu\n",
                kind_names[k], (unsigned long long)n, kind_names[k], p->seconds[k],
                kind_names[k], (unsigned long long)n);
  }
}
