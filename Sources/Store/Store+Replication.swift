package import GLBCore

/// One replicated config row as gossip carries it: the whole record (a tombstone keeps the
/// values it had when deleted, so a node that never saw the row can still store the tombstone)
/// with its HLC version, its origin and the tombstone flag.
package enum ReplicatedRow: Sendable, Equatable, Codable {
    case zone(Zone, deleted: Bool)
    case service(Service, deleted: Bool)
    case cluster(Cluster, deleted: Bool)
    case canary(CanarySplit, deleted: Bool)

    /// `zone`, `service`, `cluster` or `canary`: the audit log's entity names.
    package var entity: String {
        switch self {
        case .zone: "zone"
        case .service: "service"
        case .cluster: "cluster"
        case .canary: "canary"
        }
    }

    /// The row's primary key as the audit log writes it: `glb.example.`, `www`, `www/eu`, `www`.
    package var key: String {
        switch self {
        case .zone(let r, _): r.name
        case .service(let r, _): r.name
        case .cluster(let r, _): r.key
        case .canary(let r, _): r.service
        }
    }

    package var version: HLCTimestamp {
        switch self {
        case .zone(let r, _): r.version
        case .service(let r, _): r.version
        case .cluster(let r, _): r.version
        case .canary(let r, _): r.version
        }
    }

    package var origin: String {
        switch self {
        case .zone(let r, _): r.origin
        case .service(let r, _): r.origin
        case .cluster(let r, _): r.origin
        case .canary(let r, _): r.origin
        }
    }

    package var deleted: Bool {
        switch self {
        case .zone(_, let d), .service(_, let d), .cluster(_, let d), .canary(_, let d): d
        }
    }

    /// Parents before children, so one batch can create a service and its clusters.
    var rank: Int {
        switch self {
        case .zone: 0
        case .service: 1
        case .cluster: 2
        case .canary: 3
        }
    }

    /// Last writer wins: the higher version, and on equal versions the greater origin (any total
    /// order works as long as every node uses the same one; two nodes never issue the same HLC
    /// version for different writes unless their clocks tie exactly).
    package func supersedes(version: HLCTimestamp, origin: String) -> Bool {
        self.version != version ? self.version > version : self.origin > origin
    }

    enum CodingKeys: String, CodingKey { case entity, deleted, record }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let deleted = try c.decode(Bool.self, forKey: .deleted)
        switch try c.decode(String.self, forKey: .entity) {
        case "zone": self = .zone(try c.decode(Zone.self, forKey: .record), deleted: deleted)
        case "service": self = .service(try c.decode(Service.self, forKey: .record), deleted: deleted)
        case "cluster": self = .cluster(try c.decode(Cluster.self, forKey: .record), deleted: deleted)
        case "canary": self = .canary(try c.decode(CanarySplit.self, forKey: .record), deleted: deleted)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .entity, in: c, debugDescription: "unknown entity \(other)")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entity, forKey: .entity)
        try c.encode(deleted, forKey: .deleted)
        switch self {
        case .zone(let r, _): try c.encode(r, forKey: .record)
        case .service(let r, _): try c.encode(r, forKey: .record)
        case .cluster(let r, _): try c.encode(r, forKey: .record)
        case .canary(let r, _): try c.encode(r, forKey: .record)
        }
    }
}

/// What `apply(remote:)` did with a batch.
package struct ReplicationOutcome: Sendable, Equatable {
    /// Rows that won last-writer-wins and were stored.
    package var applied = 0
    /// Rows that lost (older than, or the same write as, the local row).
    package var ignored = 0
    /// Rows that fail validation; never stored.
    package var invalid = 0
    /// Rows whose parent (zone, service or cluster) this store has never seen: gossip may deliver
    /// a child before its parent. The caller offers them again later.
    package var orphans: [ReplicatedRow] = []
}

