/* ps_errors — the error codes of the publish/subscribe API (docs/PUBSUB.md), one list
 * for the frame parser (api/rtc_message) and the session core's refusals (pubsub). */
#ifndef PARLEY_PS_ERRORS_H
#define PARLEY_PS_ERRORS_H

#include "auth/credentials.h"
#include "core/refusal.h"

#define PS_E_BAD_REQUEST "BAD_REQUEST"       /* 400 */
#define PS_E_UNAUTHORIZED "UNAUTHORIZED"     /* 401 */
#define PS_E_FORBIDDEN "FORBIDDEN"           /* 403 */
#define PS_E_NOT_FOUND "NOT_FOUND"           /* 404 */
#define PS_E_NOT_JOINED "NOT_JOINED"         /* 409 */
#define PS_E_ALREADY_JOINED "ALREADY_JOINED" /* 409 */
#define PS_E_LIMIT "LIMIT"                   /* 429 */
#define PS_E_INTERNAL "INTERNAL"             /* 500 */

/* Ids (sid, uid, feed_id): 1 to PS_MAX_ID characters of [A-Za-z0-9_.:-]. */
#define PS_MAX_ID PUBSUB_ID_MAX

/* The HTTP class of a PS_E_* code (400 for an unknown one). */
int ps_error_status(const char *code);
/* Fills why with a PS_E_* code, its HTTP class and a message; returns -1. */
int ps_refuse(refusal *why, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
