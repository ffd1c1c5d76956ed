import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// Runs the Router `draws` times for service 0 of `input` and counts each answered address.
func tally(_ services: [ServiceInput], family: AddressFamily = .v4, draws: Int = 10_000, client: ClientKey = ClientKey(client: ip("192.0.2.1"), subnet: nil),
           seed: UInt64 = 42) -> (counts: [IPAddress: Int], decisions: [RouteDecision], perDraw: [[IPAddress]]) {
    let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.", nameservers: ["ns1.glb.example."], glue: [:])
    let snapshot = RoutingSnapshot(compiling: RouteInput(generation: 1, zones: [zone], services: services))
    var router = Router()
    var rng = SplitMix64(seed: seed)
    var counts: [IPAddress: Int] = [:], decisions: [RouteDecision] = [], perDraw: [[IPAddress]] = []
    for _ in 0..<draws {
        decisions.append(router.route(service: 0, family: family, client: client, snapshot: snapshot, rng: &rng))
        let answer = router.chosen.map { snapshot.endpoints[Int($0)].address }
        perDraw.append(answer)
        for a in answer { counts[a, default: 0] += 1 }
    }
    return (counts, decisions, perDraw)
}

func cluster(_ name: String, _ address: String, weight: UInt32 = 100, priority: Int = 0, state: ClusterState = .active, healthy: Bool = true) -> ClusterInput {
    ClusterInput(name: name, addresses: [ip(address)], weight: weight, priority: priority, state: state, healthy: healthy)
}

@Suite struct RouterTests {
    @Test func weightedSplit90To10() {
        let (counts, decisions, _) = tally([ServiceInput(name: "www", zone: "glb.example.", clusters: [
            cluster("a", "10.0.0.1", weight: 90), cluster("b", "10.0.0.2", weight: 10)])])
        let share = Double(counts[ip("10.0.0.1")] ?? 0) / 10_000
        #expect(abs(share - 0.9) < 0.015, "share \(share)")
        #expect(decisions.allSatisfy { $0.outcome == .healthy })
    }

    @Test func answersTwoGivesTwoDistinct() {
        let (counts, _, perDraw) = tally([ServiceInput(name: "www", zone: "glb.example.", answers: 2, clusters: [
            cluster("a", "10.0.0.1", weight: 80), cluster("b", "10.0.0.2", weight: 10), cluster("c", "10.0.0.3", weight: 10)])], draws: 2000)
        #expect(perDraw.allSatisfy { $0.count == 2 && Set($0).count == 2 })
        #expect(counts.count == 3)
    }

