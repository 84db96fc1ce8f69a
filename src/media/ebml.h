/* ebml — the EBML primitives Matroska is made of: writing elements (ids, sizes, integers,
 * floats, strings, binaries, masters) into a buffer, and reading ids and sizes back. */
#ifndef PARLEY_EBML_H
#define PARLEY_EBML_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An 8-byte size field saying "unknown" (all value bits set): a live Segment. */
#define EBML_UNKNOWN_SIZE 0x00ffffffffffffffULL
#define EBML_MAX_ID_LEN 4

void ebml_put_id(buf *b, uint32_t id);
/* The size as a vint of exactly width bytes (1..8); width 0 picks the shortest. */
void ebml_put_size(buf *b, uint64_t size, int width);
void ebml_put_uint(buf *b, uint32_t id, uint64_t v);
void ebml_put_float(buf *b, uint32_t id, double v); /* always 8 bytes */
void ebml_put_string(buf *b, uint32_t id, const char *s);
void ebml_put_binary(buf *b, uint32_t id, const void *data, size_t len);
/* A Void element of exactly total bytes (total >= 2), to reserve space to patch later. */
void ebml_put_void(buf *b, size_t total);
/* Masters: open writes the id and an 8-byte size placeholder and returns where the size
 * is; close patches it to cover everything appended since. */
size_t ebml_open(buf *b, uint32_t id);
void ebml_close(buf *b, size_t size_at);
/* Writes v as an 8-byte size vint into out (for patching sizes in files). */
void ebml_size8(uint8_t out[8], uint64_t v);

/* Reading. Both return the bytes consumed, or 0 if the input is too short or invalid. */
size_t ebml_read_id(const uint8_t *p, size_t n, uint32_t *id);
/* unknown is set when every value bit is 1 (the size is not known). */
size_t ebml_read_size(const uint8_t *p, size_t n, uint64_t *size, bool *unknown);
uint64_t ebml_read_uint(const uint8_t *p, size_t n); /* n <= 8 */
double ebml_read_float(const uint8_t *p, size_t n);  /* n is 4 or 8, else 0 */

#endif
