/* rtc_peer — a load client's side of a call, on Parley's own rtc stack. */
#include "rtc_peer.h"

#include "core/ids.h"
#include "httpc.h"
#include "rtc/ice_lite.h"
#include "rtc/sdp.h"
#include "rtc/stun.h"
#include "rtc/twcc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static sdp_session answer;
bool rtc_peer_use_tcp;

#define TCP_IN_BYTES (256 * 1024)

ssize_t rtc_peer_send(peer *p, const uint8_t *data, size_t len) {
  if (!p->tcp)
    return sendto(p->fd, data, len, 0, (struct sockaddr *)&p->server, sizeof p->server);
  uint8_t frame[2 + 65535];
  frame[0] = (uint8_t)(len >> 8);
  frame[1] = (uint8_t)len;
  memcpy(frame + 2, data, len);
  ssize_t n = send(p->fd, frame, len + 2, MSG_NOSIGNAL);
  return n == (ssize_t)(len + 2) ? (ssize_t)len : -1;
}

/* The next whole frame out of p->in (cut to cap), or -1 if none is there yet. */
static ssize_t take_frame(peer *p, uint8_t *buf, size_t cap) {
  if (p->in_len < 2)
    return -1;
  size_t n = (size_t)p->in[0] << 8 | p->in[1];
  if (p->in_len < 2 + n)
    return -1;
  memcpy(buf, p->in + 2, n < cap ? n : cap);
  memmove(p->in, p->in + 2 + n, p->in_len - 2 - n);
  p->in_len -= 2 + n;
  return (ssize_t)(n < cap ? n : cap);
}

ssize_t rtc_peer_recv(peer *p, uint8_t *buf, size_t cap, int flags) {
  if (!p->tcp)
    return recv(p->fd, buf, cap, flags);
  for (;;) {
    ssize_t n = take_frame(p, buf, cap);
    if (n >= 0)
      return n;
    ssize_t got = recv(p->fd, p->in + p->in_len, TCP_IN_BYTES - p->in_len, flags);
    if (got <= 0)
      return got;
    p->in_len += (size_t)got;
  }
}

size_t bench_text_collect(char *p, size_t size, size_t n, void *ud) {
  bench_text *t = ud;
  t->data = realloc(t->data, t->len + size * n + 1);
  memcpy(t->data + t->len, p, size * n);
  t->len += size * n;
  t->data[t->len] = '\0';
  return size * n;
}

/* A blocking POST for set-up only (never on the measured path). */
char *rtc_peer_post(int http_port, const char *path, const char *token,
                    const char *json) {
  CURL *c = curl_easy_init();
  char url[512], auth[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api/client/v2/conferences/%s", http_port,
           path);
  struct curl_slist *h = curl_slist_append(NULL, "content-type: application/json");
  if (token) {
    snprintf(auth, sizeof auth, "token: %s", token);
    h = curl_slist_append(h, auth);
  }
  bench_text t = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_text_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_perform(c);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return t.data;
}

static void send_dtls(void *ud, const uint8_t *data, size_t len) {
  rtc_peer_send(ud, data, len);
}

void rtc_peer_unescape_sdp(char *s) {
  char *o = s;
  for (char *i = s; *i; i++) {
    if (i[0] == '\\' && i[1] == 'r')
      *o++ = '\r', i++;
    else if (i[0] == '\\' && i[1] == 'n')
      *o++ = '\n', i++;
    else
      *o++ = *i;
  }
  *o = '\0';
}

int rtc_peer_join(peer *p, int http_port, const char *alias, const char *display_name) {
  char body[160], path[256];
  snprintf(body, sizeof body, "{\"display_name\":\"%s\"}", display_name);
  snprintf(path, sizeof path, "%s/request_token", alias);
  char *r = rtc_peer_post(http_port, path, NULL, body);
  if (!r || json_string_field(r, strlen(r), "token", p->token, sizeof p->token) ||
      json_string_field(r, strlen(r), "participant_uuid", p->uuid, sizeof p->uuid))
    return fprintf(stderr, "request_token failed: %s\n", r ? r : "?"), free(r), -1;
  free(r);
  ice_lite creds;
  ice_lite_new_credentials(&creds);
  strcpy(p->ufrag, creds.local_ufrag);
  strcpy(p->pwd, creds.local_pwd);
  ids_random(&p->ssrc, sizeof p->ssrc);
  return 0;
}

