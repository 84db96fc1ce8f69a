/* parleyctl — manages what parleyd serves, directly in its SQLite store: rooms (aliases,
 * PINs, flags) and RTM accounts, API keys and JWTs. A running parleyd notices changes.
 * It also makes self-signed certificates for trying HTTPS. */
#include "auth/credentials.h"
#include "auth/jwt.h"
#include "core/version.h"
#include "http/tls.h"
#include "parleyctl_cluster.h"
#include "store/accounts.h"
#include "store/db.h"
#include "store/rooms.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: parleyctl [--data-dir DIR] [--cluster URL] COMMAND  (or --version, --help)\n"
    "\n"
    "  room add ALIAS [--alias OTHER]... [--name NAME] [--pin P] [--guest-pin P]\n"
    "           [--allow-guests] [--lecture] [--locked] [--reception] [--test-call]\n"
    "           [--guests-can-present | --no-guests-can-present] [--relay-only]\n"
    "  room set ALIAS --relay-only | --no-relay-only\n"
    "  room list [--json]\n"
    "  room show ALIAS\n"
    "  room remove ALIAS\n"
    "  account add [--cid CID] [--name NAME] [--json]\n"
    "  account list [--json]\n"
    "  account show CID\n"
    "  key add --account CID --origin URL [--origin URL]... [--no-recording]\n"
    "          [--supervise | --no-supervise] [--client-prefix PREFIX]\n"
    "  key list [--account CID]\n"
    "  jwt --account CID --client-id ID [--ttl SECONDS] [--no-recording]\n"
    "  tls self-signed --name HOST [--out-cert FILE] [--out-key FILE] [--days N]\n"
    "  cluster status [--json]                 (with --cluster)\n"
    "  node drain ID | node serve ID           (with --cluster)\n"
    "\n"
    "--cluster redis://[:PASSWORD@]HOST[:PORT][/DB] names the cluster's Redis (as for\n"
    "parleyd --cluster). cluster status lists the live nodes (id, region, state, load,\n"
    "rooms, url, age of their last refresh in ms) and the leased rooms with their home\n"
    "node and epoch; node drain makes a node take no new rooms (it keeps its own),\n"
    "node serve undoes it.\n"
    "\n"
    "--data-dir defaults to ./var, as for parleyd. PINs are 1 to 20 digits; guests\n"
    "need a host PIN; a reception room asks callers for the alias they want; a\n"
    "test-call room sends every participant its own audio and video back. Guests\n"
    "may take the presentation floor unless --no-guests-can-present. A --relay-only\n"
    "room's clients reach media only through TURN (parleyd --turn-url).\n"
    "\n"
    "RTM (stream recording) clients authenticate with a JWT (HS256, signed with the\n"
    "account's jwt_secret, claims cid, client_id, exp and optionally rec:false) or,\n"
    "from a browser, with an API key accepted only from the origins bound to it\n"
    "(scheme://host[:port], as the browser sends in Origin). account add prints the\n"
    "secrets (a cid is generated unless given); key add prints the key once: only\n"
    "its hash is kept. A key may supervise the account's sessions only with\n"
    "--supervise, and with --client-prefix use only client ids starting with PREFIX:\n"
    "the Origin binding stops other web pages, not a script that forges Origin.\n"
    "jwt mints a token (default --ttl 3600) for testing.\n"
    "\n"
    "tls self-signed makes an ECDSA P-256 key and a certificate for it naming HOST\n"
    "(subjectAltName DNS:HOST, and IP:HOST for an address), valid --days (default\n"
    "365), written to --out-cert (default cert.pem) and --out-key (default key.pem,\n"
    "mode 0600), for parleyd --tls-cert/--tls-key. It prints the key's SPKI SHA-256\n"
    "pin: Chromium trusts the certificate with\n"
    "--ignore-certificate-errors-spki-list=PIN.\n";

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
    else if (strcmp(a, "--guests-can-present") == 0)
      r.guests_cannot_present = false;
    else if (strcmp(a, "--no-guests-can-present") == 0)
      r.guests_cannot_present = true;
    else if (strcmp(a, "--relay-only") == 0)
      r.relay_only = true;
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

