import CGLBSQLite
import GLBCore

/// A value bound to a `?` parameter of a statement.
enum SQLValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// One result row, valid only inside the `row` closure of `Connection.run` (the statement is
/// reset right after). Column indexes are 0-based, as in `sqlite3_column_*`.
struct Row {
    fileprivate let statement: OpaquePointer

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }
    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(statement, column) != 0 }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func double(_ column: Int32) -> Double? { isNull(column) ? nil : sqlite3_column_double(statement, column) }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : sqlite3_column_int64(statement, column) }

    func text(_ column: Int32) -> String { optionalText(column) ?? "" }
    func optionalText(_ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

/// One SQLite connection, after GRDB's `Database` (STYLE.md §7, §9.9). Not `Sendable`: the
/// `Store` actor owns it and is the only caller, so SQLite sees one thread at a time.
///
/// SQLITE_OPEN_NOMUTEX is safe for that reason. From https://sqlite.org/threadsafe.html: "In
/// this mode, SQLite can be safely used by multiple threads provided that no single database
/// connection [...] is used simultaneously in two or more threads." The actor guarantees it.
final class Connection {
    /// The file this connection opened, for error messages.
    let path: String
    private var db: OpaquePointer?
    /// Prepared statements by SQL text, prepared once with SQLITE_PREPARE_PERSISTENT.
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) the database at `path` and applies every setting in one place.
    init(path: String, busyTimeout: Duration = .seconds(5)) throws(StoreError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            // https://sqlite.org/c3ref/open.html: "Whether or not an error occurs when it is
            // opened, resources associated with the database connection handle should be released
            // by passing it to sqlite3_close() when it is no longer required."
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close(handle)
            throw StoreError(kind: .database, message: "cannot open \(path): \(message)", code: rc)
        }
        db = handle
        do {
            try setUp(busyTimeout: busyTimeout)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    private func setUp(busyTimeout: Duration) throws(StoreError) {
        guard let db else { return }
        // Extended codes tell a CHECK failure from a foreign-key failure (https://sqlite.org/rescode.html).
        sqlite3_extended_result_codes(db, 1)
        // https://sqlite.org/c3ref/busy_timeout.html: sleeps and retries while a table is locked,
        // instead of failing at once with SQLITE_BUSY when another process holds the write lock.
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.milliseconds))
        // https://sqlite.org/pragma.html#pragma_journal_mode: the pragma returns the new mode, and
        // "if the journal mode could not be changed, the original journal mode is returned".
        let mode = try scalarText("PRAGMA journal_mode = WAL")
        guard mode?.lowercased() == "wal" else {
            throw StoreError(kind: .database, message: "cannot enable WAL on \(path): journal_mode is \(mode ?? "unknown")",
                             sql: "PRAGMA journal_mode = WAL")
        }
        // https://sqlite.org/pragma.html#pragma_synchronous: "With synchronous=FULL in WAL mode,
        // an additional sync operation of the WAL file happens after each transaction commit",
        // which is what makes a commit durable across power loss; NORMAL may lose the last
        // commits. Every write the admin API acknowledges must survive, so FULL, not NORMAL.
        try execute("PRAGMA synchronous = FULL")
        // https://sqlite.org/foreignkeys.html: enforcement is off by default, per connection.
        try execute("PRAGMA foreign_keys = ON")
    }

    /// Finalizes every statement and closes the connection. Later calls fail with a clear error.
    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let db {
            // close_v2 defers the close if anything is still unfinalized, instead of failing.
            sqlite3_close_v2(db)
            self.db = nil
        }
    }

    /// Whether `close()` has run.
    var isClosed: Bool { db == nil }

    /// How many rows all writes on this connection have changed so far
    /// (https://sqlite.org/c3ref/total_changes.html).
    var totalChanges: Int64 {
        guard let db else { return 0 }
        return sqlite3_total_changes64(db)
    }

    /// Runs one or more statements without parameters or results (DDL, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws(StoreError) {
        let db = try open()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            throw Connection.error(code: sqlite3_extended_errcode(db), message: message, sql: sql)
        }
    }

    /// Runs one statement from the cache, calling `row` for each result row.
    ///
    /// After use the statement is reset and its bindings cleared. After a step error it is
    /// finalized and dropped from the cache, as GRDB's `statementDidFail` does: the statement
    /// may be left in a state `sqlite3_reset` cannot restore.
    func run(_ sql: String, _ bindings: [SQLValue] = [], row: (Row) throws(StoreError) -> Void = { _ in }) throws(StoreError) {
        let db = try open()
        let statement = try prepared(sql, db: db)
        defer {
            if statements[sql] != nil {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
        }
        try bind(bindings, to: statement, sql: sql, db: db)
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                try row(Row(statement: statement))
            } else if rc == SQLITE_DONE {
                return
            } else {
                let error = Connection.error(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)), sql: sql)
                statements[sql] = nil
                sqlite3_finalize(statement)
                throw error
            }
        }
    }

    /// Runs a query and maps every row.
    func query<T>(_ sql: String, _ bindings: [SQLValue] = [], _ map: (Row) throws(StoreError) -> T) throws(StoreError) -> [T] {
        var results: [T] = []
        try run(sql, bindings) { (row: Row) throws(StoreError) in results.append(try map(row)) }
        return results
    }

    /// The first column of the first row as text, or nil.
    func scalarText(_ sql: String) throws(StoreError) -> String? {
        var value: String?
        try run(sql) { row in if value == nil { value = row.optionalText(0) } }
        return value
    }

    /// The first column of the first row as an integer, or nil.
    func scalarInt(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> Int64? {
        var value: Int64?
        try run(sql, bindings) { row in if value == nil, !row.isNull(0) { value = row.int64(0) } }
        return value
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction and commits. IMMEDIATE takes the write
    /// lock up front, so a write never fails half way with SQLITE_BUSY on lock upgrade
    /// (https://sqlite.org/lang_transaction.html). On error: roll back and rethrow the *first*
    /// error, never one from the rollback.
    func transaction<T>(immediate: Bool = true, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // https://sqlite.org/lang_transaction.html: some errors (SQLITE_FULL, SQLITE_IOERR,
            // SQLITE_BUSY, SQLITE_NOMEM) may already have rolled the transaction back; roll back
            // only when one is still open.
            if let db, sqlite3_get_autocommit(db) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    private func open() throws(StoreError) -> OpaquePointer {
        guard let db else {
            throw StoreError(kind: .database, message: "the store at \(path) is closed; open it again to read or write")
        }
        return db
    }

    private func prepared(_ sql: String, db: OpaquePointer) throws(StoreError) -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        // https://sqlite.org/c3ref/c_prepare_normalize.html: PERSISTENT hints that the statement
        // "will be retained for a long time and probably reused many times".
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw Connection.error(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)), sql: sql)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ values: [SQLValue], to statement: OpaquePointer, sql: String, db: OpaquePointer) throws(StoreError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let int): rc = sqlite3_bind_int64(statement, index, int)
            case .real(let double): rc = sqlite3_bind_double(statement, index, double)
            case .text(let text):
                rc = text.utf8CString.withUnsafeBufferPointer { buffer in
                    cglb_sqlite3_bind_text_transient(statement, index, buffer.baseAddress, Int32(buffer.count - 1))
                }
            }
            guard rc == SQLITE_OK else {
                throw Connection.error(code: rc, message: String(cString: sqlite3_errmsg(db)), sql: sql)
            }
        }
    }

    /// Maps a SQLite result code to a `StoreError`: constraint failures become `.invalid` or
    /// `.conflict` with a readable message, everything else `.database`.
    static func error(code: Int32, message: String, sql: String?) -> StoreError {
        // Extended constraint codes are `SQLITE_CONSTRAINT | (n << 8)` (https://sqlite.org/rescode.html);
        // Swift cannot import those macros, so they are spelled out here.
        let check = SQLITE_CONSTRAINT | (1 << 8)
        let foreignKey = SQLITE_CONSTRAINT | (3 << 8)
        let notNull = SQLITE_CONSTRAINT | (5 << 8)
        let primaryKey = SQLITE_CONSTRAINT | (6 << 8)
        let unique = SQLITE_CONSTRAINT | (8 << 8)
        let datatype = SQLITE_CONSTRAINT | (12 << 8)
        switch code {
        case check, notNull, datatype:
            return StoreError(kind: .invalid, message: "rejected by the database: \(message)", code: code, sql: sql)
        case foreignKey:
            return StoreError(kind: .conflict, message: "a record this one refers to (or that refers to it) is missing: \(message)",
                              code: code, sql: sql)
        case primaryKey, unique:
            return StoreError(kind: .conflict, message: "a record with this key already exists: \(message)", code: code, sql: sql)
        default:
            if code & 0xff == SQLITE_CONSTRAINT {
                return StoreError(kind: .conflict, message: "rejected by the database: \(message)", code: code, sql: sql)
            }
            return StoreError(kind: .database, message: message, code: code, sql: sql)
        }
    }
}
