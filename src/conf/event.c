/* event — event records and their fan-out to the participants' sinks.
 * Each event is serialised once and shared by reference with every sink. */
#include "conf/call.h"

#include "conf/internal.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static conf_event *event_new_text(room *r, const char *name, char *text) {
  conf_event *ev = xcalloc(1, sizeof *ev);
  ev->refs = 1;
  ev->id = ++r->next_event_id;
  ev->name = xstrdup(name);
  ev->data = text;
  r->core->counters.events++;
  return ev;
}

static conf_event *event_new(room *r, const char *name, json_t *data) {
  char *text = data ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("null");
  json_decref(data);
  return event_new_text(r, name, text);
}

void conf_event_release(conf_event *ev) {
  if (!ev || --ev->refs > 0)
    return;
  for (size_t i = 0; i < ev->n_parts; i++)
    conf_event_release(ev->parts[i]);
  free(ev->parts);
  free(ev->name);
  free(ev->data);
  shared_bytes_unref(ev->wire);
  free(ev);
}

void room_roster_changed(room *r) {
  conf_event_release(r->roster);
  r->roster = NULL;
}

/* The roster part of the snapshot, as one batch event. Built on the first stream
 * that opens after a change and shared by all the others: 200 streams opening on
 * a roster of 3,000 (~1 KB each) held 200 copies of it, 600 MB, and formatted
 * 600,000 events; now one copy, formatted once. */
static conf_event *roster_batch(room *r) {
  if (r->roster)
    return r->roster;
  conf_event *b = xcalloc(1, sizeof *b);
  b->refs = 1;
  b->name = xstrdup("participant_sync");
  b->data = xstrdup("null");
  b->parts = xcalloc(r->n_participants + 2, sizeof *b->parts);
  b->parts[b->n_parts++] = event_new(r, "participant_sync_begin", NULL);
  list_node *pos;
  for (pos = r->participants.next; pos != &r->participants; pos = pos->next) {
    participant *p = list_entry(pos, participant, link);
    b->parts[b->n_parts++] =
        event_new_text(r, "participant_create", xstrdup(participant_json_text(p)));
  }
  b->parts[b->n_parts++] = event_new(r, "participant_sync_end", NULL);
  b->id = b->parts[b->n_parts - 1]->id;
  r->roster = b;
  return b;
}

static void deliver_to(participant *p, conf_event *ev) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->sinks) {
    event_sink *s = list_entry(pos, event_sink, link);
    s->deliver(s, ev);
  }
}

/* Client API §F: a participant the lock (or an unstarted lecture) holds sees its
 * own state and the conference's, never the roster, chat or slides, until it is
 * admitted. subject is the participant an event describes, if any. */
static bool may_see(const participant *p, const conf_event *ev,
                    const participant *subject) {
  return !p->waiting || subject == p || strcmp(ev->name, "conference_update") == 0;
}

static void fan_out(room *r, conf_event *ev, const participant *only,
                    const participant *except, const participant *subject) {
  if (only) {
    deliver_to((participant *)only, ev);
  } else {
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &r->participants) {
      participant *p = list_entry(pos, participant, link);
      if (p != except && may_see(p, ev, subject))
        deliver_to(p, ev);
    }
  }
  conf_event_release(ev);
}

void room_emit(room *r, const char *name, json_t *data, const participant *only,
               const participant *except) {
  if (r->n_sinks == 0) {
    /* Nobody listens: keep the id sequence, skip serialising. */
    json_decref(data);
    r->next_event_id++;
    return;
  }
  fan_out(r, event_new(r, name, data), only, except, NULL);
}

void room_emit_text(room *r, const char *name, const char *text, const participant *only,
                    const participant *except) {
  if (r->n_sinks == 0) {
    r->next_event_id++;
    return;
  }
  fan_out(r, event_new_text(r, name, xstrdup(text)), only, except, NULL);
}

void sink_send(event_sink *sink, room *r, const char *name, json_t *data) {
  conf_event *ev = event_new(r, name, data);
  sink->deliver(sink, ev);
  conf_event_release(ev);
}

void room_emit_participant_update(participant *p) {
  free(p->json_text); /* p changed: its cached object is stale */
  p->json_text = NULL;
  room_roster_changed(p->room);
  conf_calls_sync(p); /* every change passes here: mutes, spotlight */
  room *r = p->room;
  if (r->n_sinks)
    fan_out(r, event_new_text(r, "participant_update", xstrdup(participant_json_text(p))),
            NULL, NULL, p);
}

void room_emit_conference_update(room *r) {
  if (r->n_sinks)
    room_emit(r, "conference_update", conf_room_status_json(r), NULL, NULL);
}

void room_emit_stage_and_layout(room *r) {
  if (!r->n_sinks)
    return;
  room_emit(r, "layout", room_layout_json(r), NULL, NULL);
  room_emit(r, "stage", room_stage_json(r), NULL, NULL);
}

static json_t *presentation_start_json(const participant *presenter) {
  return json_pack("{s:s, s:s, s:s}", "presenter_name", presenter->display_name,
                   "presenter_uri", "", "presenter_uuid", presenter->uuid);
}

static void send_create(event_sink *sink, room *r, participant *p) {
  conf_event *ev =
      event_new_text(r, "participant_create", xstrdup(participant_json_text(p)));
  sink->deliver(sink, ev);
  conf_event_release(ev);
}

/* The roster snapshot every (re)connection starts with (client API §C.2); a
 * waiting participant's holds only itself and the conference's state. */
static void send_snapshot(event_sink *sink) {
  participant *p = sink->owner;
  room *r = p->room;
  if (p->waiting) {
    sink_send(sink, r, "participant_sync_begin", NULL);
    send_create(sink, r, p);
    sink_send(sink, r, "participant_sync_end", NULL);
    sink_send(sink, r, "conference_update", conf_room_status_json(r));
    return;
  }
  sink->deliver(sink, roster_batch(r));
  sink_send(sink, r, "conference_update", conf_room_status_json(r));
  sink_send(sink, r, "layout", room_layout_json(r));
  sink_send(sink, r, "stage", room_stage_json(r));
  if (r->presenter && r->presenter != p)
    sink_send(sink, r, "presentation_start", presentation_start_json(r->presenter));
}

static size_t count_sinks(const participant *p) {
  size_t n = 0;
  for (const list_node *pos = p->sinks.next; pos != &p->sinks; pos = pos->next)
    n++;
  return n;
}

refusal conf_subscribe(participant *p, event_sink *sink) {
  room *r = p->room;
  /* Each stream costs a snapshot of the room; a client reconnecting needs one or
   * two while the old one is noticed gone, so 4 leaves room and stops a token
   * from opening hundreds. */
  if (count_sinks(p) >= (size_t)r->core->cfg->max_streams)
    return refusal_of(429, "Too many event streams for this participant (at most %d)",
                      r->core->cfg->max_streams);
  sink->owner = p;
  list_push_back(&p->sinks, &sink->link);
  r->core->n_sinks++;
  r->n_sinks++;
  return REFUSAL_NONE;
}

void conf_send_snapshot(event_sink *sink) { send_snapshot(sink); }

void room_send_snapshots(participant *p) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->sinks) {
    send_snapshot(list_entry(pos, event_sink, link));
  }
}

void conf_unsubscribe(event_sink *sink) {
  if (!sink->owner)
    return;
  sink->owner->room->core->n_sinks--;
  sink->owner->room->n_sinks--;
  list_unlink(&sink->link);
  sink->owner = NULL;
}

json_t *conf_presentation_start_json(const participant *presenter) {
  return presentation_start_json(presenter);
}
