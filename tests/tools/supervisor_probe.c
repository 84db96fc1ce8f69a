/* supervisor_probe — checks that an RTM supervisor whose DTLS comes late still gets a
 * decodable start of the agent's video, with real peers (ICE + DTLS + SRTP from Parley's
 * rtc stack) over the RTM WebSocket.
 *
 * usage: supervisor_probe HTTP_PORT AGENT_JWT SUPERVISOR_JWT   (exit 0 when it holds)
 *
 * The agent sends VP8 delta frames at 30 fps and a keyframe only when asked (a PLI), as a
 * browser does. The supervisor joins, waits DELAY_MS before its ICE and DTLS (the agent's
 * keyframe for its join is forwarded meanwhile, to nobody), and never sends a PLI itself
 * (not every stack does): the server must keep asking the agent until a keyframe has
 * actually gone out to it. */
#include "probe.h"
#include "rtm_peer.h"

#include "core/ids.h"
#include "rtc/ice_lite.h"
#include "rtc/rtcp.h"
#include "rtc/rtp.h"

#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DELAY_MS 1500
#define WAIT_KEYFRAME_MS 6000
#define FRAME_MS 33

typedef struct {
  peer p;
  ws_client ws;
  uint32_t ts;
  uint64_t next_frame;
  bool pli; /* a PLI came: the next frame is a keyframe */
  unsigned plis, keyframes_sent;
} agent;

static void on_agent_rtcp(const rtcp_item *item, void *ud) {
  agent *a = ud;
  if (item->kind == RTCP_PLI || item->kind == RTCP_FIR) {
    a->pli = true;
    a->plis++;
  }
}

/* The agent's side for one pass: PLIs read, and a frame when one is due. */
static void agent_pump(agent *a) {
  uint8_t buf[2048];
  struct sockaddr_storage from;
  socklen_t fl = sizeof from;
  ssize_t got;
  while ((got = recvfrom(a->p.fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
                         &fl)) > 0) {
    int n = (int)got;
    if (rtc_peer_answer_check(&a->p, buf, (size_t)n, (struct sockaddr *)&from, fl))
      continue;
    if (n >= 12 && buf[1] >= 192 && buf[1] <= 223 &&
        srtp_session_unprotect_rtcp(&a->p.srtp, buf, &n) == 0)
      rtcp_parse(buf, (size_t)n, on_agent_rtcp, a);
    fl = sizeof from;
  }
  if (now_ms() < a->next_frame)
    return;
  a->next_frame += FRAME_MS;
  a->ts += 3000;
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  int len = (int)rtc_peer_make_packet(&a->p, pkt, a->ts);
  if (a->pli) {
    a->pli = false;
    a->keyframes_sent++;
  } else {
    pkt[13] = 0x01; /* VP8 frame tag P=1: a delta frame, useless to start from */
  }
  if (srtp_session_protect_rtp(&a->p.srtp, pkt, &len) == 0)
    sendto(a->p.fd, pkt, (size_t)len, 0, (struct sockaddr *)&a->p.server,
           sizeof a->p.server);
}

static void agent_for(agent *a, int ms) {
  uint64_t end = now_ms() + (uint64_t)ms;
  while (now_ms() < end) {
    agent_pump(a);
    struct pollfd pfd = {a->p.fd, POLLIN, 0};
    poll(&pfd, 1, 5);
  }
}

/* Sends an RTM message and waits for its sdp_update answer; takes the server's
 * transport into p. The session id, or NULL. */
static char *offer_and_answer(ws_client *ws, peer *p, const char *type, const char *extra,
                              const char *sdp, agent *pumping) {
  char *msg = NULL;
  if (asprintf(
          &msg,
          "{\"type\":\"%s\",\"data\":{\"sdp\":{\"type\":\"offer\",\"sdp\":\"%s\"}%s}}",
          type, sdp, extra) < 0 ||
      ws_send_text(ws, msg, strlen(msg)))
    return free(msg), NULL;
  free(msg);
  for (uint64_t end = now_ms() + 10000; now_ms() < end;) {
    bool closed;
    char *text = ws_next_text(ws, pumping ? 0 : 100, &closed);
    if (pumping)
      agent_for(pumping, 10);
    if (closed)
      return fprintf(stderr, "%s: socket closed\n", type), NULL;
    json_t *m = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    const char *t = json_string_value(json_object_get(m, "type"));
    if (t && strcmp(t, "error") == 0) {
      char *e = json_dumps(m, 0);
      fprintf(stderr, "%s: %s\n", type, e);
      free(e);
    }
    if (!t || strcmp(t, "sdp_update") != 0) {
      json_decref(m);
      continue;
    }
    const char *answer = json_string_value(
        json_object_get(json_object_get(json_object_get(m, "data"), "sdp"), "sdp"));
    const char *sid = json_string_value(json_object_get(m, "session_id"));
    char *out =
        answer && sid && rtc_peer_take_remote(p, answer, NULL) == 0 ? strdup(sid) : NULL;
    json_decref(m);
    return out;
  }
  return fprintf(stderr, "%s: no answer\n", type), NULL;
}

