import GLBCore
import HealthProber
import Testing

/// The quorum rule as a table, on explicit instants.
@Suite struct HealthConsensusTests {
    static let t0 = Instant(offset: .seconds(100))

    static func consensus(_ reports: [(String, Bool)], at: Instant = t0) -> HealthConsensus {
        var c = HealthConsensus(localObserver: "self", freshness: .seconds(10))
        for (observer, up) in reports {
            c.record(observer: observer, target: "www/eu", .init(up: up, sequence: 1, receivedAt: at))
        }
        return c
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let reports: [(String, Bool)]
        let live: Set<String>
        let up: Bool
        let votes: (up: Int, down: Int)
        var testDescription: String { "\(reports.map { "\($0.0)=\($0.1 ? "up" : "down")" }) live=\(live.sorted())" }
    }

    @Test(arguments: [
        Row(reports: [], live: ["self"], up: true, votes: (0, 0)),                                              // unjudged: answered
        Row(reports: [("self", false)], live: ["self"], up: false, votes: (0, 1)),                              // alone: own view decides
        Row(reports: [("self", false), ("b", true), ("c", true)], live: ["self", "b", "c"], up: true, votes: (2, 1)),   // a minority
        Row(reports: [("self", false), ("b", false), ("c", true)], live: ["self", "b", "c"], up: false, votes: (1, 2)), // a majority
        Row(reports: [("self", false), ("b", true)], live: ["self", "b"], up: true, votes: (1, 1)),             // a tie is not a majority
        Row(reports: [("self", true), ("b", false), ("c", false)], live: ["self", "b"], up: true, votes: (1, 1)),       // c is not live
        Row(reports: [("b", false)], live: ["self", "b", "c"], up: false, votes: (0, 1)),                       // the only fresh observer
        Row(reports: [("self", true), ("b", false), ("c", false), ("d", true)], live: ["self", "b", "c", "d"], up: true, votes: (2, 2)),
    ])
    func verdicts(_ row: Row) {
        let verdict = Self.consensus(row.reports).verdict(target: "www/eu", live: row.live, now: Self.t0)
        #expect(verdict.up == row.up)
        #expect(verdict.upVotes == row.votes.up && verdict.downVotes == row.votes.down)
    }

    @Test func reportsAgeOutButThisNodesOwnNeverDoes() {
        let c = Self.consensus([("self", true), ("b", false), ("c", false)])
        let live: Set<String> = ["self", "b", "c"]
        #expect(!c.verdict(target: "www/eu", live: live, now: Self.t0 + .seconds(10)).up, "fresh at exactly the limit")
        let later = c.verdict(target: "www/eu", live: live, now: Self.t0 + .seconds(11))
        #expect(later.up && later.upVotes == 1 && later.downVotes == 0, "b and c went silent; only this node's view is left")
    }

    @Test func anOlderOrDuplicateReportNeverReplacesANewerOne() {
        var c = HealthConsensus(localObserver: "self")
        let first = c.record(observer: "b", target: "t", .init(up: false, sequence: 5, receivedAt: Self.t0))
        let reordered = c.record(observer: "b", target: "t", .init(up: true, sequence: 4, receivedAt: Self.t0 + .seconds(1)))
        let duplicated = c.record(observer: "b", target: "t", .init(up: true, sequence: 5, receivedAt: Self.t0 + .seconds(1)))
        #expect(first && !reordered && !duplicated)
        #expect(c.report(observer: "b", target: "t")?.up == false)
        let newer = c.record(observer: "b", target: "t", .init(up: true, sequence: 6, receivedAt: Self.t0 + .seconds(2)))
        #expect(newer && c.report(observer: "b", target: "t")?.up == true)
    }

    @Test func anObserverWhoseClockIsMinutesOffStillCounts() {
        // Its sequence is its own wall clock, far in the past; freshness is judged by arrival.
        var c = HealthConsensus(localObserver: "self")
        c.record(observer: "skewed", target: "t", .init(up: false, sequence: 1_000, receivedAt: Self.t0))
        c.record(observer: "b", target: "t", .init(up: false, sequence: 9_999_999_999, receivedAt: Self.t0))
        c.record(observer: "self", target: "t", .init(up: true, sequence: 9_999_999_999, receivedAt: Self.t0))
        #expect(!c.verdict(target: "t", live: ["self", "b", "skewed"], now: Self.t0 + .seconds(1)).up)
    }

    @Test func forgettingAnObserverOrATargetDropsItsReports() {
        var c = Self.consensus([("self", true), ("b", false), ("c", false)])
        c.forget(observer: "b")
        #expect(c.verdict(target: "www/eu", live: ["self", "b", "c"], now: Self.t0).downVotes == 1)
        c.retain(targets: ["other"])
        #expect(c.targets.isEmpty)
    }

    @Test func rttsAreKeptPerFreshLiveObserver() {
        var c = HealthConsensus(localObserver: "self")
        c.record(observer: "self", target: "t", .init(up: true, rtt: .milliseconds(3), sequence: 1, receivedAt: Self.t0))
        c.record(observer: "b", target: "t", .init(up: true, rtt: .milliseconds(40), sequence: 1, receivedAt: Self.t0))
        c.record(observer: "c", target: "t", .init(up: true, rtt: .milliseconds(9), sequence: 1, receivedAt: Self.t0))
        #expect(c.rtts(target: "t", live: ["self", "b"], now: Self.t0) == ["self": .milliseconds(3), "b": .milliseconds(40)])
    }
}
