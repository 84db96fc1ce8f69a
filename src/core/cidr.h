/* cidr — IP addresses and address ranges ("10.0.0.0/8", "::1", "fd00::/8"): parsing,
 * matching, and the byte key a per-address table uses. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are taken as the IPv4 address they carry, so one client is one
 * address whichever socket family it arrived on. */
#ifndef PARLEY_CIDR_H
#define PARLEY_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct {
  int family; /* AF_INET or AF_INET6 */
  unsigned char bytes[16];
} net_addr;

typedef struct {
  net_addr net;
  int bits; /* prefix length: 0-32 or 0-128 */
} cidr;

typedef struct {
  cidr *v;
  size_t n;
} cidr_list;

/* Parses one address, len bytes of s (no brackets, no port). Returns 0, or -1. */
int net_addr_parse(const char *s, size_t len, net_addr *out);
/* From a socket address (AF_INET or AF_INET6). Returns 0, or -1 for another family. */
int net_addr_from_sockaddr(const struct sockaddr *sa, net_addr *out);
/* The family byte then the 4 or 16 address bytes; returns the key's length (5 or 17). */
size_t net_addr_key(const net_addr *a, unsigned char key[17]);
/* Text form into out (at least 46 bytes for IPv6). */
void net_addr_format(const net_addr *a, char *out, size_t outlen);

/* Parses a comma-separated list of addresses and ranges (spaces allowed around items;
 * "" is the empty list). Returns 0, or -1 with err naming the bad item. */
int cidr_list_parse(const char *text, cidr_list *out, char *err, size_t errlen);
bool cidr_list_contains(const cidr_list *list, const net_addr *a);
void cidr_list_free(cidr_list *list);

#endif
