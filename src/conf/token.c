/* token — client API tokens: 256-bit random strings handed to clients, of which the
 * server keeps only the SHA-256, looked up by digest and expired by a sweep. */
#include "conf/internal.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void token_issue(conf_core *core, participant *p, char out[IDS_TOKEN_LEN + 1]) {
  token_entry *t = xcalloc(1, sizeof *t);
  ids_token(out);
  ids_digest(out, IDS_TOKEN_LEN, t->digest);
  t->owner = p;
  uint64_t lifetime = (uint64_t)core->cfg->token_lifetime_s * 1000;
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
  if (len != IDS_TOKEN_LEN)
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

void conf_refresh_token(participant *p, char out[IDS_TOKEN_LEN + 1]) {
  token_issue(p->room->core, p, out);
}

int conf_token_lifetime(const conf_core *core) { return core->cfg->token_lifetime_s; }