/* room set ALIAS --relay-only | --no-relay-only */
static int room_set(store *st, int argc, char **argv) {
  if (argc < 1 || argv[0][0] == '-')
    return die("room set needs an ALIAS%s", "");
  if (argc == 1)
    return die("room set needs --relay-only or --no-relay-only%s", "");
  int relay_only = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--relay-only") == 0)
      relay_only = 1;
    else if (strcmp(argv[i], "--no-relay-only") == 0)
      relay_only = 0;
    else
      return die("unknown option \"%s\" for room set", argv[i]);
  }
  char err[300];
  if (store_room_set_relay_only(st, argv[0], relay_only == 1, err, sizeof err) != 0)
    return die("%s", err);
  printf("room %s changed\n", argv[0]);
  return 0;
}

static json_t *record_json(const room_record *r) {
  json_t *aliases = json_array();
  for (size_t i = 0; i < r->n_aliases; i++)
    json_array_append_new(aliases, json_string(r->aliases[i]));
  /* One "s:x" pair per key below (twelve): a format with more pairs than arguments
   * makes json_pack read past them and return NULL. */
  return json_pack("{s:I, s:s, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "id",
                   (json_int_t)r->id, "name", r->name, "aliases", aliases, "pin",
                   r->pin != NULL, "guest_pin", r->guest_pin != NULL, "allow_guests",
                   r->allow_guests, "lecture", r->lecture, "locked", r->locked,
                   "reception", r->reception, "test_call", r->test_call,
                   "guests_can_present", !r->guests_cannot_present, "relay_only",
                   r->relay_only);
}

static void print_line(const room_record *r, void *ud) {
  (void)ud;
  printf("%-24s %-24s%s%s%s%s%s%s%s%s%s", r->aliases[0], r->name,
         r->pin ? " host-pin" : "", r->guest_pin ? " guest-pin" : "",
         r->allow_guests ? " guests" : "", r->lecture ? " lecture" : "",
         r->locked ? " locked" : "", r->reception ? " reception" : "",
         r->test_call ? " test-call" : "",
         r->guests_cannot_present ? " no-guest-presenting" : "",
         r->relay_only ? " relay-only" : "");
  for (size_t i = 1; i < r->n_aliases; i++)
    printf(" alias=%s", r->aliases[i]);
  putchar('\n');
}

typedef struct {
  json_t *all;
  bool failed; /* a record could not be turned into JSON */
} json_list;

static void append_json(const room_record *r, void *ud) {
  json_list *l = ud;
  json_t *o = record_json(r);
  if (!o || json_array_append_new(l->all, o) != 0)
    l->failed = true;
}

typedef struct {
  const char *alias;
  json_t *found;
  bool failed;
} show_query;

static void match_alias(const room_record *r, void *ud) {
  show_query *q = ud;
  for (size_t i = 0; i < r->n_aliases; i++)
    if (strcmp(r->aliases[i], q->alias) == 0 && !q->found && !q->failed) {
      q->found = record_json(r);
      q->failed = q->found == NULL;
    }
}

/* Prints v (taking it) as indented JSON; -1 if it is NULL or cannot be written. */
static int print_json(json_t *v) {
  int rc =
      v && json_dumpf(v, stdout, JSON_INDENT(2)) == 0 && putchar('\n') != EOF ? 0 : -1;
  json_decref(v);
  return rc;
}

