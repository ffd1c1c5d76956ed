import GLBCore

/// One node's view of the targets it probes, as it travels in gossip user payloads
/// (key `obs/<node>/<part>`; DESIGN.md "Gossip between nodes": observer, cluster, up or down,
/// RTT, time). A node sends its whole view every refresh and again at each transition, split
/// into parts that each fit a gossip packet; a newer part replaces an older one in every
/// broadcast queue, so a flapping cluster never floods the network.
///
/// Wire format (big-endian), version 1:
///
///     u8 version | u64 sequence | u16 count | count × entry
///     entry: u8 target length | target bytes (UTF-8) | u8 flags (1 up, 2 has rtt) | [u32 rtt µs]
///
/// `sequence` increases with every report of the observer (its wall milliseconds, bumped when
/// equal), so receivers keep the newest report per target whatever order packets arrive in.
package struct ObservationReport: Hashable, Sendable {
    package struct Entry: Hashable, Sendable {
        package var target: String
        package var up: Bool
        package var rtt: Duration?

        package init(target: String, up: Bool, rtt: Duration? = nil) {
            self.target = target
            self.up = up
            self.rtt = rtt
        }
    }

    /// Why a payload was refused.
    package enum DecodeError: Error, Hashable, Sendable {
        case unsupportedVersion(UInt8)
        case truncated
        case trailingBytes
        case invalidTarget
    }

    package static let version: UInt8 = 1
    /// The key prefix of report payloads. Append only: it is on the wire.
    package static let keyPrefix = "obs/"

    package var sequence: UInt64
    package var entries: [Entry]

    package init(sequence: UInt64, entries: [Entry]) {
        self.sequence = sequence
        self.entries = entries
    }

    /// The report split into payloads of at most `budget` bytes each (an entry never splits;
    /// a target name is at most 255 bytes, so any budget of 300 or more holds at least one).
    package func encoded(budget: Int) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var current: [UInt8] = [], count = 0
        func start() {
            current = [Self.version]
            var s = sequence.bigEndian
            withUnsafeBytes(of: &s) { current.append(contentsOf: $0) }
            current.append(contentsOf: [0, 0])
            count = 0
        }
        func finish() {
            current[9] = UInt8(truncatingIfNeeded: count >> 8)
            current[10] = UInt8(truncatingIfNeeded: count)
            parts.append(current)
        }
        start()
        for entry in entries {
            let name = Array(entry.target.utf8.prefix(255))
            let size = 1 + name.count + 1 + (entry.rtt == nil ? 0 : 4)
            if count > 0 && (current.count + size > budget || count == Int(UInt16.max)) {
                finish()
                start()
            }
            current.append(UInt8(name.count))
            current.append(contentsOf: name)
            current.append((entry.up ? 1 : 0) | (entry.rtt == nil ? 0 : 2))
            if let rtt = entry.rtt {
                let micros = UInt32(clamping: max(0, rtt.microseconds))
                current.append(contentsOf: [UInt8(micros >> 24), UInt8(truncatingIfNeeded: micros >> 16),
                                            UInt8(truncatingIfNeeded: micros >> 8), UInt8(truncatingIfNeeded: micros)])
            }
            count += 1
        }
        finish()
        return parts
    }

    /// Decodes one payload; every length is checked, so hostile bytes are an error, never a trap.
    package init(decoding bytes: [UInt8]) throws(DecodeError) {
        var reader = Reader(bytes: bytes)
        let version = try reader.byte()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        sequence = try reader.integer(8)
        let count = Int(try reader.integer(2))
        entries = []
        entries.reserveCapacity(min(count, bytes.count / 3))
        for _ in 0..<count {
            let length = Int(try reader.byte())
            let name = try reader.take(length)
            guard length > 0, let target = String(validating: name, as: UTF8.self) else { throw .invalidTarget }
            let flags = try reader.byte()
            let rtt: Duration? = flags & 2 != 0 ? .microseconds(Int64(try reader.integer(4))) : nil
            entries.append(Entry(target: target, up: flags & 1 != 0, rtt: rtt))
        }
        guard reader.isAtEnd else { throw .trailingBytes }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0
        var isAtEnd: Bool { position == bytes.count }

        mutating func byte() throws(DecodeError) -> UInt8 {
            guard position < bytes.count else { throw .truncated }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func integer(_ width: Int) throws(DecodeError) -> UInt64 {
            var value: UInt64 = 0
            for _ in 0..<width { value = value << 8 | UInt64(try byte()) }
            return value
        }

        mutating func take(_ count: Int) throws(DecodeError) -> ArraySlice<UInt8> {
            guard bytes.count - position >= count else { throw .truncated }
            defer { position += count }
            return bytes[position..<position + count]
        }
    }
}
