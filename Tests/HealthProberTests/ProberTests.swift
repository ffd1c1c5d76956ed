import GLBCore
import GLBTestSupport
import HealthProber
import Testing

/// The prober end to end on a manual-clock loop: schedule, rise/fall, transitions, metrics.
@Suite struct ProberTests {
    let harness: ManualLoop
    let registry = MetricsRegistry()
    let prober: Prober

    init() throws {
        harness = try ManualLoop()
        prober = Prober(loop: harness.loop, logger: Logger(component: "test", sink: { _ in }), registry: registry, seed: 42)
    }

    /// One interval of time, then ticks until the probe it starts has reported.
    func round(_ id: String = "www/eu", interval: Duration = .seconds(1)) -> TargetHealth? {
        let before = prober.snapshot()[id]?.lastProbeAt
        harness.clock.advance(by: interval)
        harness.run { prober.snapshot()[id]?.lastProbeAt != before }
        return prober.snapshot()[id]
    }

    func metric(_ line: String) -> String? {
        registry.render().split(separator: "\n").first { $0.hasPrefix(line + " ") }.map { String($0.dropFirst(line.count + 1)) }
    }

    @Test func downAfterExactlyFallFailuresAndUpAfterExactlyRiseSuccesses() async throws {
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 500, body: ""))
        defer { origin.close() }
        prober.setTargets([.loopback(.http, port: origin.address.port) { $0.rise = 2; $0.fall = 3 }])
        harness.loop.tick(maxWait: .zero)                            // setTargets hops onto the loop
        #expect(prober.snapshot()["www/eu"]?.status == .unknown)

        // 500, fall 3: unknown through two failures, down at the third.
        #expect(round()?.status == .unknown)
        #expect(round()?.status == .unknown)
        let down = try #require(round())
        #expect(down.status == .down && down.consecutiveFailures == 3)
        #expect(down.lastResult?.failure?.reason == .badStatus(500))

        // 200, rise 2: still down after one success, up at the second.
        origin.behaviour = .respond(status: 200, body: "ok")
        #expect(round()?.status == .down)
        let up = try #require(round())
        #expect(up.status == .up && up.consecutiveSuccesses == 2 && up.rtt == .zero)

        // 500 again: up through two failures, down at exactly the third.
        origin.behaviour = .respond(status: 500, body: "")
        #expect(round()?.status == .up)
        #expect(round()?.status == .up)
        let downAgain = try #require(round())
        #expect(downAgain.status == .down && downAgain.lastReason == "bad_status")
        #expect(origin.requests.count == 8, "one probe per interval, no more")

        prober.stop()
        harness.loop.tick(maxWait: .zero)
        var transitions: [HealthTransition] = []
        for await transition in prober.transitions { transitions.append(transition) }
        #expect(transitions.map { "\($0.from.rawValue)>\($0.to.rawValue)" } == ["unknown>down", "down>up", "up>down"])
        #expect(transitions.allSatisfy { $0.targetID == "www/eu" })
        #expect(transitions[2].failure?.reason == .badStatus(500))
        #expect(transitions[2].at == harness.clock.now && transitions[2].wallMilliseconds == harness.clock.wallMilliseconds)

        #expect(metric(#"glb_probe_results_total{result="bad_status",target="www/eu"}"#) == "6")
        #expect(metric(#"glb_probe_results_total{result="ok",target="www/eu"}"#) == "2")
        #expect(metric(#"glb_health_transitions_total{target="www/eu",to="down"}"#) == "2")
        #expect(metric("glb_probe_duration_seconds_count") == "8")
        #expect(harness.loop.registeredCount == 1, "stop() left only the origin's listener")
    }

    @Test func timeInStateIsComputedWhenMetricsAreCollected() throws {
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 200, body: ""))
        defer { origin.close() }
        prober.setTargets([.loopback(.http, port: origin.address.port)])
        harness.loop.tick(maxWait: .zero)
        #expect(round()?.status == .up)
        harness.clock.advance(by: .milliseconds(2500))
        #expect(metric(#"glb_health_time_in_state_seconds{target="www/eu"}"#) == "2.5")
        #expect(metric(#"glb_health_up{target="www/eu"}"#) == "1")
    }

    @Test func setTargetsKeepsUnchangedTargetsAndStopsRemovedOnes() throws {
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 200, body: ""))
        defer { origin.close() }
        let eu = ProbeTarget.loopback(.http, port: origin.address.port, id: "www/eu")
        let us = ProbeTarget.loopback(.tcp, port: origin.address.port, id: "www/us")
        prober.setTargets([eu, us])
        harness.loop.tick(maxWait: .zero)
        #expect(round("www/eu")?.status == .up)
        let usBefore = try #require(prober.snapshot()["www/us"])

        // Same eu, us gone, a new target: eu keeps its verdict, us stops and leaves the table.
        prober.setTargets([eu, .loopback(.tcp, port: origin.address.port, id: "api/eu")])
        harness.loop.tick(maxWait: .zero)
        let snapshot = prober.snapshot()
        #expect(snapshot["www/eu"]?.status == .up)
        #expect(snapshot["www/us"] == nil && snapshot["api/eu"]?.status == .unknown)
        #expect(usBefore.target.id == "www/us")

        // Only timing changed: the verdict survives; the path changed: it starts over.
        var slower = eu
        slower.spec.interval = .seconds(2)
        prober.setTargets([slower])
        harness.loop.tick(maxWait: .zero)
        #expect(prober.snapshot()["www/eu"]?.status == .up)
        var elsewhere = slower
        elsewhere.spec.path = "/other"
        prober.setTargets([elsewhere])
        harness.loop.tick(maxWait: .zero)
        #expect(prober.snapshot()["www/eu"]?.status == .unknown)
        #expect(prober.snapshot().count == 1)
    }

    /// Five targets, interval 1 s, stepped 10 ms at a time: each first probe lands within the
    /// first interval, they do not all land together, and the same seed gives the same schedule.
    /// The targets are a closed port, so the only registered descriptors are probes in flight.
    @Test func firstProbesAreJitteredWithinTheIntervalAndReproducibleFromTheSeed() throws {
        let port = try closedPort()
        func firstProbeTimes(seed: UInt64) throws -> [Duration] {
            let harness = try ManualLoop()
            let prober = Prober(loop: harness.loop, logger: Logger(component: "test", sink: { _ in }), registry: MetricsRegistry(),
                                    seed: seed)
            let ids = (0..<5).map { "svc/\($0)" }
            prober.setTargets(ids.map { .loopback(.tcp, port: port, id: $0) })
            harness.loop.tick(maxWait: .zero)
            for _ in 0..<100 {
                harness.clock.advance(by: .milliseconds(10))
                harness.loop.tick(maxWait: .zero)                   // due timers start their probes
                #expect(harness.run { harness.loop.registeredCount == 0 })
            }
            prober.stop()
            harness.loop.tick(maxWait: .zero)
            return ids.map { prober.snapshot()[$0]?.lastProbeAt.map { $0 - .zero } ?? .seconds(99) }
        }
        let first = try firstProbeTimes(seed: 7)
        #expect(first.allSatisfy { $0 > .zero && $0 <= .seconds(1) }, "\(first)")
        #expect(Set(first).count > 1, "\(first)")
        #expect(try firstProbeTimes(seed: 7) == first)
    }
}
