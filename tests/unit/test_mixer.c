/* test_mixer — three talkers with distinct tones: each hears the other two and not
 * itself (mix-minus), a silent listener hears all three (shared mix), a muted talker
 * leaves every mix, at most MIXER_MAX_SPEAKERS are mixed, and lost packets are concealed.
 */
#include "check.h"
#include "media/mixer.h"

#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>

#define TALKERS 4 /* 440, 660, 880 and (when enabled) 1100 Hz */
#define PEOPLE (TALKERS + 1)

typedef struct {
  int id;
  mixer_source *src;
  OpusEncoder *enc;
  OpusDecoder *dec;
  double phase, freq;
  bool talking;
  uint16_t seq;
  int16_t heard[MIXER_FRAME * 10]; /* the last ten frames it received, decoded */
  int heard_frames;
  int shared_packets;
} person;

static person people[PEOPLE];

static void on_out(void *owner, const uint8_t *opus, size_t len, bool shared, void *ud) {
  (void)ud;
  person *p = owner;
  int16_t pcm[MIXER_FRAME];
  int n = opus_decode(p->dec, opus, (opus_int32)len, pcm, MIXER_FRAME, 0);
  CHECK(n == MIXER_FRAME);
  memmove(p->heard, p->heard + MIXER_FRAME, sizeof p->heard - sizeof pcm);
  memcpy(p->heard + MIXER_FRAME * 9, pcm, sizeof pcm);
  p->heard_frames++;
  p->shared_packets += shared;
}

static void talk(person *p, bool send_level) {
  int16_t pcm[MIXER_FRAME];
  for (int i = 0; i < MIXER_FRAME; i++) {
    pcm[i] = p->talking ? (int16_t)(6000 * sin(p->phase)) : 0;
    p->phase += 2 * M_PI * p->freq / MIXER_RATE;
  }
  uint8_t pkt[MIXER_MAX_PACKET];
  int n = opus_encode(p->enc, pcm, MIXER_FRAME, pkt, sizeof pkt);
  CHECK(n > 0);
  mixer_push(p->src, pkt, (size_t)n, p->seq++, send_level ? (p->talking ? 20 : 127) : -1);
}

