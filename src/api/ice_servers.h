/* ice_servers — the TURN and STUN servers (--turn-url, --stun-url) as clients get
 * them: the client API's token result fields `turn` and `stun` (§A.1), and RTM's
 * `ice_servers` in RTCIceServer form. Each TURN credential is minted for one id (a
 * participant or an RTM session) and lives --turn-ttl seconds; none is ever logged. */
#ifndef PARLEY_ICE_SERVERS_H
#define PARLEY_ICE_SERVERS_H

#include "core/config.h"

#include <jansson.h>
#include <stdint.h>

/* [{urls:[...], username, credential}] for id, or NULL when no TURN is configured
 * (or id cannot name a user). now: unix seconds. */
json_t *ice_turn_json(const config *cfg, const char *id, int64_t now);
/* [{url}, ...] one per --stun-url, or NULL when none. */
json_t *ice_stun_json(const config *cfg);
/* RTCIceServer[]: {urls:[stun...]} and {urls:[turn...], username, credential}; an
 * empty array when neither is configured. */
json_t *ice_servers_json(const config *cfg, const char *id, int64_t now);

#endif
