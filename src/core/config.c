/* config — defaults, file and flags for parleyd, from one option table. */
#include "core/config.h"

#include "core/cidr.h"
#include "core/log.h"
#include "core/version.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum {
  OPT_INT,
  OPT_STR,
  OPT_STR_EMPTY,
  OPT_HOSTPORT,
  OPT_LOGLEVEL,
  OPT_ADDRESS_EMPTY, /* "ADDR:PORT" kept as text, or "" */
  OPT_URL_LIST,      /* comma-separated ICE server URLs; each use adds to the list */
  OPT_CIDRS,         /* "ADDR[/BITS],..." kept as text, or "" */
  OPT_FLAG           /* 0|1; a bare --flag means 1 */
} opt_kind;

typedef struct {
  const char *name;
  opt_kind kind;
  size_t offset;
  size_t size;  /* for strings */
  int min, max; /* for integers */
  const char *arg;
  const char *help;
} option;

#define STR(f) OPT_STR, offsetof(config, f), sizeof(((config *)0)->f), 0, 0
#define INT(f, lo, hi) OPT_INT, offsetof(config, f), 0, lo, hi
/* A string option that may be set to "" (off, or "use the default place"). */
#define STR_EMPTY(f) OPT_STR_EMPTY, offsetof(config, f), sizeof(((config *)0)->f), 0, 0
#define URL_LIST(f) OPT_URL_LIST, offsetof(config, f), sizeof(((config *)0)->f), 0, 0

