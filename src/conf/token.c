/* token — client API tokens: 256-bit random strings handed to clients, of which the
 * server keeps only the SHA-256, looked up by digest and expired by a sweep. In cluster
 * mode the random string is followed by a MAC any node can check (auth/cluster_auth.h);
 * the digest of the whole token is still what this node looks up. */
#include "conf/internal.h"

#include "auth/cluster_auth.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void conf_set_token_key(conf_core *core, const uint8_t *key, size_t len) {
  if (len > sizeof core->token_key)
    len = sizeof core->token_key;
  memcpy(core->token_key, key, len);
  core->token_key_len = len;
}

void token_issue(conf_core *core, participant *p, char out[CONF_TOKEN_MAX]) {
  token_entry *t = xcalloc(1, sizeof *t);
  char random[IDS_TOKEN_LEN + 1];
  ids_token(random);
  uint64_t lifetime = (uint64_t)core->cfg->token_lifetime_s * 1000;
  if (!core->token_key_len ||
      ctoken_make(core->token_key, core->token_key_len, random,
                  p->room->cfg->n_aliases ? p->room->cfg->aliases[0] : "", p->uuid,
                  (int64_t)time(NULL) + core->cfg->token_lifetime_s, out,
                  CONF_TOKEN_MAX) < 0)
    memcpy(out, random, sizeof random);
  ids_digest(out, strlen(out), t->digest);
  t->owner = p;
  t->expires_at = uv_now(core->loop) + lifetime;
  list_push_back(&p->tokens, &t->link);
  hmap_put(core->tokens, t->digest, IDS_DIGEST_LEN, t);
  /* The participant lives as long as its newest token. */
  participant_arm_lapse(p, lifetime);
}

/* Looking up by digest means neither the table's layout nor a comparison ever
 * depends on the secret itself, so response timing says nothing about tokens. */
participant *token_resolve(conf_core *core, const char *token) {
  size_t len = strlen(token);
  if (len != IDS_TOKEN_LEN && (!core->token_key_len || len >= CONF_TOKEN_MAX))
    return NULL;
  uint8_t digest[IDS_DIGEST_LEN];
  ids_digest(token, len, digest);
  token_entry *t = hmap_get(core->tokens, digest, IDS_DIGEST_LEN);
  if (!t || t->expires_at <= uv_now(core->loop))
    return NULL;
  return t->owner;
}

static void drop(conf_core *core, token_entry *t) {
  hmap_remove(core->tokens, t->digest, IDS_DIGEST_LEN);
  list_unlink(&t->link);
  free(t);
}

void token_revoke_all(conf_core *core, participant *p) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->tokens) drop(core, list_entry(pos, token_entry, link));
}

static bool token_expired(void *value, void *ud) {
  return ((token_entry *)value)->expires_at <= *(uint64_t *)ud;
}

static void free_token(void *value, void *ud) {
  (void)ud;
  token_entry *t = value;
  list_unlink(&t->link);
  free(t);
}

void token_sweep(conf_core *core) {
  uint64_t now = uv_now(core->loop);
  hmap_remove_if(core->tokens, token_expired, free_token, &now);
}

void conf_refresh_token(participant *p, char out[CONF_TOKEN_MAX]) {
  token_issue(p->room->core, p, out);
}

int conf_token_lifetime(const conf_core *core) { return core->cfg->token_lifetime_s; }
