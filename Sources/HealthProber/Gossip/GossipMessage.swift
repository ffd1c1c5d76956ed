package import GLBCore

/// The kind of one message inside a gossip packet.
///
/// Append only; values are on the wire.
package enum GossipMessageType: UInt8, Sendable, CaseIterable {
    case ping = 1
    case ack = 2
    case pingRequest = 3
    case nack = 4
    case alive = 5
    case suspect = 6
    case dead = 7
    case leave = 8
    case user = 9
    case sync = 10
}

/// A member's identity at one incarnation: the body of an `alive` message, and one entry of a
/// state sync (memberlist's `alive` and `pushNodeState`).
package struct MemberFacts: Hashable, Sendable {
    package var name: String
    package var region: String
    package var address: SocketAddress
    package var incarnation: UInt32
    package var metadata: [UInt8]

    package init(name: String, region: String, address: SocketAddress, incarnation: UInt32, metadata: [UInt8]) {
        self.name = name
        self.region = region
        self.address = address
        self.incarnation = incarnation
        self.metadata = metadata
    }
}

/// An opaque keyed blob spread by gossip for the agent (health observations, config deltas).
///
/// `version` is a Lamport clock of the cluster's user payloads (Lamport 1978), never wall time:
/// a node keeps, per key, the payload with the highest `(version, origin)` and drops the rest as
/// duplicates or stale, so retransmits and reordered packets deliver each value at most once.
package struct UserPayload: Hashable, Sendable {
    package var key: String
    package var origin: String
    package var version: UInt64
    package var payload: [UInt8]

    package init(key: String, origin: String, version: UInt64, payload: [UInt8]) {
        self.key = key
        self.origin = origin
        self.version = version
        self.payload = payload
    }

    /// Whether this value supersedes one stamped `(version, origin)`.
    func isNewer(thanVersion version: UInt64, origin: String) -> Bool {
        self.version != version ? self.version > version : self.origin > origin
    }
}

/// One entry of a state sync: what the sender believes about one member.
package struct SyncEntry: Hashable, Sendable {
    package var facts: MemberFacts
    package var status: MemberStatus

    package init(facts: MemberFacts, status: MemberStatus) {
        self.facts = facts
        self.status = status
    }
}

/// Every message the SWIM layer speaks (Das et al. 2002 §3-4; memberlist `net.go`).
///
/// Failure detection: `ping`, `ack`, `pingRequest` (SWIM's ping-req: "probe this target for me"),
/// and `nack`, Lifeguard's negative answer from an intermediary that got no ack from the target
/// (Dadgar et al. 2018, §IV-A), which tells the prober its own health is fine. Dissemination:
/// `alive`, `suspect`, `dead` and `leave` piggy-back on every packet (SWIM §4.1), `user` carries
/// agent payloads, and `sync` is a full-state exchange for joins and anti-entropy.
package enum GossipMessage: Hashable, Sendable {
    /// `target` is the name the prober expects; a node with another name does not answer, so a
    /// restarted process on a reused address cannot vouch for the old one.
    case ping(seq: UInt32, target: String)
    case ack(seq: UInt32)
    case pingRequest(seq: UInt32, target: String, address: SocketAddress)
    case nack(seq: UInt32)
    case alive(MemberFacts)
    /// `from` is the accuser: independent accusers shorten the suspicion timeout (Lifeguard §IV-B).
    case suspect(node: String, incarnation: UInt32, from: String)
    case dead(node: String, incarnation: UInt32, from: String)
    /// A graceful goodbye: the member is `left`, not `dead`.
    case leave(node: String, incarnation: UInt32)
    case user(UserPayload)
    /// Full state; `reply` asks the receiver to answer with its own (memberlist's push-pull,
    /// done over UDP in packets within the budget).
    case sync(reply: Bool, entries: [SyncEntry])

    package var type: GossipMessageType {
        switch self {
        case .ping: .ping
        case .ack: .ack
        case .pingRequest: .pingRequest
        case .nack: .nack
        case .alive: .alive
        case .suspect: .suspect
        case .dead: .dead
        case .leave: .leave
        case .user: .user
        case .sync: .sync
        }
    }
}
