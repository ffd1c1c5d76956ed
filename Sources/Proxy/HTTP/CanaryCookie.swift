package import GLBCore

/// The L7 canary split's client side: which side a request asks for, and the cookie that keeps a
/// client there.
///
/// A client without a cookie is placed by a draw against the service's canary percentage (the
/// same threshold DNS uses), and the first response sets `glb_canary=1` or `=0` (RFC 6265 §4.1,
/// `Path=/; HttpOnly; Max-Age=86400`), so every later request of that browser stays on its side
/// even when its address changes. `X-GLB-Canary: canary|baseline` forces a side for testing and
/// wins over the cookie; it sets no cookie.
package enum CanaryCookie {
    /// The cookie's name.
    package static let name: StaticString = "glb_canary"
    /// How long a client stays on its side: a day, so a finished canary stops pinning clients soon.
    package static let maxAgeSeconds = 86_400

    /// Where a request's side came from.
    package enum Source: Sendable, Hashable {
        /// `X-GLB-Canary`.
        case header
        /// The `glb_canary` cookie.
        case cookie
    }

    /// The side `headers` ask for, or nil when they ask for none (draw and set the cookie).
    package static func requested(in headers: HTTPHeaders) -> (choice: CanaryChoice, source: Source)? {
        if let value = headers.first("x-glb-canary") {
            if equalsIgnoringCase(value, "canary") { return (.canary, .header) }
            if equalsIgnoringCase(value, "baseline") { return (.baseline, .header) }
        }
        for value in headers.values(for: "cookie") {
            if let choice = cookieValue(in: value) { return (choice, .cookie) }
        }
        return nil
    }

    /// Finds `glb_canary=1|0` in one Cookie field (`a=b; glb_canary=1; c=d`, RFC 6265 §4.2.1).
    package static func cookieValue(in field: ArraySlice<UInt8>) -> CanaryChoice? {
        var rest = field[...]
        while !rest.isEmpty {
            let end = rest.firstIndex(of: UInt8(ascii: ";")) ?? rest.endIndex
            var pair = rest[rest.startIndex..<end]
            rest = end < rest.endIndex ? rest[(end + 1)...] : []
            while pair.first == UInt8(ascii: " ") || pair.first == 0x09 { pair = pair.dropFirst() }
            while pair.last == UInt8(ascii: " ") || pair.last == 0x09 { pair = pair.dropLast() }
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = pair[pair.startIndex..<eq]
            let matches = name.withUTF8Buffer { $0.elementsEqual(key) }
            guard matches else { continue }
            let value = pair[(eq + 1)...]
            if value.elementsEqual([UInt8(ascii: "1")]) { return .canary }
            if value.elementsEqual([UInt8(ascii: "0")]) { return .baseline }
        }
        return nil
    }

    /// Appends the `Set-Cookie` field line (with CRLF) that pins a client to `canary` or baseline.
    package static func writeSetCookie(canary: Bool, into buffer: inout ByteBuffer) {
        (canary ? setCanary : setBaseline).withUTF8Buffer { buffer.writeBytes($0) }
    }

    private static let setCanary: StaticString = "Set-Cookie: glb_canary=1; Path=/; HttpOnly; Max-Age=86400\r\n"
    private static let setBaseline: StaticString = "Set-Cookie: glb_canary=0; Path=/; HttpOnly; Max-Age=86400\r\n"

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { lit in
            guard lit.count == bytes.count else { return false }
            return zip(bytes, lit).allSatisfy { a, b in (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == b }
        }
    }
}
