import GLBCore
import GLBTestSupport
import Testing

struct RequestCase: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: String
    let expected: [Event]
    var testDescription: String { name }
}

let validRequests: [RequestCase] = [
    RequestCase(name: "simple GET", raw: "GET /index.html?q=1 HTTP/1.1\r\nHost: www.glb.example\r\nAccept: */*\r\n\r\n", expected: [
        .head("GET /index.html?q=1 HTTP/1.1 ka framing=none | Host: www.glb.example | Accept: */*"), .end,
    ]),
    RequestCase(name: "POST with Content-Length", raw: "POST /v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world", expected: [
        .head("POST /v1 HTTP/1.1 ka framing=contentLength(11) | Host: a | Content-Length: 11"), .body("hello world"), .end,
    ]),
    RequestCase(name: "Content-Length 0", raw: "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", expected: [
        .head("PUT /x HTTP/1.1 ka framing=contentLength(0) | Host: a | Content-Length: 0"), .end,
    ]),
    RequestCase(name: "chunked with extensions and trailers",
                raw: "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n6 ; x ; y=z\r\n world\r\nA\r\n0123456789\r\n0;last\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n",
                expected: [
                    .head("POST /up HTTP/1.1 ka framing=chunked | Host: a | Transfer-Encoding: Chunked"), .body("hello world0123456789"), .end,
                ]),
    RequestCase(name: "chunked with no data chunks", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", expected: [
        .head("POST / HTTP/1.1 ka framing=chunked | Host: a | Transfer-Encoding: chunked"), .end,
    ]),
    RequestCase(name: "pipelined GET, POST, GET",
                raw: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                expected: [
                    .head("GET /1 HTTP/1.1 ka framing=none | Host: a"), .end,
                    .head("POST /2 HTTP/1.1 ka framing=contentLength(3) | Host: a | Content-Length: 3"), .body("abc"), .end,
                    .head("GET /3 HTTP/1.1 close framing=none | Host: a | Connection: close"), .end,
                ]),
    RequestCase(name: "leading empty lines are skipped", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", expected: [
        .head("GET / HTTP/1.1 ka framing=none | Host: a"), .end,
    ]),
    RequestCase(name: "HTTP/1.0 without Host", raw: "GET / HTTP/1.0\r\n\r\n", expected: [
        .head("GET / HTTP/1.0 close framing=none"), .end,
    ]),
    RequestCase(name: "unknown method and absolute-form target", raw: "PURGE http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n", expected: [
        .head("PURGE http://a.example/x HTTP/1.1 ka framing=none | Host: a.example"), .end,
    ]),
    RequestCase(name: "OWS trimmed, HTAB and obs-text kept inside values", raw: "GET / HTTP/1.1\r\nHost:a\r\nX-V: \t a\tb\u{E9} \t\r\nX-Empty:\r\n\r\n", expected: [
        .head("GET / HTTP/1.1 ka framing=none | Host: a | X-V: a\tb\u{E9} | X-Empty: "), .end,
    ]),
    RequestCase(name: "Expect: 100-continue", raw: "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok", expected: [
        .head("PUT /f HTTP/1.1 ka framing=contentLength(2) 100-continue | Host: a | Expect: 100-Continue | Content-Length: 2"), .body("ok"), .end,
    ]),
    RequestCase(name: "upgrade to websocket", raw: "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", expected: [
        .head("GET /ws HTTP/1.1 ka framing=none upgrade | Host: a | Connection: keep-alive, Upgrade | Upgrade: websocket"), .end,
    ]),
    RequestCase(name: "CONNECT authority-form", raw: "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", expected: [
        .head("CONNECT a.example:443 HTTP/1.1 ka framing=none | Host: a.example:443"), .end,
    ]),
]

@Test(arguments: validRequests)
func validRequestParsesToExpectedParts(_ c: RequestCase) throws {
    #expect(try parse(c.raw.bytes, kind: .request) == c.expected)
}

@Test(arguments: validRequests)
func byteAtATimeFeedingYieldsTheSamePartsAsAllAtOnce(_ c: RequestCase) throws {
    let whole = try parse(c.raw.bytes, kind: .request)
    #expect(try parse(c.raw.bytes, kind: .request, pieceSize: 1) == whole)
    var random = SplitMix64(seed: UInt64(c.raw.utf8.count))
    for _ in 0..<20 {
        let piece = Int(random.next() % 17) + 2
        #expect(try parse(c.raw.bytes, kind: .request, pieceSize: piece) == whole)
    }
}

