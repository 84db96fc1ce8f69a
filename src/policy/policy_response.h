/* policy_response — reads the external policy server's answers (client API §E): the
 * envelope {"status", "action", "result"} of service configuration, participant
 * properties and media location, into plain structs. Pure: no I/O, no loop. */
#ifndef PARLEY_POLICY_RESPONSE_H
#define PARLEY_POLICY_RESPONSE_H

#include "store/rooms.h"

#include <stdbool.h>
#include <stddef.h>

/* What parleyd does with an answer. */
typedef enum {
  POLICY_FALLBACK, /* not usable (garbage, status != success, action continue, a
                      service we do not offer): the local room store decides */
  POLICY_USE,      /* status success with usable data: it decides */
  POLICY_REJECT,   /* status success, action reject: the join is refused */
} policy_verdict;

/* GET /policy/v1/service/configuration. With POLICY_USE, rec is a room record (name,
 * PINs, flags; aliases = the dialled alias) the caller owns and frees with
 * room_record_free; rec->adhoc is set. */
typedef struct {
  policy_verdict verdict;
  room_record *rec;
  char service_tag[128]; /* with POLICY_USE: passed on in later requests */
  bool invalid;  /* FALLBACK because the answer is malformed (else: action continue) */
  char why[160]; /* for the log: why a FALLBACK, or which fields were adjusted */
} policy_service;

/* GET /policy/v1/participant/properties: overrides, each only when given. */
typedef enum { POLICY_ROLE_KEEP, POLICY_ROLE_HOST, POLICY_ROLE_GUEST } policy_role;
typedef struct {
  policy_verdict verdict;
  policy_role role;        /* preauthenticated_role chair|guest */
  int bypass_lock;         /* -1 not given, else 0/1 */
  char display_name[256];  /* remote_display_name, "" if not given */
  char call_tag[256];      /* call_tag, "" if not given */
  char reject_reason[200]; /* with action reject, "" if none */
  bool invalid;
  char why[160];
} policy_participant;

/* GET /policy/v1/participant/location. */
typedef struct {
  policy_verdict verdict; /* never REJECT */
  char location[128];     /* with POLICY_USE */
  char overflow[3][128]; /* overflow_locations (or primary/secondary_overflow_location) */
  size_t n_overflow;
  bool invalid;
  char why[160];
} policy_location;

/* Each reads body (len bytes, not necessarily NUL-ended) and always fills out. */
void policy_parse_service(const char *body, size_t len, const char *local_alias,
                          policy_service *out);
void policy_parse_participant(const char *body, size_t len, policy_participant *out);
void policy_parse_location(const char *body, size_t len, policy_location *out);

/* True if data looks like a JPEG (SOI marker then a segment marker). */
bool policy_is_jpeg(const void *data, size_t len);

#endif
