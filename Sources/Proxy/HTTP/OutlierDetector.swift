package import GLBCore

/// Passive health for one event loop: ejects an upstream endpoint that keeps failing, for a
/// back-off that grows with each ejection, after Envoy's outlier detection
/// (`source/common/upstream/outlier_detection_impl.h`: consecutive gateway failures and 5xx,
/// `base_ejection_time` × ejections, `max_ejection_percent`).
///
///     success ─────────────────────────────▶ streaks reset
///     connect failure × connectFailures ──┐
///     5xx × serverErrors ─────────────────┴▶ ejected until now + min(base × 2^k, max), k += 1
///                                            (unless the service's ejected share would pass the cap)
///     ejection ends ───────────────────────▶ back in rotation, streaks reset; k decays to 0 after
///                                            `maxEjection` without a new ejection
///
/// Sans-IO: every input carries `now`, so tests walk a scenario with explicit instants. Each loop
/// keeps its own table (no lock); a dead origin is seen by every loop within a few requests, and
/// retries hide those requests from clients anyway.
package struct OutlierDetector {
    /// Thresholds and back-off.
    package struct Configuration: Sendable, Hashable {
        /// Consecutive connect failures (refused, timed out, reset before a response) that eject.
        package var connectFailures = 3
        /// Consecutive 5xx responses that eject.
        package var serverErrors = 5
        /// The first ejection's length; each further one doubles it.
        package var baseEjection: Duration = .seconds(10)
        /// The longest ejection.
        package var maxEjection: Duration = .seconds(300)
        /// At most this share (0...100) of one service's endpoints is ejected at once.
        package var maxEjectionPercent: Double = 50

        /// The defaults above.
        package init() {}
    }

    /// What one exchange with an endpoint came to.
    package enum Outcome: Sendable, Hashable {
        /// A response that was not 5xx.
        case success
        /// A 5xx response.
        case serverError
        /// The connection failed before a response: refused, timed out, reset.
        case connectFailure
    }

    /// One endpoint's record.
    struct Entry {
        var connectStreak = 0
        var errorStreak = 0
        var ejections = 0
        var ejectedUntil: Instant?
        var lastEjectionEnd = Instant.zero
    }

    package let configuration: Configuration
    private var entries: [SocketAddress: Entry] = [:]
    /// Entries currently ejected (possibly expired but not yet looked at): lets the data path
    /// skip every lookup while nothing is ejected, which is nearly always.
    package private(set) var ejectedCount = 0

    /// An empty table.
    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// True while `endpoint` is ejected at `now`.
    @inline(__always)
    package func isEjected(_ endpoint: SocketAddress, now: Instant) -> Bool {
        guard ejectedCount > 0, let until = entries[endpoint]?.ejectedUntil else { return false }
        return now < until
    }

    /// Records one outcome. `ejectedPeers` is how many other endpoints of the same service are
    /// ejected now and `serviceSize` how many endpoints it has, for the share cap. Returns true
    /// if this outcome ejected the endpoint.
    @discardableResult
    package mutating func record(_ outcome: Outcome, for endpoint: SocketAddress, now: Instant,
                                 serviceSize: Int, ejectedPeers: Int) -> Bool {
        if outcome == .success, ejectedCount == 0, entries.isEmpty { return false }   // the hot path
        var entry = entries[endpoint] ?? Entry()
        expire(&entry, now: now)
        switch outcome {
        case .success:
            entry.connectStreak = 0
            entry.errorStreak = 0
        case .serverError:
            entry.errorStreak += 1
        case .connectFailure:
            entry.connectStreak += 1
        }
        var ejected = false
        if entry.ejectedUntil == nil,
           entry.connectStreak >= configuration.connectFailures || entry.errorStreak >= configuration.serverErrors,
           Double(ejectedPeers + 1) * 100 <= configuration.maxEjectionPercent * Double(Swift.max(1, serviceSize)) {
            if now - entry.lastEjectionEnd >= configuration.maxEjection { entry.ejections = 0 }
            entry.ejectedUntil = now + Self.ejectionTime(ejections: entry.ejections, configuration: configuration)
            entry.ejections += 1
            entry.connectStreak = 0
            entry.errorStreak = 0
            ejectedCount += 1
            ejected = true
        }
        if entry.ejectedUntil == nil, entry.connectStreak == 0, entry.errorStreak == 0, entry.ejections == 0 {
            entries[endpoint] = nil            // nothing worth remembering
        } else {
            entries[endpoint] = entry
        }
        return ejected
    }

    /// Ends ejections whose time is up (called from a loop timer, and lazily by `record`).
    package mutating func sweep(now: Instant) {
        guard ejectedCount > 0 else { return }
        for (key, var entry) in entries where entry.ejectedUntil != nil {
            expire(&entry, now: now)
            entries[key] = entry
        }
    }

    /// Ends an endpoint's ejection early because an active health check found it up again
    /// (after Envoy's `successful_active_health_check_uneject_host`, on by default there): the
    /// probe has positive evidence, the back-off only a guess. The ejection count is kept, so a
    /// relapse is ejected for longer.
    package mutating func pardon(_ endpoint: SocketAddress) {
        guard var entry = entries[endpoint], entry.ejectedUntil != nil else { return }
        entry.ejectedUntil = nil
        entry.connectStreak = 0
        entry.errorStreak = 0
        ejectedCount -= 1
        entries[endpoint] = entry
    }

    /// How long the ejection after `ejections` earlier ones lasts: base × 2^k, capped.
    package static func ejectionTime(ejections: Int, configuration: Configuration) -> Duration {
        let factor = 1 << Swift.min(ejections, 20)
        let time = configuration.baseEjection * factor
        return Swift.min(time, configuration.maxEjection)
    }

    private mutating func expire(_ entry: inout Entry, now: Instant) {
        guard let until = entry.ejectedUntil, now >= until else { return }
        entry.ejectedUntil = nil
        entry.lastEjectionEnd = until
        entry.connectStreak = 0
        entry.errorStreak = 0
        ejectedCount -= 1
    }
}