@Test func pipelinedParserNeverConsumesBeyondTheCurrentMessage() throws {
    var parser = HTTPParser(kind: .request)
    var buffer = ByteBuffer(string: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /next HTTP/1.1\r\n")
    guard case .head = try parser.next(from: &buffer) else { Issue.record("no head"); return }
    guard case .body(let body) = try parser.next(from: &buffer) else { Issue.record("no body"); return }
    #expect(Array(body) == "hi".bytes)
    guard case .end = try parser.next(from: &buffer) else { Issue.record("no end"); return }
    #expect(buffer.readableView.elementsEqual("GET /next HTTP/1.1\r\n".utf8))
    #expect(try parser.next(from: &buffer) == nil)
}

struct KeepAliveCase: Sendable {
    let version: String
    let connection: String?
    let keepAlive: Bool
}

@Test(arguments: [
    KeepAliveCase(version: "1.1", connection: nil, keepAlive: true),
    KeepAliveCase(version: "1.1", connection: "close", keepAlive: false),
    KeepAliveCase(version: "1.1", connection: "Close", keepAlive: false),
    KeepAliveCase(version: "1.1", connection: "keep-alive", keepAlive: true),
    KeepAliveCase(version: "1.1", connection: "keep-alive, close", keepAlive: false),
    KeepAliveCase(version: "1.1", connection: "upgrade", keepAlive: true),
    KeepAliveCase(version: "1.0", connection: nil, keepAlive: false),
    KeepAliveCase(version: "1.0", connection: "keep-alive", keepAlive: true),
    KeepAliveCase(version: "1.0", connection: "Keep-Alive", keepAlive: true),
    KeepAliveCase(version: "1.0", connection: "close", keepAlive: false),
    KeepAliveCase(version: "1.0", connection: "te, keep-alive", keepAlive: true),
])
func keepAliveFollowsVersionAndConnection(_ c: KeepAliveCase) throws {
    let connection = c.connection.map { "Connection: \($0)\r\n" } ?? ""
    var buffer = ByteBuffer(string: "GET / HTTP/\(c.version)\r\nHost: a\r\n\(connection)\r\n")
    var parser = HTTPParser(kind: .request)
    guard case .head(let head)? = try parser.next(from: &buffer) else { Issue.record("no head"); return }
    #expect(head.keepAlive == c.keepAlive)
}

@Test func longTargetIsRefusedWith414EvenBeforeTheLineEnds() {
    let target = "/" + String(repeating: "a", count: 9000)
    #expect(parseError("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n".bytes, kind: .request)?.status == 414)
    #expect(parseError("GET \(target)".bytes, kind: .request)?.status == 414)
    let ok = "/" + String(repeating: "a", count: 8000)
    #expect(parseError("GET \(ok) HTTP/1.1\r\nHost: a\r\n\r\n".bytes, kind: .request) == nil)
}

@Test func oversizeHeadsAreRefusedWith431() {
    let many = (0...100).map { "X-\($0): v\r\n" }.joined()
    #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\n\(many)\r\n".bytes, kind: .request) == .tooManyHeaders)
    let hundred = (0..<99).map { "X-\($0): v\r\n" }.joined()
    #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\n\(hundred)\r\n".bytes, kind: .request) == nil)
    let big = "X-Big: " + String(repeating: "b", count: 40_000) + "\r\n"
    #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\n\(big)\r\n".bytes, kind: .request) == .headTooLarge)
    #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\n\(big)".bytes, kind: .request)?.status == 431)
}

@Test func idleParserAtEOFReturnsNilAndPartialHeadIsTruncated() throws {
    #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes, kind: .request).last == .end)
    #expect(parseError("GET / HT".bytes, kind: .request) == .truncated)
    #expect(parseError("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab".bytes, kind: .request) == .truncated)
    #expect(parseError("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".bytes, kind: .request) == .truncated)
}

@Test func failedParserKeepsThrowingTheSameError() {
    var parser = HTTPParser(kind: .request)
    var buffer = ByteBuffer(string: "GET / HTTP/1.1\nHost: a\r\n\r\n")
    #expect(throws: HTTPParseError.bareLF) { _ = try parser.next(from: &buffer) }
    var fresh = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(throws: HTTPParseError.bareLF) { _ = try parser.next(from: &fresh) }
}

/// A closed connection's head storage, handed to a new connection's parser, parses the same heads,
/// including one longer than the storage held and one after the storage is still shared.
@Test func headStorageMovesFromOneParserToTheNext() throws {
    func firstHead(_ raw: String, _ parser: inout HTTPParser) throws -> HTTPHead? {
        var buffer = ByteBuffer()
        buffer.writeBytes(Array(raw.utf8))
        while let part = try parser.next(from: &buffer) { if case .head(let head) = part { return head } }
        return nil
    }
    var first = HTTPParser(kind: .request)
    let kept = try #require(try firstHead("GET /a HTTP/1.1\r\nHost: one\r\n\r\n", &first))
    var second = HTTPParser(kind: .request)
    second.adoptHeadStorage(first.takeHeadStorage())
    let long = "GET /" + String(repeating: "b", count: 300) + " HTTP/1.1\r\nHost: two\r\nAccept: */*\r\n\r\n"
    let head = try #require(try firstHead(long, &second))
    #expect(summary(head) == "GET /\(String(repeating: "b", count: 300)) HTTP/1.1 ka framing=none | Host: two | Accept: */*")
    // The first head still holds its bytes: the storage was shared, so it was copied, not overwritten.
    #expect(summary(kept) == "GET /a HTTP/1.1 ka framing=none | Host: one")
    var third = HTTPParser(kind: .request)
    third.adoptHeadStorage(second.takeHeadStorage())
    let again = try #require(try firstHead("POST /c HTTP/1.1\r\nHost: three\r\nContent-Length: 0\r\n\r\n", &third))
    #expect(summary(again) == "POST /c HTTP/1.1 ka framing=contentLength(0) | Host: three | Content-Length: 0")
}