char *rtc_peer_call(peer *p, int http_port, const char *alias, const char *offer) {
  static char req[8192], path[256], sdp[16384];
  snprintf(req, sizeof req, "{\"call_type\":\"WEBRTC\",\"sdp\":\"%s\"}", offer);
  snprintf(path, sizeof path, "%s/participants/%s/calls", alias, p->uuid);
  char *r = rtc_peer_post(http_port, path, p->token, req);
  if (!r || json_string_field(r, strlen(r), "sdp", sdp, sizeof sdp))
    return fprintf(stderr, "calls failed: %s\n", r ? r : "?"), free(r), NULL;
  if (json_string_field(r, strlen(r), "call_uuid", p->call, sizeof p->call))
    p->call[0] = '\0';
  free(r);
  rtc_peer_unescape_sdp(sdp);
  return sdp;
}

int rtc_peer_negotiate(peer *p, int http_port, const char *alias, dtls_context *ctx,
                       int i, bool publisher, const char *direction) {
  char name[32];
  snprintf(name, sizeof name, "load%d", i);
  if (rtc_peer_join(p, http_port, alias, name) != 0)
    return -1;
  char offer[2048], ssrc_line[64] = "";
  /* PARLEY_BENCH_TWCC=1: offer transport-cc as browsers do, so every forwarded copy
   * carries our transport-wide sequence number and is logged (its cost measured). */
  static const char twcc_lines[] =
      "a=extmap:3 " TWCC_URI "\\r\\na=rtcp-fb:96 transport-cc\\r\\n";
  if (publisher)
    snprintf(ssrc_line, sizeof ssrc_line, "a=ssrc:%u cname:load\\r\\n", p->ssrc);
  /* Only a publisher signals an SSRC: a receive-only peer has nothing to show. */
  snprintf(
      offer, sizeof offer,
      "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\na=group:BUNDLE 0\\r\\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 127.0.0.1\\r\\na=mid:0\\r\\n"
      "a=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:%s\\r\\na=setup:actpass\\r\\n"
      "a=%s\\r\\na=rtcp-mux\\r\\na=rtpmap:96 VP8/90000\\r\\n"
      "a=rtcp-fb:96 nack\\r\\na=rtcp-fb:96 nack pli\\r\\n%s%s",
      p->ufrag, p->pwd, dtls_context_fingerprint(ctx), direction, ssrc_line,
      getenv("PARLEY_BENCH_TWCC") ? twcc_lines : "");
  char *sdp = rtc_peer_call(p, http_port, alias, offer);
  return sdp ? rtc_peer_take_remote(p, sdp, NULL) : -1;
}

int rtc_peer_take_remote(peer *p, const char *sdp, const sdp_media **first) {
  char err[200];
  if (sdp_parse(sdp, strlen(sdp), &answer, err, sizeof err))
    return fprintf(stderr, "remote SDP: %s\n", err), -1;
  const sdp_media *m = &answer.media[0];
  if (m->n_candidates == 0)
    return fprintf(stderr, "remote SDP has no candidate\n"), -1;
  snprintf(p->server_ufrag, sizeof p->server_ufrag, "%s", m->ice_ufrag);
  snprintf(p->server_pwd, sizeof p->server_pwd, "%s", m->ice_pwd);
  snprintf(p->server_fp, sizeof p->server_fp, "%s %s", m->fingerprint_alg,
           m->fingerprint);
  char ip[64], proto[8] = "";
  unsigned port;
  size_t c = 0; /* the first candidate of our transport protocol */
  while (c < m->n_candidates && (sscanf(m->candidates[c], "%*s %*s %7s", proto) != 1 ||
                                 strcasecmp(proto, p->tcp ? "tcp" : "udp") != 0))
    c++;
  if (c == m->n_candidates)
    return fprintf(stderr, "no %s candidate\n", p->tcp ? "tcp" : "udp"), -1;
  if (sscanf(m->candidates[c], "%*s %*s %*s %*s %63s %u", ip, &port) != 2 ||
      inet_pton(AF_INET, ip, &p->server.sin_addr) != 1)
    return fprintf(stderr, "unusable candidate: %s\n", m->candidates[c]), -1;
  p->server.sin_family = AF_INET;
  p->server.sin_port = htons((uint16_t)port);
  if (first)
    *first = m;
  return 0;
}

