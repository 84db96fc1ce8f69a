/* janus_load — conf_load's forwarding scenario on Janus's VideoRoom: over Janus's REST
 * API one publisher and N subscribers join a room, then forward_measure runs the same
 * window; with --mesh K, pubsub_load's all-to-all scenario, measured by mesh_measure. */
#include "forward_measure.h"
#include "httpc.h"
#include "rtc/ice_lite.h"
#include "rtc/sdp.h"

#include "core/ids.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  CURL *curl; /* one keep-alive connection for the whole set-up */
  int port;
  json_int_t session;
  unsigned transaction;
  const char *local_ip; /* our peers' address: one Janus can reach (see main) */
} janus_api;

/* One blocking request (set-up only, never in the measured window); body NULL for GET.
 * Returns the parsed reply or NULL with a message on stderr. */
static json_t *janus_http(janus_api *j, const char *path, json_t *body) {
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/janus%s", j->port, path);
  char *json = NULL;
  if (body) {
    char tid[16];
    snprintf(tid, sizeof tid, "t%u", ++j->transaction);
    json_object_set_new(body, "transaction", json_string(tid));
    json = json_dumps(body, JSON_COMPACT);
    json_decref(body);
  }
  bench_text t = {0};
  curl_easy_reset(j->curl);
  curl_easy_setopt(j->curl, CURLOPT_URL, url);
  curl_easy_setopt(j->curl, CURLOPT_TIMEOUT, 60L);
  if (json)
    curl_easy_setopt(j->curl, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt(j->curl, CURLOPT_WRITEFUNCTION, bench_text_collect);
  curl_easy_setopt(j->curl, CURLOPT_WRITEDATA, &t);
  CURLcode rc = curl_easy_perform(j->curl);
  free(json);
  json_t *reply = t.data ? json_loads(t.data, 0, NULL) : NULL;
  if (rc != CURLE_OK || !reply)
    fprintf(stderr, "janus %s: %s %s\n", path, curl_easy_strerror(rc),
            t.data ? t.data : "");
  free(t.data);
  return reply;
}

/* POSTs a Janus API request to the session (handle 0: the session itself). */
static json_t *janus_post(janus_api *j, json_int_t handle, json_t *body) {
  char path[96] = "";
  if (j->session)
    snprintf(path, sizeof path, "/%" JSON_INTEGER_FORMAT, j->session);
  if (handle)
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%" JSON_INTEGER_FORMAT,
             handle);
  return janus_http(j, path, body);
}

/* The "data" id of a success reply (session or handle), or 0. */
static json_int_t success_id(json_t *reply) {
  json_int_t id = 0;
  const char *kind = json_string_value(json_object_get(reply, "janus"));
  if (kind && !strcmp(kind, "success"))
    id = json_integer_value(json_object_get(json_object_get(reply, "data"), "id"));
  if (!id)
    fprintf(stderr, "janus: unexpected reply %s\n", json_dumps(reply, JSON_COMPACT));
  json_decref(reply);
  return id;
}

static json_int_t attach_videoroom(janus_api *j) {
  return success_id(janus_post(
      j, 0,
      json_pack("{s:s, s:s}", "janus", "attach", "plugin", "janus.plugin.videoroom")));
}

/* Long-polls the session until the VideoRoom event for handle arrives (or, with kind, the
 * Janus event of that kind, e.g. "webrtcup"); other events are set-up chatter and are
 * dropped. The event or NULL. */
static json_t *wait_event_kind(janus_api *j, json_int_t handle, const char *kind) {
  char path[64];
  snprintf(path, sizeof path, "/%" JSON_INTEGER_FORMAT, j->session);
  for (int polls = 0; polls < 100; polls++) {
    json_t *ev = janus_http(j, path, NULL);
    if (!ev)
      return NULL;
    json_t *data = json_object_get(json_object_get(ev, "plugindata"), "data");
    const char *got = json_string_value(json_object_get(ev, "janus"));
    bool mine = json_integer_value(json_object_get(ev, "sender")) == handle;
    if (mine && kind && got && !strcmp(got, kind))
      return ev;
    if (mine && !kind && data) {
      if (!json_object_get(data, "error"))
        return ev;
      fprintf(stderr, "videoroom error: %s\n", json_dumps(data, JSON_COMPACT));
      json_decref(ev);
      return NULL;
    }
    json_decref(ev);
  }
  return NULL;
}

