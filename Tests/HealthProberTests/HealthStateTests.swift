import GLBCore
import HealthProber
import Testing

/// The rise/fall machine fed results at explicit instants (STYLE.md §8.5): no loop, no clock.
@Suite struct HealthStateTests {
    /// One scenario: results in order (`+` success, `-` failure), one second apart from t=1 s,
    /// and the flip each must return (`nil` for none).
    struct Scenario: Sendable, CustomTestStringConvertible {
        let name: String
        let rise: Int
        let fall: Int
        let results: String
        let flips: [HealthState.Status?]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Scenario(name: "one success is enough to leave unknown", rise: 3, fall: 2, results: "+", flips: [.up]),
        Scenario(name: "unknown goes down after exactly fall failures", rise: 2, fall: 3, results: "---", flips: [nil, nil, .down]),
        Scenario(name: "a success resets the failure streak while unknown", rise: 2, fall: 3, results: "--+", flips: [nil, nil, .up]),
        Scenario(name: "up needs fall consecutive failures", rise: 2, fall: 3, results: "+--+---",
                 flips: [.up, nil, nil, nil, nil, nil, .down]),
        Scenario(name: "down needs rise consecutive successes", rise: 2, fall: 1, results: "+-+-++",
                 flips: [.up, .down, nil, nil, nil, .up]),
        Scenario(name: "further failures while down flip nothing", rise: 1, fall: 1, results: "---+", flips: [.down, nil, nil, .up]),
        Scenario(name: "further successes while up flip nothing", rise: 5, fall: 5, results: "++++", flips: [.up, nil, nil, nil]),
    ])
    func flipsHappenExactlyAtTheThresholds(_ scenario: Scenario) {
        var state = HealthState(rise: scenario.rise, fall: scenario.fall, now: .zero)
        #expect(state.status == .unknown)
        var flips: [HealthState.Status?] = []
        var lastFlipAt = Instant.zero
        for (i, symbol) in scenario.results.enumerated() {
            let now = Instant.zero + .seconds(i + 1)
            let flip = state.record(success: symbol == "+", now: now)
            if flip != nil { lastFlipAt = now }
            flips.append(flip)
        }
        #expect(flips == scenario.flips)
        #expect(state.since == lastFlipAt, "since is the instant of the last flip")
    }

    @Test func countsTrackTheCurrentStreakOnly() {
        var state = HealthState(rise: 2, fall: 2, now: .zero)
        _ = state.record(success: true, now: .zero + .seconds(1))
        _ = state.record(success: true, now: .zero + .seconds(2))
        #expect(state.consecutiveSuccesses == 2 && state.consecutiveFailures == 0)
        _ = state.record(success: false, now: .zero + .seconds(3))
        #expect(state.consecutiveSuccesses == 0 && state.consecutiveFailures == 1)
    }

    @Test func unknownIsRoutableAndOnlyDownIsNot() {
        #expect(HealthState.Status.unknown.isRoutable)
        #expect(HealthState.Status.up.isRoutable)
        #expect(!HealthState.Status.down.isRoutable)
    }

    @Test func thresholdsBelowOneAreRaisedToOne() {
        var state = HealthState(rise: 0, fall: -3, now: .zero)
        #expect(state.rise == 1 && state.fall == 1)
        #expect(state.record(success: false, now: .zero + .seconds(1)) == .down)
        #expect(state.record(success: true, now: .zero + .seconds(2)) == .up)
    }

    @Test func noFlipKeepsSinceAtCreation() {
        var state = HealthState(rise: 1, fall: 3, now: .zero + .seconds(7))
        _ = state.record(success: false, now: .zero + .seconds(8))
        #expect(state.since == .zero + .seconds(7))
    }
}

@Suite struct RTTEstimateTests {
    /// alpha 0.3: estimate ← estimate + 0.3 × (sample − estimate).
    @Test(arguments: [
        ([100], 100_000),                       // first sample taken as is
        ([100, 200], 130_000),                  // 100 + 0.3 × 100
        ([100, 200, 200], 151_000),             // 130 + 0.3 × 70
        ([100, 0], 70_000),                     // 100 − 0.3 × 100
        ([50, 50, 50, 50], 50_000),             // constant input is a fixed point
    ] as [([Int], Int64)])
    func ewmaFollowsTheSamples(millis: [Int], expectedMicros: Int64) {
        var estimate = RTTEstimate()
        for ms in millis { estimate.record(.milliseconds(ms)) }
        #expect(estimate.value == .microseconds(expectedMicros))
    }

    @Test func failuresAreIgnored() {
        var estimate = RTTEstimate()
        estimate.record(ProbeResult.failure(ProbeFailure(.timeout, "cut")))
        #expect(estimate.value == nil)
        estimate.record(ProbeResult.success(rtt: .milliseconds(10)))
        estimate.record(ProbeResult.failure(ProbeFailure(.refused, "no")))
        #expect(estimate.value == .milliseconds(10))
    }

    @Test func alphaOneTracksTheLastSample() {
        var estimate = RTTEstimate(alpha: 1)
        estimate.record(.milliseconds(10))
        estimate.record(.milliseconds(40))
        #expect(estimate.value == .milliseconds(40))
    }
}
