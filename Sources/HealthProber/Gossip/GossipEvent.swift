package import GLBCore

/// What a `GossipNode` tells its owner, drained with `takeEvents()`.
package enum GossipEvent: Hashable, Sendable {
    /// A member's status or facts changed in this node's view.
    case member(MemberEvent)
    /// A user payload this node had not seen (or a newer value for its key).
    case user(UserPayload)
}

package struct MemberEvent: Hashable, Sendable {
    package enum Kind: String, Hashable, Sendable {
        /// First seen, or back after being dead or left.
        case joined
        /// Alive again after a suspicion (it refuted).
        case recovered
        /// Metadata, region or address changed at a higher incarnation.
        case updated
        case suspected
        /// Declared dead: its suspicion timed out, or another member said so.
        case failed
        case left
        /// Forgotten, `reapAfter` after it failed or left.
        case reaped
    }

    package var kind: Kind
    package var member: GossipMember

    package init(kind: Kind, member: GossipMember) {
        self.kind = kind
        self.member = member
    }
}

/// One datagram the owner must send.
package struct Outbound: Hashable, Sendable {
    package var to: SocketAddress
    package var bytes: [UInt8]

    package init(to: SocketAddress, bytes: [UInt8]) {
        self.to = to
        self.bytes = bytes
    }
}
