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

extension Store {
    /// What `promoteCanary` did: the cluster that now takes the service's traffic, and the
    /// clusters it set to draining.
    package struct Promotion: Sendable, Equatable {
        package var canary: CanarySplit
        package var drained: [String]
    }

    /// Promotes a service's canary in one transaction: the split is removed and every other
    /// active cluster becomes `draining`, so it gets no new answers while the promoted cluster is
    /// healthy but still serves as a fallback (fail-open) until the operator removes it. Each row
    /// it changes is audited. `.notFound` when the service has no canary.
    package func promoteCanary(service: String, context: WriteContext) throws(StoreError) -> Promotion {
        try write { version throws(StoreError) -> Promotion in
            guard let split = try canary(service: service) else {
                throw StoreError(kind: .notFound, message: "service \(service) has no canary to promote", field: "service")
            }
            try connection.run("UPDATE canaries SET deleted = 1, version = ?, origin = ? WHERE service = ?",
                               [version.sqlValue, .text(nodeID), .text(service)])
            try audit(context, action: "delete", entity: "canary", key: service, old: split, new: nil)
            var drained: [String] = []
            for var cluster in try clusters(service: service) where cluster.name != split.cluster && cluster.state == .active {
                let previous = cluster
                cluster.state = .draining
                cluster.version = version
                cluster.origin = nodeID
                try connection.run("UPDATE clusters SET state = 'draining', version = ?, origin = ? WHERE service = ? AND name = ?",
                                   [version.sqlValue, .text(nodeID), .text(service), .text(cluster.name)])
                try audit(context, action: "put", entity: "cluster", key: cluster.key, old: previous, new: cluster)
                drained.append(cluster.name)
            }
            return Promotion(canary: split, drained: drained)
        }
    }
}
