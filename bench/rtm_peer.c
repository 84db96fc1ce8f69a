/* rtm_peer — an RTM agent's WebSocket and SDP for load clients. */
#include "rtm_peer.h"

#include "core/ids.h"
#include "rtc/ice_lite.h"
#include "rtc/sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n, len -= (size_t)n;
  }
  return 0;
}

static void in_reserve(ws_client *ws, size_t more) {
  if (ws->in_len + more <= ws->in_cap)
    return;
  ws->in_cap = (ws->in_len + more) * 2;
  ws->in = realloc(ws->in, ws->in_cap);
}

/* Reads once into ws->in, waiting up to wait_ms. Returns bytes read, 0 for none yet,
 * -1 when the connection is gone. */
static int read_some(ws_client *ws, int wait_ms) {
  if (wait_ms > 0) {
    struct pollfd pfd = {ws->fd, POLLIN, 0};
    if (poll(&pfd, 1, wait_ms) <= 0)
      return 0;
  }
  in_reserve(ws, 65536);
  ssize_t n = recv(ws->fd, ws->in + ws->in_len, ws->in_cap - ws->in_len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0)
    return -1;
  ws->in_len += (size_t)n;
  return (int)n;
}

/* base64(SHA-1(key + GUID)): what the server must answer (RFC 6455 §4.2.2). */
static void expected_accept(const char *key, char out[64]) {
  char cat[128];
  unsigned char digest[20];
  unsigned int dlen = 0;
  snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
  EVP_Digest(cat, strlen(cat), digest, &dlen, EVP_sha1(), NULL);
  EVP_EncodeBlock((unsigned char *)out, digest, (int)dlen);
}

static int upgrade(ws_client *ws, int port, const char *path) {
  unsigned char raw[16];
  char key[32], accept[64], req[4096];
  ids_random(raw, sizeof raw);
  EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
  expected_accept(key, accept);
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   path, port, key);
  if (n >= (int)sizeof req || write_all(ws->fd, req, (size_t)n))
    return fprintf(stderr, "ws: cannot send the upgrade\n"), -1;
  char *end = NULL;
  for (int waited = 0; !end && waited < 5000; waited += 50) {
    if (read_some(ws, 50) < 0)
      break;
    in_reserve(ws, 1);
    ws->in[ws->in_len] = '\0';
    end = strstr(ws->in, "\r\n\r\n");
  }
  if (!end)
    return fprintf(stderr, "ws: no upgrade response\n"), -1;
  *end = '\0';
  char want[100];
  snprintf(want, sizeof want, "Sec-WebSocket-Accept: %s", accept);
  if (strncmp(ws->in, "HTTP/1.1 101", 12) != 0 || !strcasestr(ws->in, want))
    return fprintf(stderr, "ws: upgrade refused: %.300s\n", ws->in), -1;
  size_t head = (size_t)(end + 4 - ws->in); /* keep any frame that came with it */
  memmove(ws->in, ws->in + head, ws->in_len - head);
  ws->in_len -= head;
  return 0;
}

int ws_connect(ws_client *ws, int port, const char *path) {
  *ws = (ws_client){.fd = socket(AF_INET, SOCK_STREAM, 0)};
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (ws->fd < 0 || connect(ws->fd, (struct sockaddr *)&a, sizeof a) != 0)
    return perror("ws: connect"), -1;
  return upgrade(ws, port, path);
}

static int send_frame(ws_client *ws, int opcode, const char *data, size_t len) {
  uint8_t head[14], mask[4];
  size_t h = 0;
  head[h++] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    head[h++] = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    head[h++] = 0x80 | 126;
    head[h++] = (uint8_t)(len >> 8), head[h++] = (uint8_t)len;
  } else {
    head[h++] = 0x80 | 127;
    for (int k = 7; k >= 0; k--)
      head[h++] = (uint8_t)((uint64_t)len >> (8 * k));
  }
  ids_random(mask, sizeof mask); /* clients mask every frame (RFC 6455 §5.3) */
  memcpy(head + h, mask, 4);
  h += 4;
  char *out = malloc(h + len);
  memcpy(out, head, h);
  for (size_t i = 0; i < len; i++)
    out[h + i] = (char)(data[i] ^ mask[i & 3]);
  int rc = write_all(ws->fd, out, h + len);
  free(out);
  return rc;
}

