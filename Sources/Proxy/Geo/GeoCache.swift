/// Decoded locations by database record, per event loop: a direct-mapped table of 256 entries.
/// Reading country, continent and coordinates in place costs about a microsecond for a City
/// record (its names maps are skipped byte by byte; scripts/profile/geo.sh), while the records a
/// loop sees repeat: one per network, and clients cluster behind few resolvers. A hit costs one
/// multiply and one compare. Not shared between loops, so no lock; tagged with the database it
/// came from, so a reload cannot serve stale entries (the old database stays mapped until this
/// loop's next geo query, which releases it).
package struct GeoCache {
    private struct Entry {
        var record = -1
        var location = GeoLocation()
    }

    private var entries: [Entry] = []
    /// Held strongly and compared by identity: an ObjectIdentifier alone could be reused by a
    /// new database allocated where a released one was, and serve its offsets against the wrong file.
    private var database: GeoDatabase?

    /// An empty cache; its table is allocated by the first lookup (a loop's warm-up).
    package init() {}

    /// The location of `record` in `database`, decoded on a miss.
    @inline(__always)
    package mutating func location(of record: Int, in database: GeoDatabase) throws(MMDBError) -> GeoLocation {
        if database !== self.database || entries.isEmpty {
            if entries.isEmpty { entries = [Entry](repeating: Entry(), count: 256) } else { reset() }
            self.database = database
        }
        let slot = Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: record) &* 0x9E37_79B9_7F4A_7C15) >> 56)
        if entries[slot].record == record { return entries[slot].location }
        let location = try database.location(at: record)
        entries[slot] = Entry(record: record, location: location)
        return location
    }

    private mutating func reset() {
        var k = 0
        while k < entries.count { entries[k].record = -1; k += 1 }
    }
}