static const option options[] = {
    {"http", OPT_HOSTPORT, 0, 0, 0, 0, "ADDR:PORT",
     "HTTP listen address; port 0 picks a free port (default 127.0.0.1:8080)"},
    {"data-dir", STR(data_dir), "DIR",
     "directory for parley.db and recordings (default ./var)"},
    {"token-lifetime", INT(token_lifetime_s, 2, 86400), "SECONDS",
     "client API token lifetime, the \"expires\" value (default 120)"},
    {"keepalive", INT(keepalive_s, 1, 3600), "SECONDS",
     "interval of SSE keep-alive comments (default 15)"},
    {"pin-attempts", INT(pin_attempts, 1, 100000), "N",
     "wrong PINs allowed per source address and room per window; past ten times "
     "that per room, each wrong guess makes its source wait (default 10)"},
    {"pin-window", INT(pin_window_s, 1, 86400), "SECONDS",
     "window for --pin-attempts (default 60)"},
    {"chat-rate", INT(chat_rate, 0, 100000), "N",
     "chat messages a participant may send per second, past a burst; more get 429; "
     "0 for no limit (default 5)"},
    {"chat-burst", INT(chat_burst, 1, 100000), "N",
     "chat messages a participant may send at once after a quiet while (default 10)"},
    {"guests-only-timeout", INT(guests_only_timeout_s, 0, 86400), "SECONDS",
     "lecture rooms: guests are disconnected this long after the last host "
     "leaves (default 60)"},
    {"sse-queue-bytes", INT(sse_queue_bytes, 4096, 1 << 30), "BYTES",
     "unsent bytes an event stream may hold while its reader is stuck for a "
     "second (8x at any moment) before it is closed (default 262144)"},
    {"sse-total-bytes", INT(sse_total_bytes, 65536, 1 << 30), "BYTES",
     "unsent bytes all event streams together may hold (an event queued on many "
     "streams counts once); past it readers stuck for a second are closed "
     "(default 134217728)"},
    {"max-participants", INT(max_participants, 1, 1000000), "N",
     "participants a room may hold; more get 503 \"Participant limit reached\" "
     "(default 1000)"},
    {"max-streams", INT(max_streams, 1, 1000), "N",
     "event streams one participant may hold open, whichever of its tokens opened "
     "them; more get 429 (default 4)"},
    {"max-connections-per-address", INT(max_conns_per_address, 0, 1000000), "N",
     "HTTP connections one peer address may hold open; more get 429 and are closed; "
     "0 for no limit; behind a --trust-proxy proxy, per client it forwards "
     "(default 500)"},
    {"trust-proxy", OPT_CIDRS, offsetof(config, trust_proxy),
     sizeof(((config *)0)->trust_proxy), 0, 0, "ADDR[,ADDR...]",
     "reverse proxies (addresses or ADDR/BITS ranges) whose X-Forwarded-For is "
     "believed: their requests count as from the rightmost untrusted address in it, "
     "for PIN throttling and the per-address connection limit; \"\" for none "
     "(default \"\")"},
    {"max-body", INT(max_body_bytes, 1024, 16 << 20), "BYTES",
     "largest JSON request body accepted (default 65536)"},
    {"shutdown-grace", INT(shutdown_grace_ms, 0, 60000), "MS",
     "time given to streams to flush on SIGTERM (default 200)"},
    {"store-sync", INT(store_sync_ms, 0, 60000), "MS",
     "SQLite commits do not wait for the disk; a background checkpoint syncs them "
     "this often (a power cut loses at most this much); 0: every commit fsyncs on "
     "the event loop (default 1000)"},
    {"cors-origin", STR_EMPTY(cors_origin), "ORIGIN",
     "origin allowed to call the API from a browser: \"*\", one origin, or "
     "\"\" for none (default *)"},
    {"media-port", INT(media_port, 0, 65535), "PORT",
     "the first media loop's UDP port, the next loop's is PORT+1 and so on; 0 picks "
     "free ones (default 40000)"},
    {"media-loops", INT(media_loops, 1, 64), "N",
     "media loops, each a thread with its own UDP port; a room's calls share one "
     "(default 1; up to one per core)"},
    {"ice-tcp", INT(ice_tcp, 0, 1), "0|1",
     "each media loop also accepts ICE over TCP (RFC 6544) on its UDP port's number, "
     "for clients whose UDP is blocked (default 1)"},
    {"media-bind", STR_EMPTY(media_bind), "ADDR",
     "address the media ports bind (default: the --http address; for 0.0.0.0 or [::], "
     "\"::\" for IPv4 and IPv6 both when the host has IPv6)"},
    {"media-ip", STR_EMPTY(media_ip), "ADDR[,ADDR...]",
     "addresses announced in SDP candidates, e.g. a NAT's public one (default: the bind "
     "address; for a wildcard bind, every interface address but loopback and "
     "link-local)"},
    {"srtp-profiles", STR(srtp_profiles), "LIST",
     "DTLS-SRTP profiles in order of preference (default "
     "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80)"},
    {"consent-timeout", INT(consent_timeout_s, 5, 600), "SECONDS",
     "a call whose peer stays silent this long ends, and with its last "
     "call its participant (default 30)"},
    {"web-dir", OPT_STR_EMPTY, offsetof(config, web_dir), sizeof(((config *)0)->web_dir),
     0, 0, "DIR", "static pages served under /web/; \"\" for none (default ./web)"},
    {"call-setup-timeout", INT(call_setup_timeout_s, 1, 3600), "SECONDS",
     "a client API call whose media has not connected this long after its offer "
     "ends with call_disconnected (default 30)"},
    {"max-calls", INT(max_calls, 1, 64), "N",
     "calls a participant may hold at once (main, presentation send and receive, "
     "one spare); more are refused with 403 (default 4)"},
    {"turn-url", URL_LIST(turn_urls), "URL",
     "TURN server given to clients, e.g. turn:turn.example.com:3478?transport=udp or "
     "turns:turn.example.com:443?transport=tcp; repeat it or give a comma-separated "
     "list (flags replace the config file's list; \"\" for none); needs --turn-secret "
     "(default none)"},
    {"turn-secret", STR_EMPTY(turn_secret), "SECRET",
     "coturn's static-auth-secret (use-auth-secret): each participant gets the user "
     "\"EXPIRY:UUID\" with an HMAC-SHA1 password; a flag shows in ps, so prefer the "
     "config file or --turn-secret-file"},
    {"turn-secret-file", STR_EMPTY(turn_secret_file), "FILE",
     "read --turn-secret from the first line of FILE at start"},
    {"turn-ttl", INT(turn_ttl_s, 60, 7 * 86400), "SECONDS",
     "lifetime of TURN credentials: coturn refuses an allocation's refreshes once "
     "they expire and clients keep them for the whole call, so it must outlast the "
     "longest call (default 86400, the TURN REST API's advice)"},
    {"stun-url", URL_LIST(stun_urls), "URL",
     "STUN server given to clients, stun:host[:port]; repeatable or comma-separated; "
     "\"\" for none (default none)"},
    {"rtm-ping-timeout", INT(rtm_ping_timeout_s, 2, 3600), "SECONDS",
     "RTM: a session whose client sends no ping this long ends with CONN_ERROR "
     "(default 30)"},
    {"rtc-idle-timeout", INT(rtc_idle_timeout_s, 2, 3600), "SECONDS",
     "publish/subscribe API: a WebSocket that sends no frame this long is closed "
     "(1001) (default 30)"},
    {"rtc-resume-timeout", INT(rtc_resume_timeout_s, 1, 3600), "SECONDS",
     "publish/subscribe API: a participant whose WebSocket dropped is kept this long "
     "for a resume (default 20)"},
    {"rtc-max-session-participants", INT(rtc_max_session_participants, 1, 100000), "N",
     "publish/subscribe API: participants in one session; more joins get LIMIT "
     "(default 100)"},
    {"rtc-max-account-participants", INT(rtc_max_account_participants, 1, 1000000), "N",
     "publish/subscribe API: participants of one account over all its sessions "
     "(default 2000)"},
    {"rtm-no-packet-timeout", INT(rtm_no_packet_timeout_s, 1, 3600), "SECONDS",
     "RTM: an ACTIVE session without RTP this long ends with NO_PACKET_RECEIVED "
     "(default 10)"},
    {"rtm-setup-timeout", INT(rtm_setup_timeout_s, 2, 3600), "SECONDS",
     "RTM: a session that does not reach ACTIVE this long after its offer ends with "
     "PEERCONN_FAILED (default 30)"},
    {"rtm-max-duration", INT(rtm_max_duration_s, 0, 7 * 86400), "SECONDS",
     "RTM: sessions end with MAX_DURATION after this long; 0 for no limit "
     "(default 14400)"},
    {"rtm-max-reservations-client", INT(rtm_max_reservations_client, 1, 100000), "N",
     "RTM: unclaimed session reservations (POST /api/rtm/v1/session) one client may "
     "hold; more get 429 (default 4)"},
    {"rtm-max-reservations-account", INT(rtm_max_reservations_account, 1, 1000000), "N",
     "RTM: unclaimed session reservations one account may hold over all its clients; "
     "more get 429 (default 1000)"},
    {"recordings-dir", STR_EMPTY(recordings_dir), "DIR",
     "where recordings are written until uploaded (default DATA_DIR/recordings)"},
    {"upload-allow", STR_EMPTY(upload_allow), "HOSTS",
     "comma-separated hosts recordings may be uploaded to (\"*.example.com\" "
     "matches subdomains); \"\" for any (default \"\")"},
    {"webhook-allow", STR_EMPTY(webhook_allow), "HOSTS",
     "comma-separated hosts webhooks may be sent to; \"\" for any (default \"\")"},
    {"allow-private-destinations", INT(allow_private_destinations, 0, 1), "0|1",
     "1: uploads and webhooks may go to loopback, private (10/8, 172.16/12, "
     "192.168/16, fc00::/7), CGNAT (100.64/10), link-local and unspecified addresses; "
     "0 refuses them, also when a name resolves to one, except addresses written in "
     "--upload-allow or --webhook-allow (default 0)"},
    {"upload-retry-s", INT(upload_retry_s, 1, 30 * 86400), "SECONDS",
     "how long a failing upload is retried before upload_failed (default 86400)"},
    {"webhook-retry-s", INT(webhook_retry_s, 1, 30 * 86400), "SECONDS",
     "how long a failing webhook is retried before it is dropped (default 86400)"},
    {"metrics-listen", OPT_ADDRESS_EMPTY, offsetof(config, metrics_listen),
     sizeof(((config *)0)->metrics_listen), 0, 0, "ADDR:PORT",
     "serve /metrics (and /healthz) on this address only, not on --http; \"\" for "
     "--http (default \"\")"},
    {"metrics-token", STR_EMPTY(metrics_token), "TOKEN",
     "/metrics answers only requests with \"Authorization: Bearer TOKEN\"; \"\" "
     "for anyone (default \"\")"},
    {"tls-cert", STR_EMPTY(tls_cert), "FILE",
     "PEM certificate, followed by its chain, for HTTPS (and HTTP/2) on --http; "
     "with --tls-key; SIGHUP reloads both; \"\" for plain HTTP (default \"\")"},
    {"tls-key", STR_EMPTY(tls_key), "FILE",
     "PEM private key of --tls-cert (default \"\")"},
    {"cluster", STR_EMPTY(cluster_url), "URL",
     "cluster mode: redis://[:PASSWORD@]HOST[:PORT][/DB] of the Redis that holds "
     "membership, room leases and configuration (rediss:// is not supported: put "
     "Redis on a private network or a TLS tunnel); needs --cluster-secret-file; "
     "\"\" for a single node (default \"\")"},
    {"node-id", STR_EMPTY(node_id), "ID",
     "this node's name in the cluster, unique (default: the host name)"},
    {"region", STR(region), "R",
     "the node's region: new rooms go to the least-loaded node of the region whose "
     "node the caller reached (default default)"},
    {"node-url", STR_EMPTY(node_url), "URL",
     "how the other nodes reach this node's HTTP API, e.g. http://10.0.0.5:8080 "
     "(default: http(s)://ADDR:PORT of --http; required when --http is a wildcard)"},
    {"cluster-secret-file", STR_EMPTY(cluster_secret_file), "FILE",
     "at least 32 bytes, the same on every node: signs tokens and relayed requests; "
     "required with --cluster"},
    {"management", OPT_FLAG, offsetof(config, management), 0, 0, 1, "[0|1]",
     "this node publishes its store's rooms, accounts and API keys to the cluster "
     "(one node, the one parleyctl writes to; default 0)"},
    {"policy-url", STR_EMPTY(policy_url), "URL",
     "an external policy server (Pexip's API: GET URL/policy/v1/...): asked for rooms, "
     "participants, avatars and media locations; the local store decides when it fails "
     "or is late (default \"\": none)"},
    {"policy-service", OPT_FLAG, offsetof(config, policy_service), 0, 0, 1, "[0|1]",
     "with --policy-url: ask service configuration on each join (default 1)"},
    {"policy-participant", OPT_FLAG, offsetof(config, policy_participant), 0, 0, 1,
     "[0|1]", "with --policy-url: ask participant properties on each join (default 1)"},
    {"policy-avatar", OPT_FLAG, offsetof(config, policy_avatar), 0, 0, 1, "[0|1]",
     "with --policy-url: ask for avatar.jpg images (default 1)"},
    {"policy-media-location", OPT_FLAG, offsetof(config, policy_media_location), 0, 0, 1,
     "[0|1]",
     "with --policy-url: ask media location after each join (logged; default 1)"},
    {"policy-timeout", INT(policy_timeout_ms, 100, 60000), "MS",
     "one join's budget for its policy requests (and an avatar's) before the local "
     "store decides (default 5000)"},
    {"policy-user", STR_EMPTY(policy_user), "USER",
     "HTTP Basic user for the policy server (default \"\": no authentication)"},
    {"policy-password-file", STR_EMPTY(policy_password_file), "FILE",
     "the policy server's Basic password, the file's first line"},
    {"log-level", OPT_LOGLEVEL, offsetof(config, log_level),
     sizeof(((config *)0)->log_level), 0, 0, "LEVEL",
     "debug, info, warn or error (default info)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

void config_defaults(config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  strcpy(cfg->http_host, "127.0.0.1");
  cfg->http_port = 8080;
  strcpy(cfg->data_dir, "./var");
  cfg->token_lifetime_s = 120;
  cfg->keepalive_s = 15;
  cfg->pin_attempts = 10;
  cfg->pin_window_s = 60;
  cfg->chat_rate = 5;
  cfg->chat_burst = 10;
  cfg->guests_only_timeout_s = 60;
  cfg->sse_queue_bytes = 262144;
  cfg->sse_total_bytes = 128 << 20;
  cfg->max_participants = 1000;
  cfg->max_streams = 4;
  cfg->max_conns_per_address = 500;
  cfg->max_body_bytes = 65536;
  cfg->shutdown_grace_ms = 200;
  cfg->store_sync_ms = 1000;
  strcpy(cfg->log_level, "info");
  strcpy(cfg->cors_origin, "*");
  cfg->media_port = 40000;
  strcpy(cfg->srtp_profiles, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
  cfg->consent_timeout_s = 30;
  cfg->media_loops = 1;
  cfg->ice_tcp = 1;
  strcpy(cfg->web_dir, "./web");
  cfg->call_setup_timeout_s = 30;
  cfg->max_calls = 4;
  cfg->rtm_ping_timeout_s = 30;
  cfg->rtc_idle_timeout_s = 30;
  cfg->rtc_max_session_participants = 100;
  cfg->rtc_max_account_participants = 2000;
  cfg->rtc_resume_timeout_s = 20;
  cfg->rtm_no_packet_timeout_s = 10;
  cfg->rtm_setup_timeout_s = 30;
  cfg->rtm_max_duration_s = 14400;
  cfg->rtm_max_reservations_client = 4;
  cfg->rtm_max_reservations_account = 1000;
  cfg->upload_retry_s = 86400;
  cfg->webhook_retry_s = 86400;
  cfg->turn_ttl_s = 86400;
  strcpy(cfg->region, "default");
  cfg->policy_service = cfg->policy_participant = cfg->policy_avatar = 1;
  cfg->policy_media_location = 1;
  cfg->policy_timeout_ms = 5000;
}

static const option *find_option(const char *name) {
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (strcmp(options[i].name, name) == 0)
      return &options[i];
  return NULL;
}

int config_split_hostport(const char *v, char *host, size_t host_cap, int *port) {
  const char *colon = strrchr(v, ':');
  char *end;
  if (!colon || colon == v || (size_t)(colon - v) >= host_cap)
    return -1;
  errno = 0;
  long n = strtol(colon + 1, &end, 10);
  if (errno || *end || end == colon + 1 || n < 0 || n > 65535)
    return -1;
  memcpy(host, v, (size_t)(colon - v));
  host[colon - v] = '\0';
  *port = (int)n;
  return 0;
}

static int set_hostport(config *cfg, const char *v, char *err, size_t errlen) {
  /* On failure config_split_hostport leaves host and port as they were. */
  if (config_split_hostport(v, cfg->http_host, sizeof cfg->http_host, &cfg->http_port) !=
      0) {
    snprintf(err, errlen, "--http wants ADDR:PORT (port 0 to 65535), got \"%s\"", v);
    return -1;
  }
  return 0;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
    *--e = '\0';
  return s;
}

static bool host_char(char c, bool bracketed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return bracketed ? c == ':' || c == '.' : c == '.' || c == '-' || c == '_';
}

/* Past "host[:port]" in p, or NULL with why. */
static const char *skip_host_port(const char *p, char *why, size_t whylen) {
  const char *host = p;
  bool bracketed = *p == '[';
  if (bracketed)
    p++;
  while (host_char(*p, bracketed))
    p++;
  if (bracketed && *p++ != ']') {
    snprintf(why, whylen, "an IPv6 address needs its closing ']'");
    return NULL;
  }
  if (p == host || (bracketed && p == host + 2)) {
    snprintf(why, whylen, "no host after the scheme");
    return NULL;
  }
  if (*p != ':')
    return p;
  char *end;
  errno = 0;
  long port = strtol(p + 1, &end, 10);
  if (errno || end == p + 1 || port < 1 || port > 65535 || p[1] == '+' || p[1] == '-') {
    snprintf(why, whylen, "the port must be 1 to 65535");
    return NULL;
  }
  return end;
}

int config_check_ice_url(const char *url, const char *family, char *why, size_t whylen) {
  size_t fl = strlen(family);
  const char *p = url + fl;
  if (strncmp(url, family, fl) != 0 || (*p == 's' ? *++p : *p) != ':') {
    snprintf(why, whylen, "the scheme must be %s: or %ss:", family, family);
    return -1;
  }
  p++;
  if (p[0] == '/' && p[1] == '/') {
    snprintf(why, whylen, "no \"//\" after the scheme (RFC 7065: %s:host:port)", family);
    return -1;
  }
  if (!(p = skip_host_port(p, why, whylen)))
    return -1;
  bool turn = strcmp(family, "turn") == 0;
  if (turn && (strcmp(p, "?transport=udp") == 0 || strcmp(p, "?transport=tcp") == 0))
    return 0;
  if (*p) {
    snprintf(why, whylen, "unexpected \"%s\" after the host%s", p,
             turn ? " (only ?transport=udp or ?transport=tcp may follow)" : "");
    return -1;
  }
  return 0;
}

/* Adds the comma-separated URLs in v to the list in field, each checked. */
static int add_urls(const option *o, char *field, const char *v, char *err,
                    size_t errlen) {
  const char *family = strncmp(o->name, "turn", 4) == 0 ? "turn" : "stun";
  char list[2048];
  if (!*v) { /* "" empties the list, as for the other string options */
    *field = '\0';
    return 0;
  }
  if (strlen(v) >= sizeof list) {
    snprintf(err, errlen, "--%s: value too long", o->name);
    return -1;
  }
  strcpy(list, v);
  char *save = NULL;
  for (char *u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
    u = trim(u);
    char why[160];
    if (config_check_ice_url(u, family, why, sizeof why) != 0) {
      snprintf(err, errlen, "--%s: \"%s\" is not a %s URL: %s", o->name, u, family, why);
      return -1;
    }
    size_t have = strlen(field);
    if (have + (have ? 1 : 0) + strlen(u) >= o->size) {
      snprintf(err, errlen, "--%s: too many URLs (at most %zu characters in all)",
               o->name, o->size - 1);
      return -1;
    }
    if (have)
      strcat(field, ",");
    strcat(field, u);
  }
  if (!*field) {
    snprintf(err, errlen, "--%s wants at least one %s: URL", o->name, family);
    return -1;
  }
  return 0;
}

static int set_option(config *cfg, const option *o, const char *v, char *err,
                      size_t errlen) {
  char *field = (char *)cfg + o->offset;
  char host[64];
  int port;
  if (o->kind == OPT_ADDRESS_EMPTY && *v &&
      config_split_hostport(v, host, sizeof host, &port) != 0) {
    snprintf(err, errlen, "--%s wants ADDR:PORT or \"\", got \"%s\"", o->name, v);
    return -1;
  }
  if (o->kind == OPT_CIDRS) {
    cidr_list list;
    char why[160];
    if (cidr_list_parse(v, &list, why, sizeof why) != 0) {
      snprintf(err, errlen, "--%s: %s", o->name, why);
      return -1;
    }
    cidr_list_free(&list);
  }
  switch (o->kind) {
  case OPT_URL_LIST:
    return add_urls(o, field, v, err, errlen);
  case OPT_HOSTPORT:
    return set_hostport(cfg, v, err, errlen);
  case OPT_LOGLEVEL: {
    log_level lvl;
    if (log_parse_level(v, &lvl) != 0) {
      snprintf(err, errlen, "--log-level: unknown level \"%s\"", v);
      return -1;
    }
  } /* fallthrough: stored as text */
  /* fall through */
  case OPT_ADDRESS_EMPTY:
  case OPT_CIDRS:
  case OPT_STR_EMPTY:
    if (strlen(v) >= o->size) {
      snprintf(err, errlen, "--%s: value too long", o->name);
      return -1;
    }
    strcpy(field, v);
    return 0;
  case OPT_STR:
    if (strlen(v) >= o->size || !*v) {
      snprintf(err, errlen, "--%s: value empty or too long", o->name);
      return -1;
    }
    strcpy(field, v);
    return 0;
  case OPT_FLAG:
  case OPT_INT: {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < o->min || n > o->max) {
      snprintf(err, errlen, "--%s wants a whole number from %d to %d, got \"%s\"",
               o->name, o->min, o->max, v);
      return -1;
    }
    *(int *)field = (int)n;
    return 0;
  }
  }
  return -1;
}

int config_load_file(config *cfg, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
    return -1;
  }
  char line[1024];
  int lineno = 0, rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
      rc = -1;
      break;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    const option *o = find_option(key);
    if (!o) {
      snprintf(err, errlen, "%s:%d: unknown key \"%s\"", path, lineno, key);
      rc = -1;
    } else if (set_option(cfg, o, value, err, errlen) != 0) {
      rc = -1;
    }
  }
  fclose(f);
  return rc;
}

