package import GLBCore

/// Who is writing and from where, for the audit log.
package struct WriteContext: Sendable {
    /// `token:admin`, `anonymous`, `node:eu-1`.
    package var actor: String
    /// The remote address of the request, or `local`.
    package var source: String

    /// A write context.
    package init(actor: String, source: String) {
        self.actor = actor
        self.source = source
    }
}

/// What a write did: the record as stored (normalised, with its new version and origin),
/// whether it was created (no live row before; a tombstone counts as none), and the live
/// record it replaced.
package struct WriteOutcome<Record: Sendable>: Sendable {
    /// The record as stored.
    package var record: Record
    /// True when no live row existed before (the REST API answers 201 instead of 200).
    package var created: Bool
    /// The live record this write replaced, if any.
    package var previous: Record?

    /// An outcome.
    package init(record: Record, created: Bool, previous: Record?) {
        self.record = record
        self.created = created
        self.previous = previous
    }
}

/// The config database: zones, services, clusters, canary splits, nodes and the audit log, in
/// one SQLite file (STYLE.md §9.9).
///
///     caller ──await──▶ Store (actor) ──▶ Connection (one sqlite3*, statement cache)
///                          │  every write: BEGIN IMMEDIATE
///                          │    validate ▶ upsert row (version = HLC tick, origin = node id)
///                          │    ▶ append audit ▶ COMMIT (synchronous=FULL: durable on return)
///                          └──▶ changes: AsyncStream<HLCTimestamp> (newest version, after commit)
///
/// The actor is the connection's only user, so SQLite sees one thread at a time, and blocking
/// SQLite calls run on the cooperative pool, never on an event-loop thread. Deletes are
/// tombstones (`deleted = 1` with a new version) so gossip can replicate them; reads skip them;
/// a put on a tombstoned key brings it back with a new version.
///
/// Versions come from a hybrid logical clock seeded at open with the highest stored version, so
/// they increase strictly across restarts even when the wall clock has gone backwards.
package actor Store {
    let connection: Connection
    /// This node's id, written as `origin` on every row this store writes.
    package nonisolated let nodeID: String
    let clock: any GLBClock
    var hlc: HybridLogicalClock
    let continuation: AsyncStream<HLCTimestamp>.Continuation

    /// The config version after every committed write, newest only (`bufferingNewest(1)`): a
    /// slow reader skips intermediate versions, which is right for a reader that rebuilds from
    /// `configSnapshot()`. One consumer; it finishes when the store is closed.
    package nonisolated let changes: AsyncStream<HLCTimestamp>

    /// Counts the commits that changed live config (local writes and applied peer rows), from 0
    /// at open. Readers compare it, not the newest version, to know whether they are current: a
    /// peer's row can be older than the newest one here and still be news.
    package internal(set) var revision: UInt64 = 0

    /// Opens or creates the database at `path` and brings its schema up to date. The directory
    /// must exist: creating it is the caller's decision.
    package init(path: String, nodeID: String, clock: any GLBClock) throws(StoreError) {
        guard !nodeID.isEmpty else {
            throw StoreError(kind: .invalid, message: "the node id must not be empty", field: "node_id")
        }
        let connection = try Connection(path: path)
        try Migrations.migrate(connection)
        let highest = try Store.readConfigVersion(connection)
        self.connection = connection
        self.nodeID = nodeID
        self.clock = clock
        self.hlc = HybridLogicalClock(last: highest)
        (changes, continuation) = AsyncStream.makeStream(of: HLCTimestamp.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Closes the database and finishes `changes`. Every later call throws a `.database` error
    /// saying the store is closed.
    package func close() {
        connection.close()
        continuation.finish()
    }

    /// The highest version over all replicated rows, tombstones included; `.zero` when empty.
    package func configVersion() throws(StoreError) -> HLCTimestamp {
        try Store.readConfigVersion(connection)
    }

    private static func readConfigVersion(_ connection: Connection) throws(StoreError) -> HLCTimestamp {
        let sql = """
            SELECT max(v) FROM (
                SELECT max(version) AS v FROM zones UNION ALL SELECT max(version) FROM services
                UNION ALL SELECT max(version) FROM clusters UNION ALL SELECT max(version) FROM canaries
                UNION ALL SELECT max(version) FROM nodes)
            """
        return HLCTimestamp(rawValue: UInt64(bitPattern: try connection.scalarInt(sql) ?? 0))
    }

    /// Everything live that routing reads, in one read transaction so the parts agree.
    package func configSnapshot() throws(StoreError) -> ConfigSnapshot {
        try connection.transaction(immediate: false) { () throws(StoreError) -> ConfigSnapshot in
            ConfigSnapshot(version: try configVersion(), revision: revision, zones: try zones(), services: try services(),
                           clusters: try allClusters(), canaries: try canaries(), nodes: try nodes())
        }
    }

    /// Runs one write: ticks the clock, runs `body` in a BEGIN IMMEDIATE transaction with the new
    /// version, and after the commit publishes the version on `changes` if any row changed.
    ///
    /// The tick happens even when the write is then rejected; a skipped timestamp is harmless,
    /// and the stored config version does not move.
    func write<T>(_ body: (HLCTimestamp) throws(StoreError) -> T) throws(StoreError) -> T {
        let before = connection.totalChanges
        let version = hlc.tick(wallMilliseconds: clock.wallMilliseconds)
        let result = try connection.transaction { () throws(StoreError) -> T in try body(version) }
        if connection.totalChanges != before {
            revision += 1
            continuation.yield(version)
        }
        return result
    }

    /// Appends one audit entry. A put whose content equals the live row it replaces still gets a
    /// new version (it is a write, and gossip may need to re-send it), but no audit entry: the
    /// log records changes, and a GitOps `apply` re-putting everything would otherwise drown it.
    func audit<R: ReplicatedRecord>(_ context: WriteContext, action: String, entity: String, key: String,
                                    old: R?, new: R?) throws(StoreError) {
        if action == "put", let old, let new, old.hasSameContent(as: new) { return }
        try connection.run(
            "INSERT INTO audit (at_ms, actor, source, action, entity, key, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [.integer(clock.wallMilliseconds), .text(context.actor), .text(context.source), .text(action), .text(entity), .text(key),
             try old.map { value throws(StoreError) in .text(try JSONText.encode(value)) } ?? .null,
             try new.map { value throws(StoreError) in .text(try JSONText.encode(value)) } ?? .null])
    }

    /// `record.validated()`, with the problem as a `StoreError` of kind `.invalid`.
    func validate<R: ReplicatedRecord>(_ record: R) throws(StoreError) -> R {
        do {
            return try record.validated()
        } catch {
            throw StoreError(error)
        }
    }
}

extension HLCTimestamp {
    /// The version as a SQLite INTEGER (the bit pattern; 48-bit ms keep it positive until 6429).
    var sqlValue: SQLValue { .integer(Int64(bitPattern: rawValue)) }

    init(sqlValue: Int64) { self.init(rawValue: UInt64(bitPattern: sqlValue)) }
}

extension Store {
    /// Reads a pragma on the store's own connection (`synchronous` is per connection), for
    /// tests and diagnostics.
    func pragma(_ name: String) throws(StoreError) -> String? {
        try connection.scalarText("PRAGMA " + name)
    }
}
