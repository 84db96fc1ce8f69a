/* rtcp — RTCP compound packets (RFC 3550, 4585, 5104, REMB): parse what arrives into
 * items the media path acts on, and write the reports and feedback we send. */
#ifndef PARLEY_RTCP_H
#define PARLEY_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTCP_MAX_NACKS 256
#define RTCP_MAX_BLOCKS 31
#define RTCP_MAX_REMB_SSRCS 8

typedef enum {
  RTCP_SR,
  RTCP_RR,
  RTCP_SDES,
  RTCP_BYE,
  RTCP_NACK, /* generic NACK, RTPFB fmt 1 */
  RTCP_PLI,  /* PSFB fmt 1 */
  RTCP_FIR,  /* PSFB fmt 4, one item per FCI entry */
  RTCP_REMB, /* PSFB fmt 15 "REMB" */
  RTCP_TWCC, /* RTPFB fmt 15: transport-wide feedback, its FCI in fci (rtc/twcc.h) */
  RTCP_OTHER,
} rtcp_kind;

typedef struct {
  uint32_t ssrc;
  uint8_t fraction_lost;
  int32_t cumulative_lost; /* 24-bit signed */
  uint32_t highest_seq, jitter, lsr, dlsr;
} rtcp_report_block;

typedef struct {
  rtcp_kind kind;
  uint32_t sender_ssrc;
  uint32_t media_ssrc; /* NACK/PLI: media source; FIR: target SSRC */
  /* SR */
  uint32_t ntp_sec, ntp_frac, rtp_ts, packet_count, octet_count;
  /* SR and RR */
  rtcp_report_block blocks[RTCP_MAX_BLOCKS];
  size_t n_blocks;
  /* NACK: every lost sequence number, expanded from PID + BLP */
  uint16_t nacks[RTCP_MAX_NACKS];
  size_t n_nacks;
  /* FIR */
  uint8_t fir_seq;
  /* REMB */
  uint64_t remb_bps;
  uint32_t remb_ssrcs[RTCP_MAX_REMB_SSRCS];
  size_t n_remb_ssrcs;
  /* TWCC: the FCI (after the SSRCs, padding excluded), valid during the callback */
  const uint8_t *fci;
  size_t fci_len;
} rtcp_item;

typedef void (*rtcp_item_cb)(const rtcp_item *item, void *ud);

/* Walks a compound packet; calls cb per item. Returns the number of items, or -1 if
 * the compound is malformed (then cb was not called at all: nothing half-applied). */
int rtcp_parse(const uint8_t *pkt, size_t len, rtcp_item_cb cb, void *ud);

/* Writers: each returns the bytes written, or 0 if cap is too small. Several may be
 * concatenated into one compound packet (the first must be an SR or RR). */
size_t rtcp_write_sr(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t ntp_sec,
                     uint32_t ntp_frac, uint32_t rtp_ts, uint32_t packets,
                     uint32_t octets, const rtcp_report_block *blocks, size_t n);
size_t rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc,
                     const rtcp_report_block *blocks, size_t n);
size_t rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname);
size_t rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender, uint32_t media);
size_t rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender, uint32_t media,
                      uint8_t seq);
/* Packs seqs (any order) into PID/BLP pairs. */
size_t rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender, uint32_t media,
                       const uint16_t *seqs, size_t n);
size_t rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender, uint64_t bps,
                       const uint32_t *ssrcs, size_t n);

#endif
