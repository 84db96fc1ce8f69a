/* admin — operational endpoints: /healthz for liveness and /metrics in the
 * Prometheus text format (participants, rooms, tokens, streams, counters). */
#include "api/api.h"
#include "api/whip.h"
#include "cluster/cluster.h"
#include "cluster/config_sync.h"
#include "delivery/outbox.h"
#include "policy/policy.h"
#include "pubsub/ps_recording.h"
#include "pubsub/ps_session.h"
#include "rtm/rtm.h"

#include "core/buf.h"
#include "core/ids.h"
#include "core/mem.h"
#include "http/sse.h"
#include "media/engine.h"
#include "store/sync.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void metric(buf *b, const char *name, const char *type, const char *help,
                   unsigned long long value) {
  buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
              value);
}

static void tcp_metrics(buf *b, const media_stats *st) {
  metric(b, "parley_tcp_connections", "gauge", "ICE-TCP connections open.", st->tcp_open);
  metric(b, "parley_tcp_accepted_total", "counter", "ICE-TCP connections accepted.",
         st->tcp.accepted);
  metric(b, "parley_tcp_closed_total", "counter", "ICE-TCP connections closed.",
         st->tcp.closed);
  metric(b, "parley_tcp_frames_in_total", "counter", "RFC 4571 frames received.",
         st->tcp.frames_in);
  metric(b, "parley_tcp_frames_out_total", "counter", "RFC 4571 frames queued to send.",
         st->tcp.frames_out);
  metric(b, "parley_tcp_bytes_in_total", "counter", "ICE-TCP bytes received (framed).",
         st->tcp.bytes_in);
  metric(b, "parley_tcp_bytes_out_total", "counter", "ICE-TCP bytes queued (framed).",
         st->tcp.bytes_out);
  metric(b, "parley_tcp_dropped_backpressure_total", "counter",
         "Packets dropped: the connection had 256 KiB unsent already.",
         st->tcp.dropped_backpressure);
  buf_appendf(b,
              "# HELP parley_tcp_refused_total ICE-TCP connections closed unbound, "
              "for a bad frame, or over the unbound limit.\n# TYPE "
              "parley_tcp_refused_total counter\n"
              "parley_tcp_refused_total{reason=\"first_frame\"} %llu\n"
              "parley_tcp_refused_total{reason=\"timeout\"} %llu\n"
              "parley_tcp_refused_total{reason=\"oversize\"} %llu\n"
              "parley_tcp_refused_total{reason=\"limit\"} %llu\n",
              (unsigned long long)st->tcp.refused_first_frame,
              (unsigned long long)st->tcp.refused_timeout,
              (unsigned long long)st->tcp.refused_oversize,
              (unsigned long long)st->tcp.refused_limit);
}

/* Per call, for calls with a transport-cc estimate: at most MAX_ESTIMATES of them. */
#define MAX_ESTIMATES 1000
static void estimate_metrics(buf *b, media_engine *m) {
  media_estimate *est = xcalloc(MAX_ESTIMATES, sizeof *est);
  size_t n = media_engine_estimates(m, est, MAX_ESTIMATES);
  buf_appendf(b, "# HELP parley_call_send_estimate_bps What a call's peer can receive "
                 "from us (transport-cc estimate), bit/s.\n"
                 "# TYPE parley_call_send_estimate_bps gauge\n");
  for (size_t i = 0; i < n; i++)
    buf_appendf(b, "parley_call_send_estimate_bps{call=\"%s\"} %llu\n", est[i].call_uuid,
                (unsigned long long)est[i].send_bps);
  buf_appendf(b,
              "# HELP parley_call_received_bps What a call's peer received from us over "
              "the last half second (its transport-cc feedback), bit/s.\n"
              "# TYPE parley_call_received_bps gauge\n");
  for (size_t i = 0; i < n; i++)
    buf_appendf(b, "parley_call_received_bps{call=\"%s\"} %llu\n", est[i].call_uuid,
                (unsigned long long)est[i].received_bps);
  free(est);
}