int rtc_peer_open(peer *p, const char *local_ip) {
  p->fd = socket(AF_INET, p->tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  struct sockaddr_in local = {.sin_family = AF_INET};
  socklen_t len = sizeof local;
  if (p->fd < 0 || inet_pton(AF_INET, local_ip, &local.sin_addr) != 1 ||
      bind(p->fd, (struct sockaddr *)&local, sizeof local) ||
      getsockname(p->fd, (struct sockaddr *)&local, &len))
    return perror("rtc_peer_open"), -1;
  p->bound = true;
  return ntohs(local.sin_port);
}

/* Receives one datagram, answering the server's own connectivity checks on the way (a
 * full ICE server such as libnice checks the pair back even when it is ICE-lite, and
 * fails the pair if we stay silent). Returns the length of anything else, or -1. */
static ssize_t receive_answering_checks(peer *p, uint8_t *buf, size_t cap, int flags) {
  for (;;) {
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t got =
        p->tcp ? rtc_peer_recv(p, buf, cap, flags)
               : recvfrom(p->fd, buf, cap, flags, (struct sockaddr *)&from, &from_len);
    if (p->tcp) { /* a connection has one peer: the server */
      memcpy(&from, &p->server, sizeof p->server);
      from_len = sizeof p->server;
    }
    if (got <= 0 ||
        !rtc_peer_answer_check(p, buf, (size_t)got, (struct sockaddr *)&from, from_len))
      return got;
  }
}

bool rtc_peer_answer_check(peer *p, const uint8_t *buf, size_t len,
                           const struct sockaddr *from, socklen_t from_len) {
  stun_msg m;
  if (len == 0 || buf[0] > 1 || stun_parse(buf, len, &m) ||
      m.type != STUN_BINDING_REQUEST)
    return false;
  if (stun_integrity_ok(buf, &m, p->pwd, strlen(p->pwd))) {
    uint8_t reply[256];
    size_t n = stun_build_binding_success(reply, sizeof reply, m.tid, from, p->pwd,
                                          strlen(p->pwd));
    if (p->tcp)
      rtc_peer_send(p, reply, n);
    else
      sendto(p->fd, reply, n, 0, from, from_len);
    p->checks_answered++;
  }
  return true;
}

/* Sends our nominating check with transaction id tid. */
static void send_check(peer *p, const uint8_t tid[STUN_TID_LEN]) {
  char username[300];
  uint8_t buf[600];
  snprintf(username, sizeof username, "%s:%s", p->server_ufrag, p->ufrag);
  size_t n = stun_build_binding_request(buf, sizeof buf, tid, username, 0x6e0001ff, 42,
                                        true, p->server_pwd, strlen(p->server_pwd));
  rtc_peer_send(p, buf, n);
}

void rtc_peer_refresh_consent(peer *p) {
  uint8_t tid[STUN_TID_LEN];
  ids_random(tid, sizeof tid);
  send_check(p, tid);
}

void rtc_peer_refresh_all(peer *peers, int n, uint64_t *last_ns) {
  if (now_ns() - *last_ns < 5000000000ULL)
    return;
  *last_ns = now_ns();
  uint8_t buf[2048];
  for (int i = 0; i < n; i++) {
    /* Read what queued up meanwhile, answering the server's checks in it. */
    while (receive_answering_checks(&peers[i], buf, sizeof buf, MSG_DONTWAIT) > 0)
      ;
    rtc_peer_refresh_consent(&peers[i]);
  }
}

/* One nominating check, retried, until its success response arrives. */
static int ice_check(peer *p) {
  uint8_t tid[STUN_TID_LEN], buf[2048];
  ids_random(tid, sizeof tid);
  /* A busy server may miss the first check: retry as ICE agents do. */
  for (int attempt = 0; attempt < 10; attempt++) {
    send_check(p, tid);
    ssize_t got = receive_answering_checks(p, buf, sizeof buf, 0);
    stun_msg m;
    if (got > 0 && stun_parse(buf, (size_t)got, &m) == 0 &&
        m.type == STUN_BINDING_SUCCESS && !memcmp(m.tid, tid, sizeof tid))
      return 0;
  }
  return fprintf(stderr, "no binding success\n"), -1;
}

/* ICE and the DTLS handshake, blocking with a deadline. */
int rtc_peer_connect(peer *p, dtls_context *ctx) {
  if (!p->bound && rtc_peer_open(p, "127.0.0.1") < 0)
    return -1;
  if (p->tcp) {
    p->in = malloc(TCP_IN_BYTES);
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(p->fd, (struct sockaddr *)&p->server, sizeof p->server) != 0)
      return perror("ICE-TCP connect"), -1;
  }
  struct timeval tv = {0, 200000};
  setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (ice_check(p))
    return -1;
  uint8_t buf[2048];
  /* Otherwise the first ClientHello is dropped and resent only after OpenSSL's 1 s. */
  for (int tries = 0; p->await_server_check && !p->checks_answered && tries < 10; tries++)
    receive_answering_checks(p, buf, sizeof buf, 0);
  p->dtls = dtls_new_client(ctx, p->server_fp, send_dtls, p);
  dtls_start_client(p->dtls);
  for (int tries = 0; tries < 50 && dtls_get_state(p->dtls) == DTLS_HANDSHAKING;
       tries++) {
    ssize_t got = receive_answering_checks(p, buf, sizeof buf, 0);
    if (got > 0)
      dtls_receive(p->dtls, buf, (size_t)got);
    else
      dtls_on_timeout(p->dtls);
  }
  dtls_srtp_keys keys;
  if (dtls_get_state(p->dtls) != DTLS_CONNECTED || dtls_srtp_keys_get(p->dtls, &keys) ||
      srtp_session_init(&p->srtp, &keys))
    return fprintf(stderr, "DTLS failed: %s\n", dtls_error(p->dtls)), -1;
  p->srtp_profile = keys.profile;
  int size = 4 << 20;
  setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return 0;
}

