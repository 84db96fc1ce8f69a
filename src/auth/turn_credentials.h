/* turn_credentials — short-lived TURN credentials in the "TURN REST API" form
 * (draft-uberti-behave-turn-rest-00) that coturn checks with use-auth-secret and
 * static-auth-secret: username "<unix expiry>:<id>", password
 * base64(HMAC-SHA1(secret, username)). parleyd and coturn share only the secret. */
#ifndef PARLEY_TURN_CREDENTIALS_H
#define PARLEY_TURN_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

/* base64 of a 20-byte HMAC-SHA1 is 28 characters, plus the NUL. */
#define TURN_CREDENTIAL_LEN 29
#define TURN_USERNAME_MAX 192

/* Writes "<expires_at>:<id>" into out. Returns 0, or -1 if it does not fit, id is
 * empty or holds a ':' (coturn splits the username at the first one) or a control
 * character. */
int turn_username(int64_t expires_at, const char *id, char *out, size_t cap);

/* Writes base64(HMAC-SHA1(secret, username)) into out (cap >= TURN_CREDENTIAL_LEN).
 * Returns 0, or -1 if the secret is empty or out is too small. */
int turn_credential(const char *secret, const char *username, char *out, size_t cap);

#endif
