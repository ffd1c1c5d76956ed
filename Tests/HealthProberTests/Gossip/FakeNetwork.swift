import GLBCore
import HealthProber

/// N sans-IO `GossipNode`s in one process on a simulated network (STYLE.md §9.11, after
/// memberlist's `mock_transport.go`): manual time, seeded randomness, and knobs for loss,
/// duplication, latency (which reorders packets) and partitions. Every packet goes through
/// the real codec. A run of minutes of simulated time takes milliseconds.
struct FakeNetwork {
    /// One member event as an observer saw it, stamped with network time.
    struct Observed: Hashable {
        let at: Instant
        let observer: String
        let kind: MemberEvent.Kind
        let member: String
        let incarnation: UInt32
    }

    private struct Packet {
        let deliverAt: Instant
        let order: Int
        let from: String
        let to: SocketAddress
        let bytes: [UInt8]
    }

    let config: GossipConfig
    private(set) var nodes: [String: GossipNode] = [:]
    private(set) var now = Instant.zero
    /// Each node's monotonic clock is `now + offset`: instants have arbitrary origins.
    var clockOffsets: [String: Duration] = [:]
    /// Packets to or from these are dropped.
    var partitioned: Set<String> = []
    /// The share of UDP packets dropped. TCP (the fallback connects) is never lossy here, as
    /// with the iptables rules of the gossip benchmark: only a partition or a dead node stops it.
    var lossRate = 0.0
    /// Whether fallback TCP connects can succeed at all (off: a network that filters TCP).
    var tcpWorks = true
    /// TCP fallback connects that succeeded and are delivered at `at`.
    private var reached: [(at: Instant, node: String, seq: UInt32)] = []
    var duplicateRate = 0.0
    var maxLatency: Duration = .milliseconds(2)
    private(set) var observed: [Observed] = []
    private(set) var userPayloads: [String: [UserPayload]] = [:]
    private(set) var packetsSent = 0
    private(set) var userFramesSent = 0
    private var inFlight: [Packet] = []
    private var order = 0
    private var rng: SplitMix64
    private var seedCounter: UInt64

    init(nodeCount: Int, config: GossipConfig = .fast, seed: UInt64 = 1) {
        self.config = config
        rng = SplitMix64(seed: seed)
        seedCounter = seed &* 1000
        for i in 0..<nodeCount { add(Self.name(i)) }
    }

    static func name(_ i: Int) -> String { "node-\(i)" }
    static func address(_ name: String) -> SocketAddress {
        let index = UInt32(name.split(separator: "-").last.flatMap { Int($0) } ?? 0)
        return SocketAddress(ip: .v4(0x0A00_0001 + index), port: 7946)
    }

    var names: [String] { nodes.keys.sorted() }

    /// Adds (or replaces, as a restart would) a node; it knows nobody until it joins.
    mutating func add(_ name: String, incarnation: UInt32 = 0, metadata: [UInt8] = []) {
        seedCounter &+= 1
        nodes[name] = GossipNode(name: name, region: "r\(name.last!)", address: Self.address(name), metadata: metadata,
                                 incarnation: incarnation, config: config, seed: seedCounter)
    }

    /// Every node in `names` joins through `seed`.
    mutating func join(_ names: [String], via seed: String = "node-0") {
        for name in names where name != seed {
            let out = nodes[name]!.join([Self.address(seed)], now: localTime(name))
            enqueue(from: name, out)
        }
    }

    mutating func joinAll() { join(names) }

    /// Removes a node entirely: it stops answering, as after kill -9.
    mutating func kill(_ name: String) { nodes[name] = nil }

    mutating func leave(_ name: String) {
        let out = nodes[name]!.leave(now: localTime(name))
        enqueue(from: name, out)
    }

    mutating func inject(_ messages: [GossipMessage], to name: String, from sender: String) {
        let out = nodes[name]!.receive(GossipCodec.packet(messages), from: Self.address(sender), now: localTime(name))
        enqueue(from: name, out)
        collectEvents(of: name)
    }

    mutating func enqueueUser(at name: String, key: String, payload: [UInt8]) -> Bool {
        nodes[name]!.enqueueUser(key: key, payload: payload)
    }

    func localTime(_ name: String) -> Instant { now + (clockOffsets[name] ?? .zero) }

    /// The status `observer` holds for `member`.
    func status(of member: String, seenBy observer: String) -> MemberStatus? {
        nodes[observer]?.status(of: member)
    }

