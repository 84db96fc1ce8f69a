/* fuzz_rtcp — libFuzzer harness for RTCP: rtcp_parse with a callback that reads every
 * field, then each NACK, report, PLI, FIR and REMB written back out and parsed again. */
#include "rtc/rtcp.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  uint64_t seqs[1024]; /* a 65536-bit set */
} seq_set;

static void set_add(seq_set *s, uint16_t v) { s->seqs[v >> 6] |= 1ULL << (v & 63); }

/* The one item a single written packet parses back into. */
static rtcp_item reparsed;
static int reparsed_calls;

static void keep(const rtcp_item *it, void *ud) {
  reparsed = *it;
  reparsed_calls++;
}

static void reparse(const uint8_t *out, size_t n, rtcp_kind kind) {
  CHECK(n > 0);
  reparsed_calls = 0;
  CHECK(rtcp_parse(out, n, keep, NULL) == 1 && reparsed_calls == 1);
  CHECK(reparsed.kind == kind);
}

/* The set of seqs survives packing into PID + BLP and expanding again. */
static void nack_round_trip(const rtcp_item *it) {
  static seq_set want, got;
  memset(&want, 0, sizeof want);
  memset(&got, 0, sizeof got);
  for (size_t i = 0; i < it->n_nacks; i++)
    set_add(&want, it->nacks[i]);
  uint8_t out[12 + 4 * RTCP_MAX_NACKS];
  reparse(out,
          rtcp_write_nack(out, sizeof out, it->sender_ssrc, it->media_ssrc, it->nacks,
                          it->n_nacks),
          RTCP_NACK);
  CHECK(reparsed.sender_ssrc == it->sender_ssrc && reparsed.media_ssrc == it->media_ssrc);
  size_t distinct = 0;
  for (size_t i = 0; i < 1024; i++)
    distinct += (size_t)__builtin_popcountll(want.seqs[i]);
  CHECK(reparsed.n_nacks == distinct); /* deduplicated */
  for (size_t i = 0; i < reparsed.n_nacks; i++)
    set_add(&got, reparsed.nacks[i]);
  CHECK(memcmp(&want, &got, sizeof want) == 0);
}

static void report_round_trip(const rtcp_item *it) {
  uint8_t out[28 + 24 * RTCP_MAX_BLOCKS];
  size_t n =
      it->kind == RTCP_SR
          ? rtcp_write_sr(out, sizeof out, it->sender_ssrc, it->ntp_sec, it->ntp_frac,
                          it->rtp_ts, it->packet_count, it->octet_count, it->blocks,
                          it->n_blocks)
          : rtcp_write_rr(out, sizeof out, it->sender_ssrc, it->blocks, it->n_blocks);
  reparse(out, n, it->kind);
  CHECK(reparsed.n_blocks == it->n_blocks && reparsed.ntp_frac == it->ntp_frac);
  CHECK(reparsed.octet_count == it->octet_count);
  CHECK(memcmp(reparsed.blocks, it->blocks, it->n_blocks * sizeof it->blocks[0]) == 0);
}

static void remb_round_trip(const rtcp_item *it) {
  uint8_t out[20 + 4 * RTCP_MAX_REMB_SSRCS];
  reparse(out,
          rtcp_write_remb(out, sizeof out, it->sender_ssrc, it->remb_bps, it->remb_ssrcs,
                          it->n_remb_ssrcs),
          RTCP_REMB);
  /* Exact unless the parser saturated an exponent beyond 64 bits. */
  CHECK(it->remb_bps == UINT64_MAX || reparsed.remb_bps == it->remb_bps);
  CHECK(reparsed.n_remb_ssrcs == it->n_remb_ssrcs);
  CHECK(memcmp(reparsed.remb_ssrcs, it->remb_ssrcs, it->n_remb_ssrcs * 4) == 0);
}

static volatile uint64_t sink; /* every field read, so ASan and UBSan see the reads */

static void read_fields(const rtcp_item *it) {
  CHECK(it->kind >= RTCP_SR && it->kind <= RTCP_OTHER);
  CHECK(it->n_blocks <= RTCP_MAX_BLOCKS && it->n_nacks <= RTCP_MAX_NACKS);
  CHECK(it->n_remb_ssrcs <= RTCP_MAX_REMB_SSRCS);
  uint64_t s = it->sender_ssrc + it->media_ssrc + it->ntp_sec + it->ntp_frac +
               it->rtp_ts + it->packet_count + it->octet_count + it->fir_seq +
               it->remb_bps;
  for (size_t i = 0; i < it->n_blocks; i++) {
    const rtcp_report_block *b = &it->blocks[i];
    CHECK(b->cumulative_lost >= -0x800000 && b->cumulative_lost <= 0x7fffff);
    s += b->ssrc + b->fraction_lost + (uint32_t)b->cumulative_lost + b->highest_seq +
         b->jitter + b->lsr + b->dlsr;
  }
  for (size_t i = 0; i < it->n_nacks; i++)
    s += it->nacks[i];
  for (size_t i = 0; i < it->n_remb_ssrcs; i++)
    s += it->remb_ssrcs[i];
  sink += s;
}

typedef struct {
  int calls;
} walk_state;

static void on_item(const rtcp_item *it, void *ud) {
  walk_state *w = ud;
  w->calls++;
  read_fields(it);
  uint8_t out[32];
  switch (it->kind) {
  case RTCP_NACK:
    CHECK(it->n_nacks > 0);
    nack_round_trip(it);
    break;
  case RTCP_SR:
  case RTCP_RR:
    report_round_trip(it);
    break;
  case RTCP_REMB:
    remb_round_trip(it);
    break;
  case RTCP_PLI:
    reparse(out, rtcp_write_pli(out, sizeof out, it->sender_ssrc, it->media_ssrc),
            RTCP_PLI);
    CHECK(reparsed.media_ssrc == it->media_ssrc);
    break;
  case RTCP_FIR:
    reparse(out,
            rtcp_write_fir(out, sizeof out, it->sender_ssrc, it->media_ssrc, it->fir_seq),
            RTCP_FIR);
    CHECK(reparsed.media_ssrc == it->media_ssrc && reparsed.fir_seq == it->fir_seq);
    break;
  default:
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *pkt = malloc(size ? size : 1); /* exact size: ASan sees any overread */
  if (size)
    memcpy(pkt, data, size);
  walk_state w = {0};
  int n = rtcp_parse(pkt, size, on_item, &w);
  CHECK(n == w.calls || (n == -1 && w.calls == 0)); /* nothing half-applied */
  CHECK(rtcp_parse(pkt, size, NULL, NULL) == n);
  free(pkt);
  return 0;
}
