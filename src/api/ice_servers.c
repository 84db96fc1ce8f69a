/* ice_servers — TURN/STUN server lists with per-id TURN credentials, as JSON. */
#include "api/ice_servers.h"

#include "auth/turn_credentials.h"

#include <string.h>

/* The comma-separated list (checked by config) as an array of strings, or NULL. */
static json_t *url_array(const char *list) {
  if (!*list)
    return NULL;
  json_t *a = json_array();
  const char *p = list;
  while (*p) {
    size_t n = strcspn(p, ",");
    json_array_append_new(a, json_stringn(p, n));
    p += n + (p[n] == ',');
  }
  return a;
}

/* {urls, username, credential}, or NULL. */
static json_t *turn_server(const config *cfg, const char *id, int64_t now) {
  char user[TURN_USERNAME_MAX], cred[TURN_CREDENTIAL_LEN];
  if (!cfg->turn_urls[0] ||
      turn_username(now + cfg->turn_ttl_s, id, user, sizeof user) != 0 ||
      turn_credential(cfg->turn_secret, user, cred, sizeof cred) != 0)
    return NULL;
  json_t *s = json_pack("{s:o, s:s, s:s}", "urls", url_array(cfg->turn_urls), "username",
                        user, "credential", cred);
  memset(cred, 0, sizeof cred);
  return s;
}

json_t *ice_turn_json(const config *cfg, const char *id, int64_t now) {
  json_t *s = turn_server(cfg, id, now);
  return s ? json_pack("[o]", s) : NULL;
}

json_t *ice_stun_json(const config *cfg) {
  json_t *urls = url_array(cfg->stun_urls);
  if (!urls)
    return NULL;
  json_t *out = json_array(), *u;
  size_t i;
  json_array_foreach(urls, i, u) json_array_append_new(out, json_pack("{s:O}", "url", u));
  json_decref(urls);
  return out;
}

json_t *ice_servers_json(const config *cfg, const char *id, int64_t now) {
  json_t *out = json_array();
  json_t *stun = url_array(cfg->stun_urls), *turn = turn_server(cfg, id, now);
  if (stun)
    json_array_append_new(out, json_pack("{s:o}", "urls", stun));
  if (turn)
    json_array_append_new(out, turn);
  return out;
}