static void media_metrics(buf *b, media_engine *m) {
  media_stats st;
  media_engine_stats(m, &st);
  metric(b, "parley_calls", "gauge", "WebRTC calls on the media loops.", st.calls);
  metric(b, "parley_udp_datagrams_in_total", "counter", "Datagrams received.",
         st.datagrams_in);
  metric(b, "parley_udp_datagrams_out_total", "counter", "Datagrams sent.",
         st.datagrams_out);
  metric(b, "parley_udp_dropped_garbage_total", "counter",
         "Datagrams that were not STUN, DTLS, RTP or RTCP.", st.dropped_garbage);
  metric(b, "parley_udp_dropped_unknown_total", "counter",
         "Datagrams from addresses no call knows.", st.dropped_unknown);
  metric(b, "parley_stun_refused_total", "counter",
         "Binding requests with bad credentials or integrity.", st.stun_refused);
  metric(b, "parley_dtls_resent_total", "counter",
         "DTLS handshake flights resent on our timer (one of ours was lost).",
         st.dtls_resent);
  metric(b, "parley_srtp_failures_total", "counter",
         "Packets failing SRTP authentication or replay checks.", st.srtp_failures);
  metric(b, "parley_rtp_in_total", "counter", "RTP packets received.", st.rtp_in);
  metric(b, "parley_rtp_out_total", "counter", "RTP packets sent.", st.rtp_out);
  metric(b, "parley_rtcp_in_total", "counter", "RTCP packets received.", st.rtcp_in);
  metric(b, "parley_rtcp_out_total", "counter", "RTCP packets sent.", st.rtcp_out);
  metric(b, "parley_media_bytes_in_total", "counter", "SRTP bytes received.",
         st.bytes_in);
  metric(b, "parley_media_bytes_out_total", "counter", "SRTP bytes sent.", st.bytes_out);
  metric(b, "parley_nacks_answered_total", "counter", "Packets resent for NACKs.",
         st.nacks_answered);
  metric(b, "parley_keyframe_requests_total", "counter", "PLIs sent upstream.",
         st.keyframe_requests);
  metric(b, "parley_udp_send_errors_total", "counter",
         "Datagrams not sent (the socket's send buffer was full, or the send failed).",
         st.send_errors);
  metric(b, "parley_media_queue_dropped_total", "counter",
         "Commands lost to a full media queue.", st.queue_dropped);
  metric(b, "parley_twcc_feedback_in_total", "counter",
         "Transport-cc feedback packets received from peers.", st.twcc_feedback_in);
  metric(b, "parley_twcc_feedback_out_total", "counter",
         "Transport-cc feedback packets sent to peers.", st.twcc_feedback_out);
  metric(b, "parley_bwe_padding_packets_total", "counter",
         "Padding packets sent to probe for bandwidth.", st.padding_packets);
  metric(b, "parley_datachannel_messages_in_total", "counter",
         "Data channel messages received.", st.dc_messages_in);
  metric(b, "parley_datachannel_messages_out_total", "counter",
         "Data channel messages sent.", st.dc_messages_out);
  metric(b, "parley_datachannel_bytes_in_total", "counter",
         "Data channel message bytes received.", st.dc_bytes_in);
  metric(b, "parley_datachannel_bytes_out_total", "counter",
         "Data channel message bytes sent.", st.dc_bytes_out);
  metric(b, "parley_datachannel_too_big_total", "counter",
         "Data channel messages over our a=max-message-size (their channel closed).",
         st.dc_too_big);
  metric(b, "parley_datachannel_throttled_total", "counter",
         "Times a data channel association stopped reading for its rate limit.",
         st.dc_throttled);
  metric(b, "parley_datachannel_send_full_total", "counter",
         "Data channel sends refused because the association's send buffer was full "
         "(the echo holds the message and pauses reading until it went out).",
         st.dc_send_full);
  estimate_metrics(b, m);
  tcp_metrics(b, &st);
  buf_appendf(b, "# HELP parley_media_loop_calls Calls on each media loop.\n"
                 "# TYPE parley_media_loop_calls gauge\n");
  for (int i = 0; i < media_engine_loops(m); i++) {
    media_engine_loop_stats(m, i, &st);
    buf_appendf(b, "parley_media_loop_calls{loop=\"%d\"} %llu\n", i,
                (unsigned long long)st.calls);
  }
}

