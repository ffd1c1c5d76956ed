extension Store {
    static let clusterColumns = "c.service, c.name, c.region, c.addresses, c.port, c.weight, c.priority, c.state, c.latitude, c.longitude, c.version, c.origin, c.deleted, c.countries, c.continents, c.tls, c.tls_server_name, c.tls_verify"

    static func cluster(from row: Row) throws(StoreError) -> (cluster: Cluster, deleted: Bool) {
        guard let state = Cluster.State(rawValue: row.text(7)) else {
            throw StoreError(kind: .database, message: "cluster \(row.text(0))/\(row.text(1)) has an unknown state \"\(row.text(7))\"")
        }
        var cluster = Cluster(service: row.text(0), name: row.text(1), region: row.text(2),
                              addresses: try JSONText.decode([String].self, from: row.text(3), column: "clusters.addresses"),
                              port: row.int(4), weight: row.int(5), priority: row.int(6), state: state,
                              latitude: row.double(8), longitude: row.double(9),
                              tls: row.bool(15), tlsServerName: row.optionalText(16), tlsVerify: row.bool(17),
                              version: .init(sqlValue: row.int64(10)), origin: row.text(11))
        cluster.countries = try JSONText.decode([String].self, from: row.text(13), column: "clusters.countries")
        cluster.continents = try JSONText.decode([String].self, from: row.text(14), column: "clusters.continents")
        return (cluster, row.bool(12))
    }

    /// Creates or replaces a cluster (and brings back a deleted one). Its service must be live:
    /// otherwise `.notFound` with field `service`.
    package func putCluster(_ cluster: Cluster, context: WriteContext, action: String = "put") throws(StoreError) -> WriteOutcome<Cluster> {
        var cluster = try validate(cluster)
        return try write { version throws(StoreError) -> WriteOutcome<Cluster> in
            guard try service(named: cluster.service) != nil else {
                throw StoreError(kind: .notFound, message: "service \(cluster.service) does not exist; create it before its clusters",
                                 field: "service")
            }
            let previous = try clusterRow(service: cluster.service, name: cluster.name).flatMap { $0.deleted ? nil : $0.cluster }
            cluster.version = version
            cluster.origin = nodeID
            try connection.run(
                """
                INSERT INTO clusters (service, name, region, addresses, port, weight, priority, state, latitude, longitude,
                    version, origin, deleted, tls, tls_server_name, tls_verify)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
                ON CONFLICT (service, name) DO UPDATE SET region = excluded.region, addresses = excluded.addresses,
                    port = excluded.port, weight = excluded.weight, priority = excluded.priority, state = excluded.state,
                    latitude = excluded.latitude, longitude = excluded.longitude, tls = excluded.tls,
                    tls_server_name = excluded.tls_server_name, tls_verify = excluded.tls_verify,
                    version = excluded.version, origin = excluded.origin, deleted = 0
                """,
                [.text(cluster.service), .text(cluster.name), .text(cluster.region), .text(try JSONText.encode(cluster.addresses)),
                 .integer(Int64(cluster.port)), .integer(Int64(cluster.weight)), .integer(Int64(cluster.priority)),
                 .text(cluster.state.rawValue), cluster.latitude.map { .real($0) } ?? .null,
                 cluster.longitude.map { .real($0) } ?? .null, version.sqlValue, .text(nodeID),
                 .integer(cluster.tls ? 1 : 0), cluster.tlsServerName.map { .text($0) } ?? .null, .integer(cluster.tlsVerify ? 1 : 0)])
            try writeGeoLists(cluster)
            try audit(context, action: action, entity: "cluster", key: cluster.key, old: previous, new: cluster)
            return WriteOutcome(record: cluster, created: previous == nil, previous: previous)
        }
    }

    /// Stores the geo lists beside the row just written (migration 5's columns), in the same
    /// transaction: a separate statement so the main upsert stays as other columns grow.
    func writeGeoLists(_ cluster: Cluster) throws(StoreError) {
        try connection.run("UPDATE clusters SET countries = ?, continents = ? WHERE service = ? AND name = ?",
                           [.text(try JSONText.encode(cluster.countries)), .text(try JSONText.encode(cluster.continents)),
                            .text(cluster.service), .text(cluster.name)])
    }

    /// The live cluster `name` of `service`, or nil.
    package func cluster(service: String, name: String) throws(StoreError) -> Cluster? {
        try clusterRow(service: service, name: name).flatMap { $0.deleted ? nil : $0.cluster }
    }

    /// The live clusters of `service`, by name.
    package func clusters(service: String) throws(StoreError) -> [Cluster] {
        try connection.query("SELECT \(Store.clusterColumns) FROM clusters c WHERE c.service = ? AND c.deleted = 0 ORDER BY c.name",
                             [.text(service)]) { row throws(StoreError) in
            try Store.cluster(from: row).cluster
        }
    }

    /// Every live cluster of every live service, by service then name.
    package func allClusters() throws(StoreError) -> [Cluster] {
        try connection.query(
            """
            SELECT \(Store.clusterColumns) FROM clusters c JOIN services s ON s.name = c.service AND s.deleted = 0
            WHERE c.deleted = 0 ORDER BY c.service, c.name
            """) { row throws(StoreError) in
            try Store.cluster(from: row).cluster
        }
    }

    /// Deletes (tombstones) a cluster and returns it as it was; nil when there is none. Throws
    /// `.conflict` while it is the service's canary: clear or move the canary first.
    package func deleteCluster(service: String, name: String, context: WriteContext) throws(StoreError) -> Cluster? {
        try write { version throws(StoreError) -> Cluster? in
            guard let previous = try clusterRow(service: service, name: name), !previous.deleted else { return nil }
            if let canary = try canary(service: service), canary.cluster == name {
                throw StoreError(kind: .conflict,
                                 message: "cluster \(previous.cluster.key) is the canary of \(service) (\(canary.percent)%); clear the canary first")
            }
            try connection.run("UPDATE clusters SET deleted = 1, version = ?, origin = ? WHERE service = ? AND name = ?",
                               [version.sqlValue, .text(nodeID), .text(service), .text(name)])
            try audit(context, action: "delete", entity: "cluster", key: previous.cluster.key, old: previous.cluster, new: nil)
            return previous.cluster
        }
    }

    /// The row for (`service`, `name`), tombstone or not.
    func clusterRow(service: String, name: String) throws(StoreError) -> (cluster: Cluster, deleted: Bool)? {
        try connection.query("SELECT \(Store.clusterColumns) FROM clusters c WHERE c.service = ? AND c.name = ?",
                             [.text(service), .text(name)]) { row throws(StoreError) in
            try Store.cluster(from: row)
        }.first
    }
}
