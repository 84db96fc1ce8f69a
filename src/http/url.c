/* url — percent-decoding, path splitting and query parameters. */
#include "http/url.h"

#include <string.h>

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int url_decode(const char *in, size_t len, char *out, size_t outlen) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    if (c == '%') {
      if (len - i < 3)
        return -1;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return -1;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (o + 1 >= outlen || c == '\0')
      return -1;
    out[o++] = c;
  }
  if (outlen == 0)
    return -1;
  out[o] = '\0';
  return (int)o;
}

int url_split_path(const char *path, size_t len, url_segment *segs, int max) {
  size_t i = (len > 0 && path[0] == '/') ? 1 : 0;
  int n = 0;
  for (;;) {
    size_t start = i;
    while (i < len && path[i] != '/')
      i++;
    if (n == max)
      return -1;
    segs[n].ptr = path + start;
    segs[n].len = i - start;
    n++;
    if (i >= len)
      return n;
    i++; /* skip '/' */
  }
}

int url_query_param(const char *query, size_t len, const char *name, char *out,
                    size_t outlen) {
  size_t name_len = strlen(name);
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && query[end] != '&')
      end++;
    const char *eq = memchr(query + i, '=', end - i);
    size_t key_len = eq ? (size_t)(eq - (query + i)) : end - i;
    if (key_len == name_len && memcmp(query + i, name, name_len) == 0) {
      const char *v = eq ? eq + 1 : query + end;
      return url_decode(v, (size_t)(query + end - v), out, outlen);
    }
    i = end + 1;
  }
  return -1;
}
