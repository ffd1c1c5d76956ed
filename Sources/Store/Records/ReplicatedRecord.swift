package import GLBCore

/// A config row that gossip replicates: it carries the HLC version and the node that wrote it,
/// both set by the store on every write (whatever the caller passed is overwritten).
package protocol ReplicatedRecord: Sendable, Equatable, Codable {
    /// When the row was last written, on the writer's hybrid logical clock.
    var version: HLCTimestamp { get set }
    /// The node id that wrote the row.
    var origin: String { get set }
    /// The record with every rule checked and normalised values (canonical addresses), or the
    /// first problem found.
    func validated() throws(ValidationError) -> Self
}

extension ReplicatedRecord {
    /// Whether two records say the same thing, ignoring who wrote them and when.
    package func hasSameContent(as other: Self) -> Bool {
        var copy = self
        copy.version = other.version
        copy.origin = other.origin
        return copy == other
    }
}
