extension HTTPParser {
    /// What the start line said; ranges index the head bytes.
    struct StartLine {
        var version = HTTPVersion.http1_1
        var method = HTTPMethod.GET
        var target = 0..<0
        var status = 0
        var reason = 0..<0
    }

    /// The fields that decide framing and connection handling, noted while the head is indexed,
    /// so that deriving them afterwards looks nothing up by name twice.
    struct SeenFields {
        var contentLength: Int?
        var contentLengthCount = 0
        var transferEncodingCount = 0
        var connectionCount = 0
        var hostCount = 0
        var expect: Int?
        var upgradeCount = 0

        @inline(__always)
        mutating func note(_ p: UnsafeBufferPointer<UInt8>, _ field: HTTPHeaders.Field, index: Int) {
            func named(_ literal: StaticString) -> Bool {
                HTTPBytes.equalsIgnoringCase(p, field.name, literal)
            }
            switch field.name.count {
            case 4 where named("host"): hostCount += 1
            case 6 where named("expect"): expect = expect ?? index
            case 7 where named("upgrade"): upgradeCount += 1
            case 10 where named("connection"): connectionCount += 1
            case 14 where named("content-length"):
                contentLength = contentLength ?? index
                contentLengthCount += 1
            case 17 where named("transfer-encoding"): transferEncodingCount += 1
            default: break
            }
        }
    }
}

/// Derives framing, keep-alive and the other per-message facts from an indexed head, applying
/// the smuggling defences of RFC 9112 §6.1, §6.3 and §11.2.
struct HTTPHeadBuilder {
    let kind: HTTPParser.Kind
    let startLine: HTTPParser.StartLine
    let seen: HTTPParser.SeenFields
    let headers: HTTPHeaders
    let requestMethod: HTTPMethod
    let limits: HTTPLimits

    func build() throws(HTTPParseError) -> HTTPHead {
        let version = startLine.version
        let isRequest = kind == .request

        // RFC 9112 §6.3 item 5: differing Content-Length values are unrecoverable; GLB also refuses
        // repeated equal ones, since an intermediary that joins them into a list disagrees.
        guard seen.contentLengthCount <= 1 else { throw .duplicateContentLength }
        var contentLength: Int?
        if let index = seen.contentLength {
            contentLength = try Self.parseContentLength(headers[index].value)
        }

        var chunked = false
        if seen.transferEncodingCount > 0 {
            // RFC 9112 §6.1: both present "ought to be handled as an error"; it is the classic
            // request smuggling vector, so it is always an error here.
            guard contentLength == nil else { throw .contentLengthWithTransferEncoding }
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
            guard version == .http1_1 else { throw .transferEncodingInHTTP10 }
            try Self.checkTransferCodings(headers.tokens(for: "transfer-encoding"))
            chunked = true
        }

        if isRequest {
            // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, or any request with several.
            guard seen.hostCount <= 1 else { throw .duplicateHost }
            guard seen.hostCount == 1 || version == .http1_0 else { throw .missingHost }
        }

        let framing = framing(chunked: chunked, contentLength: contentLength)
        if case .contentLength(let length) = framing, length > limits.maxBodyBytes { throw .bodyTooLarge }

        var close = false
        var keepAliveToken = false
        var upgradeToken = false
        var headers = self.headers
        if seen.connectionCount > 0 {
            // One walk over the Connection tokens, on the head's bytes, also settles whether one
            // names a field the proxy must strip (`HTTPHeaders.forEachEndToEndField` would walk
            // them again for that on every forwarded head).
            var namesField = false
            headers.storage.withUnsafeBufferPointer { p in
                for field in headers.fields where field.name.count == 10 {
                    guard HTTPBytes.equalsIgnoringCase(p, field.name, "connection" as StaticString) else { continue }
                    Self.forEachListElement(p, field.value) { token in
                        func equals(_ literal: StaticString) -> Bool {
                            HTTPBytes.equalsIgnoringCase(p, token, literal)
                        }
                        if equals("close") { close = true }
                        else if equals("keep-alive") { keepAliveToken = true }
                        else if equals("upgrade") { upgradeToken = true }
                        if !namesField, !HTTPHeaders.isHopByHop(p, token), headers.containsField(named: token, in: p) { namesField = true }
                    }
                }
            }
            headers.connectionNamesField = namesField
        } else {
            headers.connectionNamesField = false
        }
        // RFC 9112 §9.3: close wins; HTTP/1.1 persists by default, HTTP/1.0 only on keep-alive.
        // A body read until close ends the connection, and after a 101 or a 2xx to CONNECT it
        // carries a tunnel, so in neither case can another HTTP message follow on it.
        let startsTunnel = !isRequest && (startLine.status == 101 || (requestMethod == .CONNECT && startLine.status / 100 == 2))
        let keepAlive = !close && (version == .http1_1 || keepAliveToken) && framing != .untilClose && !startsTunnel

        var expectsContinue = false
        if isRequest, version == .http1_1, let index = seen.expect {
            // RFC 9110 §10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
            expectsContinue = headers[index].value.withUnsafeBufferPointer { v in
                ("100-continue" as StaticString).withUTF8Buffer { HTTPBytes.equalsIgnoringCase(v, 0..<v.count, $0) }
            }
        }
        let isUpgrade = isRequest ? (upgradeToken && seen.upgradeCount > 0) : startLine.status == 101

        return HTTPHead(kind: kind, version: version, method: isRequest ? startLine.method : requestMethod,
                        status: startLine.status, headers: headers, keepAlive: keepAlive, framing: framing,
                        expectsContinue: expectsContinue, isUpgrade: isUpgrade,
                        targetRange: startLine.target, reasonRange: startLine.reason)
    }