int ws_send_text(ws_client *ws, const char *text, size_t len) {
  return send_frame(ws, 1, text, len);
}

/* One whole frame at the front of ws->in: its opcode, payload and total size. */
static bool frame_at_front(const ws_client *ws, int *opcode, size_t *off, size_t *len) {
  const uint8_t *b = (const uint8_t *)ws->in;
  if (ws->in_len < 2)
    return false;
  *opcode = b[0] & 0x0f;
  size_t h = 2, n = b[1] & 0x7f;
  if (n == 126) {
    if (ws->in_len < 4)
      return false;
    n = (size_t)b[2] << 8 | b[3], h = 4;
  } else if (n == 127) {
    if (ws->in_len < 10)
      return false;
    n = 0;
    for (int k = 0; k < 8; k++)
      n = n << 8 | b[2 + k];
    h = 10;
  }
  if (b[1] & 0x80)
    h += 4; /* a server must not mask, but skip a mask if one came */
  if (ws->in_len < h + n)
    return false;
  *off = h, *len = n;
  return true;
}

char *ws_next_text(ws_client *ws, int wait_ms, bool *closed) {
  *closed = false;
  for (;;) {
    int opcode;
    size_t off, len;
    while (frame_at_front(ws, &opcode, &off, &len)) {
      char *text = NULL;
      if (opcode == 1) {
        text = malloc(len + 1);
        memcpy(text, ws->in + off, len);
        text[len] = '\0';
      } else if (opcode == 9) {
        send_frame(ws, 10, ws->in + off, len); /* pong with the ping's payload */
      } else if (opcode == 8) {
        *closed = true;
      }
      memmove(ws->in, ws->in + off + len, ws->in_len - off - len);
      ws->in_len -= off + len;
      if (text || *closed)
        return text;
    }
    int got = read_some(ws, wait_ms);
    if (got < 0)
      *closed = true;
    if (got <= 0)
      return NULL;
  }
}

void ws_close_client(ws_client *ws) {
  if (ws->fd >= 0) {
    send_frame(ws, 8, "\x03\xe8", 2); /* 1000: normal closure */
    close(ws->fd);
  }
  ws->fd = -1;
  free(ws->in);
  ws->in = NULL;
  ws->in_len = ws->in_cap = 0;
}

void rtm_peer_offer(peer *p, uint32_t audio_ssrc, dtls_context *ctx, char *out,
                    size_t cap) {
  ice_lite creds;
  ice_lite_new_credentials(&creds);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", creds.local_ufrag);
  snprintf(p->pwd, sizeof p->pwd, "%s", creds.local_pwd);
  /* What a browser offers for one camera and microphone, cut to what the recording
   * path reads: BUNDLE, rtcp-mux, ICE and DTLS attributes, codecs and SSRCs. */
  const char *transport = "a=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:%s\\r\\n"
                          "a=setup:actpass\\r\\na=rtcp-mux\\r\\na=sendonly\\r\\n";
  char t[512];
  snprintf(t, sizeof t, transport, p->ufrag, p->pwd, dtls_context_fingerprint(ctx));
  snprintf(
      out, cap,
      "v=0\\r\\no=- %u 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"
      "a=group:BUNDLE 0 1\\r\\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:0\\r\\n%s"
      "a=rtpmap:111 opus/48000/2\\r\\na=fmtp:111 minptime=10;useinbandfec=1\\r\\n"
      "a=ssrc:%u cname:rtmload\\r\\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:1\\r\\n%s"
      "a=rtpmap:96 VP8/90000\\r\\na=rtcp-fb:96 goog-remb\\r\\na=rtcp-fb:96 ccm fir\\r\\n"
      "a=rtcp-fb:96 nack\\r\\na=rtcp-fb:96 nack pli\\r\\na=ssrc:%u cname:rtmload\\r\\n",
      audio_ssrc, t, audio_ssrc, t, p->ssrc);
}
