/* webhook — what a webhook request carries: the signature over id.timestamp.body and the
 * bodies of the RTM protocol's webhooks (times ISO 8601 UTC). */
#ifndef PARLEY_WEBHOOK_H
#define PARLEY_WEBHOOK_H

#include "store/jobs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "v1," + base64 (44 chars) + NUL */
#define WEBHOOK_SIGNATURE_LEN 48

#define WEBHOOK_MAX_KEY 256

/* The HMAC key of a webhook secret, as Standard Webhooks libraries take it: for
 * "whsec_" + base64 the decoded bytes; for a secret made before Parley used that form,
 * its text (the same key as its "whsec_" form, see ids_webhook_secret_standard).
 * Returns the key's length (at most cap). */
size_t webhook_key(const char *secret, uint8_t *key, size_t cap);
/* webhook-signature: "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)), key
 * from webhook_key(secret): what a Standard Webhooks library verifies. */
void webhook_sign(const char *secret, const char *id, int64_t timestamp_s,
                  const char *body, char out[WEBHOOK_SIGNATURE_LEN]);
/* "2024-05-01T12:00:00.123Z"; out needs 25 bytes. */
void webhook_iso8601(int64_t unix_ms, char out[32]);
/* JSON bodies, malloc'd. */
char *webhook_upload_ready_body(const recording_row *r);
char *webhook_upload_failed_body(const recording_row *r, int upload_status_code,
                                 const char *msg);
/* session_finished, or supervisor_session_finished for a supervisor's session. */
char *webhook_session_finished_body(bool supervisor, const char *session_id,
                                    const char *client_id, const char *cause,
                                    int64_t started_ms, int64_t stopped_ms);

#endif
