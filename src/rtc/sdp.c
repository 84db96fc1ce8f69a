/* sdp — parsing SDP offers into sdp_session. Line-oriented; unknown lines and
 * attributes are skipped, malformed known ones refuse the whole offer with a reason. */
#include "rtc/sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  sdp_session *s;
  sdp_media *m; /* current media section, NULL at session level */
  int line;
  char *err;
  size_t errlen;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...) {
  int n = snprintf(p->err, p->errlen, "SDP line %d: ", p->line);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < p->errlen)
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Copies at most dst_size-1 bytes of [src, src+len). False if it did not fit. */
static bool copy_text(char *dst, size_t dst_size, const char *src, size_t len) {
  if (len >= dst_size)
    return false;
  memcpy(dst, src, len);
  dst[len] = '\0';
  return true;
}

static bool parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out) {
  if (len == 0 || len > 10)
    return false;
  unsigned long v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > max)
    return false;
  *out = v;
  return true;
}

/* Length of the part of [s, s+n) before the first c (all of it if none). */
static size_t prefix_len(const char *s, size_t n, char c) {
  const char *at = memchr(s, c, n);
  return at ? (size_t)(at - s) : n;
}

/* Splits off the next space-separated word of [*s, end). */
static bool next_word(const char **s, const char *end, const char **word, size_t *len) {
  while (*s < end && **s == ' ')
    (*s)++;
  if (*s >= end)
    return false;
  *word = *s;
  while (*s < end && **s != ' ')
    (*s)++;
  *len = (size_t)(*s - *word);
  return true;
}

static sdp_codec *codec_for(sdp_media *m, uint8_t pt, bool create) {
  for (size_t i = 0; i < m->n_codecs; i++)
    if (m->codecs[i].pt == pt)
      return &m->codecs[i];
  if (!create || m->n_codecs == SDP_MAX_CODECS)
    return NULL;
  sdp_codec *c = &m->codecs[m->n_codecs++];
  memset(c, 0, sizeof *c);
  c->pt = pt;
  c->rtx_for = -1;
  return c;
}

static int parse_media_line(parser *p, const char *v, const char *end) {
  sdp_session *s = p->s;
  if (s->n_media == SDP_MAX_MEDIA)
    return fail(p, "more than %d m-lines", SDP_MAX_MEDIA);
  sdp_media *m = p->m = &s->media[s->n_media++];
  memset(m, 0, sizeof *m);
  const char *w;
  size_t n;
  unsigned long port;
  if (!next_word(&v, end, &w, &n) || !copy_text(m->kind_name, sizeof m->kind_name, w, n))
    return fail(p, "bad m-line media type");
  m->kind = strcmp(m->kind_name, "audio") == 0         ? SDP_AUDIO
            : strcmp(m->kind_name, "video") == 0       ? SDP_VIDEO
            : strcmp(m->kind_name, "application") == 0 ? SDP_APPLICATION
                                                       : SDP_OTHER;
  /* "9" or "9/2" (a port count we do not use) */
  if (!next_word(&v, end, &w, &n) || !parse_uint(w, prefix_len(w, n, '/'), 65535, &port))
    return fail(p, "bad m-line port");
  m->port = (uint16_t)port;
  if (!next_word(&v, end, &w, &n) || !copy_text(m->proto, sizeof m->proto, w, n))
    return fail(p, "bad m-line protocol");
  m->direction = SDP_SENDRECV;
  while (next_word(&v, end, &w, &n)) {
    unsigned long pt;
    if (m->kind == SDP_APPLICATION && n == 18 && memcmp(w, "webrtc-datachannel", n) == 0)
      m->datachannel = true;
    if (m->kind == SDP_APPLICATION || m->kind == SDP_OTHER)
      continue; /* "webrtc-datachannel" and other non-RTP formats */
    if (!parse_uint(w, n, 127, &pt))
      return fail(p, "bad payload type in m-line");
    if (m->n_payloads < SDP_MAX_CODECS)
      m->payload_order[m->n_payloads++] = (uint8_t)pt;
  }
  return 0;
}

