/* parley — joins a conference as an API participant (no media) through the client API:
 * finds the nodes by DNS SRV, watches the roster and events, and chats, locks, mutes
 * guests and disconnects participants, interactively (commands on stdin) or one command
 * per run for scripts. One libuv loop carries DNS (c-ares), HTTP (libcurl multi), the
 * event stream, stdin and signals, so nothing waits on anything else. */
#include "client/dial.h"
#include "core/mem.h"
#include "core/version.h"
#include "parley_out.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
  EXIT_OK = 0,
  EXIT_FAIL = 1,
  EXIT_USAGE = 2,
  EXIT_DNS = 3,
  EXIT_UNREACHABLE = 4,
  EXIT_REFUSED = 5
};

static const char usage[] =
    "usage: parley COMMAND ALIAS@DOMAIN [ARGS] [OPTIONS]   (or --help, --version)\n"
    "\n"
    "  join ALIAS@DOMAIN              stay in the conference: print the roster and "
    "events,\n"
    "                                 read commands from stdin (below) until quit or "
    "EOF\n"
    "  roster ALIAS@DOMAIN            print the participants and leave\n"
    "  chat ALIAS@DOMAIN TEXT         send TEXT to everyone and leave\n"
    "  lock | unlock ALIAS@DOMAIN     lock or unlock the conference (host)\n"
    "  mute-guests | unmute-guests ALIAS@DOMAIN\n"
    "  disconnect ALIAS@DOMAIN NAME|UUID   remove a participant (host)\n"
    "\n"
    "Commands on stdin (join): chat TEXT, lock, unlock, mute-guests, unmute-guests,\n"
    "disconnect NAME|UUID, roster, help, quit.\n"
    "\n"
    "Options:\n"
    "  --pin PIN          host or guest PIN (a room whose guests need none is joined as "
    "guest)\n"
    "  --name NAME        display name (default: parley)\n"
    "  --json             one JSON object per line on stdout\n"
    "  --dns-server IP[:PORT]  DNS server for SRV and address lookups (default: the "
    "system's)\n"
    "  --ca-file FILE     CA certificates to verify the node with (default: the "
    "system's)\n"
    "  --insecure         do not verify the node's certificate\n"
    "  --http             plain HTTP instead of HTTPS (testing)\n"
    "  --port PORT        port when DOMAIN has no SRV records (default 443)\n"
    "  --timeout SECONDS  per request and connection attempt (default 10)\n"
    "\n"
    "DOMAIN is looked up as _pexapp._tcp.DOMAIN (SRV, RFC 2782 order); without SRV "
    "records\n"
    "DOMAIN itself is used on port 443. HOST:PORT (or [IPv6]:PORT) connects there "
    "directly.\n"
    "A target that refuses, times out or answers 5xx is skipped for the next. The token "
    "is\n"
    "released on exit, on SIGINT/SIGTERM and at the end of stdin.\n"
    "\n"
    "Exit status: 0 done; 1 a command failed or the conference ended the session; 2 "
    "usage;\n"
    "3 DNS (no SRV and no address); 4 every target unreachable; 5 refused (wrong or "
    "missing\n"
    "PIN, no such conference, locked, token or command refused).\n";

typedef struct {
  uv_loop_t *loop;
  http_client *http;
  srv_resolver *res;
  dial *dialing;
  bool dial_live;
  capi *c;
  out_state out;
  bool out_ready;
  /* what to do */
  const char *command; /* join, roster, chat, lock, ... */
  const char *arg;     /* chat text or who to disconnect */
  char alias[512];
  const char *display_name, *pin;
  bool json;
  /* stdin */
  uv_handle_t *in;
  uv_tty_t tty;
  uv_pipe_t pipe;
  uv_fs_t fs_req;
  char fs_buf[4096];
  bool in_file;
  char *line;
  size_t line_len;
  /* ending */
  uv_signal_t sigint, sigterm;
  uv_timer_t quit_timer, guard_timer;
  bool quitting, released, torn_down;
  int exit_code;
  int pending;    /* command calls in flight */
  bool wait_idle; /* quitting: release once they are answered */
  bool stdin_started;
  uint64_t started_ns;
} app;

static void quit(app *a, int code);
static void on_release_timer(uv_timer_t *t);

