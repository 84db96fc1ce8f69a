/* pubsub_load — forwarding through publish/subscribe sessions (/api/rtc/v1, issue 15):
 * real ICE + DTLS + SRTP peers from Parley's own rtc stack join one session over the
 * WebSocket API with a pub/sub JWT. Two scenarios:
 *   fanout N: one publisher sends three VP8 simulcast layers (as simulcast_load does) and
 *     N subscribers, each on its own subscribe connection (the server offers, we answer),
 *     ask for the top layer; measured by forward_measure exactly as simulcast_load, so
 *     the figures compare with the conference router's at the same N and rate.
 *   mesh K: K participants each publish one VP8 stream and subscribe to the other K - 1
 *     feeds on one subscribe connection; measured by mesh_measure, as janus_load --mesh
 *     measures Janus's VideoRoom. */
#include "forward_measure.h"
#include "opts.h"
#include "rtm_peer.h"
#include "simulcast_source.h"

#include "auth/jwt.h"
#include "core/buf.h"
#include "core/ids.h"
#include "httpc.h"
#include "rtc/ice_lite.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VP8_PT 96
#define RPC_TIMEOUT_MS 10000

/* One participant: its WebSocket, its publish and subscribe connections. */
typedef struct {
  ws_client ws;
  unsigned next_id;
  peer pub, sub;
  char uid[16], feed_id[72];
} member;

static const char *g_cid, *g_secret, *g_sid;
static int g_port;

static char *mint_jwt(const char *uid) {
  json_t *c = json_pack("{s:s, s:s, s:s, s:I}", "cid", g_cid, "sid", g_sid, "uid", uid,
                        "exp", (json_int_t)time(NULL) + 7200);
  char *t = jwt_sign_hs256(c, g_secret);
  json_decref(c);
  return t;
}

/* Sends {id, op, ...fields} and waits for its reply, skipping events. The reply's data
 * (a new reference) or NULL with the error on stderr. */
static json_t *rpc(member *m, const char *op, json_t *fields) {
  unsigned id = ++m->next_id;
  json_object_set_new(fields, "id", json_integer(id));
  json_object_set_new(fields, "op", json_string(op));
  char *text = json_dumps(fields, JSON_COMPACT);
  json_decref(fields);
  int rc = ws_send_text(&m->ws, text, strlen(text));
  free(text);
  if (rc != 0)
    return fprintf(stderr, "%s: %s: send failed\n", m->uid, op), NULL;
  uint64_t deadline = now_ns() + (uint64_t)RPC_TIMEOUT_MS * 1000000;
  while (now_ns() < deadline) {
    bool closed;
    char *frame = ws_next_text(&m->ws, 200, &closed);
    if (closed)
      return fprintf(stderr, "%s: %s: the server closed the socket\n", m->uid, op), NULL;
    if (!frame)
      continue;
    json_t *j = json_loads(frame, 0, NULL);
    free(frame);
    json_t *jid = json_object_get(j, "id");
    if (!jid || (unsigned)json_integer_value(jid) != id) {
      json_decref(j); /* an event */
      continue;
    }
    json_t *data = NULL;
    if (json_is_true(json_object_get(j, "ok")))
      data = json_incref(json_object_get(j, "data"));
    else
      fprintf(stderr, "%s: %s refused: %s\n", m->uid, op,
              json_string_value(json_object_get(json_object_get(j, "err"), "message")));
    json_decref(j);
    return data;
  }
  return fprintf(stderr, "%s: %s: no reply in %d ms\n", m->uid, op, RPC_TIMEOUT_MS), NULL;
}

static int join(member *m, int i) {
  snprintf(m->uid, sizeof m->uid, "p%d", i);
  if (ws_connect(&m->ws, g_port, "/api/rtc/v1") != 0)
    return -1;
  char *jwt = mint_jwt(m->uid);
  json_t *r = rpc(m, "join",
                  json_pack("{s:s, s:s, s:s}", "sid", g_sid, "uid", m->uid, "jwt", jwt));
  free(jwt);
  json_decref(r);
  return r ? 0 : -1;
}

/* Fresh ICE credentials and SSRC for one of m's connections. */
static void peer_init(peer *p) {
  ice_lite creds;
  ice_lite_new_credentials(&creds);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", creds.local_ufrag);
  snprintf(p->pwd, sizeof p->pwd, "%s", creds.local_pwd);
  ids_random(&p->ssrc, sizeof p->ssrc);
}

