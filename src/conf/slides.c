/* slides — image presentations (client API §D.4): the floor holder posts still frames,
 * everyone else hears presentation_frame with the frame's id and fetches it by that id.
 */
#include "conf/internal.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define SLIDE_MAX_BYTES (8u << 20)

void conf_slides_clear(room *r) {
  free(r->slide);
  r->slide = NULL;
  r->slide_len = 0;
  r->slide_id = 0;
}

refusal conf_slide_post(participant *actor, const char *data, size_t len,
                        const char *type) {
  room *r = actor->room;
  if (r->presenter != actor)
    return refusal_of(403, "Take the floor before presenting");
  bool jpeg = strncmp(type, "image/jpeg", 10) == 0,
       png = strncmp(type, "image/png", 9) == 0;
  if (!jpeg && !png)
    return refusal_of(415, "A frame must be image/jpeg or image/png");
  if (len == 0 || len > SLIDE_MAX_BYTES)
    return refusal_of(413, "A frame must be 1 byte to 8 MiB");
  char *copy = xmalloc(len);
  memcpy(copy, data, len);
  conf_slides_clear(r);
  r->slide = copy;
  r->slide_len = len;
  strcpy(r->slide_type, jpeg ? "image/jpeg" : "image/png");
  /* The frame is known by the id of the event that announces it (client API §C.1). */
  r->slide_id = r->next_event_id + 1;
  room_emit(r, "presentation_frame", json_object(), NULL, actor);
  log_debug("conf", "slide %llu (%zu bytes) in room %s", (unsigned long long)r->slide_id,
            len, r->cfg->aliases[0]);
  return REFUSAL_NONE;
}

bool conf_slide_get(const room *r, uint64_t id, const char **data, size_t *len,
                    const char **type) {
  if (!r->slide || (id && id != r->slide_id))
    return false;
  *data = r->slide;
  *len = r->slide_len;
  *type = r->slide_type;
  return true;
}