/* ---- arguments ---- */

static int parse_target(const char *s, app *a, dial_opts *o, char *host, size_t hn) {
  const char *at = strrchr(s, '@');
  if (!at || at == s || !at[1])
    return -1;
  snprintf(a->alias, sizeof a->alias, "%.*s", (int)(at - s), s);
  const char *d = at + 1;
  if (d[0] == '[') { /* [IPv6]:PORT */
    const char *end = strchr(d, ']');
    if (!end || end[1] != ':')
      return -1;
    snprintf(host, hn, "%.*s", (int)(end - d - 1), d + 1);
    long p = strtol(end + 2, NULL, 10);
    if (p <= 0 || p > 65535)
      return -1;
    o->port = (uint16_t)p;
    return 0;
  }
  const char *colon = strchr(d, ':');
  if (colon) {
    char *endp;
    long p = strtol(colon + 1, &endp, 10);
    if (p <= 0 || p > 65535 || *endp)
      return -1;
    o->port = (uint16_t)p;
    snprintf(host, hn, "%.*s", (int)(colon - d), d);
  } else {
    snprintf(host, hn, "%s", d);
  }
  return host[0] ? 0 : -1;
}

static bool is_oneshot(const char *cmd) {
  static const char *const cmds[] = {
      "roster", "chat", "lock", "unlock", "mute-guests", "unmute-guests", "disconnect"};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
    if (strcmp(cmd, cmds[i]) == 0)
      return true;
  return false;
}

/* ---- commands (stdin lines and one-shot runs share these) ---- */

typedef struct {
  app *a;
  char command[32];
  char who[256]; /* disconnect: whom, for the message */
} cmd_ctx;

/* A command's call was answered. The last one lets a quit waiting for it release the
 * token (after, not beside, what was asked), and ends a one-shot run. */
static void cmd_done(app *a) {
  if (--a->pending > 0)
    return;
  if (a->wait_idle) {
    a->wait_idle = false;
    uv_timer_stop(&a->guard_timer);
    uv_timer_start(&a->quit_timer, on_release_timer, 0, 0);
    return;
  }
  if (strcmp(a->command, "join") != 0 && !a->quitting)
    quit(a, a->exit_code);
}

static const char *reply_text(const capi_reply *r) {
  const char *s = json_string_value(r->result);
  if (s)
    return s;
  return r->status ? "" : r->error;
}

static void on_cmd_reply(const capi_reply *r, void *ud) {
  cmd_ctx *x = ud;
  app *a = x->a;
  if (r->status == 200 && !json_is_false(r->result)) {
    out_result(&a->out, x->command, true, x->who);
  } else {
    char msg[600];
    if (r->status == 200)
      snprintf(msg, sizeof msg, "the conference answered false");
    else if (r->status)
      snprintf(msg, sizeof msg, "HTTP %d%s%s", r->status, reply_text(r)[0] ? ": " : "",
               reply_text(r));
    else
      snprintf(msg, sizeof msg, "%s", r->error);
    out_result(&a->out, x->command, false, msg);
    if (strcmp(a->command, "join") != 0) {
      char line[700];
      snprintf(line, sizeof line, "%s failed: %s", x->command, msg);
      fprintf(stderr, "parley: %s\n", line);
      a->exit_code = r->status == 403 ? EXIT_REFUSED : EXIT_FAIL;
    }
  }
  free(x);
  cmd_done(a);
}

/* A command in flight: counted until its reply (quit waits for it). */
static cmd_ctx *cmd_new(app *a, const char *command, const char *who) {
  cmd_ctx *x = xcalloc(1, sizeof *x);
  x->a = a;
  snprintf(x->command, sizeof x->command, "%s", command);
  if (who)
    snprintf(x->who, sizeof x->who, "%s", who);
  a->pending++;
  return x;
}

static void post(app *a, const char *command, const char *path, json_t *body,
                 const char *who) {
  capi_call(a->c, "POST", path, body, on_cmd_reply, cmd_new(a, command, who));
}

static void disconnect_uuid(app *a, const char *uuid, const char *who) {
  char path[128];
  snprintf(path, sizeof path, "participants/%s/disconnect", uuid);
  post(a, "disconnect", path, NULL, who);
}