static int parse_rtpmap(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  unsigned long pt, rate, channels = 1;
  if (!next_word(&v, end, &w, &n) || !parse_uint(w, n, 127, &pt))
    return fail(p, "bad rtpmap payload type");
  if (!next_word(&v, end, &w, &n))
    return fail(p, "rtpmap without encoding");
  const char *slash = memchr(w, '/', n);
  if (!slash)
    return fail(p, "rtpmap without clock rate");
  const char *slash2 = memchr(slash + 1, '/', (size_t)(w + n - slash - 1));
  size_t rate_len = (size_t)((slash2 ? slash2 : w + n) - slash - 1);
  if (!parse_uint(slash + 1, rate_len, 10000000, &rate) ||
      (slash2 && !parse_uint(slash2 + 1, (size_t)(w + n - slash2 - 1), 255, &channels)))
    return fail(p, "bad rtpmap clock rate or channels");
  sdp_codec *c = codec_for(p->m, (uint8_t)pt, true);
  if (!c)
    return 0; /* more codecs than we keep: the rest are not offered to us */
  if (!copy_text(c->name, sizeof c->name, w, (size_t)(slash - w)))
    return fail(p, "rtpmap encoding name too long");
  c->clock_rate = (uint32_t)rate;
  c->channels = (uint8_t)channels;
  return 0;
}

static int parse_fmtp(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  unsigned long pt;
  if (!next_word(&v, end, &w, &n) || !parse_uint(w, n, 127, &pt))
    return fail(p, "bad fmtp payload type");
  while (v < end && *v == ' ')
    v++;
  sdp_codec *c = codec_for(p->m, (uint8_t)pt, true);
  if (!c)
    return 0;
  if (!copy_text(c->fmtp, sizeof c->fmtp, v, (size_t)(end - v)))
    return fail(p, "fmtp too long");
  char apt[8];
  unsigned long assoc;
  if (sdp_fmtp_get(c->fmtp, "apt", apt, sizeof apt) &&
      parse_uint(apt, strlen(apt), 127, &assoc))
    c->rtx_for = (int)assoc;
  return 0;
}

static unsigned feedback_flag(const char *v, const char *end) {
  size_t n = (size_t)(end - v);
#define IS(text) (n == sizeof(text) - 1 && memcmp(v, text, n) == 0)
  if (IS("nack"))
    return SDP_FB_NACK;
  if (IS("nack pli"))
    return SDP_FB_NACK_PLI;
  if (IS("ccm fir"))
    return SDP_FB_CCM_FIR;
  if (IS("goog-remb"))
    return SDP_FB_GOOG_REMB;
  if (IS("transport-cc"))
    return SDP_FB_TRANSPORT_CC;
#undef IS
  return 0;
}

static int parse_rtcp_fb(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  unsigned long pt;
  if (!next_word(&v, end, &w, &n))
    return fail(p, "bad rtcp-fb");
  while (v < end && *v == ' ')
    v++;
  unsigned flag = feedback_flag(v, end);
  if (n == 1 && *w == '*') {
    for (size_t i = 0; i < p->m->n_codecs; i++)
      p->m->codecs[i].feedback |= flag;
    return 0;
  }
  if (!parse_uint(w, n, 127, &pt))
    return fail(p, "bad rtcp-fb payload type");
  sdp_codec *c = codec_for(p->m, (uint8_t)pt, true);
  if (c)
    c->feedback |= flag;
  return 0;
}

static int parse_extmap(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  unsigned long id;
  if (!next_word(&v, end, &w, &n))
    return fail(p, "bad extmap");
  /* "3" or "3/sendrecv" */
  if (!parse_uint(w, prefix_len(w, n, '/'), 255, &id) || id == 0)
    return fail(p, "bad extmap id");
  if (!next_word(&v, end, &w, &n))
    return fail(p, "extmap without URI");
  if (p->m->n_extmaps == SDP_MAX_EXTMAPS)
    return 0;
  sdp_extmap *e = &p->m->extmaps[p->m->n_extmaps];
  if (!copy_text(e->uri, sizeof e->uri, w, n))
    return 0; /* an extension we could not name is one we do not use */
  e->id = (uint8_t)id;
  p->m->n_extmaps++;
  return 0;
}

static int parse_ssrc(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  unsigned long ssrc;
  if (!next_word(&v, end, &w, &n) || !parse_uint(w, n, 0xffffffffUL, &ssrc))
    return fail(p, "bad ssrc");
  sdp_media *m = p->m;
  sdp_ssrc *found = NULL;
  for (size_t i = 0; i < m->n_ssrcs; i++)
    if (m->ssrcs[i].ssrc == ssrc)
      found = &m->ssrcs[i];
  if (!found && m->n_ssrcs < SDP_MAX_SSRCS) {
    found = &m->ssrcs[m->n_ssrcs++];
    memset(found, 0, sizeof *found);
    found->ssrc = (uint32_t)ssrc;
  }
  while (v < end && *v == ' ')
    v++;
  if (found && (size_t)(end - v) > 6 && memcmp(v, "cname:", 6) == 0)
    copy_text(found->cname, sizeof found->cname, v + 6, (size_t)(end - v - 6));
  return 0;
}

