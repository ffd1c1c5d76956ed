/// A two-letter code, ISO 3166-1 alpha-2 country (`GB`) or continent (`EU`), packed into 16 bits
/// so the data path compares integers, not strings. Letters are stored upper-case; 0 is "unknown".
package struct GeoCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The two ASCII letters, first in the high byte.
    package let raw: UInt16

    /// No code.
    package static let unknown = GeoCode(raw: 0)

    private init(raw: UInt16) { self.raw = raw }

    /// The code from two ASCII bytes; nil unless both are letters (lower case is folded).
    @inline(__always)
    package init?(_ first: UInt8, _ second: UInt8) {
        guard let a = GeoCode.upper(first), let b = GeoCode.upper(second) else { return nil }
        raw = UInt16(a) << 8 | UInt16(b)
    }

    /// The code from text such as `"gb"`; nil unless exactly two ASCII letters.
    package init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 2 else { return nil }
        self.init(utf8[0], utf8[1])
    }

    @inline(__always)
    private static func upper(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x41...0x5A: byte
        case 0x61...0x7A: byte - 0x20
        default: nil
        }
    }

    /// True unless `unknown`.
    package var isKnown: Bool { raw != 0 }

    /// The code's letters, or `-` when unknown.
    package var description: String {
        guard isKnown else { return "-" }
        return String(decoding: [UInt8(raw >> 8), UInt8(raw & 0xFF)], as: UTF8.self)
    }

    package static func < (a: GeoCode, b: GeoCode) -> Bool { a.raw < b.raw }

    /// The seven continent codes MaxMind uses (GeoNames' continent codes): AF Africa, AN
    /// Antarctica, AS Asia, EU Europe, NA North America, OC Oceania, SA South America.
    package static let continents: Set<GeoCode> = Set(["AF", "AN", "AS", "EU", "NA", "OC", "SA"].compactMap { GeoCode($0) })
}
