/* whip_request — WHIP's path, headers and Link values, parsed and made without I/O. */
#include "api/whip_request.h"

#include "http/url.h"
#include "store/accounts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool rid_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > WHIP_RID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return false;
  }
  return true;
}

int whip_route_parse(const char *path, size_t len, whip_route *out) {
  memset(out, 0, sizeof *out);
  size_t plen = strlen(WHIP_PREFIX);
  if (len < plen || memcmp(path, WHIP_PREFIX, plen) != 0)
    return -1;
  url_segment segs[3];
  int n = url_split_path(path + plen, len - plen, segs, 3);
  if (n < 1 || n > 2)
    return -2;
  if (url_decode(segs[0].ptr, segs[0].len, out->sid, sizeof out->sid) < 0 ||
      !pubsub_id_ok(out->sid))
    return -2;
  if (n == 1) {
    out->kind = WHIP_ENDPOINT;
    return 0;
  }
  if (url_decode(segs[1].ptr, segs[1].len, out->rid, sizeof out->rid) < 0 ||
      !rid_ok(out->rid))
    return -2;
  out->kind = WHIP_RESOURCE;
  return 0;
}

static bool space(char c) { return c == ' ' || c == '\t'; }

bool whip_content_type_is_sdp(const char *value, size_t len) {
  static const char want[] = "application/sdp";
  size_t i = 0;
  while (i < len && space(value[i]))
    i++;
  size_t n = sizeof want - 1;
  if (len - i < n || strncasecmp(value + i, want, n) != 0)
    return false;
  i += n;
  while (i < len && space(value[i]))
    i++;
  return i == len || value[i] == ';';
}

int whip_bearer(const char *value, size_t len, char *out, size_t cap) {
  size_t i = 0;
  while (i < len && space(value[i]))
    i++;
  if (len - i < 7 || strncasecmp(value + i, "bearer", 6) != 0 || !space(value[i + 6]))
    return -1;
  i += 7;
  while (i < len && space(value[i]))
    i++;
  size_t end = len;
  while (end > i && space(value[end - 1]))
    end--;
  if (end == i || end - i >= cap)
    return -1;
  for (size_t k = i; k < end; k++) {
    unsigned char c = (unsigned char)value[k];
    if (c <= ' ' || c >= 0x7f)
      return -1;
  }
  memcpy(out, value + i, end - i);
  out[end - i] = '\0';
  return 0;
}

bool whip_token_is_key(const char *token) {
  return strlen(token) == API_KEY_LEN && strncmp(token, "pk_", 3) == 0;
}

/* Whether s can stand inside <...> or "..." of a Link header. */
static bool link_safe(const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < ' ' || c == 0x7f || c == '"' || c == '>' || c == '<' || c == '\\')
      return false;
  }
  return true;
}

size_t whip_link_headers(const json_t *ice_servers,
                         void (*add)(void *ud, const char *value, size_t len), void *ud) {
  size_t added = 0, i;
  json_t *server;
  json_array_foreach(ice_servers, i, server) {
    const char *user = json_string_value(json_object_get(server, "username"));
    const char *cred = json_string_value(json_object_get(server, "credential"));
    if ((user && !link_safe(user)) || (cred && !link_safe(cred)))
      continue;
    json_t *urls = json_object_get(server, "urls");
    size_t n = json_is_array(urls) ? json_array_size(urls) : 1;
    for (size_t k = 0; k < n; k++) {
      const char *url =
          json_string_value(json_is_array(urls) ? json_array_get(urls, k) : urls);
      if (!url || !*url || !link_safe(url))
        continue;
      buf b = {0};
      buf_appendf(&b, "<%s>; rel=\"ice-server\"", url);
      if (user && cred)
        buf_appendf(&b,
                    "; username=\"%s\"; credential=\"%s\"; credential-type=\"password\"",
                    user, cred);
      add(ud, b.data, b.len);
      buf_free(&b);
      added++;
    }
  }
  return added;
}