static int parse_ssrc_group(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  unsigned long a, b;
  if (!next_word(&v, end, &w, &n))
    return fail(p, "bad ssrc-group");
  if (n != 3 || memcmp(w, "FID", 3) != 0)
    return 0; /* SIM and FEC-FR groups: not used */
  if (!next_word(&v, end, &w, &n) || !parse_uint(w, n, 0xffffffffUL, &a) ||
      !next_word(&v, end, &w, &n) || !parse_uint(w, n, 0xffffffffUL, &b))
    return fail(p, "bad ssrc-group:FID");
  p->m->fid_primary = (uint32_t)a;
  p->m->fid_repair = (uint32_t)b;
  return 0;
}

static int parse_group(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  if (!next_word(&v, end, &w, &n) || n != 6 || memcmp(w, "BUNDLE", 6) != 0)
    return 0;
  while (next_word(&v, end, &w, &n)) {
    if (p->s->n_bundle == SDP_MAX_MEDIA ||
        !copy_text(p->s->bundle[p->s->n_bundle], sizeof p->s->bundle[0], w, n))
      return fail(p, "bad BUNDLE group");
    p->s->n_bundle++;
  }
  return 0;
}

/* a=name:value where value must fit dst. */
static int attr_text(parser *p, char *dst, size_t dst_size, const char *v,
                     const char *end, const char *name) {
  if (!copy_text(dst, dst_size, v, (size_t)(end - v)))
    return fail(p, "a=%s too long", name);
  return 0;
}

static int parse_fingerprint(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  char *alg = p->m ? p->m->fingerprint_alg : p->s->fingerprint_alg;
  char *fp = p->m ? p->m->fingerprint : p->s->fingerprint;
  if (!next_word(&v, end, &w, &n) || !copy_text(alg, 16, w, n) ||
      !next_word(&v, end, &w, &n) || !copy_text(fp, 200, w, n))
    return fail(p, "bad a=fingerprint");
  return 0;
}

static int parse_rid(parser *p, const char *v, const char *end) {
  const char *w;
  size_t n;
  const char *id;
  size_t id_len;
  if (!next_word(&v, end, &id, &id_len) || !next_word(&v, end, &w, &n))
    return fail(p, "bad a=rid");
  if (n == 4 && memcmp(w, "send", 4) == 0 && p->m->n_rids < SDP_MAX_RIDS &&
      copy_text(p->m->rids[p->m->n_rids], sizeof p->m->rids[0], id, id_len))
    p->m->n_rids++;
  return 0;
}

static int media_attribute(parser *p, const char *name, size_t nlen, const char *v,
                           const char *end) {
  sdp_media *m = p->m;
#define NAME(text) (nlen == sizeof(text) - 1 && memcmp(name, text, nlen) == 0)
  if (NAME("mid"))
    return attr_text(p, m->mid, sizeof m->mid, v, end, "mid");
  if (NAME("rtpmap"))
    return parse_rtpmap(p, v, end);
  if (NAME("fmtp"))
    return parse_fmtp(p, v, end);
  if (NAME("rtcp-fb"))
    return parse_rtcp_fb(p, v, end);
  if (NAME("extmap"))
    return parse_extmap(p, v, end);
  if (NAME("ssrc"))
    return parse_ssrc(p, v, end);
  if (NAME("ssrc-group"))
    return parse_ssrc_group(p, v, end);
  if (NAME("msid"))
    return attr_text(p, m->msid, sizeof m->msid, v, end, "msid");
  if (NAME("rid"))
    return parse_rid(p, v, end);
  if (NAME("simulcast"))
    return attr_text(p, m->simulcast, sizeof m->simulcast, v, end, "simulcast");
  if (NAME("content"))
    return attr_text(p, m->content, sizeof m->content, v, end, "content");
  if (NAME("candidate")) {
    if (m->n_candidates < SDP_MAX_CANDIDATES &&
        copy_text(m->candidates[m->n_candidates], sizeof m->candidates[0], v,
                  (size_t)(end - v)))
      m->n_candidates++;
    return 0;
  }
  if (NAME("sctp-port")) {
    unsigned long port;
    if (!parse_uint(v, (size_t)(end - v), 65535, &port))
      return fail(p, "bad a=sctp-port");
    m->sctp_port = (uint16_t)port;
    return 0;
  }
  if (NAME("max-message-size")) {
    unsigned long size; /* RFC 8841 §6: 0 means "no limit"; larger values are capped */
    if (!parse_uint(v, (size_t)(end - v), 0xffffffffUL, &size))
      return fail(p, "bad a=max-message-size");
    m->max_message_size = size ? (uint32_t)size : 0xffffffffu;
    return 0;
  }
#undef NAME
  return 0;
}

