/// Why a store call failed: what kind of failure, a message a person can act on, and, for SQLite
/// failures, the result code and the SQL (after GRDB's `DatabaseError`). Statement arguments are
/// never included, so an error can be logged or returned to a client without leaking values.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    /// An opaque, extensible kind (after swift-service-lifecycle's `ServiceGroupError.Code`):
    /// callers match on the static members, and a new kind breaks no `switch`.
    package struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The record, or a record it depends on, does not exist (or is a tombstone).
        package static let notFound = Kind("not found")
        /// The write contradicts other rows: a zone still in use, a cluster that is the canary,
        /// a uniqueness or foreign-key constraint.
        package static let conflict = Kind("conflict")
        /// The record itself is wrong: a field out of range or badly formed. `field` says which.
        package static let invalid = Kind("invalid")
        /// Each field is valid on its own, but together they contradict each other (a check
        /// timeout above its interval, a latitude without a longitude). `field` says which to change.
        package static let inconsistent = Kind("inconsistent")
        /// SQLite failed, or the store is closed: not the caller's fault; `code` and `sql` say more.
        package static let database = Kind("database")

        /// The kind in words: `not found`, `conflict`, `invalid`, `inconsistent`, `database`.
        package var description: String { name }
    }

    /// What kind of failure this is.
    package var kind: Kind
    /// What went wrong, in words a person can act on.
    package var message: String
    /// The record field at fault, in its JSON spelling (`"weight"`, `"check.interval_ms"`), if any.
    package var field: String?
    /// The SQLite extended result code, when SQLite reported the failure.
    package var code: Int32?
    /// The SQL statement that failed, when there was one.
    package var sql: String?

    /// Makes an error; only `kind` and `message` are required.
    package init(kind: Kind, message: String, field: String? = nil, code: Int32? = nil, sql: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
        self.code = code
        self.sql = sql
    }

    /// A rejected record, from its validation.
    package init(_ validation: ValidationError) {
        self.init(kind: validation.isInconsistency ? .inconsistent : .invalid, message: validation.message, field: validation.field)
    }

    /// `kind: message (field f) [sqlite code] in: sql`, for logs.
    package var description: String {
        var text = "\(kind): \(message)"
        if let field { text += " (field \(field))" }
        if let code { text += " [sqlite \(code)]" }
        if let sql { text += " in: \(sql)" }
        return text
    }
}
