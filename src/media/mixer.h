/* mixer — conference audio for one room: each participant's Opus is decoded into 20 ms
 * frames, the loudest few are mixed, each of them gets the mix without itself
 * (mix-minus), and everyone else one shared mix encoded once. Single-threaded. */
#ifndef PARLEY_MIXER_H
#define PARLEY_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIXER_RATE 48000
#define MIXER_FRAME 960 /* 20 ms of mono at 48 kHz */
#define MIXER_MAX_SPEAKERS 3
#define MIXER_MAX_PACKET 1275 /* the largest Opus packet */

typedef struct mixer mixer;
typedef struct mixer_source mixer_source;

/* Called once per source per tick with the packet that source must hear: its own
 * mix-minus, or the shared mix (the same bytes for every listener). */
typedef void (*mixer_out_cb)(void *owner, const uint8_t *opus, size_t len, bool shared,
                             void *ud);

mixer *mixer_new(void);
void mixer_free(mixer *m);

mixer_source *mixer_add(mixer *m, void *owner);
void mixer_remove(mixer *m, mixer_source *s);
/* A server-muted source leaves the mix on the next tick, and stays a listener. */
void mixer_set_muted(mixer_source *s, bool muted);
/* Lecture rooms: guests hear hosts only (a second shared mix); hosts hear everyone. */
void mixer_set_lecture(mixer *m, bool lecture);
void mixer_set_host(mixer_source *s, bool host);

/* One received Opus payload. level_dbov is the RFC 6464 level (0 loudest .. 127
 * silence) or -1 when the sender gives none (then the decoded energy is used). */
void mixer_push(mixer_source *s, const uint8_t *opus, size_t len, uint16_t seq,
                int level_dbov);

/* Every 20 ms: mixes the loudest unmuted sources and emits one packet per source. */
void mixer_tick(mixer *m, mixer_out_cb out, void *ud);

/* The source's smoothed level, 0 (loud) .. 127 (silent), for voice activity. */
int mixer_source_level(const mixer_source *s);
/* True if the source was mixed in the last tick. */
bool mixer_source_mixed(const mixer_source *s);
size_t mixer_sources(const mixer *m);

#endif
