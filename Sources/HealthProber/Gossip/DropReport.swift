package import GLBCore

/// Turns dropped gossip packets into log lines an operator can act on, at most one line per
/// reason every `interval` (a peer under another key sends a packet a second, forever; the
/// counter `glb_gossip_dropped_packets_total{reason}` has every one). Sans-IO: the transport
/// calls `dropped` and logs what it returns.
package struct DropReport {
    /// The lines to log, with fields.
    package struct Line: Equatable {
        package var message: String
        package var fields: [String: String]
    }

    private let interval: Duration
    private var lastLogged: [String: Instant] = [:]
    private var suppressed: [String: Int] = [:]

    package init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// A packet from `peer` was dropped for `reason`; returns a line to log, or nil while that
    /// reason was logged less than `interval` ago (the drop is then counted into the next line).
    package mutating func dropped(_ reason: String, from peer: SocketAddress, now: Instant) -> Line? {
        if let last = lastLogged[reason], now - last < interval {
            suppressed[reason, default: 0] += 1
            return nil
        }
        lastLogged[reason] = now
        var fields = ["from": "\(peer)", "reason": reason, "why": Self.explanation(reason)]
        if let count = suppressed.removeValue(forKey: reason), count > 0 { fields["more_since_last_line"] = "\(count)" }
        return Line(message: "gossip packet dropped", fields: fields)
    }

    /// What a reason means for the operator.
    package static func explanation(_ reason: String) -> String {
        switch reason {
        case "unknown_key", "auth":
            "it is sealed with a gossip key this node does not hold: give both nodes the same --gossip-key-file or GLB_GOSSIP_KEY"
        case "plaintext":
            "one side gossips without a key and the other with one: give both the same key"
        case "version":
            "it is not a GLB gossip packet, or comes from a newer GLB"
        default:
            "it is damaged or not a GLB gossip packet"
        }
    }
}
