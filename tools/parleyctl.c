/* parleyctl — manages what parleyd serves, directly in its SQLite store: rooms and
 * their aliases, PINs and flags. A running parleyd notices changes by itself. */
#include "store/db.h"
#include "store/rooms.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: parleyctl [--data-dir DIR] COMMAND\n"
    "\n"
    "  room add ALIAS [--alias OTHER]... [--name NAME] [--pin P] [--guest-pin P]\n"
    "           [--allow-guests] [--lecture] [--locked] [--reception] [--test-call]\n"
    "  room list [--json]\n"
    "  room show ALIAS\n"
    "  room remove ALIAS\n"
    "\n"
    "--data-dir defaults to ./var, as for parleyd. PINs are 1 to 20 digits; guests\n"
    "need a host PIN; a reception room asks callers for the alias they want; a\n"
    "test-call room sends every participant its own audio and video back.\n";

static int die(const char *fmt, const char *arg) {
  fprintf(stderr, "parleyctl: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 2;
}

static const char *need_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc)
    return NULL;
  return argv[++*i];
}

static int room_add(store *st, int argc, char **argv) {
  if (argc < 1 || argv[0][0] == '-')
    return die("room add needs an ALIAS%s", "");
  room_record r = {0};
  r.aliases[r.n_aliases++] = argv[0];
  r.name = argv[0];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--allow-guests") == 0)
      r.allow_guests = true;
    else if (strcmp(a, "--lecture") == 0)
      r.lecture = true;
    else if (strcmp(a, "--locked") == 0)
      r.locked = true;
    else if (strcmp(a, "--reception") == 0)
      r.reception = true;
    else if (strcmp(a, "--test-call") == 0)
      r.test_call = true;
    else if (strcmp(a, "--alias") == 0 || strcmp(a, "--name") == 0 ||
             strcmp(a, "--pin") == 0 || strcmp(a, "--guest-pin") == 0) {
      if (!(v = need_value(argc, argv, &i)))
        return die("%s needs a value", a);
      if (a[2] == 'a') {
        if (r.n_aliases == ROOM_MAX_ALIASES)
          return die("at most 16 aliases%s", "");
        r.aliases[r.n_aliases++] = (char *)v;
      } else if (a[2] == 'n') {
        r.name = (char *)v;
      } else if (a[2] == 'p') {
        r.pin = (char *)v;
      } else {
        r.guest_pin = (char *)v;
      }
    } else {
      return die("unknown option \"%s\" for room add", a);
    }
  }
  char err[300];
  if (store_room_add(st, &r, err, sizeof err) != 0)
    return die("%s", err);
  printf("room %s added\n", r.aliases[0]);
  return 0;
}

static json_t *record_json(const room_record *r) {
  json_t *aliases = json_array();
  for (size_t i = 0; i < r->n_aliases; i++)
    json_array_append_new(aliases, json_string(r->aliases[i]));
  return json_pack("{s:I, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "id",
                   (json_int_t)r->id, "name", r->name, "aliases", aliases, "pin",
                   r->pin != NULL, "guest_pin", r->guest_pin != NULL, "allow_guests",
                   r->allow_guests, "lecture", r->lecture, "locked", r->locked,
                   "reception", r->reception, "test_call", r->test_call);
}

static void print_line(const room_record *r, void *ud) {
  (void)ud;
  printf("%-24s %-24s%s%s%s%s%s%s%s", r->aliases[0], r->name, r->pin ? " host-pin" : "",
         r->guest_pin ? " guest-pin" : "", r->allow_guests ? " guests" : "",
         r->lecture ? " lecture" : "", r->locked ? " locked" : "",
         r->reception ? " reception" : "", r->test_call ? " test-call" : "");
  for (size_t i = 1; i < r->n_aliases; i++)
    printf(" alias=%s", r->aliases[i]);
  putchar('\n');
}

static void append_json(const room_record *r, void *ud) {
  json_array_append_new(ud, record_json(r));
}

typedef struct {
  const char *alias;
  json_t *found;
} show_query;

static void match_alias(const room_record *r, void *ud) {
  show_query *q = ud;
  for (size_t i = 0; i < r->n_aliases; i++)
    if (strcmp(r->aliases[i], q->alias) == 0 && !q->found)
      q->found = record_json(r);
}

static int room_command(store *st, int argc, char **argv) {
  if (argc < 1)
    return die("room needs add, list, show or remove%s", "");
  const char *verb = argv[0];
  if (strcmp(verb, "add") == 0)
    return room_add(st, argc - 1, argv + 1);
  if (strcmp(verb, "list") == 0) {
    bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (!as_json) {
      store_rooms_each(st, print_line, NULL);
      return 0;
    }
    json_t *all = json_array();
    store_rooms_each(st, append_json, all);
    json_dumpf(all, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(all);
    return 0;
  }
  if (argc != 2)
    return die("room %s needs exactly one ALIAS", verb);
  if (strcmp(verb, "show") == 0) {
    show_query q = {argv[1], NULL};
    store_rooms_each(st, match_alias, &q);
    if (!q.found)
      return die("no room has the alias \"%s\"", argv[1]);
    json_dumpf(q.found, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(q.found);
    return 0;
  }
  if (strcmp(verb, "remove") == 0) {
    char err[300];
    if (store_room_remove(st, argv[1], err, sizeof err) != 0)
      return die("%s", err);
    printf("room %s removed\n", argv[1]);
    return 0;
  }
  return die("unknown room command \"%s\"", verb);
}

int main(int argc, char **argv) {
  const char *data_dir = "./var";
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
      data_dir = argv[++i];
    else
      return die("unknown option \"%s\" (see --help)", argv[i]);
  }
  if (i >= argc) {
    fputs(usage, stderr);
    return 2;
  }
  if (strcmp(argv[i], "room") != 0)
    return die("unknown command \"%s\" (see --help)", argv[i]);
  char err[600];
  store *st = store_open(data_dir, err, sizeof err);
  if (!st)
    return die("%s", err);
  int rc = room_command(st, argc - i - 1, argv + i + 1);
  store_close(st);
  return rc;
}
