#if canImport(Glibc)
import Glibc
#endif
package import GLBCore

/// Lifeguard's dynamic suspicion timeout (Dadgar et al. 2018, §IV-B; memberlist `suspicion.go`).
///
/// A suspect member is declared dead when its timeout runs out. The timeout starts at `max` and
/// falls toward `min` as independent members confirm the suspicion: one node's slow network
/// then needs a long time to kill a member, while a real failure that everyone sees is declared
/// quickly. The accuser that started the suspicion and repeat confirmers do not count, and
/// confirmations stop counting once `expected` (k) have arrived.
///
/// A value with no timer: the owner compares `deadline` with its own `now`.
package struct Suspicion: Hashable, Sendable {
    package let start: Instant
    package let min: Duration
    package let max: Duration
    /// k: the confirmations that bring the timeout down to `min`.
    package let expected: Int
    /// n: the independent confirmations seen so far (at most `expected`).
    package private(set) var confirmations = 0
    private var confirmers: Set<String>

    /// - Parameter accuser: the member whose probe failed; its own later messages never confirm.
    package init(accuser: String, expected: Int, min: Duration, max: Duration, start: Instant) {
        self.start = start
        self.min = min
        self.max = Swift.max(min, max)
        self.expected = Swift.max(0, expected)
        confirmers = [accuser]
    }

    /// Records that `member` also suspects the node. True if this was new information (the
    /// caller then re-gossips the suspicion), false for a repeat or once `expected` were seen.
    package mutating func confirm(from member: String) -> Bool {
        guard confirmations < expected, confirmers.insert(member).inserted else { return false }
        confirmations += 1
        return true
    }

    /// When the suspect is declared dead unless it refutes first.
    package var deadline: Instant {
        start + Self.timeout(confirmations: confirmations, expected: expected, min: min, max: max)
    }

    /// The whole timeout after `n` of `k` confirmations:
    /// `max - (max - min) * log(n + 1) / log(k + 1)`, floored to the millisecond and never below
    /// `min`. With k = 0 (a cluster too small to confirm anything) it is `min` from the start.
    package static func timeout(confirmations n: Int, expected k: Int, min: Duration, max: Duration) -> Duration {
        guard k > 0 else { return min }
        let fraction = log(Double(Swift.max(0, n)) + 1) / log(Double(k) + 1)
        let raw = max.seconds - fraction * (max.seconds - min.seconds)
        let timeout = Duration.milliseconds(Int64((raw * 1000).rounded(.down)))
        return Swift.max(min, timeout)
    }

    /// What is left of the timeout `elapsed` after the suspicion started; negative when overdue
    /// (memberlist's `remainingSuspicionTime`).
    package static func remaining(confirmations n: Int, expected k: Int, elapsed: Duration, min: Duration, max: Duration) -> Duration {
        timeout(confirmations: n, expected: k, min: min, max: max) - elapsed
    }

    /// The base timeout SWIM scales with the cluster size so that a rumour has time to reach
    /// everyone: `mult × max(1, log10(n)) × probeInterval` (memberlist `util.go`
    /// `suspicionTimeout`). It is Lifeguard's `min`; `max` is a multiple of it.
    package static func baseTimeout(multiplier: Int, members n: Int, probeInterval: Duration) -> Duration {
        let scale = Swift.max(1, log10(Double(Swift.max(1, n))))
        let ms = Double(multiplier) * scale * Double(probeInterval.milliseconds)
        return .milliseconds(Int64(ms.rounded(.down)))
    }
}
