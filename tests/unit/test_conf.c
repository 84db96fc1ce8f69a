/* test_conf — the conference core without HTTP: PIN roles and throttling, reception
 * routing, tokens, lock and lecture admission, mutes, chat, floor and leaving. */
#include "check.h"
#include "conf/conf.h"
#include "store/db.h"

#include <stdlib.h>

typedef struct {
  event_sink sink;
  int n;
  char names[256][32];
  char data[256][1024];
  bool finished;
} recorder;

static void record(event_sink *s, conf_event *ev) {
  recorder *r = (recorder *)s;
  /* The roster snapshot comes as one batch: its parts are the events. */
  for (size_t i = 0; i < ev->n_parts; i++)
    record(s, ev->parts[i]);
  if (ev->n_parts == 0 && r->n < 256) {
    snprintf(r->names[r->n], sizeof r->names[0], "%s", ev->name);
    snprintf(r->data[r->n], sizeof r->data[0], "%s", ev->data);
    r->n++;
  }
}
static void finish(event_sink *s) { ((recorder *)s)->finished = true; }

static recorder *listen_to(participant *p) {
  recorder *r = calloc(1, sizeof *r);
  r->sink.deliver = record;
  r->sink.finish = finish;
  CHECK(conf_subscribe(p, &r->sink).status == 0);
  conf_send_snapshot(&r->sink);
  return r;
}

/* Index of the last event called name, or -1. */
static int last(const recorder *r, const char *name) {
  for (int i = r->n - 1; i >= 0; i--)
    if (strcmp(r->names[i], name) == 0)
      return i;
  return -1;
}

static store *st, *writer; /* parleyctl writes through its own connection */
static conf_core *core;
static config cfg;

static void add_room(const char *alias, const char *pin, const char *guest_pin,
                     bool guests, bool lecture, bool reception) {
  room_record r = {.name = (char *)alias,
                   .pin = (char *)pin,
                   .guest_pin = (char *)guest_pin,
                   .allow_guests = guests,
                   .lecture = lecture,
                   .reception = reception};
  r.aliases[0] = (char *)alias;
  r.n_aliases = 1;
  char err[200];
  CHECK(store_room_add(writer, &r, err, sizeof err) == 0);
}

static join_result join(const char *alias, const char *name, const char *pin,
                        const char *addr) {
  join_request req = {.alias = alias,
                      .display_name = name,
                      .pin = pin,
                      .remote_addr = addr ? addr : "127.0.0.1"};
  join_result res;
  conf_join(core, &req, &res);
  return res;
}

static void test_pins(void) {
  join_result r = join("pinned", "a", NULL, NULL);
  CHECK(r.outcome == JOIN_PIN_PROMPT && r.host_pin_required && !r.guest_pin_required);
  r = join("pinned", "host", "1234", NULL);
  CHECK(r.outcome == JOIN_OK && r.p->role == ROLE_HOST);
  r = join("pinned", "guest", "none", NULL);
  CHECK(r.outcome == JOIN_OK && r.p->role == ROLE_GUEST);
  r = join("twopins", "x", NULL, NULL);
  CHECK(r.outcome == JOIN_PIN_PROMPT && r.guest_pin_required);
  CHECK(join("twopins", "x", "none", NULL).outcome == JOIN_PIN_PROMPT);
  CHECK(join("twopins", "g", "5678", NULL).p->role == ROLE_GUEST);
  CHECK(join("open", "anyone", NULL, NULL).p->role == ROLE_HOST);
  CHECK(join("nowhere", "x", NULL, NULL).outcome == JOIN_NOT_FOUND);
  /* Throttling: per address; another address is unaffected. */
  for (int i = 0; i < cfg.pin_attempts; i++)
    CHECK(join("twopins", "x", "0000", "10.0.0.1").outcome == JOIN_INVALID_PIN);
  CHECK(join("twopins", "x", "1234", "10.0.0.1").outcome == JOIN_PIN_RETRIES);
  CHECK(join("twopins", "x", "1234", "10.0.0.2").outcome == JOIN_OK);
  /* Ten times that room-wide from ten more addresses: no lockout for the room, a
   * fresh address with the right PIN gets in, but a new guesser has to wait. */
  for (int a = 0; a < 10; a++) {
    char addr[32];
    snprintf(addr, sizeof addr, "10.0.1.%d", a);
    for (int i = 0; i < cfg.pin_attempts; i++) { /* under pressure a source waits */
      join_outcome o = join("twopins", "x", "0000", addr).outcome;
      CHECK(o == JOIN_INVALID_PIN || (o == JOIN_PIN_WAIT && a > 0));
    }
  }
  CHECK(join("twopins", "x", "1234", "10.0.2.1").outcome == JOIN_OK);
  CHECK(join("twopins", "x", "0000", "10.0.2.2").outcome == JOIN_INVALID_PIN);
  r = join("twopins", "x", "1234", "10.0.2.2");
  CHECK(r.outcome == JOIN_PIN_WAIT && r.retry_after_s >= 1);
}