/* Splits "--name=value" or "--name value"; returns the option or NULL. */
static const option *arg_option(int argc, char **argv, int *i, const char **value) {
  const char *a = argv[*i] + 2;
  const char *eq = strchr(a, '=');
  char name[64];
  size_t n = eq ? (size_t)(eq - a) : strlen(a);
  if (n >= sizeof name)
    return NULL;
  memcpy(name, a, n);
  name[n] = '\0';
  const option *o = find_option(name);
  if (!o)
    return NULL;
  if (eq)
    *value = eq + 1;
  else if (o->kind == OPT_FLAG)
    *value = "1"; /* --management alone; --management=0 turns it off */
  else if (*i + 1 < argc)
    *value = argv[++*i];
  else
    *value = NULL;
  return o;
}

/* Reads the secret from the first line of path into cfg->turn_secret. */
static int read_turn_secret(config *cfg, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "--turn-secret-file: cannot open %s: %s", path,
             strerror(errno));
    return -1;
  }
  char line[sizeof cfg->turn_secret + 2];
  bool got = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  char *secret = got ? trim(line) : line;
  if (!got || !*secret) {
    snprintf(err, errlen, "--turn-secret-file: %s has no secret on its first line", path);
    return -1;
  }
  if (strlen(secret) >= sizeof cfg->turn_secret) {
    snprintf(err, errlen, "--turn-secret-file: the secret in %s is longer than %zu", path,
             sizeof cfg->turn_secret - 1);
    return -1;
  }
  strcpy(cfg->turn_secret, secret);
  return 0;
}