/// Replication (docs/architecture.md "Gossip between nodes"): rows changed since a version go out, rows
/// from peers come in and merge last-writer-wins per row by (version, origin), tombstones
/// included, so every node that has seen the same writes holds the same rows whatever the order
/// they arrived in.
extension Store {
    /// Every replicated row (zones, services, clusters, canaries; tombstones included) with a
    /// version above `since`, oldest first, parents first among equal versions.
    package func changes(since: HLCTimestamp) throws(StoreError) -> [ReplicatedRow] {
        let bound = [since.sqlValue]
        var rows: [ReplicatedRow] = []
        rows += try connection.query("SELECT \(Store.zoneColumns) FROM zones WHERE version > ?", bound) { row throws(StoreError) in
            let (zone, deleted) = try Store.zone(from: row)
            return ReplicatedRow.zone(zone, deleted: deleted)
        }
        rows += try connection.query("SELECT \(Store.serviceColumns) FROM services WHERE version > ?", bound) { row throws(StoreError) in
            let (service, deleted) = try Store.service(from: row)
            return ReplicatedRow.service(service, deleted: deleted)
        }
        rows += try connection.query("SELECT \(Store.clusterColumns) FROM clusters c WHERE c.version > ?", bound) { row throws(StoreError) in
            let (cluster, deleted) = try Store.cluster(from: row)
            return ReplicatedRow.cluster(cluster, deleted: deleted)
        }
        rows += try connection.query("SELECT \(Store.canaryColumns) FROM canaries WHERE version > ?", bound) { row in
            let (canary, deleted) = Store.canary(from: row)
            return ReplicatedRow.canary(canary, deleted: deleted)
        }
        return rows.sorted { ($0.version, $0.rank) < ($1.version, $1.rank) }
    }

    /// The newest version this store holds from each origin: the digest a node gossips so that
    /// peers can send what it lacks (a version vector over writers; each writer's versions grow).
    package func originVersions() throws(StoreError) -> [String: HLCTimestamp] {
        let pairs = try connection.query(
            """
            SELECT origin, max(v) FROM (
                SELECT origin, max(version) AS v FROM zones GROUP BY origin
                UNION ALL SELECT origin, max(version) FROM services GROUP BY origin
                UNION ALL SELECT origin, max(version) FROM clusters GROUP BY origin
                UNION ALL SELECT origin, max(version) FROM canaries GROUP BY origin)
            GROUP BY origin
            """) { row in (row.text(0), HLCTimestamp(sqlValue: row.int64(1))) }
        return Dictionary(pairs, uniquingKeysWith: max)
    }

    /// Merges rows from peers in one transaction: each replaces the local row only when it wins
    /// last-writer-wins by (version, origin); a tombstone is a row like any other, so it beats an
    /// older put and a newer put resurrects. The clock observes every remote version, so later
    /// local writes order after them. Applied rows are audited as `node:<origin>` from `gossip`
    /// (not as a local write), and `changes` yields once if anything was stored.
    package func apply(remote rows: [ReplicatedRow]) throws(StoreError) -> ReplicationOutcome {
        guard !rows.isEmpty else { return ReplicationOutcome() }
        let highest = rows.map(\.version).max() ?? .zero
        _ = hlc.observe(highest, wallMilliseconds: clock.wallMilliseconds)
        let ordered = rows.sorted { ($0.rank, $0.version) < ($1.rank, $1.version) }
        let outcome = try connection.transaction { () throws(StoreError) -> ReplicationOutcome in
            var outcome = ReplicationOutcome()
            for row in ordered { try merge(row, into: &outcome) }
            return outcome
        }
        if outcome.applied > 0 {
            revision += 1
            continuation.yield(highest)
        }
        return outcome
    }

