/* version — the version string, set by cmake/version.cmake on this file alone. */
#include "core/version.h"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "unknown"
#endif

const char *parley_version(void) { return PARLEY_VERSION; }
