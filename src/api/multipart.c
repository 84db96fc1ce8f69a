/* multipart — locating a named part in a multipart/form-data body. */
#include "api/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_BOUNDARY 70 /* RFC 2046 §5.1.1 */

static int fail(char *err, size_t errlen, const char *why) {
  snprintf(err, errlen, "%s", why);
  return -1;
}

/* Copies the boundary parameter of a Content-Type header, unquoted. */
static int boundary_of(const char *ct, size_t len, char *out) {
  static const char prefix[] = "multipart/form-data";
  if (len < sizeof prefix - 1 || strncasecmp(ct, prefix, sizeof prefix - 1) != 0)
    return -1;
  for (size_t i = sizeof prefix - 1; i + 9 <= len; i++) {
    if (strncasecmp(ct + i, "boundary=", 9) != 0)
      continue;
    const char *v = ct + i + 9, *end = ct + len;
    bool quoted = v < end && *v == '"';
    v += quoted;
    size_t n = 0;
    while (v + n < end && v[n] != (quoted ? '"' : ';') && (quoted || v[n] != ' '))
      n++;
    if (n == 0 || n > MAX_BOUNDARY)
      return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
  }
  return -1;
}

static const char *find(const char *hay, size_t hay_len, const char *needle, size_t n) {
  if (n == 0 || hay_len < n)
    return NULL;
  for (size_t i = 0; i + n <= hay_len; i++)
    if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

/* Reads the part headers in [h, end): its form field name and Content-Type. */
static void part_headers(const char *h, const char *end, char *name, size_t name_len,
                         char *type, size_t type_len) {
  name[0] = type[0] = '\0';
  while (h < end) {
    const char *eol = find(h, (size_t)(end - h), "\r\n", 2);
    const char *line_end = eol ? eol : end;
    size_t n = (size_t)(line_end - h);
    if (n > 20 && strncasecmp(h, "Content-Disposition:", 20) == 0) {
      const char *q = find(h, n, "name=\"", 6);
      if (q) {
        const char *v = q + 6, *close = memchr(v, '"', (size_t)(line_end - v));
        size_t vn = close ? (size_t)(close - v) : 0;
        if (close && vn < name_len)
          memcpy(name, v, vn), name[vn] = '\0';
      }
    } else if (n > 13 && strncasecmp(h, "Content-Type:", 13) == 0) {
      const char *v = h + 13;
      while (v < line_end && *v == ' ')
        v++;
      size_t vn = (size_t)(line_end - v);
      if (vn < type_len)
        memcpy(type, v, vn), type[vn] = '\0';
    }
    h = eol ? eol + 2 : end;
  }
}

int multipart_find(const char *body, size_t len, const char *content_type, size_t ct_len,
                   const char *name, multipart_part *part, char *err, size_t errlen) {
  char boundary[MAX_BOUNDARY + 1], delim[MAX_BOUNDARY + 5];
  if (!content_type || boundary_of(content_type, ct_len, boundary) != 0)
    return fail(err, errlen, "Content-Type must be multipart/form-data with a boundary");
  int dn = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
  /* The first delimiter may start the body without the leading CRLF. */
  const char *at = len >= (size_t)dn - 2 && memcmp(body, delim + 2, (size_t)dn - 2) == 0
                       ? body
                       : find(body, len, delim, (size_t)dn);
  size_t skip = at == body ? (size_t)dn - 2 : (size_t)dn;
  while (at) {
    const char *p = at + skip, *end = body + len;
    if (end - p >= 2 && p[0] == '-' && p[1] == '-')
      break; /* the closing delimiter */
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
      return fail(err, errlen, "malformed multipart delimiter");
    p += 2;
    const char *hdr_end = find(p, (size_t)(end - p), "\r\n\r\n", 4);
    if (!hdr_end)
      return fail(err, errlen, "multipart part without headers");
    char field[64];
    part_headers(p, hdr_end, field, sizeof field, part->type, sizeof part->type);
    const char *data = hdr_end + 4;
    const char *next = find(data, (size_t)(end - data), delim, (size_t)dn);
    if (!next)
      return fail(err, errlen, "multipart part not terminated");
    if (strcmp(field, name) == 0) {
      part->data = data;
      part->len = (size_t)(next - data);
      return 0;
    }
    at = next;
    skip = (size_t)dn;
  }
  char why[96];
  snprintf(why, sizeof why, "no \"%s\" part in the form", name);
  return fail(err, errlen, why);
}
