package import GLBCore

/// Tombstone collection: a delete leaves a row with `deleted = 1` so gossip can
/// spread it; once every node has certainly seen it, the row is only weight.
///
/// The grace period is the same bargain as Cassandra's `gc_grace_seconds`: a node that was away
/// longer than the grace may still hold the live row and bring it back by replication. Nodes away
/// that long should rejoin with an empty data directory (they catch up by digest).
extension Store {
    /// Removes tombstones whose version is older than `cutoff` and returns how many went, in one
    /// transaction. A tombstone that live or newer rows still reference (a deleted service whose
    /// cluster rows remain) stays until they go, so foreign keys always hold. Not audited: nothing
    /// visible changes, the audit log already holds the delete.
    package func collectTombstones(olderThan cutoff: HLCTimestamp) throws(StoreError) -> Int {
        let bound = [cutoff.sqlValue]
        return try connection.transaction { () throws(StoreError) -> Int in
            let before = connection.totalChanges
            // Children first, so a parent's last reference may go in the same pass.
            try connection.run("DELETE FROM canaries WHERE deleted = 1 AND version < ?", bound)
            try connection.run("""
                DELETE FROM clusters WHERE deleted = 1 AND version < ?
                AND NOT EXISTS (SELECT 1 FROM canaries k WHERE k.service = clusters.service AND k.cluster = clusters.name)
                """, bound)
            try connection.run("""
                DELETE FROM services WHERE deleted = 1 AND version < ?
                AND NOT EXISTS (SELECT 1 FROM clusters c WHERE c.service = services.name)
                AND NOT EXISTS (SELECT 1 FROM canaries k WHERE k.service = services.name)
                """, bound)
            try connection.run("""
                DELETE FROM zones WHERE deleted = 1 AND version < ?
                AND NOT EXISTS (SELECT 1 FROM services s WHERE s.zone = zones.name)
                """, bound)
            return Int(connection.totalChanges - before)
        }
    }
}
