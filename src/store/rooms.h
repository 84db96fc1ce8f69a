/* rooms — room records in the store: a room with its PINs, flags and aliases.
 * parleyctl writes them; parleyd reads them (and notices changes via data_version). */
#ifndef PARLEY_ROOMS_H
#define PARLEY_ROOMS_H

#include "store/db.h"

#include <stdbool.h>

#define ROOM_MAX_ALIASES 16
#define ROOM_MAX_ALIAS_LEN 250
#define ROOM_MAX_PIN_LEN 20

typedef struct {
  int64_t id;
  char *name;
  char *pin;       /* host PIN or NULL */
  char *guest_pin; /* guest PIN or NULL */
  bool allow_guests, lecture, locked, reception;
  bool test_call; /* every participant gets its own media back (service_type test_call) */
  /* Guests may not take the presentation floor (client API guests_can_present false).
   * Negative so that a zeroed record keeps Pexip's default, guests present. */
  bool guests_cannot_present;
  /* Clients must reach media through TURN only (use_relay_candidates_only). */
  bool relay_only;
  /* Not from the store: a policy server's service configuration made it (an ad-hoc
   * room, src/policy); id is then the conference core's own key, below zero. */
  bool adhoc;
  char *aliases[ROOM_MAX_ALIASES];
  size_t n_aliases;
} room_record;

/* Checks a record a user asked for; returns 0 or -1 with a reason in err. */
int room_record_validate(const room_record *r, char *err, size_t errlen);
void room_record_free(room_record *r);
room_record *room_record_copy(const room_record *r);

int store_room_add(store *st, const room_record *r, char *err, size_t errlen);
/* Removes the room that owns alias (with all its aliases). */
int store_room_remove(store *st, const char *alias, char *err, size_t errlen);
/* Sets the relay-only flag of the room that owns alias. */
int store_room_set_relay_only(store *st, const char *alias, bool relay_only, char *err,
                              size_t errlen);
/* Calls cb for every room, aliases in their given order. Returns 0 or -1. */
int store_rooms_each(store *st, void (*cb)(const room_record *r, void *ud), void *ud);

#endif
