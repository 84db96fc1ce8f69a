/* test_webhook_secret — webhook secrets in the Standard Webhooks form ("whsec_" + base64
 * of the key): new accounts get one, signatures match the spec's own example, and a
 * secret stored before (its text was the key) is shown in that form with the same key. */
#include "check.h"
#include "core/ids.h"
#include "delivery/webhook.h"
#include "store/accounts.h"

#include <stdlib.h>

static void spec_example(void) {
  /* The example in the Standard Webhooks specification (and its libraries' tests). */
  char sig[WEBHOOK_SIGNATURE_LEN];
  webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
               1614265330, "{\"test\": 2432232314}", sig);
  CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  uint8_t key[WEBHOOK_MAX_KEY];
  CHECK(webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, sizeof key) == 24);
  CHECK(webhook_key("whsec_AAE=", key, sizeof key) == 2 && key[0] == 0 && key[1] == 1);
  CHECK(webhook_key("whsec_AA==", key, sizeof key) == 1);
}

static void new_secrets(void) {
  char a[IDS_WEBHOOK_SECRET_LEN + 1], b[IDS_WEBHOOK_SECRET_LEN + 1];
  ids_webhook_secret(a);
  ids_webhook_secret(b);
  CHECK(strlen(a) == IDS_WEBHOOK_SECRET_LEN && strncmp(a, "whsec_", 6) == 0);
  CHECK(strcmp(a, b) != 0);
  uint8_t key[WEBHOOK_MAX_KEY];
  CHECK(webhook_key(a, key, sizeof key) == 32);
}

static void stored_before(void) {
  char dir[] = "/tmp/parley-whsec-XXXXXX", err[300];
  CHECK(mkdtemp(dir) != NULL);
  store *st = store_open(dir, err, sizeof err);
  CHECK(st != NULL);
  account acc, got;
  CHECK(accounts_add(st, "acme", NULL, &acc, err, sizeof err) == 0);
  CHECK(strlen(acc.webhook_secret) == IDS_WEBHOOK_SECRET_LEN);
  CHECK(strncmp(acc.webhook_secret, "whsec_", 6) == 0);
  CHECK(accounts_get(st, "acme", &got) == 0);
  CHECK_STR(got.webhook_secret, acc.webhook_secret);

  /* An account made by an earlier build: a 43-character token whose text was the key. */
  const char *legacy = "Ui5Rxx0zw5xtgvJ6eSvFcYgDIsrRsMfjw7RKMH6ahvM";
  CHECK(sqlite3_exec(st->db,
                     "UPDATE accounts SET webhook_secret = "
                     "'Ui5Rxx0zw5xtgvJ6eSvFcYgDIsrRsMfjw7RKMH6ahvM' WHERE cid = 'acme'",
                     NULL, NULL, NULL) == SQLITE_OK);
  CHECK(accounts_get(st, "acme", &got) == 0);
  CHECK_STR(got.webhook_secret,
            "whsec_VWk1Unh4MHp3NXh0Z3ZKNmVTdkZjWWdESXNyUnNNZmp3N1JLTUg2YWh2TQ==");
  /* Same key, same signature, whichever form signs (jobs queued before the upgrade
   * hold the old form); the value is what standardwebhooks computes for that secret. */
  char s1[WEBHOOK_SIGNATURE_LEN], s2[WEBHOOK_SIGNATURE_LEN];
  webhook_sign(legacy, "msg_1", 1700000000, "{}", s1);
  webhook_sign(got.webhook_secret, "msg_1", 1700000000, "{}", s2);
  CHECK_STR(s1, s2);
  CHECK_STR(s2, "v1,BsxXYnZtCaAKT2pxoI5K1wrHEra25KYN27ufyD3OmPs=");
  store_close(st);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  spec_example();
  new_secrets();
  stored_before();
  CHECK_DONE();
}
