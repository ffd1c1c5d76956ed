/// How the body of a message is delimited (RFC 9112 §6.3).
package enum HTTPFraming: Sendable, Hashable {
    /// No body: a request without Content-Length or Transfer-Encoding, a 1xx/204/304 response,
    /// a response to HEAD, or a 2xx response to CONNECT.
    case none
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// Chunked transfer coding (RFC 9112 §7.1).
    case chunked
    /// Responses only: the body runs until the server closes the connection (RFC 9112 §6.3 item 8).
    case untilClose
}

/// The head of one request or response: the raw bytes, copied once from the read buffer, plus
/// index ranges into them and the fields derived from them, computed once by the parser.
///
/// For a request `method` is its method and `status` is 0. For a response `method` is the method
/// of the request it answers (as given to `HTTPParser.expectResponse(to:)`).
package struct HTTPHead: Sendable {
    /// Whether this is a request or a response head.
    package let kind: HTTPParser.Kind
    /// HTTP/1.0 or HTTP/1.1.
    package let version: HTTPVersion
    /// The request method; for a response, the method of the request it answers.
    package let method: HTTPMethod
    /// The response status code; 0 for a request.
    package let status: Int
    /// The header fields. A `var` so that a proxy can edit them in place before forwarding.
    package var headers: HTTPHeaders
    /// Whether the connection stays open after this message (RFC 9112 §9.3): HTTP/1.1 unless
    /// Connection has `close`, HTTP/1.0 only with `keep-alive`; never for a read-until-close body,
    /// nor for a response that starts a tunnel (101, or 2xx to CONNECT): HTTP/1.1 cannot follow.
    package let keepAlive: Bool
    /// How the body is delimited.
    package let framing: HTTPFraming
    /// A request that sent `Expect: 100-continue` (RFC 9110 §10.1.1; ignored for HTTP/1.0).
    package let expectsContinue: Bool
    /// Connection has `upgrade` and an Upgrade field is present (RFC 9110 §7.8); for a response,
    /// status 101.
    package let isUpgrade: Bool

    let targetRange: Range<Int>
    let reasonRange: Range<Int>

    init(kind: HTTPParser.Kind, version: HTTPVersion, method: HTTPMethod, status: Int, headers: HTTPHeaders,
         keepAlive: Bool, framing: HTTPFraming, expectsContinue: Bool, isUpgrade: Bool,
         targetRange: Range<Int>, reasonRange: Range<Int>) {
        self.kind = kind
        self.version = version
        self.method = method
        self.status = status
        self.headers = headers
        self.keepAlive = keepAlive
        self.framing = framing
        self.expectsContinue = expectsContinue
        self.isUpgrade = isUpgrade
        self.targetRange = targetRange
        self.reasonRange = reasonRange
    }

    /// The raw head as received (start line through the blank line), without leading empty lines.
    /// Fields added to `headers` after parsing are appended to the same storage, so this may grow.
    package var bytes: ArraySlice<UInt8> { headers.storage[...] }

    /// The request-target as sent (RFC 9112 §3.2); empty for a response.
    package var target: ArraySlice<UInt8> { headers.storage[targetRange] }

    /// The request-target decoded as UTF-8, for the control plane.
    package var targetString: String { String(decoding: target, as: UTF8.self) }

    /// The response reason phrase (may be empty; RFC 9112 §4 says clients should ignore it).
    package var reason: ArraySlice<UInt8> { headers.storage[reasonRange] }

    /// The reason phrase decoded as UTF-8.
    package var reasonString: String { String(decoding: reason, as: UTF8.self) }

    /// The tokens of the Connection fields, naming the hop-by-hop fields a proxy strips
    /// (RFC 9110 §7.6.1). Lazy: no allocation.
    package var connectionTokens: HTTPTokenList { headers.tokens(for: "connection") }

    /// A 1xx response other than 101: interim, followed by the final response to the same request.
    package var isInformational: Bool { kind == .response && status >= 100 && status < 200 && status != 101 }
}
