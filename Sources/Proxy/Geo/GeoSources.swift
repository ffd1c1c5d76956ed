import GLBCore

/// Where client locations come from: the operator's CIDR map first (an override), then the
/// MaxMind database. Immutable and shared: it rides in the `RoutingSnapshot`, so a reload is a
/// new snapshot and every loop switches databases at its next tick, without a lock
/// (docs/architecture.md "Data flow"; the old database is unmapped when the last snapshot holding it goes).
package final class GeoSources: Sendable {
    /// The MaxMind database, if one is loaded.
    package let database: GeoDatabase?
    /// The operator's CIDR map, if one is loaded.
    package let cidrMap: CIDRMap?

    /// No sources: every client's location is unknown and geo routing uses its default set.
    package static let none = GeoSources(database: nil, cidrMap: nil)

    /// Sources from what is loaded.
    package init(database: GeoDatabase?, cidrMap: CIDRMap?) {
        self.database = database
        self.cidrMap = cidrMap
    }

    /// Locates `key`'s origin (the ECS subnet as sent, else the client's own address).
    ///
    /// The scope is how many leading bits of the origin the answer depended on, for the ECS
    /// response (RFC 7871 §7.2.1: "the leftmost number of significant bits of ADDRESS that the
    /// response covers"). The CIDR map's longest prefix covers every entry that could match; the
    /// database's is the depth at which its tree walk ended. It may exceed the source prefix,
    /// which tells the resolver that its prefix was not specific enough (§7.2.1 again).
    /// Allocation-free.
    @inline(__always)
    package func locate(_ key: ClientKey) -> ClientLocation {
        var cache = GeoCache()
        return locate(key, cache: &cache)
    }

    /// `locate`, decoding database records through a loop's `cache`.
    @inline(__always)
    package func locate(_ key: ClientKey, cache: inout GeoCache) -> ClientLocation {
        var result = ClientLocation()
        let address = key.origin
        if let cidrMap {
            result.scope = address.isIPv4 ? cidrMap.longestV4 : cidrMap.longestV6
            if let index = cidrMap.lookup(address) {
                let entry = cidrMap.entries[index]
                result.source = .cidrMap
                result.entry = Int32(index)
                result.location.country = entry.country
                result.location.continent = entry.continent
                result.location.latitude = entry.latitude
                result.location.longitude = entry.longitude
                result.location.region = Int32(index)
                return result
            }
        }
        if let database {
            let (record, depth) = database.lookup(address)
            result.scope = max(result.scope, depth)
            if let record {
                do throws(MMDBError) {
                    result.location = try cache.location(of: record, in: database)
                    result.source = .database
                    result.record = record
                } catch {
                    result.source = .corruptRecord
                }
            }
        }
        return result
    }

    /// The CIDR map region of `location`, or nil.
    @inline(__always)
    package func region(of location: GeoLocation) -> String? {
        guard location.region >= 0, let cidrMap else { return nil }
        let region = cidrMap.entries[Int(location.region)].region
        return region.isEmpty ? nil : region
    }
}

/// Where one client was found, and how.
package struct ClientLocation: Sendable, Hashable {
    /// Which source answered. Append only (shown in `explain`).
    package enum Source: Sendable, Hashable {
        /// Neither source knows the address.
        case unknown
        /// The operator's CIDR map.
        case cidrMap
        /// The MaxMind database.
        case database
        /// The database has a record for the address, but it could not be decoded.
        case corruptRecord
    }

    /// Which source answered.
    package var source = Source.unknown
    /// What it said.
    package var location = GeoLocation()
    /// The ECS scope the lookup supports (see `GeoSources.locate`).
    package var scope: UInt8 = 0
    /// The CIDR map entry index, or -1.
    package var entry: Int32 = -1
    /// The database record offset, or -1.
    package var record = -1

    /// Not located.
    package init() {}
}
