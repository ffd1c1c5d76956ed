/// One health transition a node saw: a cluster went up or down, when, and why. The node's event
/// history; local to the node (each node observes for itself) and pruned to the newest entries.
package struct HealthEvent: Sendable, Equatable, Codable {
    /// Increases with every event on this node; 0 before it is stored.
    package var id: Int64
    /// Wall time in ms since the epoch.
    package var atMS: Int64
    /// The node that observed it.
    package var node: String
    /// The probe target: `service/cluster`.
    package var target: String
    package var from: String
    package var to: String
    /// The last probe's result: `ok`, `timeout`, `refused`, `status 500`, ...
    package var reason: String
    /// The smoothed round-trip time at the transition, in microseconds, when known.
    package var rttMicroseconds: Int64?

    package init(id: Int64 = 0, atMS: Int64, node: String, target: String, from: String, to: String, reason: String, rttMicroseconds: Int64?) {
        self.id = id
        self.atMS = atMS
        self.node = node
        self.target = target
        self.from = from
        self.to = to
        self.reason = reason
        self.rttMicroseconds = rttMicroseconds
    }

    enum CodingKeys: String, CodingKey {
        case id, atMS = "at_ms", node, target, from, to, reason, rttMicroseconds = "rtt_us"
    }
}