static int room_command(store *st, int argc, char **argv) {
  if (argc < 1)
    return die("room needs add, set, list, show or remove%s", "");
  const char *verb = argv[0];
  if (strcmp(verb, "add") == 0)
    return room_add(st, argc - 1, argv + 1);
  if (strcmp(verb, "set") == 0)
    return room_set(st, argc - 1, argv + 1);
  if (strcmp(verb, "list") == 0) {
    bool as_json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > (as_json ? 2 : 1))
      return die("room list takes only --json%s", "");
    if (!as_json)
      return store_rooms_each(st, print_line, NULL) == 0 ? 0
                                                         : die("cannot read rooms%s", "");
    json_list l = {json_array(), false};
    if (store_rooms_each(st, append_json, &l) != 0 || l.failed) {
      json_decref(l.all);
      return die("cannot read rooms%s", "");
    }
    return print_json(l.all) == 0 ? 0 : die("cannot print rooms%s", "");
  }
  if (argc != 2)
    return die("room %s needs exactly one ALIAS", verb);
  if (strcmp(verb, "show") == 0) {
    show_query q = {argv[1], NULL, false};
    if (store_rooms_each(st, match_alias, &q) != 0 || q.failed) {
      json_decref(q.found);
      return die("cannot read rooms%s", "");
    }
    if (!q.found)
      return die("no room has the alias \"%s\"", argv[1]);
    return print_json(q.found) == 0 ? 0 : die("cannot print the room%s", "");
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

static json_t *account_json(const account *a, bool with_secrets) {
  json_t *o = json_pack("{s:s, s:s, s:I}", "cid", a->cid, "name", a->name, "created_at",
                        (json_int_t)a->created_at);
  if (with_secrets) {
    json_object_set_new(o, "jwt_secret", json_string(a->jwt_secret));
    json_object_set_new(o, "webhook_secret", json_string(a->webhook_secret));
  }
  return o;
}

static int account_add(store *st, int argc, char **argv) {
  const char *cid = NULL, *name = NULL;
  bool as_json = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0) {
      as_json = true;
    } else if (strcmp(a, "--cid") == 0 || strcmp(a, "--name") == 0) {
      const char *v = need_value(argc, argv, &i);
      if (!v)
        return die("%s needs a value", a);
      *(a[2] == 'c' ? &cid : &name) = v;
    } else {
      return die("unknown option \"%s\" for account add", a);
    }
  }
  account acc;
  char err[300];
  if (accounts_add(st, cid, name, &acc, err, sizeof err) != 0)
    return die("%s", err);
  if (as_json)
    return print_json(account_json(&acc, true)) == 0
               ? 0
               : die("cannot print the account%s", "");
  printf("cid: %s\njwt_secret: %s\nwebhook_secret: %s\n", acc.cid, acc.jwt_secret,
         acc.webhook_secret);
  return 0;
}

static void print_account(const account *a, void *ud) {
  json_list *l = ud;
  if (l) {
    json_t *o = account_json(a, false);
    if (!o || json_array_append_new(l->all, o) != 0)
      l->failed = true;
  } else
    printf("%-28s %s\n", a->cid, a->name[0] ? a->name : "-");
}

static int account_command(store *st, int argc, char **argv) {
  if (argc < 1)
    return die("account needs add, list or show%s", "");
  if (strcmp(argv[0], "add") == 0)
    return account_add(st, argc - 1, argv + 1);
  if (strcmp(argv[0], "list") == 0) {
    bool as_json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > (as_json ? 2 : 1))
      return die("account list takes only --json%s", "");
    json_list l = {as_json ? json_array() : NULL, false};
    if (accounts_list(st, print_account, as_json ? &l : NULL) != 0 || l.failed) {
      json_decref(l.all);
      return die("cannot read accounts%s", "");
    }
    if (as_json && print_json(l.all) != 0)
      return die("cannot print accounts%s", "");
    return 0;
  }
  if (strcmp(argv[0], "show") == 0) {
    account acc;
    if (argc != 2)
      return die("account show needs exactly one CID%s", "");
    if (accounts_get(st, argv[1], &acc) != 0)
      return die("no account \"%s\"", argv[1]);
    return print_json(account_json(&acc, true)) == 0
               ? 0
               : die("cannot print the account%s", "");
  }
  return die("unknown account command \"%s\"", argv[0]);
}

