// SQLite through its C API. SQLITE_TRANSIENT is a function-pointer cast Swift cannot import, so
// the bind helpers below wrap it (TOOLCHAIN.md pitfall 7).
#ifndef CGLB_SQLITE_SHIM_H
#define CGLB_SQLITE_SHIM_H
#include <sqlite3.h>

static inline int cglb_sqlite3_bind_text_transient(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}

static inline int cglb_sqlite3_bind_blob_transient(sqlite3_stmt *stmt, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(stmt, index, bytes, length, SQLITE_TRANSIENT);
}
#endif
