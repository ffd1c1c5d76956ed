package import GLBCore

/// What the prober knows about one target now: a copy, readable from any thread.
package struct TargetHealth: Hashable, Sendable {
    package var target: ProbeTarget
    package var status: HealthState.Status
    /// When `status` last changed (monotonic), or when probing began while `.unknown`.
    package var since: Instant
    /// The same moment as wall-clock milliseconds since the epoch, for people and the store.
    package var sinceWallMilliseconds: Int64
    /// The latest result; nil before the first probe finished.
    package var lastResult: ProbeResult?
    /// When the latest result came in.
    package var lastProbeAt: Instant?
    /// The EWMA of successful round trips; nil before the first success.
    package var rtt: Duration?
    package var consecutiveSuccesses: Int
    package var consecutiveFailures: Int

    /// `"ok"`, a failure's label, or `"none"` before any result.
    package var lastReason: String { lastResult?.label ?? "none" }
}

/// A status flip of one target, as the agent consumes it: compile a new routing snapshot, log it
/// as a JSON line, keep it in the event history.
package struct HealthTransition: Hashable, Sendable {
    package var targetID: String
    package var from: HealthState.Status
    package var to: HealthState.Status
    /// Why, for people: `"ok"` style text for a rise, the last failure for a fall.
    package var reason: String
    /// The failure that completed a fall; nil for a rise.
    package var failure: ProbeFailure?
    /// The RTT estimate after the result that caused the flip.
    package var rtt: Duration?
    /// Monotonic time of the flip (the prober's clock).
    package var at: Instant
    /// Wall-clock milliseconds since the epoch at the flip.
    package var wallMilliseconds: Int64
}