/* A receive-only audio and video offer, as a watching browser makes. */
static void supervisor_offer(peer *p, dtls_context *ctx, char *out, size_t cap) {
  ice_lite creds;
  ice_lite_new_credentials(&creds);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", creds.local_ufrag);
  snprintf(p->pwd, sizeof p->pwd, "%s", creds.local_pwd);
  char t[512];
  snprintf(t, sizeof t,
           "a=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:%s\\r\\n"
           "a=setup:actpass\\r\\na=rtcp-mux\\r\\na=recvonly\\r\\n",
           p->ufrag, p->pwd, dtls_context_fingerprint(ctx));
  snprintf(
      out, cap,
      "v=0\\r\\no=- 7 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"
      "a=group:BUNDLE 0 1\\r\\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:0\\r\\n%s"
      "a=rtpmap:111 opus/48000/2\\r\\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:1\\r\\n%s"
      "a=rtpmap:96 VP8/90000\\r\\na=rtcp-fb:96 nack\\r\\na=rtcp-fb:96 nack pli\\r\\n",
      t, t);
}

/* Reads the supervisor's socket (and keeps the agent going) until a VP8 keyframe start
 * decrypts, or the time is up. */
static bool await_keyframe(peer *sup, agent *a, unsigned *video_packets) {
  for (uint64_t end = now_ms() + WAIT_KEYFRAME_MS; now_ms() < end;) {
    agent_pump(a);
    uint8_t buf[2048];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    struct pollfd pfd = {sup->fd, POLLIN, 0};
    if (poll(&pfd, 1, 5) <= 0)
      continue;
    ssize_t got =
        recvfrom(sup->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    int n = (int)got;
    if (got <= 0 ||
        rtc_peer_answer_check(sup, buf, (size_t)n, (struct sockaddr *)&from, fl))
      continue;
    rtp_header h;
    if (n < 12 || (buf[1] >= 192 && buf[1] <= 223) ||
        srtp_session_unprotect_rtp(&sup->srtp, buf, &n) != 0 ||
        rtp_parse(buf, (size_t)n, &h) != 0 || h.payload_type != 96)
      continue;
    (*video_packets)++;
    if (rtp_is_keyframe_start(buf, &h, RTP_CODEC_VP8))
      return true;
  }
  return false;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: supervisor_probe HTTP_PORT AGENT_JWT SUPERVISOR_JWT\n");
    return 2;
  }
  int port = atoi(argv[1]);
  dtls_context *ctx = rtc_peer_setup();
  static agent a;
  static peer sup;
  ws_client sws = {.fd = -1};
  char path[2048], offer[4096];
  snprintf(path, sizeof path, "/api/rtm/v1/io?access_token=%s", argv[2]);
  if (!ctx || ws_connect(&a.ws, port, path))
    return 1;
  uint32_t audio_ssrc;
  ids_random(&a.p.ssrc, sizeof a.p.ssrc);
  ids_random(&audio_ssrc, sizeof audio_ssrc);
  rtm_peer_offer(&a.p, audio_ssrc, ctx, offer, sizeof offer);
  char *sid = offer_and_answer(&a.ws, &a.p, "session_start", "", offer, NULL);
  if (!sid || rtc_peer_connect(&a.p, ctx))
    return fprintf(stderr, "agent: no session or no connection\n"), 1;
  a.next_frame = now_ms();
  a.pli = true; /* a browser starts with a keyframe */
  agent_for(&a, 500);

  snprintf(path, sizeof path, "/api/rtm/v1/io?access_token=%s", argv[3]);
  if (ws_connect(&sws, port, path))
    return 1;
  char extra[128];
  snprintf(extra, sizeof extra, ",\"session_id_to_monitor\":\"%s\"", sid);
  supervisor_offer(&sup, ctx, offer, sizeof offer);
  char *sup_sid =
      offer_and_answer(&sws, &sup, "supervisor_join_session", extra, offer, &a);
  if (!sup_sid)
    return 1;
  unsigned plis_at_join = a.plis;
  agent_for(&a, DELAY_MS); /* the keyframe asked for at the join goes out now */
  unsigned keyframes_before = a.keyframes_sent;
  if (rtc_peer_connect(&sup, ctx))
    return fprintf(stderr, "supervisor: no connection\n"), 1;
  unsigned video = 0;
  bool ok = await_keyframe(&sup, &a, &video);
  printf("supervisor_probe: agent got %u PLIs (%u by the join's end), sent %u keyframes "
         "(%u before the supervisor connected); supervisor got %u video packets: %s\n",
         a.plis, plis_at_join, a.keyframes_sent, keyframes_before, video,
         ok ? "keyframe ok" : "NO KEYFRAME");
  free(sid);
  free(sup_sid);
  ws_close_client(&sws);
  ws_close_client(&a.ws);
  return ok ? 0 : 1;
}
