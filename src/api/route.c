/* route — client API v2 path routing. */
#include "api/route.h"

#include "http/url.h"

#include <string.h>

#define MAX_SEGMENTS 12
#define PREFIX_SEGMENTS 4 /* api/client/v2/conferences */

static int segment_is(const url_segment *s, const char *text) {
  return s->len == strlen(text) && memcmp(s->ptr, text, s->len) == 0;
}

static int decode_into(const url_segment *s, char *out, size_t outlen) {
  return url_decode(s->ptr, s->len, out, outlen) < 0 ? -2 : 0;
}

/* Joins segments [from, n) with '/' into out, decoded. */
static int join_rest(const url_segment *segs, int from, int n, char *out, size_t outlen) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = from; i < n; i++) {
    if (i > from) {
      if (used + 1 >= outlen)
        return -2;
      out[used++] = '/';
    }
    int w = url_decode(segs[i].ptr, segs[i].len, out + used, outlen - used);
    if (w < 0)
      return -2;
    used += (size_t)w;
  }
  return 0;
}

static int parse_participant(const url_segment *segs, int n, api_route *out) {
  /* segs[0] = "participants", segs[1] = uuid, segs[2] = action ... */
  if (decode_into(&segs[1], out->participant, sizeof out->participant) != 0 ||
      decode_into(&segs[2], out->action, sizeof out->action) != 0)
    return -2;
  if (n == 3) {
    out->kind = ROUTE_PARTICIPANT;
    return 0;
  }
  if (n == 5 && strcmp(out->action, "calls") == 0) {
    if (decode_into(&segs[3], out->call, sizeof out->call) != 0 ||
        decode_into(&segs[4], out->action, sizeof out->action) != 0)
      return -2;
    out->kind = ROUTE_CALL;
    return 0;
  }
  return -1;
}

int api_route_parse(const char *path, size_t len, api_route *out) {
  memset(out, 0, sizeof *out);
  url_segment segs[MAX_SEGMENTS];
  int n = url_split_path(path, len, segs, MAX_SEGMENTS);
  if (n < 0)
    return -1;
  if (n == 1 && segment_is(&segs[0], "healthz"))
    return out->kind = ROUTE_HEALTHZ, 0;
  if (n == 1 && segment_is(&segs[0], "metrics"))
    return out->kind = ROUTE_METRICS, 0;
  if (n < PREFIX_SEGMENTS + 2 || !segment_is(&segs[0], "api") ||
      !segment_is(&segs[1], "client") || !segment_is(&segs[2], "v2") ||
      !segment_is(&segs[3], "conferences"))
    return -1;
  if (decode_into(&segs[4], out->alias, sizeof out->alias) != 0)
    return -2;
  if (out->alias[0] == '\0')
    return -1;
  const url_segment *rest = &segs[5];
  int n_rest = n - 5;
  if (n_rest >= 3 && segment_is(&rest[0], "participants"))
    return parse_participant(rest, n_rest, out);
  if (decode_into(&rest[0], out->action, sizeof out->action) != 0)
    return -2;
  if (out->action[0] == '\0')
    return -1;
  out->kind = ROUTE_CONFERENCE;
  if (n_rest > 1) {
    /* theme/ and theme/<path>, breakouts/..., video_mixes/... */
    int rc = join_rest(rest, 1, n_rest, out->sub, sizeof out->sub);
    if (rc != 0)
      return rc;
    if (strcmp(out->action, "theme") == 0 && out->sub[0] == '\0')
      strcpy(out->action, "theme/");
  }
  return 0;
}
