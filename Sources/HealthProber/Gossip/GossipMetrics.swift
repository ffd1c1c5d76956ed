package import GLBCore

/// The gossip SLIs (docs/architecture.md "Interfaces": gossip members and suspicion events):
/// - `glb_gossip_members{status}`: members by status in this node's view, itself included.
/// - `glb_gossip_suspicions_total`: suspicions this node started or accepted.
/// - `glb_gossip_tcp_rescues_total`: failed UDP probes rescued by a TCP connect.
/// - `glb_gossip_packets_sent_total`, `glb_gossip_packets_received_total`.
/// - `glb_gossip_dropped_packets_total{reason}`: `too_short`, `version`, `unknown_key`, `auth`
///   (see `CipherError`), `plaintext` (unsealed on an encrypted cluster, or the reverse),
///   `malformed` (failed to decode), `send_failed`.
package final class GossipMetrics: Sendable {
    private let registry: MetricsRegistry
    private let members: [MemberStatus: Gauge]
    package let suspicions: Counter
    /// Probes UDP lost but a TCP connect to the member rescued (no suspicion).
    package let tcpRescues: Counter
    package let sent: Counter
    package let received: Counter

    package init(registry: MetricsRegistry) {
        self.registry = registry
        var members: [MemberStatus: Gauge] = [:]
        for status in MemberStatus.allCases {
            members[status] = registry.gauge("glb_gossip_members", help: "Gossip members by status in this node's view.",
                                             labels: ["status": status.description])
        }
        self.members = members
        suspicions = registry.counter("glb_gossip_suspicions_total", help: "Members this node started to suspect.")
        tcpRescues = registry.counter("glb_gossip_tcp_rescues_total",
                                      help: "Probes whose UDP packets were lost but whose member accepted a TCP connect, so it was not suspected.")
        sent = registry.counter("glb_gossip_packets_sent_total", help: "Gossip datagrams sent.")
        received = registry.counter("glb_gossip_packets_received_total", help: "Gossip datagrams received, dropped ones included.")
        for reason in ["too_short", "version", "unknown_key", "auth", "plaintext", "malformed", "send_failed"] { _ = dropCounter(reason) }
    }

    package func dropped(_ reason: String) { dropCounter(reason).increment() }

    /// How many packets were dropped for `reason` so far.
    package func droppedCount(_ reason: String) -> UInt64 { dropCounter(reason).current }

    package func setMembers(_ view: [GossipMember]) {
        var counts: [MemberStatus: Int] = [:]
        for member in view { counts[member.status, default: 0] += 1 }
        for (status, gauge) in members { gauge.set(Double(counts[status] ?? 0)) }
    }

    private func dropCounter(_ reason: String) -> Counter {
        registry.counter("glb_gossip_dropped_packets_total", help: "Gossip datagrams dropped, by reason.", labels: ["reason": reason])
    }
}