/* One-shot roster and disconnect read the participants list first. */
static void on_participants(const capi_reply *r, void *ud) {
  cmd_ctx *x = ud;
  app *a = x->a;
  if (r->status != 200 || !json_is_array(r->result)) {
    char msg[600];
    snprintf(msg, sizeof msg, "participants: %s%d %s", r->status ? "HTTP " : "",
             r->status, reply_text(r));
    out_result(&a->out, x->command, false, msg);
    fprintf(stderr, "parley: %s failed: %s\n", x->command, msg);
    a->exit_code = EXIT_FAIL;
  } else if (strcmp(x->command, "roster") == 0) {
    out_roster(&a->out, r->result);
  } else {
    char err[400];
    const char *uuid = out_find(&a->out, r->result, x->who, err, sizeof err);
    if (uuid) {
      disconnect_uuid(a, uuid, x->who);
    } else {
      out_result(&a->out, "disconnect", false, err);
      fprintf(stderr, "parley: disconnect failed: %s\n", err);
      a->exit_code = EXIT_FAIL;
    }
  }
  free(x);
  cmd_done(a);
}

static void get_participants(app *a, const char *command, const char *who) {
  capi_call(a->c, "GET", "participants", NULL, on_participants, cmd_new(a, command, who));
}

/* Runs one command; interactive says whether the roster kept from events is at hand. */
static void run_command(app *a, const char *cmd, const char *arg, bool interactive) {
  if (strcmp(cmd, "chat") == 0) {
    if (!arg || !*arg) {
      out_result(&a->out, "chat", false, "nothing to send (chat TEXT)");
      return;
    }
    post(a, "chat", "message",
         json_pack("{s:s, s:s}", "type", "text/plain", "payload", arg), NULL);
  } else if (strcmp(cmd, "lock") == 0 || strcmp(cmd, "unlock") == 0) {
    post(a, cmd, cmd, NULL, NULL);
  } else if (strcmp(cmd, "mute-guests") == 0) {
    post(a, cmd, "muteguests", NULL, NULL);
  } else if (strcmp(cmd, "unmute-guests") == 0) {
    post(a, cmd, "unmuteguests", NULL, NULL);
  } else if (strcmp(cmd, "disconnect") == 0) {
    if (!arg || !*arg) {
      out_result(&a->out, "disconnect", false, "whom? (disconnect NAME|UUID)");
      return;
    }
    if (!interactive) {
      get_participants(a, "disconnect", arg);
      return;
    }
    char err[400];
    const char *uuid = out_find(&a->out, NULL, arg, err, sizeof err);
    if (uuid)
      disconnect_uuid(a, uuid, arg);
    else
      out_result(&a->out, "disconnect", false, err);
  } else if (strcmp(cmd, "roster") == 0) {
    if (interactive)
      out_roster(&a->out, NULL);
    else
      get_participants(a, "roster", NULL);
  } else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "exit") == 0) {
    quit(a, EXIT_OK);
  } else if (strcmp(cmd, "help") == 0) {
    out_result(&a->out, "help", true,
               "chat TEXT | lock | unlock | mute-guests | unmute-guests | "
               "disconnect NAME|UUID | roster | quit");
  } else {
    char msg[300];
    snprintf(msg, sizeof msg, "unknown command \"%.200s\" (try help)", cmd);
    out_result(&a->out, cmd, false, msg);
  }
}

/* ---- stdin ---- */

static void stdin_line(app *a, char *line) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
    line[--n] = '\0';
  while (*line == ' ' || *line == '\t')
    line++;
  if (!*line || a->quitting)
    return;
  char *sp = strpbrk(line, " \t");
  const char *arg = NULL;
  if (sp) {
    *sp = '\0';
    arg = sp + 1;
    while (*arg == ' ' || *arg == '\t')
      arg++;
  }
  run_command(a, line, arg, true);
}

static void stdin_bytes(app *a, const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\n') {
      a->line = xrealloc(a->line, a->line_len + 1);
      a->line[a->line_len] = '\0';
      a->line_len = 0;
      stdin_line(a, a->line);
      continue;
    }
    if (a->line_len >= 65536)
      continue; /* an overlong line is cut */
    a->line = xrealloc(a->line, a->line_len + 1);
    a->line[a->line_len++] = buf[i];
  }
}

