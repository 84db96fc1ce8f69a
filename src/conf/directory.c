/* directory — which room an alias names. Rooms live in the store (written by
 * parleyctl); this keeps them in memory and re-reads them when the store changes. */
#include "conf/internal.h"

#include "core/log.h"
#include "core/mem.h"
#include "store/rooms.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  room_record **items;
  size_t n, cap;
} record_list;

static void collect(const room_record *r, void *ud) {
  record_list *l = ud;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->items = xrealloc(l->items, l->cap * sizeof *l->items);
  }
  l->items[l->n++] = room_record_copy(r);
}

void directory_free(conf_core *core) {
  hmap_free(core->aliases);
  core->aliases = NULL;
  for (size_t i = 0; i < core->n_records; i++)
    room_record_free(core->records[i]);
  free(core->records);
  core->records = NULL;
  core->n_records = 0;
}

static const room_record *record_by_id(conf_core *core, int64_t id) {
  for (size_t i = 0; i < core->n_records; i++)
    if (core->records[i]->id == id)
      return core->records[i];
  return NULL;
}

/* Active rooms follow their record; a removed room ends for everyone in it. */
static void update_active_rooms(conf_core *core) {
  room *gone[64];
  size_t n_gone;
  do {
    n_gone = 0;
    size_t pos = 0;
    room *r;
    while ((r = hmap_next(core->rooms, &pos))) {
      if (r->cfg->adhoc) /* a policy server's room: not the store's to end */
        continue;
      const room_record *rec = record_by_id(core, r->cfg->id);
      if (rec)
        room_replace_config(r, rec);
      else if (n_gone < 64)
        gone[n_gone++] = r;
    }
    for (size_t i = 0; i < n_gone; i++) {
      log_info("conf", "room %s removed from the store: ending it",
               gone[i]->cfg->aliases[0]);
      list_node *p, *tmp;
      list_for_each_safe(p, tmp, &gone[i]->participants) conf_leave(
          list_entry(p, participant, link), "Conference terminated by an administrator");
    }
  } while (n_gone == 64);
}

void directory_refresh(conf_core *core) {
  int64_t version = store_data_version(core->store);
  if (core->aliases && version == core->data_version)
    return;
  record_list list = {0};
  if (store_rooms_each(core->store, collect, &list) != 0) {
    log_error("conf", "cannot read rooms from the store; keeping the old list");
    for (size_t i = 0; i < list.n; i++)
      room_record_free(list.items[i]);
    free(list.items);
    return;
  }
  directory_free(core);
  core->records = list.items;
  core->n_records = list.n;
  core->aliases = hmap_new();
  for (size_t i = 0; i < list.n; i++)
    for (size_t a = 0; a < list.items[i]->n_aliases; a++)
      hmap_put(core->aliases, list.items[i]->aliases[a],
               strlen(list.items[i]->aliases[a]), list.items[i]);
  core->data_version = version;
  log_info("conf", "directory loaded: %zu rooms", list.n);
  update_active_rooms(core);
}

const room_record *directory_lookup(conf_core *core, const char *alias) {
  return hmap_get(core->aliases, alias, strlen(alias));
}

const room_record *conf_find_alias(conf_core *core, const char *alias) {
  directory_refresh(core);
  const room_record *rec = directory_lookup(core, alias);
  if (rec)
    return rec;
  /* An ad-hoc room (a policy server's) while people are in it. */
  const room *r = hmap_get(core->adhoc_aliases, alias, strlen(alias));
  return r ? r->cfg : NULL;
}

size_t conf_adhoc_rooms(const conf_core *core) { return hmap_count(core->adhoc_rooms); }
