/* forwarded — X-Forwarded-For, read from the right past trusted proxies. */
#include "http/forwarded.h"

#include <string.h>

/* One entry, spaces trimmed: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1",
 * "[2001:db8::1]" or "[2001:db8::1]:5678". */
static int parse_entry(const char *s, size_t len, net_addr *out) {
  while (len && (*s == ' ' || *s == '\t'))
    s++, len--;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  if (len && *s == '[') {
    const char *close = memchr(s, ']', len);
    if (!close)
      return -1;
    size_t after = len - (size_t)(close - s) - 1;
    if (after && close[1] != ':')
      return -1;
    return net_addr_parse(s + 1, (size_t)(close - s) - 1, out);
  }
  const char *colon = memchr(s, ':', len);
  if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
    len = (size_t)(colon - s); /* one colon: IPv4 with a port */
  return net_addr_parse(s, len, out);
}

int forwarded_client(const char *const *values, const size_t *lens, size_t n,
                     const cidr_list *trusted, net_addr *client) {
  const char *leftmost = NULL;
  size_t leftmost_len = 0;
  for (size_t h = n; h-- > 0;) {
    const char *v = values[h];
    size_t end = lens[h];
    for (;;) {
      size_t start = end;
      while (start > 0 && v[start - 1] != ',')
        start--;
      const char *item = v + start;
      size_t len = end - start;
      size_t k = 0;
      while (k < len && (item[k] == ' ' || item[k] == '\t'))
        k++;
      if (k < len) { /* empty items ("a,,b") are skipped */
        if (parse_entry(item, len, client) != 0)
          return -1;
        if (!cidr_list_contains(trusted, client))
          return 0;
        leftmost = item;
        leftmost_len = len;
      }
      if (start == 0)
        break;
      end = start - 1;
    }
  }
  if (!leftmost)
    return -1;
  return parse_entry(leftmost, leftmost_len, client);
}