static void stdin_eof(app *a) {
  if (a->line_len) {
    a->line = xrealloc(a->line, a->line_len + 1);
    a->line[a->line_len] = '\0';
    a->line_len = 0;
    stdin_line(a, a->line);
  }
  quit(a, EXIT_OK);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  buf->base = xmalloc(suggested);
  buf->len = suggested;
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  app *a = s->data;
  if (n > 0)
    stdin_bytes(a, buf->base, (size_t)n);
  free(buf->base);
  if (n < 0) {
    uv_read_stop(s);
    stdin_eof(a);
  }
}

static void on_fs_read(uv_fs_t *req) {
  app *a = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  if (n > 0 && !a->quitting) {
    stdin_bytes(a, a->fs_buf, (size_t)n);
    uv_buf_t b = uv_buf_init(a->fs_buf, sizeof a->fs_buf);
    uv_fs_read(a->loop, &a->fs_req, 0, &b, 1, -1, on_fs_read);
    return;
  }
  a->in_file = false;
  if (n <= 0)
    stdin_eof(a);
}

static void start_stdin(app *a) {
  uv_handle_type t = uv_guess_handle(0);
  if (t == UV_TTY && uv_tty_init(a->loop, &a->tty, 0, 1) == 0) {
    a->in = (uv_handle_t *)&a->tty;
  } else if (t == UV_NAMED_PIPE || t == UV_TCP) {
    uv_pipe_init(a->loop, &a->pipe, 0);
    if (uv_pipe_open(&a->pipe, 0) == 0) {
      a->in = (uv_handle_t *)&a->pipe;
    } else {
      uv_close((uv_handle_t *)&a->pipe, NULL);
    }
  }
  if (a->in) {
    a->in->data = a;
    uv_read_start((uv_stream_t *)a->in, on_alloc, on_stdin);
    return;
  }
  /* A file (or /dev/null): read on the threadpool. */
  a->fs_req.data = a;
  a->in_file = true;
  uv_buf_t b = uv_buf_init(a->fs_buf, sizeof a->fs_buf);
  if (uv_fs_read(a->loop, &a->fs_req, 0, &b, 1, -1, on_fs_read) != 0) {
    a->in_file = false;
    stdin_eof(a);
  }
}

/* ---- the session ---- */

static void on_event(const char *name, json_t *data, void *ud) {
  app *a = ud;
  if (a->quitting)
    return;
  if (strcmp(name, "disconnect") == 0) {
    char msg[400];
    snprintf(msg, sizeof msg, "disconnected by the conference: %s",
             json_string_value(json_object_get(data, "reason"))
                 ? json_string_value(json_object_get(data, "reason"))
                 : "no reason given");
    if (a->json) {
      char *s = json_dumps(data, JSON_COMPACT);
      printf("{\"type\":\"disconnected\",\"data\":%s}\n", s ? s : "null");
      free(s);
      fflush(stdout);
    }
    fprintf(stderr, "parley: %s\n", msg);
    a->released = true; /* the token is gone with the participant */
    quit(a, EXIT_FAIL);
    return;
  }
  out_event(&a->out, name, data);
  /* Commands are read once the roster is known, so that a script's "disconnect NAME"
   * finds NAME. */
  if (!a->stdin_started && a->out.synced_once) {
    a->stdin_started = true;
    start_stdin(a);
  }
}

static void on_session_fail(const char *why, void *ud) {
  app *a = ud;
  out_fatal(&a->out, why);
  quit(a, EXIT_FAIL);
}

static void on_dialed(const dial_result *r, void *ud) {
  app *a = ud;
  a->dial_live = false;
  a->dialing = NULL;
  if (r->status != DIAL_OK) {
    out_fatal(&a->out, r->message);
    a->released = true;
    quit(a, r->status == DIAL_E_DNS           ? EXIT_DNS
            : r->status == DIAL_E_UNREACHABLE ? EXIT_UNREACHABLE
                                              : EXIT_REFUSED);
    return;
  }
  a->c = r->c;
  out_state *o = &a->out;
  out_free(o);
  out_init(o, a->json, capi_participant_uuid(a->c));
  out_joined(o, a->alias, capi_target(a->c), r->token, r->tried,
             (double)(uv_hrtime() - a->started_ns) / 1e6);
  if (strcmp(a->command, "join") == 0) {
    static const capi_session_cbs cbs = {.on_event = on_event,
                                         .on_fail = on_session_fail};
    capi_start_session(a->c, &cbs, a);
    return;
  }
  if (o->waiting) {
    char msg[600];
    snprintf(msg, sizeof msg, "conference %s is locked: waiting for a host to let us in",
             a->alias);
    out_fatal(o, msg);
    quit(a, EXIT_REFUSED);
    return;
  }
  a->pending = 1; /* held until run_command has queued its calls */
  run_command(a, a->command, a->arg, false);
  cmd_done(a);
}

