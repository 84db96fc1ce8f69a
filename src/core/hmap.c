/* hmap — open-addressing hash map keyed by byte strings. */
#include "core/hmap.h"
#include "core/mem.h"

#include "core/ids.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  uint64_t hash; /* 0 marks an empty slot */
  const void *key;
  size_t len;
  void *value;
} slot;

struct hmap {
  slot *slots;
  size_t cap; /* power of two */
  size_t count;
};

static uint64_t seed;

/* FNV-1a with a per-process random seed, finished with a 64-bit mix, so that
 * keys an attacker chooses (aliases, addresses) cannot be aimed at one bucket. */
static uint64_t hash_bytes(const void *key, size_t len) {
  if (!seed) {
    ids_random(&seed, sizeof seed);
    seed |= 1;
  }
  const uint8_t *p = key;
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h ? h : 1;
}

hmap *hmap_new(void) {
  hmap *m = xcalloc(1, sizeof *m);
  m->cap = 16;
  m->slots = xcalloc(m->cap, sizeof(slot));
  return m;
}

void hmap_free(hmap *map) {
  if (!map)
    return;
  free(map->slots);
  free(map);
}

size_t hmap_count(const hmap *map) { return map->count; }

static size_t find(const hmap *m, uint64_t h, const void *key, size_t len) {
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const slot *s = &m->slots[i];
    if (s->hash == 0)
      return i;
    if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
      return i;
  }
}

void *hmap_get(const hmap *map, const void *key, size_t len) {
  uint64_t h = hash_bytes(key, len);
  const slot *s = &map->slots[find(map, h, key, len)];
  return s->hash ? s->value : NULL;
}

static void grow(hmap *m) {
  slot *old = m->slots;
  size_t old_cap = m->cap;
  m->cap *= 2;
  m->slots = xcalloc(m->cap, sizeof(slot));
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].hash)
      m->slots[find(m, old[i].hash, old[i].key, old[i].len)] = old[i];
  free(old);
}

void *hmap_put(hmap *map, const void *key, size_t len, void *value) {
  if ((map->count + 1) * 4 > map->cap * 3)
    grow(map);
  uint64_t h = hash_bytes(key, len);
  slot *s = &map->slots[find(map, h, key, len)];
  if (s->hash) {
    void *prev = s->value;
    s->key = key;
    s->value = value;
    return prev;
  }
  *s = (slot){h, key, len, value};
  map->count++;
  return NULL;
}

/* Backward-shift deletion at slot i: later entries of the probe run move into
 * the hole, so lookups never need tombstones. */
static void remove_at(hmap *map, size_t i) {
  size_t mask = map->cap - 1, hole = i;
  for (size_t j = (i + 1) & mask; map->slots[j].hash; j = (j + 1) & mask) {
    size_t home = map->slots[j].hash & mask;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      map->slots[hole] = map->slots[j];
      hole = j;
    }
  }
  map->slots[hole].hash = 0;
  map->count--;
}

void *hmap_remove(hmap *map, const void *key, size_t len) {
  size_t i = find(map, hash_bytes(key, len), key, len);
  if (!map->slots[i].hash)
    return NULL;
  void *value = map->slots[i].value;
  remove_at(map, i);
  return value;
}

size_t hmap_remove_if(hmap *map, bool (*match)(void *value, void *ud),
                      void (*drop)(void *value, void *ud), void *ud) {
  size_t removed = 0;
  for (size_t i = 0; i < map->cap;) {
    slot *s = &map->slots[i];
    if (!s->hash || !match(s->value, ud)) {
      i++;
      continue;
    }
    void *value = s->value;
    remove_at(map, i); /* another entry may now sit at i: look again */
    removed++;
    if (drop)
      drop(value, ud);
  }
  return removed;
}

void *hmap_next(const hmap *map, size_t *pos) {
  while (*pos < map->cap) {
    const slot *s = &map->slots[(*pos)++];
    if (s->hash)
      return s->value;
  }
  return NULL;
}