/* TURN URLs and a secret come together: coturn with use-auth-secret refuses every
 * client without credentials, and a secret without servers would do nothing. */
static int check_turn(config *cfg, char *err, size_t errlen) {
  if (cfg->turn_secret_file[0]) {
    if (cfg->turn_secret[0]) {
      snprintf(err, errlen, "give --turn-secret or --turn-secret-file, not both");
      return -1;
    }
    if (read_turn_secret(cfg, cfg->turn_secret_file, err, errlen) != 0)
      return -1;
    cfg->turn_secret_file[0] = '\0'; /* read once, even if parsed again */
  }
  if (cfg->turn_urls[0] && !cfg->turn_secret[0]) {
    snprintf(err, errlen,
             "--turn-url needs --turn-secret or --turn-secret-file (coturn's "
             "static-auth-secret)");
    return -1;
  }
  if (cfg->turn_secret[0] && !cfg->turn_urls[0]) {
    snprintf(err, errlen, "--turn-secret is set but no --turn-url");
    return -1;
  }
  return 0;
}

int config_read_secret(const char *path, uint8_t *out, size_t cap, size_t min_len,
                       char *why, size_t whylen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  size_t n = fread(out, 1, cap, f);
  bool more = n == cap && fgetc(f) != EOF;
  fclose(f);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' ||
                   out[n - 1] == '\t'))
    n--;
  if (more) {
    snprintf(why, whylen, "%s is longer than %zu bytes", path, cap);
    return -1;
  }
  if (n < min_len) {
    snprintf(why, whylen, "%s holds %zu bytes, at least %zu are needed", path, n,
             min_len);
    return -1;
  }
  return (int)n;
}

