extension Store {
    /// How many health events a node keeps; older ones are pruned as new ones arrive.
    static let healthEventLimit: Int64 = 10_000

    /// Appends a health transition to the event history. Not a config write: it does not move
    /// the config version or wake `changes`, and it is not audited.
    package func recordHealthEvent(_ event: HealthEvent) throws(StoreError) {
        try connection.transaction { () throws(StoreError) in
            try connection.run(
                "INSERT INTO health_events (at_ms, node, target, from_status, to_status, reason, rtt_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.integer(event.atMS), .text(event.node), .text(event.target), .text(event.from), .text(event.to), .text(event.reason),
                 event.rttMicroseconds.map { .integer($0) } ?? .null])
            try connection.run("DELETE FROM health_events WHERE id <= (SELECT MAX(id) FROM health_events) - ?",
                               [.integer(Store.healthEventLimit)])
        }
    }

    /// The newest health events first, at most `limit` (1...10000), optionally for one target.
    package func healthEvents(limit: Int = 100, target: String? = nil) throws(StoreError) -> [HealthEvent] {
        try connection.query(
            """
            SELECT id, at_ms, node, target, from_status, to_status, reason, rtt_us FROM health_events
            WHERE (?1 IS NULL OR target = ?1) ORDER BY id DESC LIMIT ?2
            """,
            [target.map { .text($0) } ?? .null, .integer(Int64(min(max(limit, 1), 10_000)))]
        ) { row in
            HealthEvent(id: row.int64(0), atMS: row.int64(1), node: row.text(2), target: row.text(3), from: row.text(4),
                        to: row.text(5), reason: row.text(6), rttMicroseconds: row.optionalInt64(7))
        }
    }
}
