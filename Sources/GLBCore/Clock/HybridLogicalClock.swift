/// A hybrid logical clock timestamp (Kulkarni et al., "Logical Physical Clocks", 2014).
///
/// Packed in 64 bits so it sorts as an integer and stores as one SQLite INTEGER:
///
///     63                                16 15             0
///     +------------------------------------+---------------+
///     |  wall time, ms since the epoch     |   logical     |
///     +------------------------------------+---------------+
///
/// 48 bits of milliseconds last until the year 10889; 16 logical bits allow 65,535 events in one
/// millisecond before the clock borrows the next one. Config rows carry one as their version, and
/// gossip merges rows last-writer-wins by (version, node id).
package struct HLCTimestamp: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    package var rawValue: UInt64

    package init(rawValue: UInt64) { self.rawValue = rawValue }
    package init(wallMilliseconds: Int64, logical: UInt16) {
        rawValue = UInt64(max(0, wallMilliseconds)) << 16 | UInt64(logical)
    }

    package static let zero = HLCTimestamp(rawValue: 0)

    package var wallMilliseconds: Int64 { Int64(rawValue >> 16) }
    package var logical: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    package static func < (a: HLCTimestamp, b: HLCTimestamp) -> Bool { a.rawValue < b.rawValue }

    package init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(UInt64.self)
    }
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    package var description: String { "\(wallMilliseconds).\(logical)" }

    /// The form people read, wherever a config version is shown (status, members, gossip
    /// metadata): the writer's wall time in RFC 3339 UTC with milliseconds, and `+N` for the
    /// logical counter when it is not 0 (`2026-12-08T00:48:56.123Z+2`). Versions older than any
    /// write (the agent's own seed rows, at wall time 0) read `initial`.
    package var readable: String {
        let suffix = logical == 0 ? "" : "+\(logical)"
        guard wallMilliseconds > 0 else { return "initial" + suffix }
        let seconds = UTCTimestamp.format(secondsSinceEpoch: wallMilliseconds / 1000)
        let millis = String(wallMilliseconds % 1000)
        return seconds.dropLast() + "." + String(repeating: "0", count: 3 - millis.count) + millis + "Z" + suffix
    }
}

/// The clock state of one node. Sans-IO: the caller passes the wall time it read.
package struct HybridLogicalClock: Sendable {
    package private(set) var last: HLCTimestamp

    package init(last: HLCTimestamp = .zero) { self.last = last }

    /// A timestamp for a local event: greater than every timestamp this clock has issued or seen.
    package mutating func tick(wallMilliseconds wall: Int64) -> HLCTimestamp {
        let candidate = HLCTimestamp(wallMilliseconds: wall, logical: 0)
        last = candidate > last ? candidate : Self.successor(of: last)
        return last
    }

    /// Merges a timestamp received from a peer, so that later local events order after it.
    /// A peer whose clock runs ahead drags ours forward by at most what it sent; the logical
    /// counter keeps the order total while the wall clocks disagree.
    package mutating func observe(_ remote: HLCTimestamp, wallMilliseconds wall: Int64) -> HLCTimestamp {
        let candidate = HLCTimestamp(wallMilliseconds: wall, logical: 0)
        let highest = max(last, remote)
        last = candidate > highest ? candidate : Self.successor(of: highest)
        return last
    }

    /// The next timestamp after `t`; the logical counter carries into the millisecond field.
    private static func successor(of t: HLCTimestamp) -> HLCTimestamp {
        HLCTimestamp(rawValue: t.rawValue &+ 1)
    }
}