/* --policy-url: http(s) only; a password file is read once, here. */
static int check_policy(config *cfg, char *err, size_t errlen) {
  if (!cfg->policy_url[0])
    return 0;
  if (strncmp(cfg->policy_url, "http://", 7) != 0 &&
      strncmp(cfg->policy_url, "https://", 8) != 0) {
    snprintf(err, errlen, "--policy-url wants http://HOST[:PORT][/PATH] or https://...");
    return -1;
  }
  if (cfg->policy_password_file[0]) {
    if (!cfg->policy_user[0]) {
      snprintf(err, errlen, "--policy-password-file needs --policy-user");
      return -1;
    }
    char why[600];
    int n = config_read_secret(cfg->policy_password_file, (uint8_t *)cfg->policy_password,
                               sizeof cfg->policy_password - 1, 1, why, sizeof why);
    if (n < 0) {
      snprintf(err, errlen, "--policy-password-file: %s", why);
      return -1;
    }
    cfg->policy_password[n] = '\0';
    cfg->policy_password_file[0] = '\0'; /* read once, even if parsed again */
  }
  return 0;
}

/* --cluster and its companions: what can be checked before anything starts (the URL's
 * full parse is src/cluster/redis.c's, at start). */
static int check_cluster(config *cfg, char *err, size_t errlen) {
  if (!cfg->cluster_url[0]) {
    if (cfg->management) {
      snprintf(err, errlen, "--management needs --cluster");
      return -1;
    }
    return 0;
  }
  if (strncmp(cfg->cluster_url, "rediss://", 9) == 0) {
    snprintf(err, errlen,
             "--cluster: rediss:// (TLS) is not supported by hiredis 0.14; reach Redis "
             "over a private network or a TLS tunnel (docs/CLUSTER.md)");
    return -1;
  }
  if (strncmp(cfg->cluster_url, "redis://", 8) != 0 || !cfg->cluster_url[8]) {
    snprintf(err, errlen,
             "--cluster wants redis://[:PASSWORD@]HOST[:PORT][/DB], got \"%s\"",
             cfg->cluster_url);
    return -1;
  }
  if (!cfg->cluster_secret_file[0]) {
    snprintf(err, errlen,
             "--cluster needs --cluster-secret-file (at least 32 bytes, the "
             "same on every node)");
    return -1;
  }
  uint8_t secret[1024];
  char why[600];
  if (config_read_secret(cfg->cluster_secret_file, secret, sizeof secret, 32, why,
                         sizeof why) < 0) {
    snprintf(err, errlen, "--cluster-secret-file: %s", why);
    return -1;
  }
  if (!cfg->node_id[0]) {
    char host[256];
    if (gethostname(host, sizeof host) != 0 || !host[0]) {
      snprintf(err, errlen, "--node-id: no host name to default to; give one");
      return -1;
    }
    host[sizeof host - 1] = '\0';
    snprintf(cfg->node_id, sizeof cfg->node_id, "%.*s", (int)sizeof cfg->node_id - 1,
             host);
  }
  for (const char *p = cfg->node_id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
      snprintf(err, errlen,
               "--node-id: only letters, digits, '-', '_' and '.', got \"%s\"",
               cfg->node_id);
      return -1;
    }
  for (const char *p = cfg->region; *p; p++)
    if (*p <= ' ' || *p == 0x7f) {
      snprintf(err, errlen, "--region: no spaces or control characters");
      return -1;
    }
  if (cfg->node_url[0]) {
    if (strncmp(cfg->node_url, "http://", 7) != 0 &&
        strncmp(cfg->node_url, "https://", 8) != 0) {
      snprintf(err, errlen, "--node-url wants http://HOST:PORT or https://HOST:PORT");
      return -1;
    }
  } else {
    char h[64];
    snprintf(h, sizeof h, "%s", cfg->http_host);
    if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "[::]") == 0 || strcmp(h, "::") == 0 ||
        !h[0]) {
      snprintf(err, errlen,
               "--node-url is required when --http listens on a wildcard "
               "address (the other nodes need an address they can reach)");
      return -1;
    }
  }
  return 0;
}