static void test_reception(void) {
  join_request req = {.alias = "lobby", .display_name = "v", .remote_addr = "1.1.1.1"};
  join_result res;
  conf_join(core, &req, &res);
  CHECK(res.outcome == JOIN_EXTENSION_PROMPT);
  req.conference_extension = "missing";
  conf_join(core, &req, &res);
  CHECK(res.outcome == JOIN_NOT_FOUND);
  req.conference_extension = "open";
  conf_join(core, &req, &res);
  CHECK(res.outcome == JOIN_OK);
  CHECK(conf_authenticate(core, "lobby", res.token) == res.p);
  CHECK(conf_authenticate(core, "open", res.token) == res.p);
  CHECK(conf_authenticate(core, "pinned", res.token) == NULL);
}

static void test_tokens_and_chat(void) {
  join_result a = join("chat", "alice", NULL, NULL);
  join_result b = join("chat", "bob", NULL, NULL);
  recorder *ra = listen_to(a.p), *rb = listen_to(b.p);
  CHECK_STR(ra->names[0], "participant_sync_begin");
  CHECK_STR(ra->names[1], "participant_create");
  CHECK_STR(ra->names[3], "participant_sync_end");
  CHECK_STR(ra->names[4], "conference_update");
  char fresh[CONF_TOKEN_MAX];
  conf_refresh_token(a.p, fresh);
  CHECK(conf_authenticate(core, "chat", fresh) == a.p);
  CHECK(conf_authenticate(core, "chat", a.token) == a.p); /* old stays valid */
  CHECK(conf_authenticate(core, "chat", "forged") == NULL);

  int before = ra->n;
  CHECK(conf_chat(b.p, NULL, "text/plain", "hello").status == 0);
  CHECK(ra->n == before + 1 && strstr(ra->data[before], "\"direct\":false"));
  CHECK(last(rb, "message_received") == -1); /* not echoed to the sender */
  CHECK(conf_chat(a.p, b.p, "text/plain", "psst").status == 0);
  CHECK(strstr(rb->data[last(rb, "message_received")], "\"direct\":true"));
  CHECK(conf_chat(a.p, NULL, "image/png", "x").status == 400);

  conf_leave(b.p, "User initiated disconnect");
  CHECK(rb->finished);
  CHECK(strstr(rb->data[last(rb, "disconnect")], "User initiated disconnect"));
  CHECK(last(ra, "participant_delete") > 0);
  CHECK(conf_authenticate(core, "chat", b.token) == NULL);
  conf_leave(a.p, "done");
  free(ra);
  free(rb);
}

static void test_lock_and_mutes(void) {
  join_result h = join("pinned", "host2", "1234", NULL);
  join_result g = join("pinned", "guest2", "none", NULL);
  CHECK(conf_set_locked(g.p, true).status == 403);
  CHECK(conf_set_locked(h.p, true).status == 0);
  join_result w = join("pinned", "late", "none", NULL);
  CHECK(w.p->waiting);
  CHECK(conf_chat(w.p, NULL, "text/plain", "let me in").status == 403);
  CHECK(!join("pinned", "host3", "1234", NULL).p->waiting); /* host PIN bypasses */
  CHECK(conf_admit(h.p, w.p).status == 0 && !w.p->waiting);

  CHECK(conf_mute_guests(h.p, true).status == 0);
  CHECK(g.p->muted && w.p->muted && !h.p->muted);
  CHECK(conf_set_guests_can_unmute(h.p, false).status == 0);
  CHECK(conf_set_muted(g.p, g.p, false).status == 403);
  CHECK(conf_set_guests_can_unmute(h.p, true).status == 0);
  CHECK(conf_set_muted(g.p, g.p, false).status == 0 && !g.p->muted);
  CHECK(conf_set_spotlight(g.p, h.p, true).status == 403);
  CHECK(conf_set_spotlight(h.p, g.p, true).status == 0 && g.p->spotlight > 0);
  CHECK(conf_set_role(h.p, g.p, "chair").status == 0 && g.p->role == ROLE_HOST);
  CHECK(conf_set_role(h.p, g.p, "king").status == 400);
}

static void test_floor(void) {
  join_result a = join("open", "p1", NULL, NULL);
  join_result b = join("open", "p2", NULL, NULL);
  recorder *ra = listen_to(a.p), *rb = listen_to(b.p);
  CHECK(conf_take_floor(a.p, a.p).status == 0);
  CHECK(last(ra, "presentation_start") == -1);
  CHECK(last(rb, "presentation_start") > 0);
  CHECK(conf_take_floor(b.p, b.p).status == 0); /* b steals the floor */
  CHECK(last(ra, "presentation_start") > 0 && !a.p->presenting && b.p->presenting);
  CHECK(conf_release_floor(b.p, b.p).status == 0);
  CHECK(last(ra, "presentation_stop") > 0 && last(rb, "presentation_stop") == -1);
  conf_leave(a.p, "x");
  conf_leave(b.p, "x");
  free(ra);
  free(rb);
}