    @Test func weightIsPerClusterNotPerAddress() {
        let (counts, _, _) = tally([ServiceInput(name: "www", zone: "glb.example.", clusters: [
            ClusterInput(name: "a", addresses: [ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")], weight: 50),
            cluster("b", "10.0.1.1", weight: 50)])])
        let share = Double(counts[ip("10.0.1.1")] ?? 0) / 10_000
        #expect(abs(share - 0.5) < 0.02, "share \(share)")
    }

    @Test(arguments: [
        // (tier health [p0, p1, p2], expected tier)
        ([true, true, true], 0),
        ([false, true, true], 1),
        ([false, false, true], 2),
    ])
    func failoverTiers(health: [Bool], tier: Int) {
        let clusters = health.enumerated().map { cluster("t\($0.offset)", "10.0.\($0.offset).1", priority: $0.offset * 10, healthy: $0.element) }
            + [cluster("t0b", "10.0.0.2", priority: 0, healthy: health[0])]
        let (counts, decisions, _) = tally([ServiceInput(name: "www", zone: "glb.example.", policy: .failover, clusters: clusters.reversed())], draws: 500)
        #expect(decisions.allSatisfy { $0.tier == tier * 10 && $0.outcome == .healthy })
        #expect(counts.keys.allSatisfy { $0.description.hasPrefix("10.0.\(tier).") })
        if tier == 0 { #expect(counts.count == 2, "weighted within the tier") }
    }

    @Test func failOpenAnswersEveryActiveAddress() {
        let (_, decisions, perDraw) = tally([ServiceInput(name: "www", zone: "glb.example.", clusters: [
            cluster("a", "10.0.0.1", healthy: false), cluster("b", "10.0.0.2", healthy: false),
            cluster("c", "10.0.0.3", state: .draining, healthy: false), cluster("d", "10.0.0.4", state: .disabled, healthy: false)])], draws: 10)
        #expect(decisions.allSatisfy { $0.outcome == .failOpen })
        #expect(perDraw.allSatisfy { Set($0) == [ip("10.0.0.1"), ip("10.0.0.2")] })
    }

    @Test func failClosedAnswersNothing() {
        let (_, decisions, perDraw) = tally([ServiceInput(name: "www", zone: "glb.example.", failClosed: true, clusters: [
            cluster("a", "10.0.0.1", healthy: false)])], draws: 10)
        #expect(decisions.allSatisfy { $0.outcome == .failClosed } && perDraw.allSatisfy(\.isEmpty))
    }

    @Test func drainingOnlyWhenNothingElseIsHealthy() {
        let both = tally([ServiceInput(name: "www", zone: "glb.example.", clusters: [
            cluster("a", "10.0.0.1"), cluster("b", "10.0.0.2", state: .draining)])], draws: 1000)
        #expect(both.counts.keys.sorted { $0.description < $1.description } == [ip("10.0.0.1")])
        let onlyDraining = tally([ServiceInput(name: "www", zone: "glb.example.", clusters: [
            cluster("a", "10.0.0.1", healthy: false), cluster("b", "10.0.0.2", state: .draining),
            cluster("c", "10.0.0.3", state: .disabled)])], draws: 1000)
        #expect(Set(onlyDraining.counts.keys) == [ip("10.0.0.2")])
        #expect(onlyDraining.decisions.allSatisfy { $0.outcome == .draining })
    }

    @Test func disabledIsNeverAnswered() {
        let (counts, _, _) = tally([ServiceInput(name: "www", zone: "glb.example.", policy: .all, clusters: [
            cluster("a", "10.0.0.1"), cluster("b", "10.0.0.2", state: .disabled)])], draws: 100)
        #expect(Set(counts.keys) == [ip("10.0.0.1")])
    }

    @Test func allAnswersEveryHealthyAddress() {
        let (_, _, perDraw) = tally([ServiceInput(name: "www", zone: "glb.example.", policy: .all, clusters: [
            cluster("a", "10.0.0.1"), cluster("b", "10.0.0.2", weight: 0), cluster("c", "10.0.0.3", healthy: false)])], draws: 5)
        #expect(perDraw.allSatisfy { Set($0) == [ip("10.0.0.1"), ip("10.0.0.2")] })
    }

    static let canaryService = ServiceInput(name: "www", zone: "glb.example.", clusters: [
        cluster("stable", "10.0.0.1"), cluster("next", "10.0.0.2")], canary: CanaryInput(cluster: "next", percent: 10))

    @Test func canaryTenPercentIsStickyPerSubnet() {
        var canaryCount = 0
        let subnets = 500
        for s in 0..<subnets {
            let client = IPAddress.v4(0xC633_0000 | UInt32(s) << 8 | 7)   // 198.51.s.7, distinct /24s
            let key = ClientKey(client: client, subnet: nil)
            let (counts, decisions, _) = tally([RouterTests.canaryService], draws: 20, client: key, seed: UInt64(s))
            #expect(counts.count == 1, "subnet \(s) must keep one side")
            if decisions[0].canarySide == .canary { canaryCount += 1; #expect(counts[ip("10.0.0.2")] == 20) }
        }
        let share = Double(canaryCount) / Double(subnets)
        #expect(abs(share - 0.10) < 0.04, "canary share \(share)")
    }

    @Test func canaryKeyIgnoresHostBitsAndPrefersECS() {
        let a = ClientKey(client: ip("198.51.100.1"), subnet: nil), b = ClientKey(client: ip("198.51.100.254"), subnet: nil)
        #expect(a == b && a.hash == b.hash && a.prefix == 24 && !a.fromClientSubnet)
        let v6 = ClientKey(client: ip("2001:db8:1:2ff::1"), subnet: nil)
        #expect(v6.address == ip("2001:db8:1:200::") && v6.prefix == 56)
        let ecs = ClientKey(client: ip("192.0.2.53"), subnet: ClientSubnet(address: ip("203.0.113.0"), sourcePrefix: 24))
        #expect(ecs.fromClientSubnet && ecs.address == ip("203.0.113.0"))
        // The hash is fixed: a change here changes every client's side on upgrade.
        #expect(a.hash == ClientKey(client: ip("198.51.100.99"), subnet: nil).hash)
        #expect(Canary.threshold(percent: 100) == 1 << 32 && Canary.threshold(percent: 0) == 0)
    }

    @Test func unhealthyCanaryFallsBackToTheRest() {
        var service = RouterTests.canaryService
        service.clusters[1].healthy = false
        service.canary?.percent = 100
        let (counts, decisions, _) = tally([service], draws: 100)
        #expect(Set(counts.keys) == [ip("10.0.0.1")])
        #expect(decisions.allSatisfy { $0.canarySide == .canaryFallback && $0.outcome == .healthy })
    }

    @Test func baselineUsesCanaryWhenEverythingElseIsDown() {
        var service = RouterTests.canaryService
        service.clusters[0].healthy = false
        service.canary?.percent = 0.0001
        let (counts, decisions, _) = tally([service], draws: 100)
        #expect(Set(counts.keys) == [ip("10.0.0.2")])
        #expect(decisions.allSatisfy { $0.outcome == .healthy })
    }

    @Test func explainShowsEveryStep() throws {
        let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.", nameservers: [], glue: [:])
        let snapshot = RoutingSnapshot(compiling: RouteInput(generation: 1, zones: [zone], services: [RouterTests.canaryService]))
        var rng = SplitMix64(seed: 1)
        let e = try #require(Explanation.explain(service: "www", client: ip("192.0.2.1"), snapshot: snapshot, rng: &rng))
        #expect(e.service == "www.glb.example." && e.candidates.count == 2 && e.families.count == 2)
        #expect(e.families[0].answer.count == 1 && e.families[1].decision.outcome == .noAddresses)
        let text = e.description
        #expect(text.contains("canary next at 10.0%") && text.contains("hash") && text.contains("answer: 10.0.0."))
        #expect(Explanation.explain(service: "nope", client: ip("192.0.2.1"), snapshot: snapshot) == nil)
    }
}
