/* types — the conference core's objects: the core itself, rooms, participants,
 * tokens and event sinks. Shared by src/conf only; the API layer uses conf.h. */
#ifndef PARLEY_CONF_TYPES_H
#define PARLEY_CONF_TYPES_H

#include "core/config.h"
#include "core/hmap.h"
#include "core/ids.h"
#include "core/list.h"
#include "core/shared.h"
#include "store/rooms.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct conf_core conf_core;
typedef struct room room;
typedef struct participant participant;

typedef enum { ROLE_HOST, ROLE_GUEST } conf_role;

/* One fact that happened in a room, shared by every subscriber it goes to. */
typedef struct conf_event {
  int refs;
  uint64_t id;
  char *name;
  char *data; /* JSON text, never empty ("null" when there is nothing to say) */
  /* The transport's encoding (an SSE frame), built by the first sink that needs
   * it and held by reference by every stream it is queued on: fan-out formats
   * once and copies nothing. */
  shared_bytes *wire;
  /* A batch (the roster snapshot): these events, in order, sent as one; name and
   * data are then unused. */
  struct conf_event **parts;
  size_t n_parts;
} conf_event;

/* Where a participant's events go (an SSE stream today; a WebSocket later). */
typedef struct event_sink {
  list_node link; /* in participant->sinks */
  participant *owner;
  void (*deliver)(struct event_sink *sink, conf_event *ev);
  /* The participant is gone: end the stream after what was delivered. */
  void (*finish)(struct event_sink *sink);
} event_sink;

typedef struct token_entry {
  uint8_t digest[IDS_DIGEST_LEN]; /* only the hash is kept, never the token */
  participant *owner;
  uint64_t expires_at; /* loop time, ms */
  list_node link;      /* in owner->tokens */
} token_entry;

struct participant {
  char uuid[IDS_UUID_LEN + 1];
  room *room;
  list_node link;   /* in room->participants */
  list_node sinks;  /* event_sink */
  list_node tokens; /* token_entry */
  list_node calls;  /* conf_call */
  char *display_name, *call_tag, *overlay_text, *vendor;
  char *joined_alias; /* the alias the client used; may be a reception room's */
  char remote_addr[64];
  conf_role role;
  bool waiting; /* held in the waiting room (lock, or lecture not started) */
  bool muted, muted_by_host, client_muted, video_muted, presenting;
  bool supports_direct_chat, rx_presentation_denied;
  double start_time, spotlight, buzz_time, last_spoken;
  /* Chat token bucket: the messages it may send now; when it was last topped up
   * (loop time, ms). */
  double chat_tokens;
  uint64_t chat_refill_ms;
  uv_timer_t lapse_timer; /* fires when the newest token lapses */
  bool leaving;
  /* Serialised participant object, kept until the participant changes: every
   * stream that opens sends it again. room_emit_participant_update clears it. */
  char *json_text;
};

struct room {
  conf_core *core;
  room_record *cfg; /* this room's own copy, replaced when the store changes */
  hmap *by_uuid;
  list_node participants;
  size_t n_participants;
  bool locked, guests_muted, guests_can_unmute, started;
  bool guests_can_present;
  participant *presenter;
  participant *speaker; /* the active speaker, from the media loop */
  char *slide;          /* the latest image slide (client API §D.4), or NULL */
  size_t slide_len;
  char slide_type[16];
  uint64_t slide_id; /* the id of the presentation_frame event that announced it */
  char layout[16], host_layout[16], guest_layout[16];
  bool overlay_text_enabled;
  uint64_t next_event_id;
  size_t n_sinks; /* streams listening; with none, events are not even built */
  /* participant_sync_begin, a participant_create each, participant_sync_end: built
   * once and shared by every stream that opens until the roster changes. */
  struct conf_event *roster;
  uv_timer_t guests_only_timer;
  int64_t key; /* key in core->rooms: the room id, or below zero for a test call */
};

typedef struct {
  uint64_t joins, leaves, events, pin_failures, pin_lockouts;
} conf_counters;

struct conf_core {
  uv_loop_t *loop;
  const config *cfg;
  struct store *store;
  hmap *aliases; /* alias -> room_record (directory) */
  room_record **records;
  size_t n_records;
  int64_t data_version;
  hmap *rooms;        /* room id -> room with participants */
  hmap *participants; /* uuid -> participant */
  hmap *tokens;       /* digest -> token_entry */
  hmap *pin_failures; /* "room|addr" -> pin_window */
  hmap *calls;        /* call uuid -> conf_call */
  struct media_engine *media;
  uint64_t dtmf_digits_received;
  uv_timer_t housekeeping;
  conf_counters counters;
  size_t n_sinks;
  bool shutting_down;
  /* Cluster mode: tokens carry a MAC with this key (conf_set_token_key). */
  uint8_t token_key[1024];
  size_t token_key_len;
  /* The last key a test call's private room got in rooms: -1, -2, ... Ad-hoc rooms
   * (policy) take theirs from the same count. */
  int64_t last_private_key;
  hmap *adhoc_rooms;   /* service name -> room, ad-hoc rooms with people in them */
  hmap *adhoc_aliases; /* alias -> room, the aliases they were joined through */
};

#endif
