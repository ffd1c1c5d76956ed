/// A point on a monotonic timeline, measured from an arbitrary origin.
///
/// Time is a value so that every state machine in GLB can take `now:` and be tested with explicit
/// instants (STYLE.md §9.3); only the clock at the edge of the program reads the real time.
package struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the clock's origin.
    package var offset: Duration

    package init(offset: Duration) { self.offset = offset }

    package static let zero = Instant(offset: .zero)

    package static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    package static func + (a: Instant, d: Duration) -> Instant { Instant(offset: a.offset + d) }
    package static func - (a: Instant, d: Duration) -> Instant { Instant(offset: a.offset - d) }
    package static func - (a: Instant, b: Instant) -> Duration { a.offset - b.offset }

    /// Whole milliseconds since the origin, for wire formats and logs.
    package var milliseconds: Int64 { Int64(offset / .milliseconds(1)) }

    package var description: String { "\(offset)" }
}

extension Duration {
    /// Whole milliseconds, rounded toward zero: for poll(2)-style timeouts and JSON fields.
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole microseconds, rounded toward zero: for RTTs on the wire and in JSON.
    package var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Seconds as a `Double`: for Prometheus, which speaks in seconds.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
