/* simulcast_load — forwarding a simulcast publisher through parleyd's conference router:
 * one publisher sends three VP8 layers (rids l, m, h at 320x180, 640x360, 1280x720;
 * 1:2:4 of the packet rate, each its own SSRC with the mid and rid header extensions)
 * to N single-video subscribers (real ICE + DTLS + SRTP peers from Parley's own rtc
 * stack), which each get one layer; we count egress packets and server CPU exactly as
 * conf_load does, so the two compare at the same N and egress rate. */
#include "forward_measure.h"
#include "opts.h"
#include "simulcast_source.h"

#include "core/ids.h"
#include "httpc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The smallest layer at least as tall as the hint (the top one if none is), as parleyd
 * chooses within its budget. */
static int layer_for(int height) {
  for (int l = 0; l < LAYERS; l++)
    if (simulcast_heights[l] >= height)
      return l;
  return LAYERS - 1;
}

static const char usage[] =
    "usage: simulcast_load HTTP_PORT ALIAS SUBSCRIBERS SECONDS PPS PARLEYD_PID\n"
    "         [--hints WxH[,WxH...]] [--key-every K] [--warmup MS]\n"
    "  PPS is the publisher's total over its three layers (l:m:h = 1:2:4).\n"
    "  --hints: tile sizes the subscribers post in turn for their first slot; they\n"
    "    are then multistream calls of two video m-lines (default: single-video\n"
    "    calls, shown at parleyd's default for a first slot, 1280x720: the h layer).\n"
    "  --key-every: every K-th packet of a layer is a keyframe (default 1: all, as\n"
    "    conf_load sends; the others are interframes).\n"
    "  --warmup: sending before the window so layer choice settles (default 6000).\n";

int main(int argc, char **argv) {
  const char *hints = NULL;
  int key_every = 1, warmup_ms = 6000;
  const opt opts[] = {{"hints", OPT_STRING, &hints},
                      {"key-every", OPT_INT, &key_every},
                      {"warmup", OPT_INT, &warmup_ms},
                      {NULL, 0, NULL}};
  if (!opts_parse(argc, argv, opts) || argc - optind < 6 || key_every < 1)
    opts_usage(usage);
  char **a = argv + optind;
  int http_port = atoi(a[0]), subscribers = atoi(a[2]), seconds = atoi(a[3]);
  const char *alias = a[1];
  int pps = atoi(a[4]), pid = atoi(a[5]), calls = subscribers + 1;
  if (subscribers < 1 || pps < 7)
    opts_usage(usage);

  /* The top layer must fit parleyd's budget for a downlink it has no estimate of
   * (2.5 Mbit/s, 85 % of it for video), or every subscriber is moved down. */
  double top_mbit = pps * 4.0 / 7 * (PACKET + 16) * 8 / 1e6;
  if (top_mbit > 2.5 * 0.85)
    fprintf(stderr,
            "simulcast_load: the h layer is %.2f Mbit/s, over the 2.1 Mbit/s parleyd "
            "gives a subscriber without an estimate: it will send lower layers\n",
            top_mbit);

  int *stream_of = calloc((size_t)calls, sizeof *stream_of);
  int n_hints = 0, hint_w[16], hint_h[16];
  for (const char *h = hints; h && *h && n_hints < 16;) {
    if (sscanf(h, "%dx%d", &hint_w[n_hints], &hint_h[n_hints]) != 2)
      opts_usage(usage);
    n_hints++;
    h = strchr(h, ',');
    h = h ? h + 1 : NULL;
  }

  dtls_context *ctx = rtc_peer_setup();
  if (!ctx)
    return 1;
  peer *peers = calloc((size_t)calls, sizeof *peers);
  if (simulcast_publish(&peers[0], http_port, alias, ctx) ||
      rtc_peer_connect(&peers[0], ctx))
    return 1;
  uint64_t last_refresh = now_ns();
  for (int i = 1; i < calls; i++) {
    rtc_peer_refresh_all(peers, i, &last_refresh);
    if (simulcast_subscribe(&peers[i], http_port, alias, ctx, i, n_hints > 0) ||
        rtc_peer_connect(&peers[i], ctx))
      return 1;
    stream_of[i] = LAYERS - 1;
    if (!n_hints)
      continue;
    char path[320], body[128];
    int k = (i - 1) % n_hints;
    snprintf(path, sizeof path, "%s/participants/%s/calls/%s/streams", alias,
             peers[i].uuid, peers[i].call);
    snprintf(body, sizeof body,
             "{\"streams\":[{\"mid\":\"0\",\"width\":%d,\"height\":%d}]}", hint_w[k],
             hint_h[k]);
    char *r = rtc_peer_post(http_port, path, peers[i].token, body);
    if (!r || !strstr(r, "\"success\""))
      return fprintf(stderr, "streams hint failed: %s\n", r ? r : "?"), 1;
    free(r);
    stream_of[i] = layer_for(hint_h[k]);
  }
  printf("1 simulcast publisher (l/m/h = 320x180/640x360/1280x720) and %d subscribers "
         "connected (ICE + DTLS + SRTP)\n",
         subscribers);
  int on[LAYERS] = {0};
  for (int i = 1; i < calls; i++)
    on[stream_of[i]]++;
  printf("subscribers expected on l/m/h: %d/%d/%d; layer packets/s %.0f/%.0f/%.0f, "
         "keyframe every %d\n",
         on[0], on[1], on[2], pps / 7.0, pps * 2 / 7.0, pps * 4 / 7.0, key_every);

  simulcast_layers L;
  simulcast_layers_init(&L, pps, key_every);
  forward_source src = {.n_streams = LAYERS,
                        .next = simulcast_next_packet,
                        .ud = &L,
                        .stream_of = stream_of,
                        .warmup_ms = warmup_ms};
  return forward_measure_source(peers, calls, seconds, pps, pid, "parleyd", 96, &src);
}