/* ---- ending: release the token, then close every handle ---- */

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void teardown(app *a) {
  if (a->torn_down)
    return;
  a->torn_down = true;
  uv_timer_stop(&a->guard_timer);
  if (a->dial_live)
    dial_cancel(a->dialing);
  a->dial_live = false;
  if (a->c)
    capi_free(a->c);
  a->c = NULL;
  srv_resolver_free(a->res);
  a->res = NULL;
  http_client_free(a->http);
  a->http = NULL;
  if (a->in && !uv_is_closing(a->in))
    uv_close(a->in, on_handle_closed);
  if (a->in_file)
    uv_cancel((uv_req_t *)&a->fs_req);
  uv_close((uv_handle_t *)&a->sigint, on_handle_closed);
  uv_close((uv_handle_t *)&a->sigterm, on_handle_closed);
  uv_close((uv_handle_t *)&a->quit_timer, on_handle_closed);
  uv_close((uv_handle_t *)&a->guard_timer, on_handle_closed);
}

static void on_teardown_timer(uv_timer_t *t) { teardown(t->data); }

static void on_released(const capi_reply *r, void *ud) {
  app *a = ud;
  if (r->status != 200)
    fprintf(stderr, "parley: release_token: %s%s\n", r->status ? "HTTP " : "",
            r->status ? (r->status == 403 ? "403" : "error") : r->error);
  a->released = true;
  uv_timer_start(&a->quit_timer, on_teardown_timer, 0, 0);
}

static void on_guard(uv_timer_t *t) {
  app *a = t->data;
  fprintf(stderr, "parley: release_token: no answer in time\n");
  teardown(a);
}

static void release_now(app *a) {
  if (a->c && !a->released) {
    capi_release(a->c, on_released, a);
    uv_timer_start(&a->guard_timer, on_guard, 3000, 0);
    return;
  }
  teardown(a);
}

static void on_release_timer(uv_timer_t *t) { release_now(t->data); }

static void on_idle_guard(uv_timer_t *t) {
  app *a = t->data;
  a->wait_idle = false;
  release_now(a);
}

static void on_quit_timer(uv_timer_t *t) {
  app *a = t->data;
  if (a->dial_live) {
    dial_cancel(a->dialing);
    a->dial_live = false;
  }
  if (a->c && !a->released && a->pending > 0) { /* commands in flight: at most 3 s */
    a->wait_idle = true;
    uv_timer_start(&a->guard_timer, on_idle_guard, 3000, 0);
    return;
  }
  release_now(a);
}

/* Ends the run with code (the first one given wins); never from under curl's feet. */
static void quit(app *a, int code) {
  if (a->quitting)
    return;
  a->quitting = true;
  a->exit_code = code ? code : a->exit_code;
  if (a->in && !uv_is_closing(a->in))
    uv_read_stop((uv_stream_t *)a->in);
  uv_timer_start(&a->quit_timer, on_quit_timer, 0, 0);
}

static void on_signal(uv_signal_t *s, int signum) {
  app *a = s->data;
  (void)signum;
  quit(a, EXIT_OK);
}