/* publish with one video m-line (three rids when simulcast); keeps the feed id. */
static int publish(member *m, dtls_context *ctx, bool simulcast) {
  peer *p = &m->pub;
  peer_init(p);
  char offer[2048], ssrc[64] = "";
  if (!simulcast)
    snprintf(ssrc, sizeof ssrc, "a=ssrc:%" PRIu32 " cname:%s\r\n", p->ssrc, m->uid);
  snprintf(
      offer, sizeof offer,
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=mid:0\r\n"
      "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\n"
      "a=sendonly\r\na=rtcp-mux\r\na=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n%s%s",
      p->ufrag, p->pwd, dtls_context_fingerprint(ctx), EXT_MID, EXT_RID,
      simulcast ? "a=rid:l send\r\na=rid:m send\r\na=rid:h send\r\n"
                  "a=simulcast:send l;m;h\r\n"
                : "",
      ssrc);
  json_t *r =
      rpc(m, "publish",
          json_pack("{s:s, s:s, s:[s]}", "sdp", offer, "type", "video", "mids", "0"));
  if (!r)
    return -1;
  const char *feed = json_string_value(json_object_get(r, "feed_id"));
  char *sdp = strdup(json_string_value(json_object_get(r, "sdp")) ?: "");
  snprintf(m->feed_id, sizeof m->feed_id, "%s", feed ? feed : "");
  json_decref(r);
  int rc = rtc_peer_take_remote(p, sdp, NULL);
  free(sdp);
  return rc || !*m->feed_id ? -1 : rtc_peer_connect(p, ctx);
}

/* Our answer to the server's subscribe offer: every m-line received, with the offer's
 * first codec of its kind. */
static char *answer_for(peer *p, dtls_context *ctx, const char *offer) {
  static sdp_session s;
  char err[128];
  if (sdp_parse(offer, strlen(offer), &s, err, sizeof err) != 0)
    return fprintf(stderr, "subscribe offer: %s\n", err), NULL;
  buf b = {0};
  buf_appendf(&b, "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE");
  for (size_t i = 0; i < s.n_media; i++)
    buf_appendf(&b, " %s", s.media[i].mid);
  buf_appendf(&b, "\r\n");
  for (size_t i = 0; i < s.n_media; i++) {
    const sdp_media *md = &s.media[i];
    const sdp_codec *c = &md->codecs[0];
    buf_appendf(&b,
                "m=%s %d UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 127.0.0.1\r\na=mid:%s\r\n"
                "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:active\r\n"
                "a=%s\r\na=rtcp-mux\r\na=rtpmap:%u %s/%u%s\r\n",
                md->kind_name, md->port ? 9 : 0, c->pt, md->mid, p->ufrag, p->pwd,
                dtls_context_fingerprint(ctx), md->port ? "recvonly" : "inactive", c->pt,
                c->name, c->clock_rate, md->kind == SDP_AUDIO ? "/2" : "");
  }
  buf_append(&b, "", 1);
  return b.data;
}

/* subscribe to n feeds on m's subscribe connection, answer, connect. */
static int subscribe(member *m, dtls_context *ctx, const char *const *feeds, int n) {
  peer *p = &m->sub;
  peer_init(p);
  json_t *ids = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(ids, json_string(feeds[i]));
  json_t *r = rpc(m, "subscribe", json_pack("{s:o}", "feed_ids", ids));
  if (!r)
    return -1;
  char *offer = strdup(json_string_value(json_object_get(r, "sdp")) ?: "");
  json_decref(r);
  char *answer = answer_for(p, ctx, offer);
  int rc = answer && rtc_peer_take_remote(p, offer, NULL) == 0 ? 0 : -1;
  free(offer);
  if (rc == 0) {
    r = rpc(m, "answer", json_pack("{s:s}", "sdp", answer));
    rc = r ? 0 : -1;
    json_decref(r);
  }
  free(answer);
  return rc ? -1 : rtc_peer_connect(p, ctx);
}

static int ask_layer(member *m, const char *feed, int w, int h) {
  json_t *r = rpc(m, "layer",
                  json_pack("{s:s, s:i, s:i}", "feed_id", feed, "width", w, "height", h));
  json_decref(r);
  return r ? 0 : -1;
}

static void ping_all(member *ms, int n) {
  for (int i = 0; i < n; i++)
    json_decref(rpc(&ms[i], "ping", json_object()));
}