static int flag_attribute(parser *p, const char *name, size_t nlen) {
  static const struct {
    const char *name;
    int direction;
  } flags[] = {
      {"sendrecv", SDP_SENDRECV}, {"sendonly", SDP_SENDONLY}, {"recvonly", SDP_RECVONLY},
      {"inactive", SDP_INACTIVE}, {"rtcp-mux", -1},           {"rtcp-rsize", -2},
      {"end-of-candidates", -3},  {"ice-lite", -4},           {"bundle-only", -5}};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
    if (strlen(flags[i].name) != nlen || memcmp(flags[i].name, name, nlen) != 0)
      continue;
    int d = flags[i].direction;
    if (d == -4)
      p->s->ice_lite = true;
    else if (!p->m)
      return 0; /* session-level direction and friends: not used by browsers */
    else if (d >= 0)
      p->m->direction = (sdp_direction)d;
    else if (d == -1)
      p->m->rtcp_mux = true;
    else if (d == -2)
      p->m->rtcp_rsize = true;
    else if (d == -5)
      p->m->bundle_only = true;
    else
      p->m->end_of_candidates = true;
    return 0;
  }
  return 0;
}

static int parse_attribute(parser *p, const char *v, const char *end) {
  const char *colon = memchr(v, ':', (size_t)(end - v));
  size_t nlen = colon ? (size_t)(colon - v) : (size_t)(end - v);
  const char *value = colon ? colon + 1 : end;
#define NAME(text) (nlen == sizeof(text) - 1 && memcmp(v, text, nlen) == 0)
  if (!colon)
    return flag_attribute(p, v, nlen);
  if (NAME("group"))
    return parse_group(p, value, end);
  if (NAME("fingerprint"))
    return parse_fingerprint(p, value, end);
  if (NAME("ice-ufrag"))
    return attr_text(p, p->m ? p->m->ice_ufrag : p->s->ice_ufrag, 257, value, end,
                     "ice-ufrag");
  if (NAME("ice-pwd"))
    return attr_text(p, p->m ? p->m->ice_pwd : p->s->ice_pwd, 257, value, end, "ice-pwd");
  if (NAME("setup"))
    return attr_text(p, p->m ? p->m->setup : p->s->setup, 16, value, end, "setup");
#undef NAME
  return p->m ? media_attribute(p, v, nlen, value, end) : 0;
}

static int parse_bandwidth(parser *p, const char *v, const char *end) {
  if (!p->m)
    return 0;
  unsigned long n;
  size_t len = (size_t)(end - v);
  if (len > 3 && memcmp(v, "AS:", 3) == 0 && parse_uint(v + 3, len - 3, 100000000, &n))
    p->m->bandwidth_as = (uint32_t)n;
  else if (len > 5 && memcmp(v, "TIAS:", 5) == 0 &&
           parse_uint(v + 5, len - 5, 0xffffffffUL, &n))
    p->m->bandwidth_tias = (uint32_t)n;
  return 0;
}

static int parse_line(parser *p, const char *line, const char *end) {
  if (end - line < 2 || line[1] != '=')
    return fail(p, "expected <type>=<value>");
  const char *v = line + 2;
  switch (line[0]) {
  case 'm':
    return parse_media_line(p, v, end);
  case 'a':
    return parse_attribute(p, v, end);
  case 'b':
    return parse_bandwidth(p, v, end);
  default:
    return 0; /* v o s i u e p c t r z k: nothing we act on */
  }
}

