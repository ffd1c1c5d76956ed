import GLBCore
import HealthProber
import Testing

/// Lifeguard's suspicion maths by table (STYLE.md §9.7; the cases of memberlist's
/// `suspicion_test.go` `TestSuspicion_remainingSuspicionTime`).
@Suite struct SuspicionTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let n: Int, k: Int, elapsed: Duration, min: Duration, max: Duration, remaining: Duration
        var testDescription: String { "n=\(n) k=\(k) elapsed=\(elapsed)" }
    }

    @Test(arguments: [
        Row(n: 0, k: 3, elapsed: .zero, min: .seconds(2), max: .seconds(30), remaining: .seconds(30)),
        Row(n: 1, k: 3, elapsed: .seconds(2), min: .seconds(2), max: .seconds(30), remaining: .seconds(14)),
        Row(n: 2, k: 3, elapsed: .seconds(3), min: .seconds(2), max: .seconds(30), remaining: .milliseconds(4810)),
        Row(n: 3, k: 3, elapsed: .seconds(4), min: .seconds(2), max: .seconds(30), remaining: .seconds(-2)),
        Row(n: 4, k: 3, elapsed: .seconds(5), min: .seconds(2), max: .seconds(30), remaining: .seconds(-3)),
        Row(n: 5, k: 3, elapsed: .seconds(10), min: .seconds(2), max: .seconds(30), remaining: .seconds(-8)),
    ])
    func remainingTimeMatchesMemberlist(_ row: Row) {
        #expect(Suspicion.remaining(confirmations: row.n, expected: row.k, elapsed: row.elapsed, min: row.min, max: row.max) == row.remaining)
    }

    @Test(arguments: [(0, Duration.seconds(30)), (1, .seconds(16)), (2, .milliseconds(7810)), (3, .seconds(2)), (9, .seconds(2))])
    func timeoutShrinksFromMaxToMin(confirmations: Int, expected: Duration) {
        #expect(Suspicion.timeout(confirmations: confirmations, expected: 3, min: .seconds(2), max: .seconds(30)) == expected)
    }

    @Test func noExpectedConfirmationsMeansTheMinimumAtOnce() {
        #expect(Suspicion.timeout(confirmations: 0, expected: 0, min: .seconds(2), max: .seconds(30)) == .seconds(2))
        let s = Suspicion(accuser: "a", expected: 0, min: .seconds(2), max: .seconds(30), start: .zero)
        #expect(s.deadline == Instant.zero + .seconds(2))
    }

    @Test func onlyNewIndependentConfirmersCount() {
        var s = Suspicion(accuser: "a", expected: 3, min: .seconds(2), max: .seconds(30), start: Instant.zero + .seconds(100))
        #expect(s.deadline == Instant.zero + .seconds(130))
        let answers = ["a", "b", "b"].map { s.confirm(from: $0) }
        #expect(answers == [false, true, false], "the accuser and a repeat confirmer do not count")
        #expect(s.deadline == Instant.zero + .seconds(116))
        let more = ["c", "d", "e"].map { s.confirm(from: $0) }
        #expect(more == [true, true, false], "beyond k nothing more is counted")
        #expect(s.confirmations == 3 && s.deadline == Instant.zero + .seconds(102))
    }

    /// SWIM's base timeout, `mult × max(1, log10 n) × interval` (memberlist `TestSuspicionTimeout`).
    @Test(arguments: [(5, Duration.milliseconds(4000)), (10, .milliseconds(4000)), (50, .milliseconds(6795)), (100, .milliseconds(8000)),
                      (1000, .milliseconds(12000))])
    func baseTimeoutGrowsWithLog10OfTheClusterSize(members: Int, expected: Duration) {
        #expect(Suspicion.baseTimeout(multiplier: 4, members: members, probeInterval: .seconds(1)) == expected)
    }
}

/// Lifeguard's local health multiplier (memberlist `awareness_test.go`).
@Suite struct AwarenessTests {
    @Test func scoreIsClampedAndScalesTimeouts() {
        var a = Awareness(max: 8)
        let steps: [(delta: Int, score: Int, timeout: Duration)] = [
            (0, 0, .seconds(1)), (-1, 0, .seconds(1)), (-10, 0, .seconds(1)), (1, 1, .seconds(2)),
            (-1, 0, .seconds(1)), (10, 7, .seconds(8)), (-1, 6, .seconds(7)), (-1, 5, .seconds(6)),
            (-1, 4, .seconds(5)), (-1, 3, .seconds(4)), (-1, 2, .seconds(3)), (-1, 1, .seconds(2)),
            (-1, 0, .seconds(1)), (-1, 0, .seconds(1)),
        ]
        for step in steps {
            a.apply(delta: step.delta)
            #expect(a.score == step.score)
            #expect(a.scale(.seconds(1)) == step.timeout)
        }
    }

    @Test func applyReportsWhetherTheScoreMoved() {
        var a = Awareness(max: 2)
        let moved = [-1, 5, 1].map { a.apply(delta: $0) }
        #expect(moved == [false, true, false], "railed at 0, then at max - 1")
    }
}
