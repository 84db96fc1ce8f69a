/* dtmf — RFC 4733 telephone-event payloads: decode what a participant sends, and
 * encode digits into the sequence of event packets we send. */
#ifndef PARLEY_DTMF_H
#define PARLEY_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t event; /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D' */
  bool end;
  uint8_t volume;
  uint16_t duration; /* timestamp units */
} dtmf_event;

/* Parses a 4-byte telephone-event payload; 0, or -1 if too short. */
int dtmf_parse(const uint8_t *payload, size_t len, dtmf_event *ev);
/* The digit character for an event code, or 0 if not a DTMF digit. */
char dtmf_digit(uint8_t event);
/* The event code for a digit character, or -1. */
int dtmf_event_code(char digit);
/* Writes the 4-byte payload of one event packet. */
size_t dtmf_write(uint8_t *out, const dtmf_event *ev);

#endif