/* Goertzel power of freq in what p heard lately, relative to all of it. */
static double share_of(const person *p, double freq) {
  const int len = MIXER_FRAME * 10;
  double coeff = 2 * cos(2 * M_PI * freq / MIXER_RATE), s1 = 0, s2 = 0, total = 0;
  for (int i = 0; i < len; i++) {
    double s0 = p->heard[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += (double)p->heard[i] * p->heard[i];
  }
  double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return total > 0 ? power / (total * len / 2) : 0;
}

static bool hears(const person *p, double freq) { return share_of(p, freq) > 0.05; }

static void run(mixer *m, int ticks) {
  for (int t = 0; t < ticks; t++) {
    for (int i = 0; i < TALKERS; i++)
      talk(&people[i], i % 2 == 0); /* half give RFC 6464 levels, half need decoding */
    mixer_tick(m, on_out, NULL);
  }
}

/* Lecture: a host (440 Hz) and two guests (660, 880 Hz) talk; a guest and a host
 * listen. Guests hear the host only; hosts hear everyone else. */
static void test_lecture(void) {
  static person lp[5];
  mixer *m = mixer_new();
  mixer_set_lecture(m, true);
  for (int i = 0; i < 5; i++) {
    int err;
    lp[i] = (person){.freq = 440 + 220 * i, .talking = i < 3};
    lp[i].src = mixer_add(m, &lp[i]);
    mixer_set_host(lp[i].src, i == 0 || i == 4);
    lp[i].enc = opus_encoder_create(MIXER_RATE, 1, OPUS_APPLICATION_AUDIO, &err);
    lp[i].dec = opus_decoder_create(MIXER_RATE, 1, &err);
  }
  for (int t = 0; t < 60; t++) {
    for (int i = 0; i < 3; i++)
      talk(&lp[i], true);
    mixer_tick(m, on_out, NULL);
  }
  person *host = &lp[0], *guest1 = &lp[1], *guest_listener = &lp[3],
         *host_listener = &lp[4];
  CHECK(hears(guest_listener, 440) && !hears(guest_listener, 660) &&
        !hears(guest_listener, 880));
  CHECK(hears(guest1, 440) && !hears(guest1, 880) && !hears(guest1, 660));
  CHECK(!hears(host, 440) && hears(host, 660) && hears(host, 880));
  CHECK(hears(host_listener, 440) && hears(host_listener, 660) &&
        hears(host_listener, 880));
  for (int i = 0; i < 5; i++) {
    opus_encoder_destroy(lp[i].enc);
    opus_decoder_destroy(lp[i].dec);
  }
  mixer_free(m);
}

/* What a listener got in a tick: the packet's bytes, for comparing ticks. */
typedef struct {
  uint8_t last[MIXER_MAX_PACKET];
  size_t last_len;
  int same_as_before, packets;
} capture;

static void on_capture(void *owner, const uint8_t *opus, size_t len, bool shared,
                       void *ud) {
  capture *c = ud;
  on_out(owner, opus, len, shared, NULL);
  if (owner != &people[TALKERS])
    return; /* only the listener's packets are compared */
  c->same_as_before +=
      c->packets > 0 && len == c->last_len && !memcmp(opus, c->last, len);
  memcpy(c->last, opus, len);
  c->last_len = len;
  c->packets++;
}

static int loudest(const person *p) {
  int peak = 0;
  for (int i = 0; i < MIXER_FRAME * 10; i++)
    peak = abs(p->heard[i]) > peak ? abs(p->heard[i]) : peak;
  return peak;
}

/* Nobody talks: every listener still gets a packet each tick, the same few bytes of
 * silence (encoded once, when the room was made); when someone talks the mix is encoded
 * again and heard, and once they stop the silence packet is back. */
static void test_silence(mixer *m, person *talker, person *listener) {
  capture c = {0};
  talker->talking = false;
  for (int t = 0; t < 20; t++) {
    talk(talker, true);
    mixer_tick(m, on_capture, &c);
  }
  /* (the first ticks may still carry the others' concealed tails) */
  CHECK(c.packets == 20 && c.same_as_before >= 15);
  CHECK(c.last_len > 0 && c.last_len <= 40); /* a 32 kbit/s speech frame is ~80 bytes */
  CHECK(loudest(listener) < 8);
  uint8_t silence[MIXER_MAX_PACKET];
  size_t silence_len = c.last_len;
  memcpy(silence, c.last, silence_len);

  talker->talking = true;
  c = (capture){0};
  for (int t = 0; t < 30; t++) {
    talk(talker, true);
    mixer_tick(m, on_capture, &c);
  }
  CHECK(c.packets == 30 && c.same_as_before < 5 && hears(listener, talker->freq));

  talker->talking = false;
  for (int t = 0; t < 20; t++) {
    talk(talker, true);
    mixer_tick(m, on_capture, &c);
  }
  CHECK(c.last_len == silence_len && !memcmp(c.last, silence, silence_len));
}

int main(void) {
  test_lecture();
  mixer *m = mixer_new();
  for (int i = 0; i < PEOPLE; i++) {
    person *p = &people[i];
    int err;
    p->id = i;
    p->freq = 440 + 220 * i;
    p->talking = i < 3;
    p->src = mixer_add(m, p);
    p->enc = opus_encoder_create(MIXER_RATE, 1, OPUS_APPLICATION_AUDIO, &err);
    p->dec = opus_decoder_create(MIXER_RATE, 1, &err);
  }
  person *listener = &people[TALKERS]; /* never talks, never pushes */
  run(m, 60);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      CHECK(hears(&people[i], people[j].freq) == (i != j));
  for (int j = 0; j < 3; j++)
    CHECK(hears(listener, people[j].freq));
  CHECK(listener->shared_packets == listener->heard_frames &&
        listener->heard_frames == 60);
  CHECK(people[0].shared_packets < 10); /* a talker hears its own mix-minus */

  mixer_set_muted(people[1].src, true); /* the 660 Hz talker is muted by a host */
  run(m, 30);
  CHECK(!hears(listener, 660) && hears(listener, 440) && hears(listener, 880));
  CHECK(!hears(&people[0], 660) && hears(&people[0], 880));
  CHECK(hears(&people[1], 440) && !mixer_source_mixed(people[1].src));
  mixer_set_muted(people[1].src, false);

  people[3].talking = true; /* four talk: only three are mixed */
  run(m, 30);
  int mixed = 0;
  for (int i = 0; i < TALKERS; i++)
    mixed += mixer_source_mixed(people[i].src);
  CHECK(mixed == MIXER_MAX_SPEAKERS);

  /* 440 Hz loses two packets in a row: concealed, the others go on. */
  int before = listener->heard_frames;
  for (int t = 0; t < 2; t++) {
    people[0].seq++; /* never sent */
    for (int i = 1; i < TALKERS; i++)
      talk(&people[i], false);
    mixer_tick(m, on_out, NULL);
  }
  run(m, 5);
  CHECK(listener->heard_frames == before + 7);
  CHECK(mixer_source_level(people[2].src) < 60 &&
        mixer_source_level(listener->src) == 127);

  for (int i = 0; i < TALKERS; i++)
    people[i].talking = false;
  for (int t = 0; t < 10;
       t++) /* the others' quiet frames drain from the jitter buffers */
    run(m, 1);
  test_silence(m, &people[0], listener);

  for (int i = 0; i < PEOPLE; i++) {
    opus_encoder_destroy(people[i].enc);
    opus_decoder_destroy(people[i].dec);
  }
  mixer_free(m);
  CHECK_DONE();
}
