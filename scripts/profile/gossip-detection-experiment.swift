import GLBCore
import HealthProber
import Testing

/// Experiment behind docs/benchmarks.md "Gossip": which part of the `regions`
/// preset makes detection slower than serf's LAN profile? Not part of the suite (about 5 minutes):
/// copy it into Tests/HealthProberTests/Gossip/ and run `swift test --filter ZZDetectionExperiment`.
@Suite struct ZZDetectionExperiment {
    static func variants() -> [(String, GossipConfig)] {
        var mult4 = GossipConfig.regions; mult4.suspicionMult = 4
        var pt500 = GossipConfig.regions; pt500.probeTimeout = .milliseconds(500)
        var pt400 = GossipConfig.regions; pt400.probeTimeout = .milliseconds(400)
        var both = GossipConfig.regions; both.suspicionMult = 4; both.probeTimeout = .milliseconds(400)
        var noLHM = GossipConfig.regions; noLHM.awarenessMaxMultiplier = 1
        return [("regions", .regions), ("lan", .lan), ("regions mult4", mult4), ("regions pt500", pt500),
                ("regions pt400", pt400), ("regions mult4+pt400", both), ("regions noLHM", noLHM)]
    }

    @Test func detection() {
        for (label, config) in Self.variants() {
            var times: [Double] = []
            var scores: [Int] = []
            for seed in 1...30 as ClosedRange<UInt64> {
                var net = FakeNetwork(nodeCount: 8, config: config, seed: seed)
                net.joinAll()
                let all = Set(net.names)
                _ = net.run(until: { $0.allSee(all, aliveAmong: $0.names) }, limit: .seconds(30), step: .milliseconds(20))
                net.run(for: .seconds(5), step: .milliseconds(20))
                let victim = "node-\(1 + seed % 7)"
                net.kill(victim)
                let others = net.names
                var peak = 0
                let took = net.run(until: { net in
                    peak = max(peak, others.map { net.nodes[$0]!.awareness.score }.max() ?? 0)
                    return others.allSatisfy { net.status(of: victim, seenBy: $0) == .dead }
                }, limit: .seconds(90), step: .milliseconds(20))
                if let took { times.append(Double(took.milliseconds) / 1000) }
                scores.append(peak)
            }
            times.sort()
            let mean = times.reduce(0, +) / Double(max(1, times.count))
            print("EXP detection \(label): n=\(times.count) mean \(mean) median \(times[times.count / 2]) min \(times.first!) max \(times.last!) peak awareness mean \(Double(scores.reduce(0, +)) / Double(scores.count))")
        }
    }

    /// As in the benchmark: 60 s at 40% loss, loss off, 7 s, then the kill.
    @Test func detectionAfterLoss() {
        for (label, config) in Self.variants() where ["regions", "lan", "regions mult4", "regions pt400", "regions noLHM"].contains(label) {
            var times: [Double] = []
            var atKill: [Int] = []
            for seed in 1...20 as ClosedRange<UInt64> {
                var net = FakeNetwork(nodeCount: 8, config: config, seed: seed)
                net.joinAll()
                let all = Set(net.names)
                _ = net.run(until: { $0.allSee(all, aliveAmong: $0.names) }, limit: .seconds(30), step: .milliseconds(20))
                net.lossRate = 0.4
                net.run(for: .seconds(60), step: .milliseconds(20))
                net.lossRate = 0
                net.run(for: .seconds(7), step: .milliseconds(20))
                let victim = "node-\(1 + seed % 7)"
                atKill.append(net.names.map { net.nodes[$0]!.awareness.score }.max() ?? 0)
                net.kill(victim)
                let others = net.names
                let took = net.run(until: { net in others.allSatisfy { net.status(of: victim, seenBy: $0) == .dead } },
                                   limit: .seconds(90), step: .milliseconds(20))
                if let took { times.append(Double(took.milliseconds) / 1000) }
            }
            times.sort()
            let mean = times.reduce(0, +) / Double(max(1, times.count))
            print("EXP afterloss \(label): n=\(times.count) mean \(mean) median \(times[times.count / 2]) min \(times.first!) max \(times.last!) max awareness at kill mean \(Double(atKill.reduce(0, +)) / Double(atKill.count)) \(atKill)")
        }
    }

    @Test(arguments: [0.2, 0.4])
    func falseAlarms(loss: Double) {
        for (label, config) in Self.variants() where ["regions", "lan", "regions mult4", "regions pt400", "regions noLHM"].contains(label) {
            var deaths = 0, suspicions = 0
            for seed in [42, 43, 44] as [UInt64] {
                var net = FakeNetwork(nodeCount: 8, config: config, seed: seed)
                net.joinAll()
                let all = Set(net.names)
                _ = net.run(until: { $0.allSee(all, aliveAmong: $0.names) }, limit: .seconds(30), step: .milliseconds(20))
                net.run(for: .seconds(5), step: .milliseconds(20))
                net.lossRate = loss
                net.run(for: .seconds(600), step: .milliseconds(20))
                deaths += net.events(.failed).count
                suspicions += net.events(.suspected).count
            }
            print("EXP false \(Int(loss * 100))% \(label): 3x600 s: \(deaths) false-death marks, \(suspicions) suspicion events")
        }
    }
}
