package import GLBCore

/// SWIM membership with Lifeguard's refinements as a sans-IO state machine (Das et al. 2002;
/// Dadgar et al. 2018; the structure follows hashicorp/memberlist `state.go`).
///
///     owner ──tick(now:)──────────────▶ ┌────────────┐ ──▶ [Outbound] (datagrams to send)
///     owner ──receive(_:from:now:)────▶ │ GossipNode │
///     owner ──join / leave / enqueueUser ▶ └────────────┘ ──▶ takeEvents(): member changes, user payloads
///
/// No sockets, no clock, no threads: time comes in as `now` (a monotonic `Instant`; wall time is
/// never read, so a node whose wall clock is off changes nothing), randomness from a seeded
/// `SplitMix64`, and packets go out as bytes. `UDPGossipTransport` drives it on an event loop;
/// tests drive many of them on a fake network with manual time (STYLE.md §9.11).
///
/// Each protocol period a node probes the next member of a shuffled round-robin order (new
/// members go in at random offsets, so each is probed within one round: SWIM §4.3). No ack within
/// `probeTimeout` → `indirectChecks` members are asked to probe it (ping-req) and to nack if they
/// cannot; no ack by the end of the period → the member is suspected. Suspicion spreads by
/// piggy-backed gossip; the suspect refutes by raising its incarnation, or is declared dead when
/// a Lifeguard timeout (`Suspicion`) runs out. `Awareness` stretches this node's timeouts when
/// its own health is in doubt.
package struct GossipNode: Sendable {
    package enum Phase: Hashable, Sendable { case running, left }

    /// Counters for metrics and tests.
    package struct Stats: Hashable, Sendable {
        package var malformedPackets = 0
        package var misdirectedPings = 0
        package var probes = 0
        package var failedProbes = 0
        package var suspicions = 0
        package var refutations = 0
        package var addressConflicts = 0
        package var duplicateUserPayloads = 0
        /// Failed UDP probes rescued by a TCP connect to the target (not suspected).
        package var tcpRescues = 0
        /// Full-state syncs sent to a member declared dead, to heal a partition.
        package var reconnects = 0
    }

    /// A TCP connect the transport should try to a member that did not answer UDP probes
    /// (memberlist's TCP fallback ping): a member whose process is up accepts it, so a lossy
    /// UDP path is not mistaken for a dead member, and this node's awareness score does not climb
    /// for what was the network's fault. Report success with `reached(seq:)` before `deadline`.
    package struct ReachabilityCheck: Hashable, Sendable {
        package let seq: UInt32
        package let address: SocketAddress
        package let deadline: Instant
    }

    struct MemberRecord: Sendable {
        var member: GossipMember
        /// When `member.status` last changed.
        var since: Instant
        var suspicion: Suspicion?
        /// While suspect: when to tell the member again that this node suspects it.
        var remindAt: Instant?
    }

    struct Probe: Sendable {
        let seq: UInt32
        let target: String
        let address: SocketAddress
        let sentAt: Instant
        let indirectAt: Instant
        let deadline: Instant
        var indirect = false
        var expectedNacks = 0
        var nacks = 0
        var reachedOverTCP = false
    }

    /// A ping this node sent for another member's ping-req.
    struct Forward: Sendable {
        let requester: SocketAddress
        let seq: UInt32
        let nackAt: Instant
        let expiresAt: Instant
        var nackSent = false
    }

    struct Timers: Sendable {
        var probe: Instant?
        var gossip: Instant?
        var sync: Instant?
        var join: Instant?
        /// The next attempt to reach a member that failed (see `reconnect`).
        var reconnect: Instant?
    }

    package let config: GossipConfig
    package let name: String
    package let region: String
    package let address: SocketAddress
    package internal(set) var incarnation: UInt32
    package internal(set) var metadata: [UInt8]
    package internal(set) var phase: Phase = .running
    package internal(set) var awareness: Awareness
    package internal(set) var stats = Stats()

    var table: [String: MemberRecord] = [:]
    /// Every known member (gone ones until reaped), in probe order.
    var order: [String] = []
    var probeIndex = 0
    var rng: SplitMix64
    var queue: BroadcastQueue
    var seq: UInt32 = 0
    var probe: Probe?
    var forwards: [UInt32: Forward] = [:]
    var reachabilityChecks: [ReachabilityCheck] = []
    var timers = Timers()
    var seeds: [SocketAddress] = []
    var userVersions: [String: (version: UInt64, origin: String)] = [:]
    var userClock: UInt64
    var events: [GossipEvent] = []
    /// Frames to send straight to one member at the end of this `tick` or `receive`.
    var direct: [(to: SocketAddress, frame: [UInt8])] = []

    /// - Parameters:
    ///   - name: unique in the cluster, 1 to 255 bytes of UTF-8.
    ///   - incarnation: where to start; a restarting agent may pass a value above its last life's
    ///     (otherwise it refutes its way up when it hears about its old self).
    ///   - seed: for the probe order, stagger and helper choice; a fixed seed replays a run.
    ///   - userClock: the first Lamport version of this node's user payloads is `userClock + 1`.
    package init(name: String, region: String, address: SocketAddress, metadata: [UInt8] = [], incarnation: UInt32 = 0,
                 config: GossipConfig, seed: UInt64, userClock: UInt64 = 0) {
        precondition((1...GossipCodec.maxStringBytes).contains(name.utf8.count), "a member name takes 1 to 255 bytes")
        precondition(region.utf8.count <= GossipCodec.maxStringBytes, "a region takes at most 255 bytes")
        precondition(metadata.count <= GossipCodec.maxMetadataBytes, "metadata takes at most \(GossipCodec.maxMetadataBytes) bytes")
        self.config = config
        self.name = name
        self.region = region
        self.address = address
        self.metadata = metadata
        self.incarnation = incarnation
        self.userClock = userClock
        rng = SplitMix64(seed: seed)
        awareness = Awareness(max: config.awarenessMaxMultiplier)
        queue = BroadcastQueue(retransmitMult: config.retransmitMult, userRetransmitMult: config.userRetransmitMult,
                               userCapacity: config.userQueueCapacity)
    }

    // MARK: Views

    /// Every other member this node knows, gone ones included until reaped, sorted by name.
    package var members: [GossipMember] { table.values.map(\.member).sorted { $0.name < $1.name } }

    /// This node as a member.
    package var localMember: GossipMember {
        GossipMember(name: name, region: region, address: address, incarnation: incarnation,
                     status: phase == .running ? .alive : .left, metadata: metadata)
    }

    package func member(named name: String) -> GossipMember? { table[name]?.member }

    /// The status of `name` in this node's view (alive for itself while running).
    package func status(of name: String) -> MemberStatus? {
        name == self.name ? localMember.status : table[name]?.member.status
    }

    /// Members that are alive or suspect, this node included: SWIM's n.
    package var clusterSize: Int { 1 + table.values.reduce(0) { $0 + ($1.member.status.isGone ? 0 : 1) } }

    /// The events since the last call, oldest first.
    package mutating func takeEvents() -> [GossipEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// The earliest instant at which `tick` has work to do: the transport sleeps until then.
    package var nextDeadline: Instant? {
        guard phase == .running else { return nil }
        var next: Instant? = nil
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            next = next.map { min($0, instant) } ?? instant
        }
        consider(timers.probe)
        consider(timers.gossip)
        consider(timers.sync)
        if !seeds.isEmpty, !hasLivePeers { consider(timers.join) }
        if hasFailedMembers { consider(timers.reconnect) }
        if let probe { consider(probe.indirect ? probe.deadline : probe.indirectAt) }
        for forward in forwards.values { consider(forward.nackSent ? forward.expiresAt : forward.nackAt) }
        for record in table.values {
            consider(record.suspicion?.deadline)
            consider(record.remindAt)
            if record.member.status.isGone { consider(record.since + config.reapAfter) }
        }
        return next
    }

    var hasLivePeers: Bool { table.values.contains { !$0.member.status.isGone } }

    /// Members declared dead (not ones that left): they may be alive across a partition.
    var hasFailedMembers: Bool { table.values.contains { $0.member.status == .dead } }

    var localFacts: MemberFacts {
        MemberFacts(name: name, region: region, address: address, incarnation: incarnation, metadata: metadata)
    }

    // MARK: Driving

    /// Contacts `seeds` (other members' gossip addresses) with this node's state and asks for
    /// theirs; repeated every `joinRetryInterval` while no live peer is known.
    package mutating func join(_ seeds: [SocketAddress], now: Instant) -> [Outbound] {
        guard phase == .running else { return [] }
        self.seeds = seeds.filter { $0 != address }
        timers.join = now
        // A full-state sync two protocol periods after joining: the seed answers with the members
        // it knows, but one that joined at the same moment may be missing there, and its alive
        // broadcasts may be spent already; without this it would be learnt only at the first
        // periodic sync, 15-30 s later (measured: 2 of 6 eight-node joins took 18-23 s).
        if config.syncInterval > .zero {
            let early = now + config.probeInterval * 2
            timers.sync = timers.sync.map { Swift.min($0, early) } ?? early
        }
        var out: [Outbound] = []
        retryJoin(now: now, &out)
        return out
    }

    /// Runs whatever is due at `now`: probes, suspicion timeouts, gossip, sync, reaping.
    package mutating func tick(now: Instant) -> [Outbound] {
        guard phase == .running else { return [] }
        var out: [Outbound] = []
        if timers.probe == nil { stagger(now: now) }
        retryJoin(now: now, &out)
        advanceProbe(now: now, &out)
        if let due = timers.probe, now >= due {
            startProbe(now: now, &out)
            timers.probe = now + awareness.scale(config.probeInterval)
        }
        expireForwards(now: now, &out)
        expireSuspicions(now: now)
        remindSuspects(now: now)
        if let due = timers.gossip, now >= due {
            gossip(now: now, &out)
            timers.gossip = now + config.gossipInterval
        }
        if let due = timers.reconnect, now >= due {
            reconnect(&out)
            timers.reconnect = nil
        }
        if timers.reconnect == nil, hasFailedMembers { timers.reconnect = now + config.joinRetryInterval }
        if let due = timers.sync, now >= due {
            pushSync(&out)
            helloToAbsentSeeds(&out)
            timers.sync = now + config.syncInterval
        }
        reap(now: now)
        flushDirect(&out)
        return out
    }

    /// Handles one datagram's bytes from `from`. A malformed packet is counted and ignored.
    package mutating func receive(_ packet: [UInt8], from: SocketAddress, now: Instant) -> [Outbound] {
        do {
            return receive(try GossipCodec.decode(packet), from: from, now: now)
        } catch {
            stats.malformedPackets += 1
            return []
        }
    }

    /// Handles the decoded messages of one datagram from `from`.
    package mutating func receive(_ messages: [GossipMessage], from: SocketAddress, now: Instant) -> [Outbound] {
        guard phase == .running else { return [] }
        var out: [Outbound] = []
        for message in messages { handle(message, from: from, now: now, &out) }
        flushDirect(&out)
        return out
    }

    /// Says goodbye: every live member is told directly (and they spread it), then the node
    /// stops; `tick` and `receive` do nothing afterwards. Members record it as `left`.
    package mutating func leave(now: Instant) -> [Outbound] {
        guard phase == .running else { return [] }
        let goodbye = GossipCodec.packet([.leave(node: name, incarnation: incarnation)])
        var out: [Outbound] = []
        for peer in order {
            guard let record = table[peer], !record.member.status.isGone else { continue }
            out.append(Outbound(to: record.member.address, bytes: goodbye))
        }
        phase = .left
        probe = nil
        forwards.removeAll()
        queue.removeAll()
        return out
    }

    /// Queues an opaque payload for every member under `key` (at most 255 bytes); a newer
    /// payload with the same key replaces an unsent older one. Returns false if the node left or
    /// the payload cannot fit in one packet.
    package mutating func enqueueUser(key: String, payload: [UInt8]) -> Bool {
        guard phase == .running, (1...GossipCodec.maxStringBytes).contains(key.utf8.count) else { return false }
        let user = UserPayload(key: key, origin: name, version: userClock &+ 1, payload: payload)
        let frame = GossipCodec.frame(.user(user))
        guard frame.count <= config.packetBudget - GossipCodec.headerBytes else { return false }
        userClock &+= 1
        userVersions[key] = (user.version, name)
        queue.enqueue(key: "u/" + key, frame: frame, priority: .user)
        return true
    }

    /// Publishes new metadata at a higher incarnation.
    package mutating func updateMetadata(_ metadata: [UInt8]) {
        precondition(metadata.count <= GossipCodec.maxMetadataBytes, "metadata too large")
        guard phase == .running, metadata != self.metadata else { return }
        self.metadata = metadata
        incarnation &+= 1
        broadcastMembership(.alive(localFacts), about: name)
    }

    /// Broadcasts still queued (membership and user): for tests and metrics.
    package var pendingBroadcasts: Int { queue.count }

    // MARK: Helpers

    /// Sends `frames` to `address` with as many queued broadcasts as fit in the packet budget.
    /// `membershipOnly` keeps user payloads for live members (their retransmits are counted).
    mutating func send(_ frames: [[UInt8]], to address: SocketAddress, membershipOnly: Bool = false, _ out: inout [Outbound]) {
        let used = frames.reduce(GossipCodec.headerBytes) { $0 + $1.count }
        let extra = queue.take(budget: config.packetBudget - used, maxCount: GossipCodec.maxFramesPerPacket - frames.count,
                               members: clusterSize, upTo: membershipOnly ? .membership : .user)
            .filter { !frames.contains($0) }
        guard !frames.isEmpty || !extra.isEmpty else { return }
        out.append(Outbound(to: address, bytes: GossipCodec.packet(frames: frames + extra)))
    }

    private mutating func flushDirect(_ out: inout [Outbound]) {
        guard !direct.isEmpty else { return }
        let pending = direct
        direct.removeAll()
        for (address, frame) in pending { send([frame], to: address, &out) }
    }

    mutating func broadcastMembership(_ message: GossipMessage, about node: String) {
        queue.enqueue(key: "m/" + node, frame: GossipCodec.frame(message), priority: .membership)
    }

    mutating func emit(_ kind: MemberEvent.Kind, _ member: GossipMember) {
        events.append(.member(MemberEvent(kind: kind, member: member)))
    }

    /// Up to `count` distinct members that pass `include`, chosen at random (memberlist
    /// `kRandomNodes`). Iterates `order`, not the dictionary, so a seed gives one outcome.
    mutating func randomMembers(_ count: Int, where include: (MemberRecord) -> Bool) -> [GossipMember] {
        var pool = order.compactMap { table[$0] }.filter(include).map(\.member)
        guard count < pool.count else { return pool }
        var chosen: [GossipMember] = []
        for _ in 0..<count { chosen.append(pool.remove(at: Int.random(in: 0..<pool.count, using: &rng))) }
        return chosen
    }

    /// Random first deadlines, so nodes started together do not probe and gossip in lockstep.
    private mutating func stagger(now: Instant) {
        func within(_ d: Duration) -> Duration {
            let ms = max(1, d.milliseconds)
            return .milliseconds(Int64.random(in: 0..<ms, using: &rng))
        }
        timers.probe = now + within(config.probeInterval)
        timers.gossip = now + within(config.gossipInterval)
        if config.syncInterval > .zero, timers.sync == nil { timers.sync = now + config.syncInterval / 2 + within(config.syncInterval / 2) }
    }
}
