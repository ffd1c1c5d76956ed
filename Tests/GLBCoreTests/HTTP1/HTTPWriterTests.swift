import GLBCore
import Testing

@Test func requestHeadRoundTripsThroughTheParser() throws {
    var buffer = ByteBuffer()
    try HTTPWriter.writeRequestHead(method: .POST, target: "/v1/services/www?x=1",
                                    headers: [("Host", "127.0.0.1:9090"), ("Content-Length", "2"), ("X-Dup", "a"), ("X-Dup", "b")], into: &buffer)
    buffer.writeString("{}")
    #expect(String(decoding: buffer.readableView, as: UTF8.self)
        == "POST /v1/services/www?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nContent-Length: 2\r\nX-Dup: a\r\nX-Dup: b\r\n\r\n{}")
    #expect(try parse(Array(buffer.readableView), kind: .request) == [
        .head("POST /v1/services/www?x=1 HTTP/1.1 ka framing=contentLength(2) | Host: 127.0.0.1:9090 | Content-Length: 2 | X-Dup: a | X-Dup: b"),
        .body("{}"), .end,
    ])
}

@Test func responseHeadUsesTheRegisteredReasonByDefault() throws {
    var buffer = ByteBuffer()
    try HTTPWriter.writeResponseHead(status: 431, headers: [("Connection", "close"), ("Content-Length", "0")], into: &buffer)
    #expect(String(decoding: buffer.readableView, as: UTF8.self)
        == "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    var custom = ByteBuffer()
    try HTTPWriter.writeResponseHead(status: 299, reason: "Fine", version: .http1_0, headers: [], into: &custom)
    #expect(String(decoding: custom.readableView, as: UTF8.self) == "HTTP/1.0 299 Fine\r\n\r\n")
}

@Test(arguments: [0, 1, 9, 10, 15, 16, 255, 4096, 70_000])
func chunkedBodyRoundTripsThroughTheParser(size: Int) throws {
    var buffer = ByteBuffer()
    try HTTPWriter.writeResponseHead(status: 200, headers: [("Transfer-Encoding", "chunked")], into: &buffer)
    let body = (0..<size).map { UInt8(0x61 + $0 % 26) }
    HTTPWriter.writeChunk(body.prefix(size / 2), into: &buffer)
    HTTPWriter.writeChunk(body.dropFirst(size / 2), into: &buffer)
    HTTPWriter.writeLastChunk(into: &buffer)
    let events = try parse(Array(buffer.readableView), kind: .response)
    let expectedBody: [Event] = size == 0 ? [] : [.body(String(decoding: body, as: UTF8.self))]
    #expect(events == [.head("HTTP/1.1 200 OK ka framing=chunked | Transfer-Encoding: chunked")] + expectedBody + [.end])
}

@Test func chunkSizeIsLowerCaseHex() {
    var buffer = ByteBuffer()
    HTTPWriter.writeChunk([UInt8](repeating: 0x78, count: 0xAB), into: &buffer)
    #expect(buffer.readableView.prefix(4).elementsEqual("ab\r\n".utf8))
}

@Test(arguments: [
    ("X-A", "a\r\nX-Injected: 1", HTTPWriteError.invalidFieldValue),
    ("X-A", "a\nb", .invalidFieldValue),
    ("X-A", "a\u{0}", .invalidFieldValue),
    ("X A", "v", .invalidFieldName),
    ("X-A:", "v", .invalidFieldName),
    ("", "v", .invalidFieldName),
    ("X-A\r\nY", "v", .invalidFieldName),
])
func headerInjectionThrowsAndWritesNothing(name: String, value: String, error: HTTPWriteError) {
    var buffer = ByteBuffer(string: "before")
    #expect(throws: error) {
        try HTTPWriter.writeResponseHead(status: 200, headers: [("Server", "glb"), (name, value)], into: &buffer)
    }
    #expect(throws: error) {
        try HTTPWriter.writeRequestHead(method: .GET, target: "/", headers: [(name, value)], into: &buffer)
    }
    #expect(buffer.readableView.elementsEqual("before".utf8))
}

@Test(arguments: ["", "/a b", "/a\r\nHost: evil", "/\u{7F}"])
func invalidTargetThrows(target: String) {
    var buffer = ByteBuffer()
    #expect(throws: HTTPWriteError.invalidTarget) {
        try HTTPWriter.writeRequestHead(method: .GET, target: target, headers: [("Host", "a")], into: &buffer)
    }
    #expect(buffer.readableBytes == 0)
}

@Test func invalidStatusOrReasonThrows() {
    var buffer = ByteBuffer()
    #expect(throws: HTTPWriteError.invalidStatus) { try HTTPWriter.writeResponseHead(status: 42, headers: [], into: &buffer) }
    #expect(throws: HTTPWriteError.invalidStatus) {
        try HTTPWriter.writeResponseHead(status: 200, reason: "OK\r\nX: y", headers: [], into: &buffer)
    }
    #expect(buffer.readableBytes == 0)
}

@Test func proxyForwardsAParsedHeadWithoutHopByHopFields() throws {
    var parser = HTTPParser(kind: .request)
    var input = ByteBuffer(string: "GET /p HTTP/1.1\r\nHost: www\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\nAccept: */*\r\n\r\n")
    guard case .head(var head)? = try parser.next(from: &input) else { Issue.record("no head"); return }
    head.headers.removeHopByHopFields()
    try head.headers.add(name: "Via", value: "1.1 glb")
    var output = ByteBuffer()
    try HTTPWriter.writeRequestHead(method: head.method, target: head.target, headers: head.headers, into: &output)
    #expect(String(decoding: output.readableView, as: UTF8.self) == "GET /p HTTP/1.1\r\nHost: www\r\nAccept: */*\r\nVia: 1.1 glb\r\n\r\n")
}
