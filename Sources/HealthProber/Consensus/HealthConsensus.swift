package import GLBCore

/// What every node's probes say about every cluster, and the verdict the GLB answers with
/// (docs/architecture.md "Health").
///
///     own probes ──record(observer: self)──┐
///     gossip "obs/" payloads ──record──────┼─▶ latest observation per (observer, target)
///     membership: who is alive ────────────┘                │
///                                                           ▼
///                   verdict(target, live:, now:) ─▶ down only when a strict majority of the
///                                                   fresh observers from live nodes see it down
///
/// A node cut off from one region sees that region's clusters down, but it is one voice: the
/// cluster stays in DNS answers while most observers still reach it. With one node (or one
/// fresh observer) the verdict is that node's own view, as before gossip.
///
/// Freshness uses the *receiver's* clock (`now` at `record`), never the observer's wall time, so
/// a node whose clock is off by minutes still counts; the observer's `sequence` orders its own
/// reports, so a reordered or duplicated packet never replaces a newer report with an older one.
package struct HealthConsensus: Sendable {
    /// One node's report about one target.
    package struct Observation: Hashable, Sendable {
        /// True up, false down. Not-yet-judged targets are not reported.
        package var up: Bool
        /// The observer's smoothed probe RTT, when it has one.
        package var rtt: Duration?
        /// Increases with each report of this observer (its HLC or wall milliseconds).
        package var sequence: UInt64
        /// When this node received it, on this node's clock.
        package var receivedAt: Instant

        package init(up: Bool, rtt: Duration? = nil, sequence: UInt64, receivedAt: Instant) {
            self.up = up
            self.rtt = rtt
            self.sequence = sequence
            self.receivedAt = receivedAt
        }
    }

    /// The outcome for one target, with the votes behind it (for `glb status` and `explain`).
    package struct Verdict: Hashable, Sendable {
        /// False only when a quorum of fresh observers sees the target down.
        package var up: Bool
        /// Fresh observers from live nodes that see it up.
        package var upVotes: Int
        /// Fresh observers from live nodes that see it down.
        package var downVotes: Int
        /// No fresh observer at all: the target is answered (not judged yet).
        package var isUnjudged: Bool { upVotes + downVotes == 0 }
    }

    /// How old a report may be before it stops counting. Nodes re-send their whole view at an
    /// interval well under this, so only a silent (stuck or partitioned) observer ages out.
    package var freshness: Duration
    /// This node: its reports are its probes' current state, so they never age out.
    package let localObserver: String

    private var reports: [String: [String: Observation]] = [:]      // target → observer → latest

    package init(localObserver: String, freshness: Duration = .seconds(10)) {
        self.localObserver = localObserver
        self.freshness = freshness
    }

    /// Records `observer`'s report on `target`. Returns false (and changes nothing) when an
    /// equal or newer report from that observer is already held.
    @discardableResult
    package mutating func record(observer: String, target: String, _ observation: Observation) -> Bool {
        if let held = reports[target]?[observer], held.sequence >= observation.sequence { return false }
        reports[target, default: [:]][observer] = observation
        return true
    }

    /// Forgets an observer's reports (it left or was reaped).
    package mutating func forget(observer: String) {
        for target in Array(reports.keys) {
            reports[target]?[observer] = nil
            if reports[target]?.isEmpty == true { reports[target] = nil }
        }
    }

    /// Forgets one report (the observer no longer judges the target).
    package mutating func forget(observer: String, target: String) {
        reports[target]?[observer] = nil
        if reports[target]?.isEmpty == true { reports[target] = nil }
    }

    /// Forgets every target not in `targets` (removed from config).
    package mutating func retain(targets: Set<String>) {
        reports = reports.filter { targets.contains($0.key) }
    }

    /// The verdict on `target`, counting fresh reports from `live` observers only.
    package func verdict(target: String, live: Set<String>, now: Instant) -> Verdict {
        var up = 0, down = 0
        for (observer, report) in reports[target] ?? [:] where live.contains(observer) && isFresh(report, observer: observer, now: now) {
            if report.up { up += 1 } else { down += 1 }
        }
        // Strict majority: with two observers split one and one, the cluster stays up.
        return Verdict(up: !(down > 0 && down * 2 > up + down), upVotes: up, downVotes: down)
    }

    /// Fresh RTTs to `target` by observer, for latency routing.
    package func rtts(target: String, live: Set<String>, now: Instant) -> [String: Duration] {
        var out: [String: Duration] = [:]
        for (observer, report) in reports[target] ?? [:] where live.contains(observer) && isFresh(report, observer: observer, now: now) {
            if let rtt = report.rtt { out[observer] = rtt }
        }
        return out
    }

    /// The report `observer` last sent on `target`, fresh or not.
    package func report(observer: String, target: String) -> Observation? { reports[target]?[observer] }

    /// Every target with at least one report.
    package var targets: [String] { Array(reports.keys) }

    private func isFresh(_ report: Observation, observer: String, now: Instant) -> Bool {
        observer == localObserver || now - report.receivedAt <= freshness
    }
}
