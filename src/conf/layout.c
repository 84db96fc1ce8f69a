/* layout — the layouts a host can ask for with transform_layout; they are reported
 * in layout events (the composing media that draws them comes later). */
#include "conf/internal.h"

#include <string.h>

static const char *const layouts[] = {"1:0", "1:7",  "1:21", "2:21", "1:33", "4:0",
                                      "9:0", "16:0", "25:0", "5:7",  "ac"};
#define N_LAYOUTS (sizeof layouts / sizeof layouts[0])

const char *const *conf_layouts(size_t *count) {
  *count = N_LAYOUTS;
  return layouts;
}

static bool known(const char *name) {
  for (size_t i = 0; i < N_LAYOUTS; i++)
    if (strcmp(layouts[i], name) == 0)
      return true;
  return false;
}

/* Reads an optional layout key; false if present but not a known layout. */
static bool take_layout(json_t *transforms, const char *key, char out[16]) {
  json_t *v = json_object_get(transforms, key);
  if (!v)
    return true;
  if (!json_is_string(v) || !known(json_string_value(v)))
    return false;
  strcpy(out, json_string_value(v));
  return true;
}

refusal conf_transform_layout(participant *actor, json_t *transforms) {
  if (actor->role != ROLE_HOST || actor->waiting)
    return refusal_of(403, "Only a host can do that");
  room *r = actor->room;
  char layout[16], host_layout[16], guest_layout[16];
  strcpy(layout, r->layout);
  strcpy(host_layout, r->host_layout);
  strcpy(guest_layout, r->guest_layout);
  json_t *overlay = json_object_get(transforms, "enable_overlay_text");
  if (!json_is_object(transforms) || !take_layout(transforms, "layout", layout) ||
      (overlay && !json_is_boolean(overlay)))
    return refusal_of(400, "illegal layout transform");
  if (json_object_get(transforms, "layout")) {
    /* A plain layout applies to hosts and guests alike unless they are named. */
    strcpy(host_layout, layout);
    strcpy(guest_layout, layout);
  }
  if (!take_layout(transforms, "host_layout", host_layout) ||
      !take_layout(transforms, "guest_layout", guest_layout))
    return refusal_of(400, "illegal layout transform");
  strcpy(r->layout, layout);
  strcpy(r->host_layout, host_layout);
  strcpy(r->guest_layout, guest_layout);
  if (overlay)
    r->overlay_text_enabled = json_is_true(overlay);
  room_emit(r, "layout", room_layout_json(r), NULL, NULL);
  return REFUSAL_NONE;
}
