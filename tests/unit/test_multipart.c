/* test_multipart — finding the "frame" part of multipart/form-data bodies as browsers
 * and PexRTC send them; quoted boundaries; bad bodies refused with a reason. */
#include "api/multipart.h"
#include "check.h"

static int find(const char *body, const char *ct, multipart_part *p, char *err) {
  return multipart_find(body, strlen(body), ct, strlen(ct), "frame", p, err, 120);
}

int main(void) {
  multipart_part p;
  char err[120];
  const char *body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"other\"\r\n\r\n"
      "ignored\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"frame\"; filename=\"s.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n"
      "\xff\xd8JPEGDATA\r\n--not-the-boundary\xff\xd9\r\n"
      "--XyZ--\r\n";
  CHECK(find(body, "multipart/form-data; boundary=XyZ", &p, err) == 0);
  CHECK(p.len == 32 && memcmp(p.data, "\xff\xd8JPEGDATA", 10) == 0);
  CHECK_STR(p.type, "image/jpeg");
  CHECK(find(body, "multipart/form-data; boundary=\"XyZ\"", &p, err) == 0 && p.len == 32);

  CHECK(find(body, "application/json", &p, err) == -1 && strstr(err, "multipart"));
  CHECK(find(body, "multipart/form-data", &p, err) == -1);
  CHECK(find(body, "multipart/form-data; boundary=Other", &p, err) == -1);
  const char *no_frame =
      "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--B--\r\n";
  CHECK(find(no_frame, "multipart/form-data; boundary=B", &p, err) == -1 &&
        strstr(err, "frame"));
  const char *cut = "--B\r\nContent-Disposition: form-data; name=\"frame\"\r\n\r\nabc";
  CHECK(find(cut, "multipart/form-data; boundary=B", &p, err) == -1);
  const char *no_headers = "--B\r\nContent-Disposition: form-data; name=\"frame\"";
  CHECK(find(no_headers, "multipart/form-data; boundary=B", &p, err) == -1);
  CHECK_DONE();
}
