/// A domain name in uncompressed wire form (RFC 1035 §3.1): length-prefixed labels ending with the
/// root's zero byte, ASCII letters lower-cased so that equal names have equal bytes (RFC 4343).
///
/// Built on the control plane (from configuration text) and kept in the routing snapshot. The query
/// path never makes one: it hashes and compares the packet's bytes in place through `NameTable`.
package struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The wire bytes, lower-cased, root label included (`[3, w, w, w, 0]`).
    package let wire: [UInt8]

    /// The root name, a single zero byte.
    package static let root = DNSName(checkedWire: [0])

    private init(checkedWire: [UInt8]) { wire = checkedWire }

    /// Parses presentation form: `"www.glb.example."` or `"www.glb.example"` (both absolute).
    /// `"."` or `""` is the root. No `\` escapes. Nil for an empty label, a label over 63 bytes or a
    /// name over 255 bytes (RFC 1035 §2.3.4).
    package init?(_ text: String) {
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        let utf8 = Array(text.utf8)
        if utf8 == [UInt8(ascii: ".")] { self = .root; return }   // "." alone is the root
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard !current.isEmpty else { return nil }         // an empty label: "a..b", ".a"
                labels.append(current)
                current.removeAll()
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { labels.append(current) }
        self.init(labels: labels)
    }

    /// Builds a name from raw labels (each 1...63 bytes, case folded here); nil past the limits.
    package init?(labels: [[UInt8]]) {
        var wire: [UInt8] = []
        for label in labels {
            guard !label.isEmpty, label.count <= DNSLimits.maxLabel else { return nil }
            wire.append(UInt8(label.count))
            for byte in label { wire.append(DNSName.fold(byte)) }
        }
        wire.append(0)
        guard wire.count <= DNSLimits.maxName else { return nil }
        self.wire = wire
    }

    /// Validates and folds uncompressed wire bytes; nil if they are not exactly one name.
    package init?(wire bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        var i = 0
        while i < bytes.count {
            let length = Int(bytes[i])
            if length == 0 {
                guard i == bytes.count - 1, bytes.count <= DNSLimits.maxName else { return nil }
                self.wire = bytes.map(DNSName.fold)
                return
            }
            guard length <= DNSLimits.maxLabel else { return nil }
            i += 1 + length
        }
        return nil
    }

    /// The labels, leftmost first, without the root.
    package var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var i = 0
        while wire[i] != 0 {
            let length = Int(wire[i])
            result.append(wire[(i + 1)...(i + length)])
            i += 1 + length
        }
        return result
    }

    /// The number of labels, root excluded.
    package var labelCount: Int { labels.count }

    /// This name with `prefix` (a relative name such as `"www"` or `"a.b"`) in front; `""` and `"@"`
    /// give the name itself. Nil if the result breaks a limit.
    package func prepending(_ prefix: String) -> DNSName? {
        if prefix.isEmpty || prefix == "@" { return self }
        let trimmed = prefix.hasSuffix(".") ? String(prefix.dropLast()) : prefix
        guard let relative = DNSName(trimmed), relative.wire != [0] else { return nil }
        return DNSName(wire: relative.wire.dropLast() + wire)
    }

    /// The name with its leftmost label removed; nil for the root.
    package var parent: DNSName? {
        guard wire[0] != 0 else { return nil }
        return DNSName(checkedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// True if this name equals `other` or lies below it.
    package func isSubdomain(of other: DNSName) -> Bool {
        guard wire.count >= other.wire.count else { return false }
        // Only a label boundary may start the suffix: walk the labels instead of comparing bytes.
        var i = 0
        while wire.count - i > other.wire.count { i += 1 + Int(wire[i]) }
        return wire.count - i == other.wire.count && wire[i...].elementsEqual(other.wire)
    }

    /// Presentation form with a trailing dot (`"www.glb.example."`, root is `"."`).
    package var description: String {
        if wire == [0] { return "." }
        var text = ""
        for label in labels {
            text += String(decoding: label, as: UTF8.self)
            text += "."
        }
        return text
    }

    /// ASCII lower-casing of one byte (RFC 4343 §3: only A-Z fold). Length bytes (0...63) are never
    /// in 0x41...0x5A, so whole wire names can be folded byte by byte.
    @inline(__always)
    package static func fold(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }
}