static int fanout(dtls_context *ctx, int subscribers, int seconds, int pps, int pid) {
  int calls = subscribers + 1;
  member *ms = calloc((size_t)calls, sizeof *ms);
  if (join(&ms[0], 0) || publish(&ms[0], ctx, true))
    return 1;
  peer *peers = calloc((size_t)calls, sizeof *peers);
  int *stream_of = calloc((size_t)calls, sizeof *stream_of);
  uint64_t last = now_ns();
  const char *feed = ms[0].feed_id;
  for (int i = 1; i < calls; i++) {
    peers[0] = ms[0].pub;
    rtc_peer_refresh_all(peers, i, &last);
    if (join(&ms[i], i) || subscribe(&ms[i], ctx, &feed, 1) ||
        ask_layer(&ms[i], feed, simulcast_widths[LAYERS - 1],
                  simulcast_heights[LAYERS - 1]))
      return 1;
    peers[i] = ms[i].sub;
    stream_of[i] = LAYERS - 1;
  }
  peers[0] = ms[0].pub;
  ping_all(ms, calls);
  printf("1 simulcast publisher (l/m/h = 320x180/640x360/1280x720) and %d subscribers, "
         "each its own subscribe connection, in one pub/sub session\n",
         subscribers);
  simulcast_layers L;
  simulcast_layers_init(&L, pps, 1);
  forward_source src = {.n_streams = LAYERS,
                        .next = simulcast_next_packet,
                        .ud = &L,
                        .stream_of = stream_of,
                        .warmup_ms = 6000};
  return forward_measure_source(peers, calls, seconds, pps, pid, "parleyd", VP8_PT, &src);
}

static int mesh(dtls_context *ctx, int k, int seconds, int pps, int pid) {
  member *ms = calloc((size_t)k, sizeof *ms);
  for (int i = 0; i < k; i++)
    if (join(&ms[i], i) || publish(&ms[i], ctx, false))
      return 1;
  const char **feeds = calloc((size_t)k, sizeof *feeds);
  for (int i = 0; i < k; i++) {
    int n = 0;
    for (int j = 0; j < k; j++)
      if (j != i)
        feeds[n++] = ms[j].feed_id;
    if (subscribe(&ms[i], ctx, feeds, n))
      return 1;
    for (int j = 0; j < n; j++)
      if (ask_layer(&ms[i], feeds[j], 640, 360))
        return 1;
  }
  ping_all(ms, k);
  printf("%d participants, each publishing one VP8 stream at %d packets/s and "
         "subscribed to the other %d on one connection: %d forwarded streams\n",
         k, pps, k - 1, k * (k - 1));
  peer *pubs = calloc((size_t)k, sizeof *pubs), *subs = calloc((size_t)k, sizeof *subs);
  for (int i = 0; i < k; i++)
    pubs[i] = ms[i].pub, subs[i] = ms[i].sub;
  return mesh_measure(pubs, subs, k, seconds, pps, pid, "parleyd", VP8_PT);
}

static const char usage[] =
    "usage: pubsub_load --port HTTP_PORT --pid PARLEYD_PID --cid CID --secret "
    "JWT_SECRET\n"
    "         (--fanout N | --mesh K) [--seconds S] [--pps P] [--sid SID]\n"
    "  fanout: 1 simulcast publisher (P packets/s over l:m:h = 1:2:4) to N subscribers\n"
    "  mesh: K participants each publish P packets/s and subscribe to the other K - 1\n";

int main(int argc, char **argv) {
  int port = 0, pid = 0, n_fanout = 0, k_mesh = 0, seconds = 10, pps = 0;
  const char *cid = NULL, *secret = NULL, *sid = "bench";
  const opt opts[] = {{"port", OPT_INT, &port},       {"pid", OPT_INT, &pid},
                      {"cid", OPT_STRING, &cid},      {"secret", OPT_STRING, &secret},
                      {"fanout", OPT_INT, &n_fanout}, {"mesh", OPT_INT, &k_mesh},
                      {"seconds", OPT_INT, &seconds}, {"pps", OPT_INT, &pps},
                      {"sid", OPT_STRING, &sid},      {NULL, 0, NULL}};
  if (!opts_parse(argc, argv, opts) || !port || !pid || !cid || !secret ||
      (n_fanout > 0) == (k_mesh > 0) || seconds < 1)
    opts_usage(usage);
  g_port = port, g_cid = cid, g_secret = secret, g_sid = sid;
  if (!pps)
    pps =
        n_fanout ? 262 : 20; /* mesh: nine streams fit a subscriber's 2.5 Mbit/s start */
  dtls_context *ctx = rtc_peer_setup();
  if (!ctx)
    return 1;
  return n_fanout ? fanout(ctx, n_fanout, seconds, pps, pid)
                  : mesh(ctx, k_mesh, seconds, pps, pid);
}