static int key_add(store *st, int argc, char **argv) {
  const char *cid = NULL, *origins[API_KEY_MAX_ORIGINS];
  int n_origins = 0;
  api_key_scopes scopes = {.recording = true}; /* supervise: only when asked for */
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--no-recording") == 0) {
      scopes.recording = false;
    } else if (strcmp(a, "--supervise") == 0 || strcmp(a, "--no-supervise") == 0) {
      scopes.supervise = a[2] == 's';
    } else if (strcmp(a, "--client-prefix") == 0) {
      if (!(v = need_value(argc, argv, &i)))
        return die("%s needs a value", a);
      if (!*v || strlen(v) >= sizeof scopes.client_prefix)
        return die("--client-prefix wants 1 to 63 characters%s", "");
      snprintf(scopes.client_prefix, sizeof scopes.client_prefix, "%s", v);
    } else if (strcmp(a, "--account") == 0 || strcmp(a, "--origin") == 0) {
      if (!(v = need_value(argc, argv, &i)))
        return die("%s needs a value", a);
      if (a[2] == 'a')
        cid = v;
      else if (n_origins == API_KEY_MAX_ORIGINS)
        return die("at most 8 origins per key%s", "");
      else
        origins[n_origins++] = v;
    } else {
      return die("unknown option \"%s\" for key add", a);
    }
  }
  if (!cid)
    return die("key add needs --account CID%s", "");
  if (n_origins == 0)
    return die("key add needs at least one --origin URL (keys are accepted only from "
               "the web origins bound to them)%s",
               "");
  char key[API_KEY_LEN + 1], err[300];
  if (credentials_key_add(st, cid, origins, n_origins, &scopes, key, sizeof key, err,
                          sizeof err) != 0)
    return die("%s", err);
  printf("%s\n", key);
  return 0;
}

static void print_key(const api_key_entry *k, void *ud) {
  (void)ud;
  const api_key_scopes *sc = &k->info.scopes;
  printf("%s... %-28s %s %s %s%s", k->key_prefix, k->info.cid,
         sc->recording ? "recording" : "no-recording",
         sc->supervise ? "supervise" : "no-supervise",
         sc->client_prefix[0] ? "client-prefix=" : "any-client-id", sc->client_prefix);
  for (int i = 0; i < k->info.n_origins; i++)
    printf(" %s", k->info.origins[i]);
  putchar('\n');
}

static int key_command(store *st, int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "add") == 0)
    return key_add(st, argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "list") == 0) {
    const char *cid = NULL;
    if (argc == 3 && strcmp(argv[1], "--account") == 0)
      cid = argv[2];
    else if (argc != 1)
      return die("key list takes only --account CID%s", "");
    return api_keys_list(st, cid, print_key, NULL) == 0 ? 0
                                                        : die("cannot read keys%s", "");
  }
  return die("key needs add or list%s", "");
}

static int parse_ttl(const char *v, long *ttl) {
  char *end;
  *ttl = strtol(v, &end, 10);
  return (*end == '\0' && *ttl >= 1 && *ttl <= 366L * 86400) ? 0 : -1;
}

static int jwt_command(store *st, int argc, char **argv) {
  const char *cid = NULL, *client_id = NULL;
  long ttl = 3600;
  bool recording = true;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--no-recording") == 0) {
      recording = false;
      continue;
    }
    if (strcmp(a, "--account") && strcmp(a, "--client-id") && strcmp(a, "--ttl"))
      return die("unknown option \"%s\" for jwt", a);
    if (!(v = need_value(argc, argv, &i)))
      return die("%s needs a value", a);
    if (a[2] == 'a')
      cid = v;
    else if (a[2] == 'c')
      client_id = v;
    else if (parse_ttl(v, &ttl) != 0)
      return die("--ttl must be 1 to 31622400 seconds, not \"%s\"", v);
  }
  if (!cid || !client_id || !*client_id || strlen(client_id) > 127)
    return die("jwt needs --account CID and --client-id ID (1 to 127 characters)%s", "");
  account acc;
  if (accounts_get(st, cid, &acc) != 0)
    return die("no account \"%s\"", cid);
  int64_t now = (int64_t)time(NULL);
  json_t *claims =
      json_pack("{s:s, s:s, s:I, s:I}", "cid", acc.cid, "client_id", client_id, "iat",
                (json_int_t)now, "exp", (json_int_t)(now + ttl));
  if (!recording)
    json_object_set_new(claims, "rec", json_false());
  char *token = jwt_sign_hs256(claims, acc.jwt_secret);
  json_decref(claims);
  if (!token)
    return die("cannot sign the token%s", "");
  printf("%s\n", token);
  free(token);
  return 0;
}

