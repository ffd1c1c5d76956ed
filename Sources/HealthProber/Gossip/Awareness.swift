/// Lifeguard's local health multiplier (Dadgar et al. 2018, §IV-A; memberlist `awareness.go`).
///
/// A node that is itself slow (CPU starved, dropping packets) misses acks and would wrongly
/// suspect healthy peers. Awareness is a score in `0..<max` that rises when this node's probes
/// fail without the nacks its helpers should have sent, or when others suspect it, and falls by
/// one with every successful probe. Probe timeouts and intervals are multiplied by
/// `score + 1`, so an unhealthy node slows down its accusations instead of spreading them.
package struct Awareness: Hashable, Sendable {
    /// Scores stay below this (memberlist's `AwarenessMaxMultiplier`, 8 by default).
    package let max: Int
    package private(set) var score = 0

    package init(max: Int) {
        self.max = Swift.max(1, max)
    }

    /// Adds `delta`, clamped to `0...max - 1`. Returns true if the score changed.
    @discardableResult
    package mutating func apply(delta: Int) -> Bool {
        let old = score
        score = Swift.min(Swift.max(0, score + delta), max - 1)
        return score != old
    }

    /// `timeout × (score + 1)`.
    package func scale(_ timeout: Duration) -> Duration {
        timeout * (score + 1)
    }
}
