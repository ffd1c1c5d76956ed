/// A smoothed round-trip time: an exponentially weighted moving average of successful probes'
/// round trips, gossiped for `latency` routing (docs/architecture.md "Health").
///
///     estimate ← estimate + alpha × (sample − estimate)
///
/// `alpha` defaults to 0.3: the latest sample moves the estimate by 30 %, so a lasting change is
/// 83 % absorbed after five probes (1 − 0.7⁵) while one slow outlier moves it by under a third.
/// The first sample is taken as is. Failures carry no round trip and are ignored: a timeout
/// measures the timeout, not the path.
package struct RTTEstimate: Hashable, Sendable {
    package let alpha: Double
    /// The current estimate; nil until the first successful probe.
    package private(set) var value: Duration?

    package init(alpha: Double = 0.3) {
        precondition(alpha > 0 && alpha <= 1, "alpha must be in (0, 1]")
        self.alpha = alpha
    }

    /// Folds in one round trip.
    package mutating func record(_ sample: Duration) {
        guard let current = value else {
            value = sample
            return
        }
        let old = Double(current.nanosecondsRounded), new = Double(sample.nanosecondsRounded)
        value = .nanoseconds(Int64((old + alpha * (new - old)).rounded()))
    }

    /// Folds in a probe result: successes only.
    package mutating func record(_ result: ProbeResult) {
        if case .success(let rtt) = result { record(rtt) }
    }
}

extension Duration {
    /// Whole nanoseconds (Duration keeps attoseconds).
    var nanosecondsRounded: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
