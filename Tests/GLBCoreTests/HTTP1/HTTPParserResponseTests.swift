import GLBCore
import Testing

struct ResponseCase: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: String
    let methods: [HTTPMethod]
    let expected: [Event]
    var testDescription: String { name }
}

let validResponses: [ResponseCase] = [
    ResponseCase(name: "200 with Content-Length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", methods: [], expected: [
        .head("HTTP/1.1 200 OK ka framing=contentLength(5) | Content-Length: 5"), .body("hello"), .end,
    ]),
    ResponseCase(name: "response to HEAD has no body, then the next response parses",
                 raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", methods: [.HEAD, .GET], expected: [
                     .head("HTTP/1.1 200 OK ka framing=none | Content-Length: 5"), .end,
                     .head("HTTP/1.1 200 OK ka framing=contentLength(2) | Content-Length: 2"), .body("hi"), .end,
                 ]),
    ResponseCase(name: "204 has no body", raw: "HTTP/1.1 204 No Content\r\n\r\n", methods: [], expected: [
        .head("HTTP/1.1 204 No Content ka framing=none"), .end,
    ]),
    ResponseCase(name: "304 ignores Content-Length", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", methods: [], expected: [
        .head("HTTP/1.1 304 Not Modified ka framing=none | Content-Length: 10"), .end,
    ]),
    ResponseCase(name: "100 Continue then 200", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", methods: [.PUT], expected: [
        .head("HTTP/1.1 100 Continue ka framing=none"),
        .head("HTTP/1.1 200 OK ka framing=contentLength(2) | Content-Length: 2"), .body("ok"), .end,
    ]),
    ResponseCase(name: "103 Early Hints then HEAD's 200", raw: "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", methods: [.HEAD], expected: [
        .head("HTTP/1.1 103 Early Hints ka framing=none | Link: </s.css>"),
        .head("HTTP/1.1 200 OK ka framing=none | Content-Length: 9"), .end,
    ]),
    ResponseCase(name: "read until close", raw: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\nuntil EOF", methods: [], expected: [
        .head("HTTP/1.1 200 OK close framing=untilClose | Content-Type: text/plain"), .body("all of this\r\nuntil EOF"), .end,
    ]),
    ResponseCase(name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;x=y\r\nd\r\n0\r\nServer-Timing: a\r\n\r\n", methods: [], expected: [
        .head("HTTP/1.1 200 OK ka framing=chunked | Transfer-Encoding: chunked"), .body("abcd"), .end,
    ]),
    ResponseCase(name: "status line without reason", raw: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", methods: [], expected: [
        .head("HTTP/1.1 200  ka framing=contentLength(0) | Content-Length: 0"), .end,
    ]),
    ResponseCase(name: "empty reason", raw: "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", methods: [], expected: [
        .head("HTTP/1.1 404  ka framing=contentLength(0) | Content-Length: 0"), .end,
    ]),
    ResponseCase(name: "HTTP/1.0 response closes", raw: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", methods: [], expected: [
        .head("HTTP/1.0 200 OK close framing=contentLength(1) | Content-Length: 1"), .body("x"), .end,
    ]),
    ResponseCase(name: "Connection: close", raw: "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", methods: [], expected: [
        .head("HTTP/1.1 503 Service Unavailable close framing=contentLength(0) | Connection: close | Content-Length: 0"), .end,
    ]),
]

@Test(arguments: validResponses)
func validResponseParsesToExpectedParts(_ c: ResponseCase) throws {
    #expect(try parse(c.raw.bytes, kind: .response, methods: c.methods) == c.expected)
}

@Test(arguments: validResponses)
func responseFedByteAtATimeYieldsTheSameParts(_ c: ResponseCase) throws {
    let whole = try parse(c.raw.bytes, kind: .response, methods: c.methods)
    #expect(try parse(c.raw.bytes, kind: .response, pieceSize: 1, methods: c.methods) == whole)
    #expect(try parse(c.raw.bytes, kind: .response, pieceSize: 7, methods: c.methods) == whole)
}

@Test func switchingProtocolsEndsParsingAndLeavesTunnelBytes() throws {
    var remaining = ByteBuffer()
    let raw = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\u{81}\u{5}hello"
    let events = try parse(raw.bytes, kind: .response, remaining: &remaining)
    #expect(events == [.head("HTTP/1.1 101 Switching Protocols close framing=none upgrade | Connection: upgrade | Upgrade: websocket"), .end])
    #expect(remaining.readableView.elementsEqual("\u{81}\u{5}hello".utf8))
}

@Test func successfulConnectStartsATunnel() throws {
    var remaining = ByteBuffer()
    let events = try parse("HTTP/1.1 200 Connection Established\r\n\r\nTLS bytes".bytes, kind: .response, methods: [.CONNECT], remaining: &remaining)
    #expect(events == [.head("HTTP/1.1 200 Connection Established close framing=none"), .end])
    #expect(remaining.readableView.elementsEqual("TLS bytes".utf8))
}

@Test(arguments: [
    ("HTTP/1.1 2000 OK\r\n\r\n", HTTPParseError.invalidStatusLine),
    ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1 600 High\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1 20x OK\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1\r\n\r\n", .invalidStatusLine),
    ("HTTP/2 200 OK\r\n\r\n", .invalidStatusLine),
    ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),
    ("\r\nHTTP/1.1 200 OK\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", .duplicateContentLength),
    ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding),
    ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", .truncated),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", .truncated),
    ("HTTP/1.1 100 Continue\r\n\r\n", .truncated),
    ("HTTP/1.1 200 OK\r\nServer: x\r\n", .truncated),
])
func malformedOrCutResponseIsRefused(raw: String, error: HTTPParseError) {
    #expect(parseError(raw.bytes, kind: .response) == error)
    #expect(parseError(raw.bytes, kind: .response, pieceSize: 1) == error)
}
