#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as bytes in network order. No `String` is kept: parsing and printing go
/// through inet_pton/inet_ntop at the control-plane edge, and the data plane compares bytes.
///
/// Public, unlike the rest of GLBCore, for one reason: Swift 6.3 inlines an `@inlinable` member
/// into another module only when it is `public` (a `package` one stays a call, even
/// `@_alwaysEmitIntoClient`), and every DNS query and proxied request asks `isIPv4` and `masked`.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The four bytes in network order, packed big-endian into a `UInt32` (192.0.2.1 = 0xC0000201).
    case v4(UInt32)
    /// The sixteen bytes in network order, as two big-endian halves.
    case v6(high: UInt64, low: UInt64)

    /// Parses a textual address (`"192.0.2.1"`, `"2001:db8::1"`); nil if it is neither.
    package init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = withUnsafeBytes(of: &v6) { IPAddress(v6Bytes: $0) }
            return
        }
        return nil
    }

    /// The address from 4 or 16 bytes in network order; nil for any other length.
    package init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let all = Array(bytes)
            self = .v6(high: all[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                       low: all[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        default:
            return nil
        }
    }

    private init(v6Bytes raw: UnsafeRawBufferPointer) {
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
        self = .v6(high: high, low: low)
    }

    @inlinable public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    /// 127.0.0.0/8 or ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3).
    package var isLoopback: Bool {
        switch self {
        case .v4(let a): a >> 24 == 127
        case .v6(let high, let low): high == 0 && low == 1
        }
    }

    /// 0.0.0.0 or ::, the wildcard a listener binds to mean "every address".
    package var isUnspecified: Bool { self == .v4(0) || self == .v6(high: 0, low: 0) }

    /// The address bytes in network order (4 or 16 of them).
    package var bytes: [UInt8] {
        switch self {
        case .v4(let a):
            return (0..<4).map { UInt8(truncatingIfNeeded: a >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// The address with every bit after the first `prefix` cleared (for subnets and ECS).
    /// Inlinable: every DNS query masks its client address.
    @inlinable @inline(__always) public func masked(toPrefix prefix: Int) -> IPAddress {
        switch self {
        case .v4(let a):
            let p = Swift.max(0, Swift.min(32, prefix))
            return .v4(p == 0 ? 0 : a & (UInt32.max << (32 - p)))
        case .v6(let high, let low):
            let p = Swift.max(0, Swift.min(128, prefix))
            let h = p >= 64 ? high : (p == 0 ? 0 : high & (UInt64.max << (64 - p)))
            let l = p <= 64 ? 0 : (p == 128 ? low : low & (UInt64.max << (128 - p)))
            return .v6(high: h, low: l)
        }
    }

    /// The conventional text form (inet_ntop).
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(let a):
            var addr = in_addr(s_addr: a.bigEndian)
            inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
        case .v6:
            var addr = in6_addr()
            withUnsafeMutableBytes(of: &addr) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