    private func merge(_ row: ReplicatedRow, into outcome: inout ReplicationOutcome) throws(StoreError) {
        let context = WriteContext(actor: "node:\(row.origin)", source: "gossip")
        switch row {
        case .zone(let remote, let deleted):
            guard let zone = try? remote.validated(), !remote.origin.isEmpty else { outcome.invalid += 1; return }
            let local = try zoneRow(named: zone.name)
            guard Self.wins(row, over: local.map { ($0.zone.version, $0.zone.origin) }) else { outcome.ignored += 1; return }
            try connection.run(
                """
                INSERT INTO zones (name, ttl, negative_ttl, nameservers, hostmaster, version, origin, deleted, glue)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET ttl = excluded.ttl, negative_ttl = excluded.negative_ttl,
                    nameservers = excluded.nameservers, hostmaster = excluded.hostmaster, glue = excluded.glue,
                    version = excluded.version, origin = excluded.origin, deleted = excluded.deleted
                """,
                [.text(zone.name), .integer(Int64(zone.ttl)), .integer(Int64(zone.negativeTTL)),
                 .text(try JSONText.encode(zone.nameservers)), .text(zone.hostmaster), zone.version.sqlValue, .text(zone.origin),
                 .integer(deleted ? 1 : 0), .text(try JSONText.encode(zone.glue))])
            try auditRemote(context, row, old: local.flatMap { $0.deleted ? nil : $0.zone }, new: deleted ? nil : zone)
        case .service(let remote, let deleted):
            guard let service = try? remote.validated(), !remote.origin.isEmpty else { outcome.invalid += 1; return }
            let local = try serviceRow(named: service.name)
            guard Self.wins(row, over: local.map { ($0.service.version, $0.service.origin) }) else { outcome.ignored += 1; return }
            guard try zoneRow(named: service.zone) != nil else { outcome.orphans.append(row); return }
            try connection.run(
                """
                INSERT INTO services (name, zone, policy, ttl, mode, fail_closed, answers, health_check, version, origin, deleted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET zone = excluded.zone, policy = excluded.policy, ttl = excluded.ttl,
                    mode = excluded.mode, fail_closed = excluded.fail_closed, answers = excluded.answers,
                    health_check = excluded.health_check, version = excluded.version, origin = excluded.origin,
                    deleted = excluded.deleted
                """,
                [.text(service.name), .text(service.zone), .text(service.policy.rawValue), .integer(Int64(service.ttl)),
                 .text(service.mode.rawValue), .integer(service.failClosed ? 1 : 0), .integer(Int64(service.answers)),
                 .text(try JSONText.encode(service.check)), service.version.sqlValue, .text(service.origin), .integer(deleted ? 1 : 0)])
            try auditRemote(context, row, old: local.flatMap { $0.deleted ? nil : $0.service }, new: deleted ? nil : service)
        case .cluster(let remote, let deleted):
            guard let cluster = try? remote.validated(), !remote.origin.isEmpty else { outcome.invalid += 1; return }
            let local = try clusterRow(service: cluster.service, name: cluster.name)
            guard Self.wins(row, over: local.map { ($0.cluster.version, $0.cluster.origin) }) else { outcome.ignored += 1; return }
            guard try serviceRow(named: cluster.service) != nil else { outcome.orphans.append(row); return }
            try connection.run(
                """
                INSERT INTO clusters (service, name, region, addresses, port, weight, priority, state, latitude, longitude,
                    version, origin, deleted, tls, tls_server_name, tls_verify)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (service, name) DO UPDATE SET region = excluded.region, addresses = excluded.addresses,
                    port = excluded.port, weight = excluded.weight, priority = excluded.priority, state = excluded.state,
                    latitude = excluded.latitude, longitude = excluded.longitude, tls = excluded.tls,
                    tls_server_name = excluded.tls_server_name, tls_verify = excluded.tls_verify,
                    version = excluded.version, origin = excluded.origin, deleted = excluded.deleted
                """,
                [.text(cluster.service), .text(cluster.name), .text(cluster.region), .text(try JSONText.encode(cluster.addresses)),
                 .integer(Int64(cluster.port)), .integer(Int64(cluster.weight)), .integer(Int64(cluster.priority)),
                 .text(cluster.state.rawValue), cluster.latitude.map { .real($0) } ?? .null,
                 cluster.longitude.map { .real($0) } ?? .null, cluster.version.sqlValue, .text(cluster.origin), .integer(deleted ? 1 : 0),
                 .integer(cluster.tls ? 1 : 0), cluster.tlsServerName.map { .text($0) } ?? .null, .integer(cluster.tlsVerify ? 1 : 0)])
            try writeGeoLists(cluster)
            try auditRemote(context, row, old: local.flatMap { $0.deleted ? nil : $0.cluster }, new: deleted ? nil : cluster)
        case .canary(let remote, let deleted):
            guard let canary = try? remote.validated(), !remote.origin.isEmpty else { outcome.invalid += 1; return }
            let local = try canaryRow(service: canary.service)
            guard Self.wins(row, over: local.map { ($0.canary.version, $0.canary.origin) }) else { outcome.ignored += 1; return }
            guard try clusterRow(service: canary.service, name: canary.cluster) != nil else { outcome.orphans.append(row); return }
            try connection.run(
                """
                INSERT INTO canaries (service, cluster, percent, version, origin, deleted) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (service) DO UPDATE SET cluster = excluded.cluster, percent = excluded.percent,
                    version = excluded.version, origin = excluded.origin, deleted = excluded.deleted
                """,
                [.text(canary.service), .text(canary.cluster), .real(canary.percent), canary.version.sqlValue, .text(canary.origin),
                 .integer(deleted ? 1 : 0)])
            try auditRemote(context, row, old: local.flatMap { $0.deleted ? nil : $0.canary }, new: deleted ? nil : canary)
        }
        outcome.applied += 1
    }

    static func wins(_ row: ReplicatedRow, over local: (version: HLCTimestamp, origin: String)?) -> Bool {
        guard let local else { return true }
        return row.supersedes(version: local.version, origin: local.origin)
    }

    /// A tombstone for a row that was not live here changes nothing an operator sees: no entry.
    private func auditRemote<R: ReplicatedRecord>(_ context: WriteContext, _ row: ReplicatedRow, old: R?, new: R?) throws(StoreError) {
        if old == nil, new == nil { return }
        try audit(context, action: new == nil ? "delete" : "put", entity: row.entity, key: row.key, old: old, new: new)
    }
}
