extension Store {
    /// The newest audit entries first, at most `limit` (clamped to 1...10000), optionally only
    /// for one `entity` (`cluster`) and one `key` (`www/eu`).
    package func auditLog(limit: Int = 100, entity: String? = nil, key: String? = nil) throws(StoreError) -> [AuditEntry] {
        try connection.query(
            """
            SELECT id, at_ms, actor, source, action, entity, key, old_value, new_value FROM audit
            WHERE (?1 IS NULL OR entity = ?1) AND (?2 IS NULL OR key = ?2) ORDER BY id DESC LIMIT ?3
            """,
            [entity.map { .text($0) } ?? .null, key.map { .text($0) } ?? .null, .integer(Int64(min(max(limit, 1), 10_000)))]
        ) { row in
            AuditEntry(id: row.int64(0), atMS: row.int64(1), actor: row.text(2), source: row.text(3), action: row.text(4),
                       entity: row.text(5), key: row.text(6), oldValue: row.optionalText(7), newValue: row.optionalText(8))
        }
    }
}
