extension Store {
    static let canaryColumns = "service, cluster, percent, version, origin, deleted"

    static func canary(from row: Row) -> (canary: CanarySplit, deleted: Bool) {
        let canary = CanarySplit(service: row.text(0), cluster: row.text(1), percent: row.double(2) ?? 0,
                                 version: .init(sqlValue: row.int64(3)), origin: row.text(4))
        return (canary, row.bool(5))
    }

    /// Sets (creates or replaces) a service's canary. The service and the cluster must be live:
    /// otherwise `.notFound` with field `service` or `cluster`.
    package func setCanary(_ canary: CanarySplit, context: WriteContext) throws(StoreError) -> WriteOutcome<CanarySplit> {
        var canary = try validate(canary)
        return try write { version throws(StoreError) -> WriteOutcome<CanarySplit> in
            guard try service(named: canary.service) != nil else {
                throw StoreError(kind: .notFound, message: "service \(canary.service) does not exist", field: "service")
            }
            guard try cluster(service: canary.service, name: canary.cluster) != nil else {
                throw StoreError(kind: .notFound,
                                 message: "service \(canary.service) has no cluster \(canary.cluster); create the cluster before making it the canary",
                                 field: "cluster")
            }
            let previous = try canaryRow(service: canary.service).flatMap { $0.deleted ? nil : $0.canary }
            canary.version = version
            canary.origin = nodeID
            try connection.run(
                """
                INSERT INTO canaries (service, cluster, percent, version, origin, deleted) VALUES (?, ?, ?, ?, ?, 0)
                ON CONFLICT (service) DO UPDATE SET cluster = excluded.cluster, percent = excluded.percent,
                    version = excluded.version, origin = excluded.origin, deleted = 0
                """,
                [.text(canary.service), .text(canary.cluster), .real(canary.percent), version.sqlValue, .text(nodeID)])
            try audit(context, action: "put", entity: "canary", key: canary.service, old: previous, new: canary)
            return WriteOutcome(record: canary, created: previous == nil, previous: previous)
        }
    }

    /// The live canary of `service`, or nil.
    package func canary(service: String) throws(StoreError) -> CanarySplit? {
        try canaryRow(service: service).flatMap { $0.deleted ? nil : $0.canary }
    }

    /// Every live canary of a live service, by service.
    package func canaries() throws(StoreError) -> [CanarySplit] {
        try connection.query(
            """
            SELECT k.service, k.cluster, k.percent, k.version, k.origin, k.deleted FROM canaries k
            JOIN services s ON s.name = k.service AND s.deleted = 0 WHERE k.deleted = 0 ORDER BY k.service
            """) { row in Store.canary(from: row).canary }
    }

    /// Removes (tombstones) a service's canary and returns it as it was; nil when there is none.
    package func clearCanary(service: String, context: WriteContext) throws(StoreError) -> CanarySplit? {
        try write { version throws(StoreError) -> CanarySplit? in
            guard let previous = try canary(service: service) else { return nil }
            try connection.run("UPDATE canaries SET deleted = 1, version = ?, origin = ? WHERE service = ?",
                               [version.sqlValue, .text(nodeID), .text(service)])
            try audit(context, action: "delete", entity: "canary", key: service, old: previous, new: nil)
            return previous
        }
    }

    func canaryRow(service: String) throws(StoreError) -> (canary: CanarySplit, deleted: Bool)? {
        try connection.query("SELECT \(Store.canaryColumns) FROM canaries WHERE service = ?", [.text(service)]) { row in
            Store.canary(from: row)
        }.first
    }
}