    /// True when every node in `observers` sees exactly `members` alive (besides itself).
    func allSee(_ members: Set<String>, aliveAmong observers: [String]) -> Bool {
        observers.allSatisfy { observer in
            let alive = Set(nodes[observer]!.members.filter { $0.status == .alive }.map(\.name))
            return alive == members.subtracting([observer])
        }
    }

    /// Runs until `condition` holds (checked after every step) or `limit` passes; returns the
    /// simulated time it took, or nil.
    mutating func run(until condition: (FakeNetwork) -> Bool, limit: Duration, step: Duration = .milliseconds(10)) -> Duration? {
        let start = now
        while now - start < limit {
            self.step(step)
            if condition(self) { return now - start }
        }
        return nil
    }

    mutating func run(for duration: Duration, step: Duration = .milliseconds(10)) {
        let end = now + duration
        while now < end { self.step(step) }
    }

    private mutating func step(_ step: Duration) {
        now = now + step
        for name in names {
            guard nodes[name] != nil else { continue }
            let out = nodes[name]!.tick(now: localTime(name))
            enqueue(from: name, out)
            collectEvents(of: name)
            runReachabilityChecks(of: name)
        }
        let dueReached = reached.filter { $0.at <= now }
        reached.removeAll { $0.at <= now }
        for r in dueReached { nodes[r.node]?.reached(seq: r.seq) }
        while true {
            let due = inFlight.indices.filter { inFlight[$0].deliverAt <= now }
            guard !due.isEmpty else { break }
            var batch = due.map { inFlight[$0] }
            for index in due.reversed() { inFlight.remove(at: index) }
            batch.sort { ($0.deliverAt, $0.order) < ($1.deliverAt, $1.order) }
            for packet in batch { deliver(packet) }
        }
    }

    private mutating func deliver(_ packet: Packet) {
        let target = "node-\(packet.to.ip.bytes[3] - 1)"
        guard nodes[target] != nil, !partitioned.contains(target), !partitioned.contains(packet.from) else { return }
        let out = nodes[target]!.receive(packet.bytes, from: Self.address(packet.from), now: localTime(target))
        enqueue(from: target, out)
        collectEvents(of: target)
        runReachabilityChecks(of: target)
    }

    /// Sees every packet a node sends (time, sender, destination, messages, sent): for debugging
    /// a scenario, as in "which packets carried the suspicion of node-2?".
    var trace: ((Instant, String, SocketAddress, [GossipMessage], Bool) -> Void)?

    private mutating func enqueue(from name: String, _ outbound: [Outbound]) {
        for packet in outbound {
            packetsSent += 1
            if let trace, let messages = try? GossipCodec.decode(packet.bytes) { trace(now, name, packet.to, messages, true) }
            if let messages = try? GossipCodec.decode(packet.bytes) {
                userFramesSent += messages.filter { if case .user = $0 { true } else { false } }.count
            }
            if partitioned.contains(name) { continue }
            let copies = Double.random(in: 0..<1, using: &rng) < duplicateRate ? 2 : 1
            for _ in 0..<copies {
                guard Double.random(in: 0..<1, using: &rng) >= lossRate else { continue }
                let latencyMS = Int64.random(in: 0...max(0, maxLatency.milliseconds), using: &rng)
                order += 1
                inFlight.append(Packet(deliverAt: now + .milliseconds(latencyMS), order: order, from: name,
                                       to: packet.to, bytes: packet.bytes))
            }
        }
    }

    /// A fallback connect succeeds, a millisecond later, when the target is alive, neither side
    /// is partitioned off and TCP works.
    private mutating func runReachabilityChecks(of name: String) {
        guard nodes[name] != nil else { return }
        for check in nodes[name]!.takeReachabilityChecks() {
            let target = "node-\(check.address.ip.bytes[3] - 1)"
            guard tcpWorks, nodes[target] != nil, !partitioned.contains(target), !partitioned.contains(name) else { continue }
            reached.append((now + .milliseconds(1), name, check.seq))
        }
    }

    private mutating func collectEvents(of name: String) {
        guard nodes[name] != nil else { return }
        for event in nodes[name]!.takeEvents() {
            switch event {
            case .member(let change):
                observed.append(Observed(at: now, observer: name, kind: change.kind, member: change.member.name,
                                         incarnation: change.member.incarnation))
            case .user(let payload):
                userPayloads[name, default: []].append(payload)
            }
        }
    }

    /// Observed events of `kind`, optionally about one member.
    func events(_ kind: MemberEvent.Kind, about member: String? = nil) -> [Observed] {
        observed.filter { $0.kind == kind && (member == nil || $0.member == member) }
    }
}