static json_t *wait_event(janus_api *j, json_int_t handle) {
  return wait_event_kind(j, handle, NULL);
}

/* Sends a VideoRoom message (with jsep if given) and waits for its event. */
static json_t *videoroom_request(janus_api *j, json_int_t handle, json_t *body,
                                 json_t *jsep) {
  json_t *msg = json_pack("{s:s, s:o}", "janus", "message", "body", body);
  if (jsep)
    json_object_set_new(msg, "jsep", jsep);
  json_t *ack = janus_post(j, handle, msg);
  const char *kind = ack ? json_string_value(json_object_get(ack, "janus")) : NULL;
  bool acked = kind && !strcmp(kind, "ack");
  if (!acked && ack)
    fprintf(stderr, "janus: no ack: %s\n", json_dumps(ack, JSON_COMPACT));
  json_decref(ack);
  return acked ? wait_event(j, handle) : NULL;
}

/* Half-trickle: all our candidates were in the SDP, so say gathering is over. */
/* Janus's libnice checks every pair back, and Janus's DTLS waits for that check. */
static int connect_to_janus(peer *p, dtls_context *ctx) {
  p->await_server_check = true;
  return rtc_peer_connect(p, ctx);
}

static int trickle_completed(janus_api *j, json_int_t handle) {
  json_t *r = janus_post(
      j, handle,
      json_pack("{s:s, s:{s:b}}", "janus", "trickle", "candidate", "completed", 1));
  json_decref(r);
  return r ? 0 : -1;
}

/* Our side's SDP for one VP8 m-line: a publisher's offer or a subscriber's answer. It
 * names our socket as a host candidate and takes the DTLS client role (setup:active),
 * which is what rtc_peer_connect plays. */
static void write_local_sdp(char *out, size_t cap, peer *p, dtls_context *ctx,
                            const char *ip, int port, const char *mid, unsigned pt,
                            bool publisher) {
  ice_lite creds;
  ice_lite_new_credentials(&creds);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", creds.local_ufrag);
  snprintf(p->pwd, sizeof p->pwd, "%s", creds.local_pwd);
  ids_random(&p->ssrc, sizeof p->ssrc);
  char ssrc_line[64] = "";
  if (publisher)
    snprintf(ssrc_line, sizeof ssrc_line, "a=ssrc:%u cname:load\r\n", p->ssrc);
  snprintf(out, cap,
           "v=0\r\no=- %u 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\n"
           "m=video 9 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 %s\r\na=mid:%s\r\n"
           "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:active\r\n"
           "a=%s\r\na=rtcp-mux\r\na=rtpmap:%u VP8/90000\r\n"
           "a=rtcp-fb:%u nack\r\na=rtcp-fb:%u nack pli\r\n%s"
           "a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n",
           p->ssrc, ip, mid, pt, ip, mid, p->ufrag, p->pwd, dtls_context_fingerprint(ctx),
           publisher ? "sendonly" : "recvonly", pt, pt, pt, ssrc_line, ip, port);
}

/* true if ev was there (and releases it). */
static bool json_decref_ok(json_t *ev) {
  json_decref(ev);
  return ev != NULL;
}

static json_t *jsep(const char *type, const char *sdp) {
  return json_pack("{s:s, s:s}", "type", type, "sdp", sdp);
}

static const char *jsep_sdp(json_t *ev) {
  return json_string_value(json_object_get(json_object_get(ev, "jsep"), "sdp"));
}