/* Browsers may put ICE and DTLS parameters at session level (Firefox does). */
static void inherit_session(sdp_session *s) {
  for (size_t i = 0; i < s->n_media; i++) {
    sdp_media *m = &s->media[i];
    if (!m->ice_ufrag[0])
      strcpy(m->ice_ufrag, s->ice_ufrag);
    if (!m->ice_pwd[0])
      strcpy(m->ice_pwd, s->ice_pwd);
    if (!m->fingerprint[0]) {
      strcpy(m->fingerprint_alg, s->fingerprint_alg);
      strcpy(m->fingerprint, s->fingerprint);
    }
    if (!m->setup[0])
      strcpy(m->setup, s->setup);
  }
}

/* RFC 9143 §7.1.3: a bundled m-line's transport (ICE, DTLS, rtcp-mux) is the
 * BUNDLE-tagged one's, the first mid in the group; bundle-only m-lines (port 0, which
 * Firefox's max-bundle offers put on every m-line after the first) have none of their
 * own. Marks each bundled m-line and fills in what it lacks from the tagged one. */
static void inherit_bundle(sdp_session *s) {
  const sdp_media *tag = NULL;
  for (size_t i = 0; i < s->n_media; i++) {
    sdp_media *m = &s->media[i];
    for (size_t b = 0; b < s->n_bundle && m->mid[0] && !m->bundled; b++)
      m->bundled = strcmp(m->mid, s->bundle[b]) == 0;
    if (s->n_bundle && m->mid[0] && strcmp(m->mid, s->bundle[0]) == 0)
      tag = m;
  }
  for (size_t i = 0; tag && i < s->n_media; i++) {
    sdp_media *m = &s->media[i];
    if (!m->bundled || m == tag)
      continue;
    if (!m->ice_ufrag[0] && !m->ice_pwd[0]) {
      strcpy(m->ice_ufrag, tag->ice_ufrag);
      strcpy(m->ice_pwd, tag->ice_pwd);
    }
    if (!m->fingerprint[0]) {
      strcpy(m->fingerprint_alg, tag->fingerprint_alg);
      strcpy(m->fingerprint, tag->fingerprint);
    }
    if (!m->setup[0])
      strcpy(m->setup, tag->setup);
    m->rtcp_mux = m->rtcp_mux || tag->rtcp_mux;
  }
}

int sdp_parse(const char *text, size_t len, sdp_session *out, char *err, size_t errlen) {
  parser p = {.s = out, .err = err, .errlen = errlen};
  memset(out, 0, sizeof *out);
  if (len > SDP_MAX_TEXT)
    return fail(&p, "SDP larger than %d bytes", SDP_MAX_TEXT);
  if (len < 3 || memcmp(text, "v=0", 3) != 0)
    return fail(&p, "SDP must start with v=0");
  const char *at = text, *end = text + len;
  while (at < end) {
    const char *nl = memchr(at, '\n', (size_t)(end - at));
    size_t line_len = (size_t)((nl ? nl : end) - at);
    if (line_len > 0 && at[line_len - 1] == '\r')
      line_len--;
    p.line++;
    if (memchr(at, '\0', line_len))
      return fail(&p, "NUL byte");
    if (line_len > 0 && parse_line(&p, at, at + line_len) != 0)
      return -1;
    at = nl ? nl + 1 : end;
  }
  if (out->n_media == 0)
    return fail(&p, "no m-line");
  inherit_session(out);
  inherit_bundle(out);
  return 0;
}

const sdp_codec *sdp_codec_by_pt(const sdp_media *m, uint8_t pt) {
  for (size_t i = 0; i < m->n_codecs; i++)
    if (m->codecs[i].pt == pt)
      return &m->codecs[i];
  return NULL;
}

uint8_t sdp_extmap_id(const sdp_media *m, const char *uri) {
  for (size_t i = 0; i < m->n_extmaps; i++)
    if (strcmp(m->extmaps[i].uri, uri) == 0)
      return m->extmaps[i].id;
  return 0;
}

bool sdp_fmtp_get(const char *fmtp, const char *key, char *out, size_t outlen) {
  size_t klen = strlen(key);
  const char *at = fmtp;
  while (*at) {
    while (*at == ' ' || *at == ';')
      at++;
    size_t item = strcspn(at, ";");
    const char *eq = memchr(at, '=', item);
    if (eq && (size_t)(eq - at) == klen && memcmp(at, key, klen) == 0)
      return copy_text(out, outlen, eq + 1, item - klen - 1);
    at += item;
  }
  return false;
}
