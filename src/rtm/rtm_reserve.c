/* rtm_reserve — the bound on unclaimed session reservations (POST /api/rtm/v1/session)
 * per client and per account, kept as counts so a reservation costs O(1). */
#include "core/mem.h"
#include "rtm/rtm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key's count of INIT reservations; freed when it falls to zero. */
typedef struct {
  size_t n;
  size_t key_len;
  char key[];
} rtm_tally;

/* Account keys are "cid", client keys "cid\nclient_id": a cid never holds '\n'. */
static size_t tally_key(char *out, size_t cap, const rtm_session *s, bool client) {
  int n = client ? snprintf(out, cap, "%s\n%s", s->who.cid, s->client_id)
                 : snprintf(out, cap, "%s", s->who.cid);
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static size_t tally_get(rtm_core *core, const rtm_session *s, bool client) {
  char key[400];
  size_t len = tally_key(key, sizeof key, s, client);
  rtm_tally *t = hmap_get(core->reserved, key, len);
  return t ? t->n : 0;
}

static void tally_add(rtm_core *core, const rtm_session *s, bool client, int delta) {
  char key[400];
  size_t len = tally_key(key, sizeof key, s, client);
  rtm_tally *t = hmap_get(core->reserved, key, len);
  if (!t) {
    t = xcalloc(1, sizeof *t + len + 1);
    memcpy(t->key, key, len);
    t->key_len = len;
    hmap_put(core->reserved, t->key, len, t);
  }
  t->n = delta > 0 ? t->n + 1 : t->n - 1;
  if (t->n == 0) {
    hmap_remove(core->reserved, t->key, t->key_len);
    free(t);
  }
}

bool rtm_reservation_take(rtm_core *core, rtm_session *s, refusal *why) {
  const rtm_config *c = &core->cfg;
  /* Each reservation lives reserve_timeout_s (60 s) unclaimed: without a bound a
   * client posting 3,000 a second holds 180,000 of them. */
  if (c->max_reservations_client > 0 &&
      tally_get(core, s, true) >= (size_t)c->max_reservations_client) {
    refusal_set(why, 429, RTM_E_TOO_MANY,
                "this client already holds %d unclaimed session reservations",
                c->max_reservations_client);
    return false;
  }
  if (c->max_reservations_account > 0 &&
      tally_get(core, s, false) >= (size_t)c->max_reservations_account) {
    refusal_set(why, 429, RTM_E_TOO_MANY,
                "this account already holds %d unclaimed session reservations",
                c->max_reservations_account);
    return false;
  }
  tally_add(core, s, true, 1);
  tally_add(core, s, false, 1);
  s->reserved = true;
  return true;
}

void rtm_reservation_release(rtm_session *s) {
  if (!s->reserved)
    return;
  s->reserved = false;
  tally_add(s->core, s, true, -1);
  tally_add(s->core, s, false, -1);
}

void rtm_reservations_free(rtm_core *core) {
  size_t pos = 0;
  void *t;
  while ((t = hmap_next(core->reserved, &pos)))
    free(t);
  hmap_free(core->reserved);
}