/* Creates the room on a handle of its own; returns its id or 0. */
static json_int_t create_room(janus_api *j, int pps, int publishers) {
  json_int_t admin = attach_videoroom(j), room = 0;
  if (!admin)
    return 0;
  /* The room's REMB cap: twice the stream, so it never asks the publisher to slow. */
  json_int_t bitrate = (json_int_t)pps * PACKET * 8 * 2;
  json_t *r =
      janus_post(j, admin,
                 json_pack("{s:s, s:{s:s, s:i, s:s, s:I, s:b}}", "janus", "message",
                           "body", "request", "create", "publishers", publishers,
                           "videocodec", "vp8", "bitrate", bitrate, "permanent", 0));
  json_t *data = json_object_get(json_object_get(r, "plugindata"), "data");
  room = json_integer_value(json_object_get(data, "room"));
  if (!room)
    fprintf(stderr, "room create failed: %s\n", r ? json_dumps(r, JSON_COMPACT) : "?");
  json_decref(r);
  return room;
}

/* Publisher: offer with joinandconfigure, take the answer, connect. Its feed id or 0. */
static json_int_t join_publisher(janus_api *j, json_int_t room, peer *p,
                                 dtls_context *ctx) {
  json_int_t handle = attach_videoroom(j), feed = 0;
  int port = handle ? rtc_peer_open(p, j->local_ip) : -1;
  if (port < 0)
    return 0;
  char offer[2048];
  write_local_sdp(offer, sizeof offer, p, ctx, j->local_ip, port, "0", 96, true);
  json_t *ev =
      videoroom_request(j, handle,
                        json_pack("{s:s, s:I, s:s, s:s}", "request", "joinandconfigure",
                                  "room", room, "ptype", "publisher", "display", "load0"),
                        jsep("offer", offer));
  const char *answer = ev ? jsep_sdp(ev) : NULL;
  if (answer && !strstr(answer, "a=rtpmap:96 VP8/90000"))
    fprintf(stderr, "Janus did not keep VP8 on payload type 96:\n%s", answer);
  else if (answer && rtc_peer_take_remote(p, answer, NULL) == 0 &&
           trickle_completed(j, handle) == 0 && connect_to_janus(p, ctx) == 0 &&
           /* Until Janus has seen the PeerConnection up, subscribing answers 428 "No
            * such feed" (with shared event loops that takes a moment). */
           json_decref_ok(wait_event_kind(j, handle, "webrtcup")))
    feed = json_integer_value(json_object_get(
        json_object_get(json_object_get(ev, "plugindata"), "data"), "id"));
  json_decref(ev);
  return feed;
}

/* Subscriber: join the feed, answer Janus's offer, start, connect. The offered video
 * payload type, or -1. */
static int join_subscriber(janus_api *j, json_int_t room, json_int_t feed, peer *p,
                           dtls_context *ctx) {
  static sdp_session offer;
  json_int_t handle = attach_videoroom(j);
  int port = handle ? rtc_peer_open(p, j->local_ip) : -1;
  if (port < 0)
    return -1;
  json_t *ev =
      videoroom_request(j, handle,
                        json_pack("{s:s, s:I, s:s, s:[{s:I}]}", "request", "join", "room",
                                  room, "ptype", "subscriber", "streams", "feed", feed),
                        NULL);
  const char *sdp = ev ? jsep_sdp(ev) : NULL;
  char err[200];
  if (!sdp || sdp_parse(sdp, strlen(sdp), &offer, err, sizeof err) ||
      offer.n_media != 1 || offer.media[0].n_payloads < 1 ||
      rtc_peer_take_remote(p, sdp, NULL)) {
    fprintf(stderr, "subscriber offer unusable: %s\n", sdp ? sdp : "(none)");
    json_decref(ev);
    return -1;
  }
  json_decref(ev);
  const sdp_media *m = &offer.media[0];
  int pt = m->payload_order[0];
  char answer[2048];
  write_local_sdp(answer, sizeof answer, p, ctx, j->local_ip, port, m->mid, (unsigned)pt,
                  false);
  ev = videoroom_request(j, handle, json_pack("{s:s}", "request", "start"),
                         jsep("answer", answer));
  json_decref(ev);
  if (!ev || trickle_completed(j, handle) || connect_to_janus(p, ctx))
    return -1;
  return pt;
}

