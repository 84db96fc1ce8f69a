/* hmap — a hash map from byte-string keys to pointers (open addressing, linear
 * probing, backward-shift deletion). Keys are not copied: they must live as long as the
 * entry. */
#ifndef PARLEY_HMAP_H
#define PARLEY_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hmap hmap;

hmap *hmap_new(void);
void hmap_free(hmap *map);
size_t hmap_count(const hmap *map);
void *hmap_get(const hmap *map, const void *key, size_t len);
/* Inserts or replaces; returns the previous value or NULL. */
void *hmap_put(hmap *map, const void *key, size_t len, void *value);
/* Removes and returns the value, or NULL if absent. */
void *hmap_remove(hmap *map, const void *key, size_t len);

/* Removes every entry match() accepts, then hands each removed value to drop
 * (which may free it; NULL for none). Returns how many were removed. */
size_t hmap_remove_if(hmap *map, bool (*match)(void *value, void *ud),
                      void (*drop)(void *value, void *ud), void *ud);

/* Iteration: start with *pos = 0; returns the next value or NULL at the end.
 * The map must not be changed during iteration. */
void *hmap_next(const hmap *map, size_t *pos);

#endif
