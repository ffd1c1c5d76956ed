package import GLBCore

/// The rise/fall state machine of one target (after gdnsd `mon.c` and Envoy's health checker),
/// as a value: results in, a new status out only when it flips (STYLE.md §9.7).
///
///                 first success                    `rise` successes in a row
///     unknown ──────────────────▶ up ◀───────────────────────────────────── down
///        │                         └──────────────────────────────────────▶  ▲
///        │                              `fall` failures in a row             │
///        └───────────────────────────────────────────────────────────────────┘
///                                 `fall` failures in a row
///
/// A new target starts `.unknown`. Like Envoy at start-up, a single success makes it `.up`:
/// nothing suggests it is unhealthy, so it should not wait `rise` intervals to prove it. Going
/// down always takes `fall` consecutive failures, from `.unknown` as from `.up`. Routing must treat
/// `.unknown` as up (`Status.isRoutable`): a cluster that was just registered is answered at once.
package struct HealthState: Hashable, Sendable {
    /// What the prober currently believes about a target.
    package enum Status: String, Hashable, Sendable {
        /// Not yet decided: no success yet and fewer than `fall` failures.
        case unknown
        case up
        case down

        /// Whether routing may send traffic there: everything but `.down`.
        package var isRoutable: Bool { self != .down }
    }

    package private(set) var status: Status = .unknown
    /// When `status` last changed (or, while `.unknown`, when the state was created).
    package private(set) var since: Instant
    /// Successes since the last failure.
    package private(set) var consecutiveSuccesses = 0
    /// Failures since the last success.
    package private(set) var consecutiveFailures = 0
    /// Consecutive successes that bring a `.down` target up; at least 1.
    package var rise: Int { didSet { rise = max(1, rise) } }
    /// Consecutive failures that bring an `.up` or `.unknown` target down; at least 1.
    package var fall: Int { didSet { fall = max(1, fall) } }

    package init(rise: Int, fall: Int, now: Instant) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        since = now
    }

    /// Records one probe result. Returns the new status if this result flipped it, else nil.
    package mutating func record(success: Bool, now: Instant) -> Status? {
        let next: Status
        if success {
            consecutiveSuccesses += 1
            consecutiveFailures = 0
            switch status {
            case .unknown: next = .up
            case .down where consecutiveSuccesses >= rise: next = .up
            case .up, .down: return nil
            }
        } else {
            consecutiveFailures += 1
            consecutiveSuccesses = 0
            guard status != .down, consecutiveFailures >= fall else { return nil }
            next = .down
        }
        status = next
        since = now
        return next
    }
}
