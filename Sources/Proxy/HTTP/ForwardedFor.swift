#if canImport(Glibc)
import Glibc
#endif
package import GLBCore
import CGLBLinux   // in_addr and in6_addr: the shim's header is where Swift finds them

/// Which address a proxied request's client is, for geo routing: the peer, or, when the peer is a
/// trusted proxy, the hop its `X-Forwarded-For` names. Walked from the right (the nearest hop):
/// each trusted hop is skipped and the first untrusted one is the client; a hop that is not an
/// address stops the walk and the peer is used, since whatever is left of it cannot be trusted.
/// This is the usual rightmost-untrusted rule (MDN "X-Forwarded-For", "Security and privacy"):
/// the leftmost entry is whatever the client chose to send.
package enum ForwardedFor {
    /// A network of trusted proxies.
    package typealias Network = (network: IPAddress, prefix: UInt8)

    /// The client for geo routing. Allocation-free: values are read in place and parsed with
    /// inet_pton from a stack buffer.
    package static func client(peer: IPAddress, headers: HTTPHeaders, trusted: [Network]) -> IPAddress {
        guard !trusted.isEmpty, isTrusted(peer, trusted) else { return peer }
        // Left to right, keeping what a right-to-left walk of the list so far would answer.
        var state = Walk.none
        for value in headers.values(for: "x-forwarded-for") {
            var start = value.startIndex
            while start <= value.endIndex {
                var end = start
                while end < value.endIndex && value[end] != UInt8(ascii: ",") { end += 1 }
                let element = value[start..<end]
                start = end + 1
                guard let address = parse(element) else {
                    if isBlank(element) { continue }
                    state = .garbage
                    continue
                }
                if !isTrusted(address, trusted) {
                    state = .untrusted(address)
                } else if case .none = state {
                    state = .allTrusted(leftmost: address)
                }
            }
        }
        switch state {
        case .none, .garbage: return peer
        case .untrusted(let address), .allTrusted(let address): return address
        }
    }

    private enum Walk {
        case none
        case garbage
        case untrusted(IPAddress)
        case allTrusted(leftmost: IPAddress)
    }

    @inline(__always)
    static func isTrusted(_ address: IPAddress, _ trusted: [Network]) -> Bool {
        var k = 0
        while k < trusted.count {
            let n = trusted[k]
            if n.network.isIPv4 == address.isIPv4, address.masked(toPrefix: Int(n.prefix)) == n.network { return true }
            k += 1
        }
        return false
    }

    private static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    /// An address from one list element, spaces trimmed; nil if it is not one (ports and
    /// brackets are not part of X-Forwarded-For).
    static func parse(_ raw: ArraySlice<UInt8>) -> IPAddress? {
        var lower = raw.startIndex, upper = raw.endIndex
        while lower < upper && (raw[lower] == 0x20 || raw[lower] == 0x09) { lower += 1 }
        while upper > lower && (raw[upper - 1] == 0x20 || raw[upper - 1] == 0x09) { upper -= 1 }
        let count = upper - lower
        guard count > 0, count < 46 else { return nil }           // INET6_ADDRSTRLEN
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { text -> IPAddress? in
            var k = 0
            while k < count { text[k] = CChar(bitPattern: raw[lower + k]); k += 1 }
            text[count] = 0
            var v4 = in_addr()
            if inet_pton(AF_INET, text.baseAddress, &v4) == 1 { return .v4(UInt32(bigEndian: v4.s_addr)) }
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text.baseAddress, &v6) == 1 else { return nil }
            return withUnsafeBytes(of: &v6) { raw -> IPAddress in
                var high: UInt64 = 0, low: UInt64 = 0      // not IPAddress(bytes:), which copies into an Array
                for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
                for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
                return .v6(high: high, low: low)
            }
        }
    }
}