int main(int argc, char **argv) {
  app a = {0};
  dial_opts o = {.fallback_port = 443, .display_name = "parley", .timeout_ms = 10000};
  const char *positional[3] = {0};
  int npos = 0;
  const char *dns = NULL;
  char host[SRV_HOST_MAX] = "";
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    bool has_next = i + 1 < argc;
    if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
      fputs(usage, stdout);
      return EXIT_OK;
    } else if (strcmp(s, "--version") == 0) {
      printf("parley %s\n", parley_version());
      return EXIT_OK;
    } else if (strcmp(s, "--json") == 0) {
      a.json = true;
    } else if (strcmp(s, "--insecure") == 0) {
      o.insecure = true;
    } else if (strcmp(s, "--http") == 0) {
      o.plain_http = true;
    } else if (has_next && strcmp(s, "--pin") == 0) {
      o.pin = argv[++i];
    } else if (has_next && strcmp(s, "--name") == 0) {
      o.display_name = argv[++i];
    } else if (has_next && strcmp(s, "--dns-server") == 0) {
      dns = argv[++i];
    } else if (has_next && strcmp(s, "--ca-file") == 0) {
      o.ca_file = argv[++i];
    } else if (has_next && strcmp(s, "--port") == 0) {
      long p = strtol(argv[++i], NULL, 10);
      if (p <= 0 || p > 65535) {
        fprintf(stderr, "parley: --port wants 1..65535\n");
        return EXIT_USAGE;
      }
      o.fallback_port = (uint16_t)p;
    } else if (has_next && strcmp(s, "--timeout") == 0) {
      double t = strtod(argv[++i], NULL);
      if (t <= 0 || t > 600) {
        fprintf(stderr, "parley: --timeout wants seconds, 0 < T <= 600\n");
        return EXIT_USAGE;
      }
      o.timeout_ms = (int)(t * 1000);
    } else if (s[0] == '-' && s[1] == '-' && npos < 3 &&
               !(npos == 2 && positional[0] && strcmp(positional[0], "chat") == 0)) {
      fprintf(stderr, "parley: unknown option %s (or it lacks its value); see --help\n",
              s);
      return EXIT_USAGE;
    } else if (npos < 3) {
      positional[npos++] = s;
    } else {
      fprintf(stderr, "parley: too many arguments (quote the chat text); see --help\n");
      return EXIT_USAGE;
    }
  }
  if (npos < 2) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  a.command = positional[0];
  if (strcmp(a.command, "join") != 0 && !is_oneshot(a.command)) {
    fprintf(stderr, "parley: unknown command \"%s\"; see --help\n", a.command);
    return EXIT_USAGE;
  }
  bool needs_arg = strcmp(a.command, "chat") == 0 || strcmp(a.command, "disconnect") == 0;
  if (needs_arg != (npos == 3)) {
    fprintf(stderr, "parley: %s %s; see --help\n", a.command,
            needs_arg ? "needs one more argument" : "takes no further argument");
    return EXIT_USAGE;
  }
  a.arg = npos == 3 ? positional[2] : NULL;
  if (parse_target(positional[1], &a, &o, host, sizeof host) != 0) {
    fprintf(stderr, "parley: \"%s\" is not ALIAS@DOMAIN (or ALIAS@HOST:PORT)\n",
            positional[1]);
    return EXIT_USAGE;
  }
  o.alias = a.alias;
  o.host = host;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  o.seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
  signal(SIGPIPE, SIG_IGN);

  a.loop = uv_default_loop();
  out_init(&a.out, a.json, NULL);
  char err[300];
  a.res = srv_resolver_new(a.loop, dns, err, sizeof err);
  if (!a.res) {
    out_fatal(&a.out, err);
    out_free(&a.out);
    return EXIT_USAGE;
  }
  a.http = http_client_new(a.loop);
  uv_signal_init(a.loop, &a.sigint);
  uv_signal_init(a.loop, &a.sigterm);
  a.sigint.data = a.sigterm.data = &a;
  uv_signal_start(&a.sigint, on_signal, SIGINT);
  uv_signal_start(&a.sigterm, on_signal, SIGTERM);
  uv_timer_init(a.loop, &a.quit_timer);
  uv_timer_init(a.loop, &a.guard_timer);
  a.quit_timer.data = a.guard_timer.data = &a;

  a.dial_live = true;
  a.started_ns = uv_hrtime();
  dial *d = dial_start(a.loop, a.http, a.res, &o, on_dialed, &a);
  if (a.dial_live)
    a.dialing = d;
  uv_run(a.loop, UV_RUN_DEFAULT);
  out_free(&a.out);
  free(a.line);
  uv_loop_close(a.loop);
  return a.exit_code;
}
