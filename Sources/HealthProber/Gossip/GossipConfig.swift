/// Tuning of the SWIM layer, with presets after memberlist's `DefaultLANConfig`,
/// `DefaultWANConfig` and `DefaultLocalConfig` (`config.go`).
///
/// Detection time is roughly "time until some member probes the failed one" + one probe
/// interval + a suspicion timeout between `suspicionMult × max(1, log10 n) × probeInterval`
/// (min) and `suspicionMaxTimeoutMult` times that (max), shrinking with confirmations.
/// GLB's regions talk over a WAN, so production uses `.wan`-like timeouts unless the nodes are
/// close; tests use `.fast`.
package struct GossipConfig: Hashable, Sendable {
    /// How often a node probes one member (SWIM's protocol period T').
    package var probeInterval: Duration
    /// How long to wait for a direct ack before asking `indirectChecks` members to probe.
    /// Must exceed the round trip between any two nodes.
    package var probeTimeout: Duration
    /// How long a helper waits for the target's ack before it nacks (Lifeguard §IV-A). The
    /// nack must reach the prober before its protocol period ends, or every failed probe counts
    /// as the prober's own fault: the ping-req leaves at `probeTimeout`, so the helper gets three
    /// quarters of what is left (`probeTimeout` itself was measured to land nacks 200 ms late with
    /// `.regions`, pushing the awareness score up on every lost packet). A late ack still
    /// travels on to the prober.
    package var nackTimeout: Duration { Swift.min(probeTimeout, (probeInterval - probeTimeout) * 3 / 4) }
    /// k in SWIM's ping-req: how many members probe on our behalf.
    package var indirectChecks: Int
    /// Retransmits per broadcast: `retransmitMult × ceil(log10(n + 1))`.
    package var retransmitMult: Int
    /// The same for user payloads (`BroadcastQueue` says why it is higher).
    package var userRetransmitMult: Int
    /// Lifeguard's minimum suspicion timeout in probe intervals, before the log10(n) scale.
    package var suspicionMult: Int
    /// Lifeguard's maximum suspicion timeout as a multiple of the minimum.
    package var suspicionMaxTimeoutMult: Int
    /// Awareness (local health) scores stay below this; 1 disables Lifeguard's LHM.
    package var awarenessMaxMultiplier: Int
    /// How often a node sends pending broadcasts to `gossipNodes` random members.
    package var gossipInterval: Duration
    package var gossipNodes: Int
    /// Dead members still receive gossip for this long, so a member that was cut off learns
    /// what was said about it and refutes when the network heals.
    package var gossipToTheDeadTime: Duration
    /// Dead and left members are forgotten this long after they were declared.
    package var reapAfter: Duration
    /// How often a node exchanges full state with one random member (anti-entropy); zero
    /// disables it.
    package var syncInterval: Duration
    /// How often a node with no live peers retries its seeds.
    package var joinRetryInterval: Duration
    /// Plaintext bytes per packet: 1400 on the wire less the cipher's 33 bytes of overhead
    /// (`PacketCipher.overhead`), under the common 1500-byte MTU with room for IP and UDP.
    package var packetBudget: Int
    /// User payloads kept for retransmission at most; the most-sent go first when over.
    package var userQueueCapacity: Int
    /// Try a TCP connect to a member that misses its UDP probe, before suspecting it
    /// (`GossipNode.ReachabilityCheck`).
    package var tcpFallback: Bool

    package init(probeInterval: Duration, probeTimeout: Duration, indirectChecks: Int, retransmitMult: Int, userRetransmitMult: Int,
                 suspicionMult: Int, suspicionMaxTimeoutMult: Int, awarenessMaxMultiplier: Int,
                 gossipInterval: Duration, gossipNodes: Int, gossipToTheDeadTime: Duration, reapAfter: Duration,
                 syncInterval: Duration, joinRetryInterval: Duration, packetBudget: Int = 1367, userQueueCapacity: Int = 1024,
                 tcpFallback: Bool = true) {
        self.tcpFallback = tcpFallback
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.indirectChecks = indirectChecks
        self.retransmitMult = retransmitMult
        self.userRetransmitMult = userRetransmitMult
        self.suspicionMult = suspicionMult
        self.suspicionMaxTimeoutMult = suspicionMaxTimeoutMult
        self.awarenessMaxMultiplier = awarenessMaxMultiplier
        self.gossipInterval = gossipInterval
        self.gossipNodes = gossipNodes
        self.gossipToTheDeadTime = gossipToTheDeadTime
        self.reapAfter = reapAfter
        self.syncInterval = syncInterval
        self.joinRetryInterval = joinRetryInterval
        self.packetBudget = packetBudget
        self.userQueueCapacity = userQueueCapacity
    }

    /// memberlist's LAN defaults: nodes in one data centre.
    package static let lan = GossipConfig(
        probeInterval: .seconds(1), probeTimeout: .milliseconds(500), indirectChecks: 3, retransmitMult: 4, userRetransmitMult: 8,
        suspicionMult: 4, suspicionMaxTimeoutMult: 6, awarenessMaxMultiplier: 8,
        gossipInterval: .milliseconds(200), gossipNodes: 3, gossipToTheDeadTime: .seconds(30), reapAfter: .seconds(30),
        syncInterval: .seconds(30), joinRetryInterval: .seconds(1))

    /// memberlist's WAN defaults: round trips of hundreds of milliseconds between regions.
    package static let wan = GossipConfig(
        probeInterval: .seconds(5), probeTimeout: .seconds(3), indirectChecks: 3, retransmitMult: 4, userRetransmitMult: 8,
        suspicionMult: 6, suspicionMaxTimeoutMult: 6, awarenessMaxMultiplier: 8,
        gossipInterval: .milliseconds(500), gossipNodes: 4, gossipToTheDeadTime: .seconds(60), reapAfter: .seconds(60),
        syncInterval: .seconds(60), joinRetryInterval: .seconds(2))

    /// memberlist's local (loopback) defaults.
    package static let local = GossipConfig(
        probeInterval: .seconds(1), probeTimeout: .milliseconds(200), indirectChecks: 1, retransmitMult: 2, userRetransmitMult: 4,
        suspicionMult: 3, suspicionMaxTimeoutMult: 6, awarenessMaxMultiplier: 8,
        gossipInterval: .milliseconds(100), gossipNodes: 3, gossipToTheDeadTime: .seconds(15), reapAfter: .seconds(15),
        syncInterval: .seconds(15), joinRetryInterval: .milliseconds(500))

    /// What `glb agent` runs with: `.lan`'s pace with a little WAN slack. Regions are a WAN, but
    /// memberlist's `.wan` (5 s probes, suspicion ×6) takes about 40 s to declare a region's node
    /// dead, and a GLB exists to fail over in seconds. Round trips between continents stay under
    /// about 300 ms, so a 600 ms probe timeout still leaves room for a direct ack; suspicion ×4
    /// as on a LAN (×5 was measured 1.5× slower than serf at detection with no fewer false
    /// alarms: none for either at 40% loss), and Lifeguard's awareness stretches every timeout on
    /// a node that finds itself slow. Detection: about 1 s to notice + 4 to 24 s of suspicion,
    /// shrinking with independent confirmations.
    package static let regions = GossipConfig(
        probeInterval: .seconds(1), probeTimeout: .milliseconds(600), indirectChecks: 3, retransmitMult: 4, userRetransmitMult: 8,
        suspicionMult: 4, suspicionMaxTimeoutMult: 6, awarenessMaxMultiplier: 8,
        gossipInterval: .milliseconds(200), gossipNodes: 3, gossipToTheDeadTime: .seconds(30), reapAfter: .seconds(60),
        syncInterval: .seconds(30), joinRetryInterval: .seconds(1))

    /// Five times faster than `.lan`, for tests on a fake network or loopback.
    package static let fast = GossipConfig(
        probeInterval: .milliseconds(200), probeTimeout: .milliseconds(100), indirectChecks: 3, retransmitMult: 4, userRetransmitMult: 8,
        suspicionMult: 4, suspicionMaxTimeoutMult: 6, awarenessMaxMultiplier: 8,
        gossipInterval: .milliseconds(50), gossipNodes: 3, gossipToTheDeadTime: .seconds(6), reapAfter: .seconds(6),
        syncInterval: .seconds(6), joinRetryInterval: .milliseconds(200))
}