/* Our answer to a multistream subscription's offer: every m-line received with its first
 * payload type, our socket as the one host candidate, DTLS client. */
static void write_mesh_answer(char *out, size_t cap, peer *p, dtls_context *ctx,
                              const char *ip, int port, const sdp_session *offer) {
  ice_lite creds;
  ice_lite_new_credentials(&creds);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", creds.local_ufrag);
  snprintf(p->pwd, sizeof p->pwd, "%s", creds.local_pwd);
  size_t n = (size_t)snprintf(out, cap,
                              "v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\n"
                              "a=group:BUNDLE",
                              ip);
  for (size_t i = 0; i < offer->n_media && n < cap; i++)
    n += (size_t)snprintf(out + n, cap - n, " %s", offer->media[i].mid);
  for (size_t i = 0; i < offer->n_media && n < cap; i++) {
    const sdp_media *m = &offer->media[i];
    unsigned pt = m->payload_order[0];
    n += (size_t)snprintf(
        out + n, cap - n,
        "\r\nm=video 9 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 %s\r\na=mid:%s\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:active\r\n"
        "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:%u VP8/90000\r\n"
        "a=rtcp-fb:%u nack\r\na=rtcp-fb:%u nack pli\r\n"
        "a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates",
        pt, ip, m->mid, p->ufrag, p->pwd, dtls_context_fingerprint(ctx), pt, pt, pt, ip,
        port);
  }
  if (n < cap)
    snprintf(out + n, cap - n, "\r\n");
}

/* A subscriber of every feed but skip's, on one handle and one connection (VideoRoom's
 * multistream subscription). The offered video payload type, or -1. */
static int join_mesh_subscriber(janus_api *j, json_int_t room, const json_int_t *feeds,
                                int k, int skip, peer *p, dtls_context *ctx) {
  static sdp_session offer;
  json_int_t handle = attach_videoroom(j);
  int port = handle ? rtc_peer_open(p, j->local_ip) : -1;
  if (port < 0)
    return -1;
  json_t *streams = json_array();
  for (int i = 0; i < k; i++)
    if (i != skip)
      json_array_append_new(streams, json_pack("{s:I}", "feed", feeds[i]));
  json_t *ev =
      videoroom_request(j, handle,
                        json_pack("{s:s, s:I, s:s, s:o}", "request", "join", "room", room,
                                  "ptype", "subscriber", "streams", streams),
                        NULL);
  const char *sdp = ev ? jsep_sdp(ev) : NULL;
  char err[200];
  if (!sdp || sdp_parse(sdp, strlen(sdp), &offer, err, sizeof err) ||
      offer.n_media != (size_t)(k - 1) || rtc_peer_take_remote(p, sdp, NULL)) {
    fprintf(stderr, "mesh subscriber offer unusable: %s\n", sdp ? sdp : "(none)");
    json_decref(ev);
    return -1;
  }
  json_decref(ev);
  static char answer[65536];
  write_mesh_answer(answer, sizeof answer, p, ctx, j->local_ip, port, &offer);
  ev = videoroom_request(j, handle, json_pack("{s:s}", "request", "start"),
                         jsep("answer", answer));
  json_decref(ev);
  if (!ev || trickle_completed(j, handle) || connect_to_janus(p, ctx))
    return -1;
  return offer.media[0].payload_order[0];
}

/* --mesh K: K publishers, each also subscribed to the K - 1 others (pubsub_load --mesh's
 * scenario), measured by mesh_measure. */
