#if canImport(Glibc)
import Glibc
#endif

/// The source of time for everything in GLB. Production uses `SystemClock`; tests inject a manual
/// clock that moves only when told to, so no test ever sleeps to synchronise.
package protocol GLBClock: Sendable {
    /// Monotonic time: for timeouts, intervals and rates. Never goes backwards.
    var now: Instant { get }
    /// Wall-clock time in milliseconds since the Unix epoch: for hybrid logical clocks, audit
    /// records and anything a person reads. May jump; never use it to measure an interval.
    var wallMilliseconds: Int64 { get }
    /// Suspends until `now >= deadline`, or throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Instant) async throws
}

extension GLBClock {
    /// Suspends for `duration` of this clock's time.
    package func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}

/// The real clock: CLOCK_MONOTONIC for `now`, CLOCK_REALTIME for `wallMilliseconds`.
package struct SystemClock: GLBClock {
    package init() {}

    package var now: Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(offset: .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec))
    }

    package var wallMilliseconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    package func sleep(until deadline: Instant) async throws {
        let remaining = deadline - now
        if remaining > .zero { try await Task.sleep(for: remaining) }
    }
}