    /// Calls `body` with the range of each element of the comma-separated list in `p[value]`,
    /// trimmed of OWS, empty elements skipped (RFC 9110 §5.6.1): `HTTPTokenList` on raw bytes.
    @inline(__always)
    static func forEachListElement(_ p: UnsafeBufferPointer<UInt8>, _ value: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = value.lowerBound
        while start < value.upperBound {
            var end = start
            while end < value.upperBound, p[end] != HTTPBytes.comma { end += 1 }
            var lower = start, upper = end
            while lower < upper, HTTPBytes.isWhitespace(p[lower]) { lower += 1 }
            while upper > lower, HTTPBytes.isWhitespace(p[upper - 1]) { upper -= 1 }
            if lower < upper { body(lower..<upper) }
            start = end + 1
        }
    }

    /// RFC 9112 §6.3, in its order.
    private func framing(chunked: Bool, contentLength: Int?) -> HTTPFraming {
        if kind == .response {
            let status = startLine.status
            // Items 1 and 2: HEAD, 1xx, 204, 304, and 2xx to CONNECT have no content.
            if requestMethod == .HEAD || status < 200 || status == 204 || status == 304 { return .none }
            if requestMethod == .CONNECT, status / 100 == 2 { return .none }
        }
        if chunked { return .chunked }
        if let contentLength { return .contentLength(contentLength) }
        // Item 7: a request without either has no body; item 8: a response reads until close.
        return kind == .request ? .none : .untilClose
    }

    /// Content-Length = 1*DIGIT (RFC 9110 §8.6). No sign, no list, no whitespace inside, and it
    /// must fit in an Int.
    static func parseContentLength(_ value: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        guard !value.isEmpty else { throw .invalidContentLength }
        var length = 0
        for byte in value {
            guard byte >= 0x30, byte <= 0x39 else { throw .invalidContentLength }
            let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
            guard !overflow1, !overflow2 else { throw .invalidContentLength }
            length = sum
        }
        return length
    }

    /// Accepts exactly one `chunked`, last (RFC 9112 §6.1, §7): chunked repeated, not final, or
    /// an empty list is 400; any other coding is 501, as GLB decodes none and will not forward
    /// a body it cannot frame.
    static func checkTransferCodings(_ codings: HTTPTokenList) throws(HTTPParseError) {
        var count = 0
        var chunkedCount = 0
        var lastIsChunked = false
        var unknown = false
        for coding in codings {
            count += 1
            lastIsChunked = coding.withUnsafeBufferPointer { c in
                ("chunked" as StaticString).withUTF8Buffer { HTTPBytes.equalsIgnoringCase(c, 0..<c.count, $0) }
            }
            if lastIsChunked { chunkedCount += 1 } else { unknown = true }
        }
        guard count > 0, chunkedCount <= 1, chunkedCount == 0 || lastIsChunked else { throw .invalidTransferEncoding }
        guard !unknown else { throw .unsupportedTransferCoding }
    }
}