static int mesh(janus_api *j, dtls_context *ctx, int k, int seconds, int pps, int pid) {
  json_int_t room = create_room(j, pps, k);
  peer *pubs = calloc((size_t)k, sizeof *pubs), *subs = calloc((size_t)k, sizeof *subs);
  json_int_t *feeds = calloc((size_t)k, sizeof *feeds);
  for (int i = 0; i < k; i++)
    if (!room || !(feeds[i] = join_publisher(j, room, &pubs[i], ctx)))
      return 1;
  int pt = -1;
  for (int i = 0; i < k; i++) {
    int got = join_mesh_subscriber(j, room, feeds, k, i, &subs[i], ctx);
    if (got < 0 || (pt >= 0 && got != pt))
      return fprintf(stderr, "mesh subscriber %d failed\n", i), 1;
    pt = got;
  }
  printf("%d publishers, each subscribed to the other %d on one connection, connected "
         "to Janus (ICE + DTLS + SRTP)\n",
         k, k - 1);
  json_decref(janus_post(j, 0, json_pack("{s:s}", "janus", "keepalive")));
  return mesh_measure(pubs, subs, k, seconds, pps, pid, "janus", (uint8_t)pt);
}

int main(int argc, char **argv) {
  if (argc >= 7 && !strcmp(argv[1], "--mesh")) {
    dtls_context *ctx = rtc_peer_setup();
    janus_api j = {.curl = curl_easy_init(),
                   .port = atoi(argv[3]),
                   .local_ip = argc > 7 ? argv[7] : "127.0.0.1"};
    if (!ctx || !j.curl)
      return 1;
    j.session = success_id(janus_post(&j, 0, json_pack("{s:s}", "janus", "create")));
    return j.session
               ? mesh(&j, ctx, atoi(argv[2]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]))
               : 1;
  }
  if (argc < 6) {
    fprintf(stderr, "usage: janus_load HTTP_PORT SUBSCRIBERS SECONDS PPS JANUS_PID "
                    "[LOCAL_IP]\n"
                    "       janus_load --mesh K HTTP_PORT SECONDS PPS JANUS_PID "
                    "[LOCAL_IP]\n");
    return 2;
  }
  int subscribers = atoi(argv[2]), seconds = atoi(argv[3]), pps = atoi(argv[4]);
  int pid = atoi(argv[5]), calls = subscribers + 1, pt = -1;
  dtls_context *ctx = rtc_peer_setup();
  /* Janus sends with IP_UNICAST_IF on the interface it gathered on, which must not be
   * loopback, so our peers bind to an address on that same interface (LOCAL_IP). */
  janus_api j = {.curl = curl_easy_init(),
                 .port = atoi(argv[1]),
                 .local_ip = argc > 6 ? argv[6] : "127.0.0.1"};
  if (!ctx || !j.curl)
    return 1;
  j.session = success_id(janus_post(&j, 0, json_pack("{s:s}", "janus", "create")));
  json_int_t room = j.session ? create_room(&j, pps, 1) : 0;
  peer *peers = calloc((size_t)calls, sizeof *peers);
  json_int_t feed = room ? join_publisher(&j, room, &peers[0], ctx) : 0;
  if (!feed)
    return 1;
  uint64_t last_refresh = now_ns();
  for (int i = 1; i < calls; i++) {
    rtc_peer_refresh_all(peers, i, &last_refresh);
    int got = join_subscriber(&j, room, feed, &peers[i], ctx);
    if (got < 0 || (pt >= 0 && got != pt)) {
      fprintf(stderr, "subscriber %d of %d failed to connect\n", i, subscribers);
      return 1;
    }
    pt = got;
  }
  printf("1 publisher and %d subscribers connected to Janus (ICE + DTLS + SRTP)\n",
         subscribers);
  json_decref(janus_post(&j, 0, json_pack("{s:s}", "janus", "keepalive")));
  usleep(500000); /* as conf_load: let the subscriptions settle */
  return forward_measure(peers, calls, seconds, pps, pid, "janus", (uint8_t)pt);
}