static void test_lecture(uv_loop_t *loop) {
  join_result g = join("talk", "student", "none", NULL);
  CHECK(g.p->waiting);
  recorder *rg = listen_to(g.p);
  join_result h = join("talk", "teacher", "1111", NULL);
  CHECK(!h.p->waiting && !g.p->waiting);
  conf_leave(h.p, "bye");
  /* guests-only timeout is 0 here: the guests go on the next loop turn. */
  uv_run(loop, UV_RUN_NOWAIT);
  uv_run(loop, UV_RUN_NOWAIT);
  CHECK(rg->finished);
  int d = last(rg, "disconnect");
  CHECK(d >= 0 && strstr(rg->data[d], "All conference hosts departed"));
  free(rg);
}

static void test_room_removed(void) {
  join_result a = join("doomed", "x", NULL, NULL);
  recorder *ra = listen_to(a.p);
  char err[200];
  CHECK(store_room_remove(writer, "doomed", err, sizeof err) == 0);
  CHECK(conf_find_alias(core, "doomed") == NULL);
  CHECK(ra->finished && strstr(ra->data[last(ra, "disconnect")], "administrator"));
  free(ra);
}

/* A policy server's room (adhoc): found by name, by every alias it was joined through
 * while people are in it, untouched by the store's refresh, gone when empty. */
static void test_adhoc(void) {
  room_record r = {.name = (char *)"Ad hoc", .pin = (char *)"4321", .adhoc = true};
  r.aliases[0] = (char *)"adhoc.one";
  r.n_aliases = 1;
  join_request req = {.alias = "adhoc.one",
                      .display_name = "A",
                      .remote_addr = "10.0.0.1",
                      .uuid = "0b7d4c1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"};
  join_result res;
  bool admit;
  conf_role role;
  const room_record *target;
  conf_join_decide(core, &r, &req, &res, &admit, &role, &target);
  CHECK(!admit && res.outcome == JOIN_PIN_PROMPT);
  req.pin = "4321";
  conf_join_decide(core, &r, &req, &res, &admit, &role, &target);
  CHECK(admit && role == ROLE_HOST && target == &r);
  conf_join_admit(core, &r, &req, role, &res);
  CHECK(res.outcome == JOIN_OK);
  CHECK_STR(res.p->uuid, "0b7d4c1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
  participant *a = res.p;
  CHECK(conf_adhoc_rooms(core) == 1);
  /* another alias the policy maps to the same name: the same room */
  r.aliases[0] = (char *)"adhoc.two";
  req = (join_request){.alias = "adhoc.two", .display_name = "B", .bypass_lock = true};
  conf_join_admit(core, &r, &req, ROLE_GUEST, &res);
  CHECK(res.outcome == JOIN_OK && res.p->room == a->room);
  participant *b = res.p;
  const room_record *found = conf_find_alias(core, "adhoc.two");
  CHECK(found && found->adhoc && found->id < 0);
  CHECK(conf_find_alias(core, "adhoc.one") == found);
  CHECK(conf_authenticate(core, "adhoc.two", res.token) == b);
  /* a store change does not end it */
  add_room("bystander", NULL, NULL, false, false, false);
  CHECK(conf_find_alias(core, "bystander") != NULL);
  CHECK(!a->leaving && conf_find_alias(core, "adhoc.one") != NULL);
  conf_leave(a, "bye");
  conf_leave(b, "bye");
  CHECK(conf_adhoc_rooms(core) == 0);
  CHECK(conf_find_alias(core, "adhoc.one") == NULL);
  CHECK(conf_find_alias(core, "adhoc.two") == NULL);
}

int main(void) {
  char dir[] = "/tmp/parley-conf-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char err[300];
  st = store_open(dir, err, sizeof err);
  writer = store_open(dir, err, sizeof err);
  add_room("pinned", "1234", NULL, true, false, false);
  add_room("twopins", "1234", "5678", true, false, false);
  add_room("open", NULL, NULL, false, false, false);
  add_room("chat", NULL, NULL, false, false, false);
  add_room("talk", "1111", NULL, true, true, false);
  add_room("doomed", NULL, NULL, false, false, false);
  add_room("lobby", NULL, NULL, false, false, true);
  config_defaults(&cfg);
  cfg.guests_only_timeout_s = 0;
  uv_loop_t loop;
  uv_loop_init(&loop);
  core = conf_create(&loop, &cfg, st);
  test_pins();
  test_reception();
  test_tokens_and_chat();
  test_lock_and_mutes();
  test_floor();
  test_lecture(&loop);
  test_room_removed();
  test_adhoc();
  conf_destroy(core);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  store_close(st);
  store_close(writer);
  snprintf(err, sizeof err, "rm -rf %s", dir);
  CHECK(system(err) == 0);
  CHECK_DONE();
}
