extension Store {
    static let serviceColumns = "name, zone, policy, ttl, mode, fail_closed, answers, health_check, version, origin, deleted"

    static func service(from row: Row) throws(StoreError) -> (service: Service, deleted: Bool) {
        guard let policy = RoutingPolicy(rawValue: row.text(2)), let mode = ServiceMode(rawValue: row.text(4)) else {
            throw StoreError(kind: .database, message: "service \(row.text(0)) has an unknown policy \"\(row.text(2))\" or mode \"\(row.text(4))\"")
        }
        let service = Service(name: row.text(0), zone: row.text(1), policy: policy, ttl: row.int(3), mode: mode,
                              failClosed: row.bool(5), answers: row.int(6),
                              check: try JSONText.decode(HealthCheck.self, from: row.text(7), column: "services.health_check"),
                              version: .init(sqlValue: row.int64(8)), origin: row.text(9))
        return (service, row.bool(10))
    }

    /// Creates or replaces a service (and brings back a deleted one). Its zone must be live:
    /// otherwise `.notFound` with field `zone` (a record it depends on, as for a cluster's service).
    package func putService(_ service: Service, context: WriteContext, action: String = "put") throws(StoreError) -> WriteOutcome<Service> {
        var service = try validate(service)
        return try write { version throws(StoreError) -> WriteOutcome<Service> in
            guard try zone(named: service.zone) != nil else {
                throw StoreError(kind: .notFound, message: "zone \(service.zone) does not exist; create it first (PUT /v1/zones/\(service.zone))",
                                 field: "zone")
            }
            let previous = try serviceRow(named: service.name).flatMap { $0.deleted ? nil : $0.service }
            service.version = version
            service.origin = nodeID
            try connection.run(
                """
                INSERT INTO services (name, zone, policy, ttl, mode, fail_closed, answers, health_check, version, origin, deleted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                ON CONFLICT (name) DO UPDATE SET zone = excluded.zone, policy = excluded.policy, ttl = excluded.ttl,
                    mode = excluded.mode, fail_closed = excluded.fail_closed, answers = excluded.answers,
                    health_check = excluded.health_check, version = excluded.version, origin = excluded.origin, deleted = 0
                """,
                [.text(service.name), .text(service.zone), .text(service.policy.rawValue), .integer(Int64(service.ttl)),
                 .text(service.mode.rawValue), .integer(service.failClosed ? 1 : 0), .integer(Int64(service.answers)),
                 .text(try JSONText.encode(service.check)), version.sqlValue, .text(nodeID)])
            try audit(context, action: action, entity: "service", key: service.name, old: previous, new: service)
            return WriteOutcome(record: service, created: previous == nil, previous: previous)
        }
    }

    /// The live service called `name`, or nil.
    package func service(named name: String) throws(StoreError) -> Service? {
        try serviceRow(named: name).flatMap { $0.deleted ? nil : $0.service }
    }

    /// Every live service, by name; only those in `zone` when it is given.
    package func services(zone: String? = nil) throws(StoreError) -> [Service] {
        try connection.query("SELECT \(Store.serviceColumns) FROM services WHERE deleted = 0 AND (?1 IS NULL OR zone = ?1) ORDER BY name",
                             [zone.map { .text($0) } ?? .null]) { row throws(StoreError) in
            try Store.service(from: row).service
        }
    }

    /// Deletes (tombstones) a service together with its clusters and canary, in one transaction,
    /// with an audit entry for each. Returns the service as it was; nil when there is none.
    package func deleteService(named name: String, context: WriteContext) throws(StoreError) -> Service? {
        try write { version throws(StoreError) -> Service? in
            guard let previous = try serviceRow(named: name), !previous.deleted else { return nil }
            if let canary = try canary(service: name) {
                try connection.run("UPDATE canaries SET deleted = 1, version = ?, origin = ? WHERE service = ?",
                                   [version.sqlValue, .text(nodeID), .text(name)])
                try audit(context, action: "delete", entity: "canary", key: name, old: canary, new: nil)
            }
            for cluster in try clusters(service: name) {
                try connection.run("UPDATE clusters SET deleted = 1, version = ?, origin = ? WHERE service = ? AND name = ?",
                                   [version.sqlValue, .text(nodeID), .text(name), .text(cluster.name)])
                try audit(context, action: "delete", entity: "cluster", key: cluster.key, old: cluster, new: nil)
            }
            try connection.run("UPDATE services SET deleted = 1, version = ?, origin = ? WHERE name = ?",
                               [version.sqlValue, .text(nodeID), .text(name)])
            try audit(context, action: "delete", entity: "service", key: name, old: previous.service, new: nil)
            return previous.service
        }
    }

    /// The row for `name`, tombstone or not.
    func serviceRow(named name: String) throws(StoreError) -> (service: Service, deleted: Bool)? {
        try connection.query("SELECT \(Store.serviceColumns) FROM services WHERE name = ?", [.text(name)]) { row throws(StoreError) in
            try Store.service(from: row)
        }.first
    }
}