int config_parse_args(config *cfg, int argc, char **argv, char *err, size_t errlen) {
  bool flagged[N_OPTIONS] = {false};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      config_print_help(stdout);
      return 1;
    }
    if (strcmp(argv[i], "--version") == 0) {
      printf("parleyd %s\n", parley_version());
      return 1;
    }
    if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0) {
      const char *path =
          argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[++i] : NULL);
      if (!path) {
        snprintf(err, errlen, "--config wants a file name");
        return -1;
      }
      if (config_load_file(cfg, path, err, errlen) != 0)
        return -1;
    }
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0) {
      i++;
      continue;
    }
    if (strncmp(argv[i], "--config=", 9) == 0)
      continue;
    if (strncmp(argv[i], "--", 2) != 0) {
      snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[i]);
      return -1;
    }
    const char *value;
    const option *o = arg_option(argc, argv, &i, &value);
    if (!o) {
      snprintf(err, errlen, "unknown option \"%s\" (see --help)", argv[i]);
      return -1;
    }
    if (!value) {
      snprintf(err, errlen, "--%s wants a value %s", o->name, o->arg);
      return -1;
    }
    /* The first flag of a list replaces what the config file listed; more add. */
    if (o->kind == OPT_URL_LIST && !flagged[o - options]) {
      flagged[o - options] = true;
      *((char *)cfg + o->offset) = '\0';
    }
    if (set_option(cfg, o, value, err, errlen) != 0)
      return -1;
  }
  if (check_turn(cfg, err, errlen) != 0 || check_policy(cfg, err, errlen) != 0)
    return -1;
  return check_cluster(cfg, err, errlen);
}

void config_print_help(FILE *out) {
  fprintf(out, "usage: parleyd [--config FILE] [options]\n\n"
               "Parley conferencing server. Options (also valid as \"name = value\" "
               "lines in FILE):\n"
               "  --config FILE                 read settings from FILE first; "
               "flags override it\n");
  for (size_t i = 0; i < N_OPTIONS; i++) {
    char left[64];
    snprintf(left, sizeof left, "--%s %s", options[i].name, options[i].arg);
    fprintf(out, "  %-30s%s\n", left, options[i].help);
  }
  fprintf(out, "  --version                     print the version\n"
               "  --help                        show this text\n");
}
