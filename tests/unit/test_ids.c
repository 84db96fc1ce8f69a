/* test_ids — tokens and UUIDs have the promised shape and do not repeat; secret
 * comparison is exact. */
#include "check.h"
#include "core/ids.h"

int main(void) {
  char a[IDS_TOKEN_LEN + 1], b[IDS_TOKEN_LEN + 1];
  ids_token(a);
  ids_token(b);
  CHECK(strlen(a) == IDS_TOKEN_LEN);
  CHECK(strcmp(a, b) != 0);
  for (size_t i = 0; i < IDS_TOKEN_LEN; i++)
    CHECK(
        strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
  char u[IDS_UUID_LEN + 1];
  ids_uuid(u);
  CHECK(ids_is_uuid(u, strlen(u)));
  CHECK(u[14] == '4');
  CHECK(strchr("89ab", u[19]) != NULL);
  CHECK(!ids_is_uuid("not-a-uuid", 10));
  CHECK(ids_secret_equal("1234", 4, "1234", 4));
  CHECK(!ids_secret_equal("1234", 4, "12345", 5));
  CHECK(!ids_secret_equal("1234", 4, "1235", 4));
  uint8_t d1[IDS_DIGEST_LEN], d2[IDS_DIGEST_LEN];
  ids_digest("abc", 3, d1);
  /* SHA-256("abc") from FIPS 180-2. */
  static const uint8_t want[4] = {0xba, 0x78, 0x16, 0xbf};
  CHECK(memcmp(d1, want, 4) == 0);
  ids_digest("abd", 3, d2);
  CHECK(memcmp(d1, d2, IDS_DIGEST_LEN) != 0);
  CHECK_DONE();
}