static void pubsub_metrics(buf *b, api *a) {
  ps_counters c;
  ps_core_counters(a->ps, &c);
  metric(b, "parley_pubsub_sessions", "gauge", "Publish/subscribe sessions live.",
         c.sessions);
  metric(b, "parley_pubsub_participants", "gauge",
         "Publish/subscribe participants, linked or kept for a resume.", c.participants);
  metric(b, "parley_pubsub_feeds", "gauge", "Published feeds.", c.feeds);
  metric(b, "parley_pubsub_sessions_started_total", "counter",
         "Publish/subscribe sessions started (first joins).", c.sessions_started);
  metric(b, "parley_pubsub_joins_total", "counter", "Participants that joined.", c.joins);
  metric(b, "parley_pubsub_resumes_total", "counter", "Participants that resumed.",
         c.resumes);
  metric(b, "parley_pubsub_data_total", "counter", "Data messages delivered.",
         c.data_sent);
  metric(b, "parley_pubsub_data_limited_total", "counter",
         "Data messages refused by the rate limit.", c.data_limited);
  if (a->whip) {
    whip_counters w;
    whip_get_counters(a->whip, &w);
    metric(b, "parley_whip_resources", "gauge", "WHIP publishers live.", w.live);
    metric(b, "parley_whip_created_total", "counter", "WHIP publishers created (201).",
           w.created);
    metric(b, "parley_whip_deleted_total", "counter", "WHIP publishers ended by DELETE.",
           w.deleted);
    metric(b, "parley_whip_refused_total", "counter", "WHIP offers refused.", w.refused);
    metric(b, "parley_whip_ended_total", "counter",
           "WHIP publishers ended without DELETE (media lost, shutdown).", w.ended);
  }
  if (!a->ps_rec)
    return;
  ps_recording_counters r;
  ps_recorder_counters(a->ps_rec, &r);
  metric(b, "parley_pubsub_recordings_open", "gauge",
         "Feed recordings being written or closed.", r.open);
  metric(b, "parley_pubsub_recordings_total", "counter", "Feed recordings started.",
         r.started);
  metric(b, "parley_pubsub_recordings_failed_total", "counter",
         "Feed recordings whose file could not be written or held nothing.", r.failed);
}

static void rtm_metrics(buf *b, api *a) {
  rtm_counters c;
  rtm_core_counters(a->rtm, &c);
  metric(b, "parley_rtm_sessions", "gauge", "RTM sessions (any state).", c.sessions);
  metric(b, "parley_rtm_sessions_started_total", "counter",
         "RTM agent and supervisor sessions that reached SETUP.", c.sessions_started);
  metric(b, "parley_rtm_recordings_open", "gauge", "Recordings being written.",
         c.recordings_open);
  metric(b, "parley_rtm_recordings_started_total", "counter", "Recordings started.",
         c.recordings_started);
  metric(b, "parley_rtm_recordings_failed_total", "counter",
         "Recordings whose file could not be written.", c.recordings_failed);
  if (a->ob)
    metric(b, "parley_outbox_pending", "gauge",
           "Uploads and webhooks waiting for delivery (journaled).",
           outbox_pending(a->ob));
}

static void store_metrics(buf *b, api *a) {
  store_sync_counters c;
  store_sync_counters_get(a->sync, &c);
  metric(b, "parley_store_checkpoints_total", "counter",
         "Background checkpoints that made commits durable (--store-sync).",
         c.checkpoints);
  metric(b, "parley_store_checkpoint_failures_total", "counter",
         "Background checkpoints SQLite refused (logged).", c.failures);
  metric(b, "parley_store_checkpoint_last_ms", "gauge",
         "How long the last background checkpoint took, fsyncs included.", c.last_ms);
}

