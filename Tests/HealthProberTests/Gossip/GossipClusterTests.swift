import GLBCore
import HealthProber
import Testing

/// SWIM + Lifeguard end to end on `FakeNetwork`: simulated seconds, seeded, no sockets, no sleeps.
@Suite struct GossipClusterTests {
    static let everyone: Set<String> = ["node-0", "node-1", "node-2", "node-3", "node-4"]

    /// Five nodes that all joined through node-0 and agree.
    static func converged(seed: UInt64 = 1, configure: (inout FakeNetwork) -> Void = { _ in }) -> FakeNetwork {
        var net = FakeNetwork(nodeCount: 5, seed: seed)
        configure(&net)
        net.joinAll()
        let took = net.run(until: { $0.allSee(everyone, aliveAmong: $0.names) }, limit: .seconds(10))
        #expect(took != nil, "five nodes converge")
        return net
    }

    @Test func fiveNodesJoinAndConverge() {
        var net = FakeNetwork(nodeCount: 5)
        net.joinAll()
        let took = net.run(until: { $0.allSee(Self.everyone, aliveAmong: $0.names) }, limit: .seconds(10))
        #expect(took != nil)
        #expect(took! < .seconds(2), "join converges within a few gossip rounds, took \(took!)")
        net.run(for: .seconds(30))
        #expect(net.allSee(Self.everyone, aliveAmong: net.names))
        #expect(net.events(.suspected).isEmpty && net.events(.failed).isEmpty, "no false alarm on a clean network")
        for name in net.names { #expect(net.nodes[name]!.members.allSatisfy { $0.rtt != nil }, "every member was probed") }
    }

    @Test func partitionedNodeIsDeclaredDeadByAllAndNobodyElse() {
        var net = Self.converged()
        net.partitioned = ["node-4"]
        let others = net.names.filter { $0 != "node-4" }
        let took = net.run(until: { net in others.allSatisfy { net.status(of: "node-4", seenBy: $0) == .dead } }, limit: .seconds(30))
        #expect(took != nil, "every other node declares the partitioned one dead")
        #expect(took! < .seconds(5), "detection took \(took!)")
        net.run(for: .seconds(20))
        let falseAlarms = net.events(.failed).filter { $0.member != "node-4" && $0.observer != "node-4" }
        #expect(falseAlarms.isEmpty, "no false positives among the rest: \(falseAlarms)")
        #expect(net.allSee(Self.everyone.subtracting(["node-4"]), aliveAmong: others))
    }

    /// The node every other one joined through (and which has no seed of its own) is cut off
    /// until all declare it dead, and the cut heals: a few seconds later (members dead but not yet
    /// reaped: the reconnect attempts reach it), or minutes later (reaped on both sides: the
    /// others' hellos to their seed at each periodic sync reach it). Either way all five are one
    /// cluster again, where before a cut seed stayed alone forever.
    @Test(arguments: [Duration.seconds(8), .seconds(120)])
    func aHealedPartitionOfTheSeedNodeMergesAgain(cut: Duration) {
        var net = Self.converged()
        net.partitioned = ["node-0"]
        let others = net.names.filter { $0 != "node-0" }
        let dead = net.run(until: { net in others.allSatisfy { net.status(of: "node-0", seenBy: $0) == .dead } }, limit: .seconds(30))
        #expect(dead != nil, "the others declare the seed dead")
        net.run(for: cut)
        net.partitioned = []
        let healed = net.run(until: { $0.allSee(Self.everyone, aliveAmong: $0.names) }, limit: .seconds(45))
        #expect(healed != nil, "one cluster again after a \(cut) cut")
        if cut < net.config.reapAfter { #expect(healed! < .seconds(10), "healed in \(healed!)") }
    }

    @Test(arguments: [0.2, 0.4])
    func packetLossCausesNoFalseDeath(loss: Double) {
        var net = Self.converged(seed: 7)
        net.lossRate = loss
        net.run(for: .seconds(600))
        let falseDeaths = net.events(.failed).count
        #expect(falseDeaths == 0, "\(Int(loss * 100))% loss: \(falseDeaths) false deaths, \(net.events(.suspected).count) suspicions")
        net.lossRate = 0
        net.run(for: .seconds(5))
        #expect(net.allSee(Self.everyone, aliveAmong: net.names))
    }

    @Test func duplicatedAndReorderedPacketsChangeNothing() {
        var net = Self.converged(seed: 3) { net in
            net.duplicateRate = 0.3
            net.maxLatency = .milliseconds(45)
        }
        net.run(for: .seconds(120))
        #expect(net.events(.failed).isEmpty)
        #expect(net.allSee(Self.everyone, aliveAmong: net.names))
        net.kill("node-2")
        let others = net.names
        let took = net.run(until: { net in others.allSatisfy { net.status(of: "node-2", seenBy: $0) == .dead } }, limit: .seconds(30))
        #expect(took != nil, "a crash is still detected")
    }

    @Test(arguments: [UInt32(0), 50])
    func restartedNodeIsAcceptedAlive(restartIncarnation: UInt32) {
        var net = Self.converged(seed: 5)
        net.kill("node-3")
        let others = net.names
        #expect(net.run(until: { net in others.allSatisfy { net.status(of: "node-3", seenBy: $0) == .dead } }, limit: .seconds(30)) != nil)
        let deadAt = net.nodes["node-0"]!.member(named: "node-3")!.incarnation
        net.add("node-3", incarnation: restartIncarnation)
        net.join(["node-3"])
        let took = net.run(until: { $0.allSee(Self.everyone, aliveAmong: $0.names) }, limit: .seconds(10))
        #expect(took != nil, "the restarted node is alive everywhere")
        for name in others { #expect(net.nodes[name]!.member(named: "node-3")!.incarnation > deadAt) }
        #expect(net.events(.joined, about: "node-3").filter { $0.incarnation > deadAt }.count == 4)
    }

    @Test func suspectedNodeRefutes() {
        var net = Self.converged(seed: 11)
        let before = net.nodes["node-2"]!.incarnation
        net.inject([.suspect(node: "node-2", incarnation: before, from: "node-1")], to: "node-0", from: "node-1")
        #expect(net.status(of: "node-2", seenBy: "node-0") == .suspect)
        let took = net.run(until: { net in
            net.nodes["node-2"]!.incarnation > before && net.allSee(Self.everyone, aliveAmong: net.names)
        }, limit: .seconds(5))
        #expect(took != nil, "node-2 refutes and everyone believes it")
        net.run(for: .seconds(10))
        #expect(net.events(.failed).isEmpty)
        #expect(net.nodes["node-2"]!.stats.refutations >= 1)
        #expect(!net.events(.recovered, about: "node-2").isEmpty)
    }

    @Test func gracefulLeaveIsSeenByAllAsLeft() {
        var net = Self.converged(seed: 13)
        net.leave("node-1")
        let others = net.names.filter { $0 != "node-1" }
        let took = net.run(until: { net in others.allSatisfy { net.status(of: "node-1", seenBy: $0) == .left } }, limit: .seconds(2))
        #expect(took != nil && took! < .milliseconds(100), "goodbye is sent directly to every member")
        #expect(net.events(.failed, about: "node-1").isEmpty, "a leave is not a failure")
        var gone = net.nodes["node-1"]!
        #expect(gone.tick(now: net.now + .seconds(1)).isEmpty, "a node that left stays quiet")
        net.run(for: .seconds(10))
        #expect(net.events(.reaped, about: "node-1").count == 4, "forgotten after reapAfter")
    }

    /// SWIM reads only monotonic time, through `now:`; wall time never enters. A node whose
    /// clock origin is minutes off (as a wall clock would be) must produce the very same run.
    @Test func clockOffByMinutesChangesNothing() {
        func run(offset: Duration) -> [FakeNetwork.Observed] {
            var net = FakeNetwork(nodeCount: 5, seed: 17)
            net.clockOffsets["node-2"] = offset
            net.joinAll()
            net.run(for: .seconds(5))
            net.partitioned = ["node-4"]
            net.run(for: .seconds(10))
            return net.observed
        }
        let straight = run(offset: .zero)
        #expect(straight == run(offset: .seconds(7 * 60)))
        #expect(straight == run(offset: .seconds(-11 * 60)))
        #expect(straight.contains { $0.kind == .failed && $0.member == "node-4" })
    }

    @Test func userPayloadsReachEveryoneWhileMembershipConverges() {
        var net = Self.converged(seed: 19)
        let payloads = 200
        for i in 0..<payloads {
            let queued = net.enqueueUser(at: "node-\(i % 2)", key: "obs/\(i)", payload: [UInt8](repeating: UInt8(i & 0xFF), count: 100))
            #expect(queued)
        }
        // Membership changes during the flood: a crash and a suspicion both get through.
        net.kill("node-4")
        let others = ["node-0", "node-1", "node-2", "node-3"]
        let took = net.run(until: { net in others.allSatisfy { net.status(of: "node-4", seenBy: $0) == .dead } }, limit: .seconds(10))
        #expect(took != nil && took! < .seconds(5), "membership is not starved by the flood: \(String(describing: took))")
        net.run(for: .seconds(10))
        for name in others {
            let keys = Set(net.userPayloads[name, default: []].map(\.key))
            let own = name == "node-0" || name == "node-1" ? payloads / 2 : 0
            #expect(keys.count == payloads - own, "\(name) got \(keys.count) of \(payloads - own)")
        }
        // Bounded retransmits: each of the 4 nodes sends each payload at most `limit` times.
        let limit = BroadcastQueue.retransmitLimit(multiplier: net.config.userRetransmitMult, members: 5)
        #expect(net.userFramesSent <= payloads * 5 * limit, "\(net.userFramesSent) user frames sent")
        #expect(net.names.allSatisfy { (net.nodes[$0]?.pendingBroadcasts ?? 0) == 0 }, "every queue drained")
    }
}