/* A VP8 keyframe start: the echo router then never asks us for one. */
size_t rtc_peer_make_packet(peer *p, uint8_t *pkt, uint32_t ts) {
  memset(pkt, 0x5a, PACKET);
  size_t n = 0;
  pkt[n++] = 0x80;
  pkt[n++] = 96;
  pkt[n++] = (uint8_t)(p->seq >> 8);
  pkt[n++] = (uint8_t)p->seq;
  p->seq++;
  for (int k = 3; k >= 0; k--)
    pkt[n++] = (uint8_t)(ts >> (8 * k));
  for (int k = 3; k >= 0; k--)
    pkt[n++] = (uint8_t)(p->ssrc >> (8 * k));
  pkt[n++] = 0x10; /* VP8 descriptor: S=1, PID 0 */
  pkt[n++] = 0x00; /* frame tag: P=0 (key frame) */
  return PACKET;
}

dtls_context *rtc_peer_setup(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  srtp_session_global_init();
  char err[200];
  dtls_context *ctx =
      dtls_context_new("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", err, sizeof err);
  if (!ctx)
    fprintf(stderr, "DTLS identity: %s\n", err);
  return ctx;
}

peer *rtc_peer_connect_all(int http_port, const char *alias, int n,
                           const char *first_direction, const char *other_direction) {
  dtls_context *ctx = rtc_peer_setup();
  if (!ctx)
    return NULL;
  peer *peers = calloc((size_t)n, sizeof *peers);
  uint64_t last_refresh = now_ns();
  for (int i = 0; i < n; i++) {
    rtc_peer_refresh_all(peers, i, &last_refresh);
    const char *direction = i == 0 ? first_direction : other_direction;
    peers[i].tcp = rtc_peer_use_tcp;
    if (rtc_peer_negotiate(&peers[i], http_port, alias, ctx, i,
                           strstr(direction, "send") != NULL, direction) ||
        rtc_peer_connect(&peers[i], ctx))
      return NULL;
  }
  return peers;
}
