package import GLBCore

/// What one node believes about a member: SWIM's alive, suspect and confirmed-failed states
/// (Das et al. 2002, §4.2), plus memberlist's `StateLeft` for a member that said goodbye, so a
/// graceful leave is not reported as a failure.
///
/// Append only; values are on the wire.
package enum MemberStatus: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case alive = 0
    case suspect = 1
    case dead = 2
    case left = 3

    /// Dead or left: not probed, not counted in the cluster size, reaped after a while.
    package var isGone: Bool { self == .dead || self == .left }

    package var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }
}

/// One member of the cluster as a node sees it (`glb members` shows these fields).
package struct GossipMember: Hashable, Sendable {
    /// Unique in the cluster; at most 255 bytes of UTF-8.
    package var name: String
    package var region: String
    /// Where its gossip socket listens.
    package var address: SocketAddress
    /// Raised only by the member itself, to refute a suspicion or announce new metadata
    /// (SWIM §4.2): a higher incarnation overrides everything said about a lower one.
    package var incarnation: UInt32
    package var status: MemberStatus
    /// A small opaque blob (at most `GossipCodec.maxMetadataBytes`) the agent uses for public
    /// addresses and the config version the member serves.
    package var metadata: [UInt8]
    /// Round trip of the last successful direct probe from this node; nil until one succeeded.
    package var rtt: Duration?

    package init(name: String, region: String, address: SocketAddress, incarnation: UInt32,
                 status: MemberStatus, metadata: [UInt8] = [], rtt: Duration? = nil) {
        self.name = name
        self.region = region
        self.address = address
        self.incarnation = incarnation
        self.status = status
        self.metadata = metadata
        self.rtt = rtt
    }
}
