/* db — the embedded SQLite store: opens DATA_DIR/parley.db in WAL mode and applies
 * the numbered schema migrations (PRAGMA user_version) before anything reads it. */
#ifndef PARLEY_DB_H
#define PARLEY_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store {
  sqlite3 *db;
  sqlite3_stmt *data_version; /* prepared once: polled on every room lookup */
  char path[600];
} store;

/* Creates the directory if needed. Returns NULL with a message in err on failure. */
store *store_open(const char *data_dir, char *err, size_t errlen);
void store_close(store *st);
/* The text of the store's last error (SQLite's), for a log line or a refusal: callers
 * above the store never reach into its connection. */
const char *store_error(const store *st);
/* Changes whenever another connection (parleyctl) commits; cheap to poll. */
int64_t store_data_version(store *st);
/* Latest schema version this build knows. */
int store_schema_version(void);

#endif
