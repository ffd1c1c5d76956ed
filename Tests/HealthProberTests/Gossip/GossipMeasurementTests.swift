import GLBCore
import HealthProber
import Testing

/// The numbers issue 7 item 9 asks for, in simulated time with the LAN preset (memberlist's
/// defaults, which serf uses) on 8 nodes. Serf measured 8.8 s to detection on this machine with
/// no false alarm at 40% loss; these bounds keep the simulation honest as the code changes.
/// The real measurement (8 agents, iptables loss) is the agent's job; this is the protocol's.
/// Longer runs (10 seeds; 1800 s per loss rate) gave mean detection 5.9 s (max 7.9 s) and no
/// false death at 0, 20 or 40% loss; the suite runs shorter ones.
@Suite struct GossipMeasurementTests {
    static func converged(seed: UInt64) -> FakeNetwork {
        var net = FakeNetwork(nodeCount: 8, config: .lan, seed: seed)
        net.joinAll()
        let all = Set(net.names)
        _ = net.run(until: { $0.allSee(all, aliveAmong: $0.names) }, limit: .seconds(30), step: .milliseconds(20))
        net.run(for: .seconds(5), step: .milliseconds(20))
        return net
    }

    @Test func detectionOnEightNodesBeatsSerf() {
        var times: [Duration] = []
        for seed in 1...5 as ClosedRange<UInt64> {
            var net = Self.converged(seed: seed)
            let victim = "node-\(seed % 8)"
            net.kill(victim)
            let others = net.names
            let took = net.run(until: { net in others.allSatisfy { net.status(of: victim, seenBy: $0) == .dead } },
                               limit: .seconds(60), step: .milliseconds(20))
            #expect(took != nil)
            if let took { times.append(took) }
        }
        let sorted = times.sorted()
        let mean = times.reduce(Duration.zero, +) / max(1, times.count)
        print("gossip LAN 8 nodes: detection by all, 5 runs: min \(sorted.first!) median \(sorted[sorted.count / 2]) mean \(mean) max \(sorted.last!)")
        #expect(mean < .milliseconds(8800), "serf: 8.8 s")
    }

    @Test(arguments: [0.0, 0.2, 0.4])
    func falseAlarmsOnEightNodes(loss: Double) {
        var net = Self.converged(seed: 42)
        net.lossRate = loss
        net.run(for: .seconds(600), step: .milliseconds(20))
        let deaths = net.events(.failed).count
        let suspicions = net.events(.suspected).count
        print("gossip LAN 8 nodes, \(Int(loss * 100))% loss, 600 s: \(deaths) false deaths, \(suspicions) suspicion events, \(net.packetsSent) packets")
        #expect(deaths == 0)
    }
}
