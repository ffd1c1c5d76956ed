package import GLBCore

/// Rewrites heads as they cross the proxy (RFC 9110 §7.6, RFC 9112), writing straight into the
/// outgoing buffer: no `String`, no intermediate header list, and the parsed head's own bytes
/// are copied once, into the socket buffer.
///
/// Requests, client → origin:
/// - hop-by-hop fields go (Connection, every field it names, Keep-Alive, TE, Transfer-Encoding,
///   Upgrade, Trailer, Proxy-Connection: `HTTPHeaders.forEachEndToEndField`);
/// - `X-Forwarded-For` is appended to (the client's address after any earlier hops);
///   `X-Forwarded-Proto` and `X-Forwarded-Host` are set by GLB, replacing what the client sent,
///   because GLB is the edge and those values from a client could be forged;
/// - `X-Request-Id` is added when missing; `traceparent` and every other end-to-end field pass;
/// - `Expect` goes: GLB answers `100 Continue` itself once it has an upstream (RFC 9110 §10.1.1
///   lets a proxy do so), and then streams the body, so the origin never waits for it;
/// - the request is always sent as HTTP/1.1, with the body re-framed: chunked stays chunked,
///   Content-Length stays; an Upgrade request keeps `Connection: upgrade` and its `Upgrade`.
///
/// Responses, origin → client: hop-by-hop fields go; `Transfer-Encoding: chunked` when GLB
/// re-chunks; `Connection: close` when the client connection ends after this response (or
/// `keep-alive` for an HTTP/1.0 client that asked); the canary cookie when one is due.
package enum HeadRewriter {
    /// What GLB adds to a forwarded request.
    package struct RequestContext {
        /// The client's address as text (`192.0.2.1`, `2001:db8::1`).
        package var clientAddress: [UInt8]
        /// A fresh id, used only when the request has no `X-Request-Id`.
        package var requestID: (UInt64, UInt64)
        /// The client connection is TLS: `X-Forwarded-Proto: https`.
        package var https: Bool

        /// Memberwise.
        package init(clientAddress: [UInt8], requestID: (UInt64, UInt64), https: Bool = false) {
            self.clientAddress = clientAddress
            self.requestID = requestID
            self.https = https
        }
    }

    /// Appends the head to send upstream for the client request `head`.
    package static func writeRequest(_ head: HTTPHead, context: RequestContext, into buffer: inout ByteBuffer) {
        // Not a mutable copy with the hop-by-hop fields removed: the copy would share the parsed
        // head's field index and copy it on the first removal, one allocation per message.
        let headers = head.headers
        let upgrade = head.isUpgrade ? headers.first("upgrade") : nil
        let host = headers.first("host")
        let hasRequestID = headers.contains("x-request-id")

        head.method.withBytes { buffer.writeBytes($0) }
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeBytes(head.target)
        literal(" HTTP/1.1\r\n", into: &buffer)
        var forwardedFor = false
        headers.writeEndToEndFields(into: &buffer) { name in
            switch dropped(name) {
            case .keep: return true
            case .forwardedFor: forwardedFor = true
            case .drop: break
            }
            return false
        }
        literal("X-Forwarded-For: ", into: &buffer)
        if forwardedFor {
            // Earlier hops' addresses in order, then ours, as one field (RFC 9110 §5.3 lets a
            // list-valued field's lines be combined with commas).
            headers.forEachEndToEndField { name, value in
                guard dropped(name) == .forwardedFor else { return }
                buffer.writeBytes(value)
                literal(", ", into: &buffer)
            }
        }
        buffer.writeBytes(context.clientAddress)
        if context.https {
            literal("\r\nX-Forwarded-Proto: https\r\n", into: &buffer)
        } else {
            literal("\r\nX-Forwarded-Proto: http\r\n", into: &buffer)
        }
        if let host {
            literal("X-Forwarded-Host: ", into: &buffer)
            buffer.writeBytes(host)
            crlf(into: &buffer)
        }
        if !hasRequestID {
            literal("X-Request-Id: ", into: &buffer)
            writeHex(context.requestID.0, into: &buffer)
            writeHex(context.requestID.1, into: &buffer)
            crlf(into: &buffer)
        }
        if head.framing == .chunked { literal("Transfer-Encoding: chunked\r\n", into: &buffer) }
        if let upgrade {
            literal("Connection: upgrade\r\nUpgrade: ", into: &buffer)
            buffer.writeBytes(upgrade)
            crlf(into: &buffer)
        }
        crlf(into: &buffer)
    }

    /// How the response body goes to the client.
    package struct ResponseFraming: Sendable, Hashable {
        /// Re-chunk the body (the origin sent chunked or read-until-close to an HTTP/1.1 client).
        package var chunked: Bool
        /// The client connection closes after this response.
        package var close: Bool
        /// The client spoke HTTP/1.0 and the connection stays open: say so (RFC 9112 §9.3).
        package var keepAlive10: Bool

        /// Memberwise.
        package init(chunked: Bool, close: Bool, keepAlive10: Bool) {
            self.chunked = chunked
            self.close = close
            self.keepAlive10 = keepAlive10
        }
    }

    /// Appends the head to send the client for the origin's response `head`. `setCookie` is the
    /// canary side to pin with a cookie, if one is due.
    package static func writeResponse(_ head: HTTPHead, framing: ResponseFraming, setCookie: Bool?, into buffer: inout ByteBuffer) {
        let headers = head.headers
        let upgrade = head.status == 101 ? headers.first("upgrade") : nil
        literal("HTTP/1.1 ", into: &buffer)
        let status = head.status
        buffer.writeInteger(UInt8(0x30 + status / 100))
        buffer.writeInteger(UInt8(0x30 + status / 10 % 10))
        buffer.writeInteger(UInt8(0x30 + status % 10))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeBytes(head.reason)
        crlf(into: &buffer)
        headers.writeEndToEndFields(into: &buffer) { _ in true }
        if framing.chunked { literal("Transfer-Encoding: chunked\r\n", into: &buffer) }
        if let upgrade {
            literal("Connection: upgrade\r\nUpgrade: ", into: &buffer)
            buffer.writeBytes(upgrade)
            crlf(into: &buffer)
        } else if framing.close {
            literal("Connection: close\r\n", into: &buffer)
        } else if framing.keepAlive10 {
            literal("Connection: keep-alive\r\n", into: &buffer)
        }
        if let setCookie { CanaryCookie.writeSetCookie(canary: setCookie, into: &buffer) }
        crlf(into: &buffer)
    }

    /// Appends a complete short response GLB makes itself (404, 408, 502, ...): plain text,
    /// Content-Length, and `Connection: close` when `close`.
    package static func writeError(status: Int, close: Bool, into buffer: inout ByteBuffer) {
        let body = errorBody(status)
        literal("HTTP/1.1 ", into: &buffer)
        body.withUTF8Buffer { buffer.writeBytes($0.prefix($0.count - 1)) }     // "502 Bad Gateway"
        literal("\r\nContent-Type: text/plain\r\nContent-Length: ", into: &buffer)
        writeDecimal(body.utf8CodeUnitCount, into: &buffer)
        if close { literal("\r\nConnection: close", into: &buffer) }
        literal("\r\n\r\n", into: &buffer)
        body.withUTF8Buffer { buffer.writeBytes($0) }
    }

    /// The body of an error GLB answers itself: the status line's text and a newline.
    package static func errorBody(_ status: Int) -> StaticString {
        switch status {
        case 400: "400 Bad Request\n"
        case 404: "404 Not Found\n"
        case 405: "405 Method Not Allowed\n"
        case 408: "408 Request Timeout\n"
        case 413: "413 Content Too Large\n"
        case 414: "414 URI Too Long\n"
        case 431: "431 Request Header Fields Too Large\n"
        case 501: "501 Not Implemented\n"
        case 502: "502 Bad Gateway\n"
        case 503: "503 Service Unavailable\n"
        case 504: "504 Gateway Timeout\n"
        case 505: "505 HTTP Version Not Supported\n"
        default: "500 Internal Server Error\n"
        }
    }

    /// The interim response GLB sends for `Expect: 100-continue`.
    package static func writeContinue(into buffer: inout ByteBuffer) {
        literal("HTTP/1.1 100 Continue\r\n\r\n", into: &buffer)
    }

    /// The text form of `ip`, once per client connection (inet_ntop).
    package static func addressText(_ ip: IPAddress) -> [UInt8] {
        guard case .v4(let address) = ip else { return Array(ip.description.utf8) }
        // Dotted quad by hand: inet_ntop goes through sprintf, ~2k instructions per connection.
        var text: [UInt8] = []
        text.reserveCapacity(15)
        for shift in stride(from: UInt32(24), through: 0, by: -8) {
            let octet = UInt8(truncatingIfNeeded: address >> shift)
            if shift != 24 { text.append(UInt8(ascii: ".")) }
            if octet >= 100 { text.append(0x30 + octet / 100) }
            if octet >= 10 { text.append(0x30 + octet / 10 % 10) }
            text.append(0x30 + octet % 10)
        }
        return text
    }

    // MARK: Pieces

    private enum FieldFate { case keep, forwardedFor, drop }

    /// Fields GLB replaces or drops on a forwarded request, besides the hop-by-hop ones.
    @inline(__always)
    private static func dropped(_ name: ArraySlice<UInt8>) -> FieldFate {
        switch name.count {
        case 6 where equalsIgnoringCase(name, "expect"): .drop
        case 15 where equalsIgnoringCase(name, "x-forwarded-for"): .forwardedFor
        case 16 where equalsIgnoringCase(name, "x-forwarded-host"): .drop
        case 17 where equalsIgnoringCase(name, "x-forwarded-proto"): .drop
        default: .keep
        }
    }

    @inline(__always)
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lower: StaticString) -> Bool {
        lower.withUTF8Buffer { lit in
            guard lit.count == bytes.count else { return false }
            var i = bytes.startIndex, j = 0
            while j < lit.count {
                let a = bytes[i]
                if (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) != lit[j] { return false }
                i += 1
                j += 1
            }
            return true
        }
    }

    @inline(__always)
    static func literal(_ text: StaticString, into buffer: inout ByteBuffer) {
        text.withUTF8Buffer { buffer.writeBytes($0) }
    }

    @inline(__always)
    private static func crlf(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(0x0D0A))
    }

    /// Sixteen lower-case hex digits, built on the stack and appended with one write (a write
    /// per digit cost ~1k instructions per request).
    private static func writeHex(_ value: UInt64, into buffer: inout ByteBuffer) {
        var text: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &text) { raw in
            for i in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * i)) & 0xF
                raw[i] = nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
            }
        }
        withUnsafeBytes(of: &text) { buffer.writeBytes($0) }
    }

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        var divisor = 1
        while divisor * 10 <= value { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.writeInteger(UInt8(0x30 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