static void metrics(api *a, h2o_req_t *req) {
  buf b = {0};
  conf_core *core = a->core;
  metric(&b, "parley_http_connections", "gauge", "Open HTTP connections.",
         http_server_connections(a->srv));
  metric(&b, "parley_http_connections_refused_total", "counter",
         "Connections refused: their address held --max-connections-per-address.",
         http_server_refused_connections(a->srv));
  metric(&b, "parley_sse_streams", "gauge", "Open event streams.", sse_count());
  metric(&b, "parley_sse_queued_bytes", "gauge",
         "Bytes event streams hold unsent, each shared event counted once.",
         sse_queued_bytes());
  metric(&b, "parley_sse_overflows_total", "counter",
         "Event streams closed because their reader fell behind.", sse_overflows());
  if (core) {
    metric(&b, "parley_rooms_active", "gauge", "Rooms with participants.",
           hmap_count(core->rooms));
    metric(&b, "parley_participants", "gauge", "Participants in all rooms.",
           hmap_count(core->participants));
    metric(&b, "parley_tokens", "gauge", "Live client API tokens.",
           hmap_count(core->tokens));
    metric(&b, "parley_event_sinks", "gauge", "Subscribed event sinks.", core->n_sinks);
    metric(&b, "parley_joins_total", "counter", "Participants admitted by request_token.",
           core->counters.joins);
    metric(&b, "parley_leaves_total", "counter", "Participants that left.",
           core->counters.leaves);
    metric(&b, "parley_events_total", "counter", "Conference events emitted.",
           core->counters.events);
    metric(&b, "parley_pin_failures_total", "counter", "Wrong PINs entered.",
           core->counters.pin_failures);
    metric(&b, "parley_dtmf_digits_received_total", "counter",
           "DTMF digits participants sent on their calls.", core->dtmf_digits_received);
    metric(&b, "parley_pin_lockouts_total", "counter",
           "Joins refused for too many wrong PINs.", core->counters.pin_lockouts);
  }
  if (a->rtm)
    rtm_metrics(&b, a);
  if (a->ps)
    pubsub_metrics(&b, a);
  store_metrics(&b, a);
  if (a->cluster)
    cluster_metrics(a->cluster, &b);
  if (a->cluster)
    relay_metrics(&b);
  csync_metrics(a->csync, &b);
  policy_metrics(a->policy, &b);
  if (a->policy && core)
    metric(&b, "parley_policy_rooms", "gauge",
           "Ad-hoc rooms (from the policy server) with people in them.",
           conf_adhoc_rooms(core));
  if (a->media)
    media_metrics(&b, a->media);
  http_respond(req, 200, "text/plain; version=0.0.4", b.data, b.len);
  buf_free(&b);
}

/* --metrics-token: the figures (rooms, load, failures) are not for everyone who can
 * reach the client API. Compared in constant time. */
static bool metrics_authorised(const api *a, h2o_req_t *req) {
  const char *want = a->cfg->metrics_token;
  if (!want[0])
    return true;
  static const char scheme[] = "Bearer ";
  const size_t scheme_len = sizeof scheme - 1;
  size_t len = 0;
  const char *h = http_header(req, "authorization", &len);
  return h && len > scheme_len && strncasecmp(h, scheme, scheme_len) == 0 &&
         ids_secret_equal(h + scheme_len, len - scheme_len, want, strlen(want));
}

static void failed(h2o_req_t *req, int status, const char *message) {
  http_respond_json(req, status,
                    json_pack("{s:s, s:s}", "status", "failed", "result", message));
}

void admin_handle(api *a, h2o_req_t *req, route_kind kind) {
  if (!http_method_is(req, "GET"))
    return failed(req, 405, "Method not allowed: use GET");
  if (kind == ROUTE_METRICS && !metrics_authorised(a, req)) {
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                   H2O_STRLIT("Bearer realm=\"parley-metrics\""));
    return failed(req, 401, "/metrics wants Authorization: Bearer <metrics token>");
  }
  if (kind == ROUTE_METRICS)
    return metrics(a, req);
  http_respond_json(
      req, 200, json_pack("{s:s, s:b}", "status", "success", "result", a->core != NULL));
}

void admin_listener_handle(void *ud, h2o_req_t *req) {
  const char *path;
  size_t len;
  api_route route;
  http_path(req, &path, &len);
  if (api_route_parse(path, len, &route) == 0 &&
      (route.kind == ROUTE_METRICS || route.kind == ROUTE_HEALTHZ))
    return admin_handle(ud, req, route.kind);
  failed(req, 404, "Only /metrics and /healthz are served here");
}