/* tls self-signed: needs no store. */
static int tls_command(int argc, char **argv) {
  if (argc < 1 || strcmp(argv[0], "self-signed") != 0)
    return die("tls wants: self-signed --name HOST%s", "");
  const char *name = NULL, *cert = "cert.pem", *key = "key.pem", *v = NULL;
  long days = 365;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **dst = strcmp(a, "--name") == 0       ? &name
                       : strcmp(a, "--out-cert") == 0 ? &cert
                       : strcmp(a, "--out-key") == 0  ? &key
                       : strcmp(a, "--days") == 0     ? &v
                                                      : NULL;
    if (!dst)
      return die("tls self-signed: unknown option \"%s\"", a);
    if (!(*dst = need_value(argc, argv, &i)))
      return die("%s wants a value", a);
    char *end;
    if (dst == &v && ((days = strtol(v, &end, 10)) < 1 || days > 36500 || *end))
      return die("--days wants a whole number from 1 to 36500, got \"%s\"", v);
  }
  if (!name)
    return die("tls self-signed needs --name HOST%s", "");
  char pin[TLS_PIN_LEN], err[600];
  if (tls_self_signed(name, (int)days, cert, key, pin, err, sizeof err) != 0)
    return die("%s", err);
  printf("certificate: %s\nkey: %s\nspki-sha256: %s\n", cert, key, pin);
  return 0;
}

int main(int argc, char **argv) {
  const char *data_dir = "./var", *cluster_url = NULL;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--version") == 0) {
      printf("parleyctl %s\n", parley_version());
      return 0;
    }
    if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
      data_dir = argv[++i];
    else if (strcmp(argv[i], "--cluster") == 0 && i + 1 < argc)
      cluster_url = argv[++i];
    else
      return die("unknown option \"%s\" (see --help)", argv[i]);
  }
  if (i >= argc) {
    fputs(usage, stderr);
    return 2;
  }
  if (strcmp(argv[i], "cluster") == 0 || strcmp(argv[i], "node") == 0) {
    int rc = parleyctl_cluster(cluster_url, argc - i, argv + i);
    return fflush(stdout) != 0 ? die("cannot write to standard output%s", "") : rc;
  }
  if (strcmp(argv[i], "tls") == 0) {
    int rc = tls_command(argc - i - 1, argv + i + 1);
    return fflush(stdout) != 0 ? die("cannot write to standard output%s", "") : rc;
  }
  static const struct {
    const char *name;
    int (*run)(store *st, int argc, char **argv);
  } commands[] = {{"room", room_command},
                  {"account", account_command},
                  {"key", key_command},
                  {"jwt", jwt_command}};
  int c = 0, n_commands = (int)(sizeof commands / sizeof commands[0]);
  while (c < n_commands && strcmp(argv[i], commands[c].name) != 0)
    c++;
  if (c == n_commands)
    return die("unknown command \"%s\" (see --help)", argv[i]);
  char err[600];
  store *st = store_open(data_dir, err, sizeof err);
  if (!st)
    return die("%s", err);
  int rc = commands[c].run(st, argc - i - 1, argv + i + 1);
  store_close(st);
  /* What was printed must have reached stdout (a full disk, a closed pipe). */
  if (fflush(stdout) != 0 || ferror(stdout))
    return rc ? rc : die("cannot write to standard output%s", "");
  return rc;
}
