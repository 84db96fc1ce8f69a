/* version — the version parleyd and parleyctl print: CMake's project VERSION, plus
 * `git describe` of the tree it was built from when there was one. */
#ifndef PARLEY_VERSION_H
#define PARLEY_VERSION_H

/* "0.1.0" or "0.1.0 (git 4dd7853-dirty)". */
const char *parley_version(void);

#endif
