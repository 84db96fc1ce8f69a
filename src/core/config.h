/* config — parleyd's settings: defaults, a "key = value" file and command-line flags,
 * described by one table so --help, the file and the flags can never disagree. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include "core/host_addr.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
  char http_host[64];
  int http_port;
  char data_dir[512];
  int token_lifetime_s;
  int keepalive_s;
  int pin_attempts;
  int pin_window_s;
  int chat_rate;  /* chat messages a participant may send per second; 0 = no limit */
  int chat_burst; /* ... and at once after a quiet while */
  int guests_only_timeout_s;
  int sse_queue_bytes;
  int sse_total_bytes;       /* all streams' unsent bytes together */
  int max_participants;      /* per room */
  int max_streams;           /* event streams per participant */
  int max_conns_per_address; /* 0 = no limit */
  int max_body_bytes;
  int shutdown_grace_ms;
  int store_sync_ms; /* commits' fsync done in the background this often; 0 = each */
  char log_level[16];
  char cors_origin[256];
  char media_bind[64]; /* "" = the HTTP address */
  /* Announced, "A[,B...]"; "" = the bind address, or for a wildcard bind this host's
   * interface addresses (parleyd.c choose_announced). */
  char media_ip[HOST_ADDR_MAX * HOST_ADDR_LEN];
  int media_port;
  int media_loops;
  int ice_tcp; /* 1: each media port also accepts ICE-TCP (RFC 6544) */
  char srtp_profiles[128];
  int consent_timeout_s;
  char web_dir[512];        /* "" = no static pages */
  int call_setup_timeout_s; /* a client API call not connected by then ends */
  int max_calls;            /* calls one participant may hold at once */
  int rtm_ping_timeout_s;
  int rtc_idle_timeout_s;   /* /api/rtc/v1: a silent WebSocket is closed */
  int rtc_resume_timeout_s; /* ... and its participant kept for a resume */
  int rtc_max_session_participants, rtc_max_account_participants;
  int rtm_no_packet_timeout_s;
  int rtm_setup_timeout_s;
  int rtm_max_duration_s;           /* 0 = no limit */
  int rtm_max_reservations_client;  /* unclaimed POST /session per client */
  int rtm_max_reservations_account; /* ... and per account */
  char recordings_dir[512];         /* "" = DATA_DIR/recordings */
  char upload_allow[1024];        /* comma-separated hosts uploads may go to; "" = any */
  char webhook_allow[1024];       /* the same for webhooks */
  int allow_private_destinations; /* 1: uploads and webhooks may reach loopback,
                                     private and link-local addresses */
  int upload_retry_s;             /* uploads are retried this long before upload_failed */
  int webhook_retry_s;            /* webhooks likewise */
  char metrics_listen[96];        /* "ADDR:PORT" for /metrics alone; "" = on --http */
  char metrics_token[256];        /* bearer token /metrics wants; "" = none */
  char turn_urls[2048];           /* comma-separated turn:/turns: URLs; "" = no TURN */
  char turn_secret[256];          /* coturn's static-auth-secret (never logged) */
  char turn_secret_file[512];     /* ... read from this file at start instead */
  int turn_ttl_s;                 /* lifetime of the TURN credentials handed out */
  char stun_urls[1024];           /* comma-separated stun:/stuns: URLs; "" = none */
  char tls_cert[512];             /* PEM certificate (and chain) for HTTPS; "" = HTTP */
  char tls_key[512];              /* its PEM private key */
  char trust_proxy[1024];         /* reverse proxies whose X-Forwarded-For counts */
  /* Cluster mode (src/cluster/, docs/CLUSTER.md); cluster_url "" = one node alone. */
  char cluster_url[512];         /* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] */
  char node_id[64];              /* "" until parsed: then the host name */
  char region[64];               /* "default" */
  char node_url[256];            /* how other nodes reach this one; "" = from --http */
  char cluster_secret_file[512]; /* >= 32 bytes, the same on every node */
  int management;                /* 1: publishes the store's configuration */
  /* External policy server (src/policy/, client API §E); policy_url "" = none. */
  char policy_url[512];           /* base URI; /policy/v1/... is appended */
  int policy_service;             /* 1: ask service configuration */
  int policy_participant;         /* 1: ask participant properties */
  int policy_avatar;              /* 1: ask participant avatars */
  int policy_media_location;      /* 1: ask media location */
  int policy_timeout_ms;          /* each request's budget */
  char policy_user[128];          /* HTTP Basic user, "" = no auth */
  char policy_password_file[512]; /* ... and its password, read at start */
  char policy_password[256];
} config;

void config_defaults(config *cfg);
/* Loads a "key = value" file; returns 0, or -1 with a message in err. */
int config_load_file(config *cfg, const char *path, char *err, size_t errlen);
/* Applies argv. Returns 0 to run, 1 if --help or --version was printed, -1 with err on
 * bad input. --config FILE is applied first so that flags override the file (a list
 * option such as --turn-url given as a flag replaces the file's list). On success the
 * settings that depend on each other are checked and --turn-secret-file is read. */
int config_parse_args(config *cfg, int argc, char **argv, char *err, size_t errlen);
void config_print_help(FILE *out);
/* Splits "ADDR:PORT" (port 0 to 65535; the last colon splits). Returns 0, or -1. */
int config_split_hostport(const char *v, char *host, size_t host_cap, int *port);
/* Checks one ICE server URL (RFC 7064/7065: "turn:host[:port][?transport=udp|tcp]",
 * "turns:", "stun:", "stuns:"); family is "turn" or "stun". Returns 0, or -1 with why. */
int config_check_ice_url(const char *url, const char *family, char *why, size_t whylen);
/* Reads a secret file (at most cap bytes; trailing white space dropped) into out.
 * Returns its length, or -1 with why (missing, empty, shorter than min_len). */
int config_read_secret(const char *path, uint8_t *out, size_t cap, size_t min_len,
                       char *why, size_t whylen);

#endif
