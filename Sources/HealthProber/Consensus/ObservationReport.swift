import GLBCore

/// One node's view of the targets it probes, as it travels in gossip user payloads
/// (key `obs/<node>/<part>`; docs/architecture.md "Gossip between nodes": observer, cluster, up or down,
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
        let header = 1 + 8 + 2
        var parts: [[UInt8]] = []
        var part: ArraySlice<Entry> = entries[entries.startIndex..<entries.startIndex], size = header
        func emit(_ part: ArraySlice<Entry>) {
            var buffer = ByteBuffer(capacity: budget)
            buffer.writeInteger(Self.version)
            buffer.writeInteger(sequence)
            buffer.writeInteger(UInt16(part.count))
            for entry in part {
                let name = entry.target.utf8.prefix(255)
                buffer.writeInteger(UInt8(name.count))
                buffer.writeBytes(name)
                buffer.writeInteger(UInt8((entry.up ? 1 : 0) | (entry.rtt == nil ? 0 : 2)))
                if let rtt = entry.rtt { buffer.writeInteger(UInt32(clamping: max(0, rtt.microseconds))) }
            }
            parts.append(Array(buffer.readableView))
        }
        for index in entries.indices {
            let entry = entries[index]
            let entrySize = 1 + min(255, entry.target.utf8.count) + 1 + (entry.rtt == nil ? 0 : 4)
            if !part.isEmpty && (size + entrySize > budget || part.count == Int(UInt16.max)) {
                emit(part)
                part = entries[index..<index]
                size = header
            }
            part = entries[part.startIndex...index]
            size += entrySize
        }
        emit(part)
        return parts
    }

    /// Decodes one payload; every length is checked, so hostile bytes are an error, never a trap.
    package init(decoding bytes: [UInt8]) throws(DecodeError) {
        var buffer = ByteBuffer(bytes: bytes)
        func integer<T: FixedWidthInteger>(_: T.Type) throws(DecodeError) -> T {
            guard let value = buffer.readInteger(as: T.self) else { throw .truncated }
            return value
        }
        let version = try integer(UInt8.self)
        guard version == Self.version else { throw .unsupportedVersion(version) }
        sequence = try integer(UInt64.self)
        let count = Int(try integer(UInt16.self))
        entries = []
        entries.reserveCapacity(min(count, bytes.count / 3))
        for _ in 0..<count {
            let length = Int(try integer(UInt8.self))
            guard let name = buffer.readSlice(length: length) else { throw .truncated }
            guard length > 0, let target = String(validating: name, as: UTF8.self) else { throw .invalidTarget }
            let flags = try integer(UInt8.self)
            let rtt: Duration? = flags & 2 != 0 ? .microseconds(Int64(try integer(UInt32.self))) : nil
            entries.append(Entry(target: target, up: flags & 1 != 0, rtt: rtt))
        }
        guard buffer.readableBytes == 0 else { throw .trailingBytes }
    }
}
