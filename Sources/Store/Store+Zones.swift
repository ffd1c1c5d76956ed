package import GLBCore

extension Store {
    static let zoneColumns = "name, ttl, negative_ttl, nameservers, hostmaster, version, origin, deleted, glue"

    static func zone(from row: Row) throws(StoreError) -> (zone: Zone, deleted: Bool) {
        let zone = Zone(name: row.text(0), ttl: row.int(1), negativeTTL: row.int(2),
                        nameservers: try JSONText.decode([String].self, from: row.text(3), column: "zones.nameservers"),
                        hostmaster: row.text(4),
                        glue: try JSONText.decode([String: [String]].self, from: row.text(8), column: "zones.glue"),
                        version: .init(sqlValue: row.int64(5)), origin: row.text(6))
        return (zone, row.bool(7))
    }

    /// Creates or replaces a zone (and brings back a deleted one).
    package func putZone(_ zone: Zone, context: WriteContext, action: String = "put") throws(StoreError) -> WriteOutcome<Zone> {
        var zone = try validate(zone)
        return try write { version throws(StoreError) -> WriteOutcome<Zone> in
            let previous = try zoneRow(named: zone.name).flatMap { $0.deleted ? nil : $0.zone }
            zone.version = version
            zone.origin = nodeID
            try connection.run(
                """
                INSERT INTO zones (name, ttl, negative_ttl, nameservers, hostmaster, version, origin, deleted, glue)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
                ON CONFLICT (name) DO UPDATE SET ttl = excluded.ttl, negative_ttl = excluded.negative_ttl,
                    nameservers = excluded.nameservers, hostmaster = excluded.hostmaster, glue = excluded.glue,
                    version = excluded.version, origin = excluded.origin, deleted = 0
                """,
                [.text(zone.name), .integer(Int64(zone.ttl)), .integer(Int64(zone.negativeTTL)),
                 .text(try JSONText.encode(zone.nameservers)), .text(zone.hostmaster), version.sqlValue, .text(nodeID),
                 .text(try JSONText.encode(zone.glue))])
            try audit(context, action: action, entity: "zone", key: zone.name, old: previous, new: zone)
            return WriteOutcome(record: zone, created: previous == nil, previous: previous)
        }
    }

    /// The live zone called `name`, or nil.
    package func zone(named name: String) throws(StoreError) -> Zone? {
        try zoneRow(named: name).flatMap { $0.deleted ? nil : $0.zone }
    }

    /// Every live zone, by name.
    package func zones() throws(StoreError) -> [Zone] {
        try connection.query("SELECT \(Store.zoneColumns) FROM zones WHERE deleted = 0 ORDER BY name") { row throws(StoreError) in
            try Store.zone(from: row).zone
        }
    }

    /// Deletes (tombstones) a zone and returns it as it was; nil when there is no live zone of
    /// that name. Throws `.conflict` while live services use the zone.
    package func deleteZone(named name: String, context: WriteContext) throws(StoreError) -> Zone? {
        try write { version throws(StoreError) -> Zone? in
            guard let previous = try zoneRow(named: name), !previous.deleted else { return nil }
            let users = try connection.query("SELECT name FROM services WHERE zone = ? AND deleted = 0 ORDER BY name LIMIT 6",
                                             [.text(name)]) { row in row.text(0) }
            guard users.isEmpty else {
                let list = users.prefix(5).joined(separator: ", ") + (users.count > 5 ? ", ..." : "")
                throw StoreError(kind: .conflict, message: "zone \(name) is still used by services \(list); delete them first")
            }
            try connection.run("UPDATE zones SET deleted = 1, version = ?, origin = ? WHERE name = ?",
                               [version.sqlValue, .text(nodeID), .text(name)])
            try audit(context, action: "delete", entity: "zone", key: name, old: previous.zone, new: nil)
            return previous.zone
        }
    }

    /// The row for `name`, tombstone or not.
    func zoneRow(named name: String) throws(StoreError) -> (zone: Zone, deleted: Bool)? {
        try connection.query("SELECT \(Store.zoneColumns) FROM zones WHERE name = ?", [.text(name)]) { row throws(StoreError) in
            try Store.zone(from: row)
        }.first
    }
}

extension Store {
    /// The version of a zone a node creates on its own from `--zone`: below any real write, so
    /// a zone row written by an operator on any node (and replicated) always wins over it, and a
    /// node that joins later does not reset the zone's settings cluster-wide with its defaults.
    package static let seedVersion = HLCTimestamp(wallMilliseconds: 0, logical: 1)

    /// Creates `zone` at `seedVersion` unless a row for it exists (live or tombstone); returns
    /// whether it did.
    package func seedZone(_ zone: Zone, context: WriteContext) throws(StoreError) -> Bool {
        var zone = try validate(zone)
        zone.version = Store.seedVersion
        zone.origin = nodeID
        guard try zoneRow(named: zone.name) == nil else { return false }
        let seeded = zone
        _ = try apply(remote: [.zone(seeded, deleted: false)])
        try connection.run("UPDATE audit SET actor = ?, source = ? WHERE id = (SELECT max(id) FROM audit)",
                           [.text(context.actor), .text(context.source)])
        return true
    }
}
