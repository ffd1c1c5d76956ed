// libFuzzer target for the HTTP/1.1 parser. Built by scripts/fuzz-http.sh together with the
// GLBCore HTTP1 and Buffer sources as one module (so `package` symbols are visible), not by SwiftPM.
//
// Oracles, beyond "no crash, no ASan report":
//  - differential: the same bytes fed all at once, split at a data-derived point, and (for short
//    inputs) one byte at a time yield the same parts and the same error;
//  - progress: every call either returns a part, consumes nothing and returns nil, or throws;
//  - framing: a Content-Length body delivers exactly that many bytes.

/// One observable outcome, compared across feeding strategies.
private enum Outcome: Equatable {
    case head([UInt8], Int, String, Bool, Bool, Bool)
    case body([UInt8])
    case end
    case error(HTTPParseError)
}

private func summarise(_ part: HTTPPart) -> Outcome {
    switch part {
    case .head(let h):
        return .head(Array(h.bytes), h.status, "\(h.framing)", h.keepAlive, h.expectsContinue, h.isUpgrade)
    case .body(let b): return .body(Array(b))
    case .end: return .end
    }
}

private func run(_ input: [UInt8], kind: HTTPParser.Kind, pieces: [Int], methods: [HTTPMethod]) -> [Outcome] {
    var parser = HTTPParser(kind: kind, limits: HTTPLimits(maxRequestLineBytes: 512, maxHeadBytes: 2048, maxHeaderCount: 16,
                                                          maxChunkExtensionBytes: 64, maxTrailerBytes: 256, maxTrailerCount: 4))
    var buffer = ByteBuffer()
    var outcomes: [Outcome] = []
    var responses = 0
    var expectedBody: Int?
    var bodySeen = 0
    func expectNext() {
        if kind == .response { parser.expectResponse(to: methods[responses % methods.count]) }
    }
    func record(_ part: HTTPPart) {
        switch part {
        case .head(let head):
            if case .contentLength(let n) = head.framing, !head.isInformational { expectedBody = n } else { expectedBody = nil }
            bodySeen = 0
            outcomes.append(summarise(part))
        case .body(let bytes):
            precondition(!bytes.isEmpty, "empty body part")
            bodySeen += bytes.count
            // Merge body slices: how they are cut depends on the feeding, their bytes must not.
            if case .body(let previous)? = outcomes.last {
                outcomes[outcomes.count - 1] = .body(previous + Array(bytes))
            } else {
                outcomes.append(.body(Array(bytes)))
            }
        case .end:
            if let expectedBody { precondition(bodySeen == expectedBody, "Content-Length body has the wrong size") }
            outcomes.append(.end)
            responses += 1
            expectNext()
        }
    }
    expectNext()
    var offset = 0
    do {
        for size in pieces + [input.count] {
            let end = min(input.count, offset + size)
            buffer.writeBytes(input[offset..<end])
            offset = end
            while true {
                let before = buffer.readableBytes
                guard let part = try parser.next(from: &buffer) else {
                    break
                }
                precondition(buffer.readableBytes <= before, "parser grew the buffer")
                record(part)
            }
            buffer.discardReadBytes()
            if offset == input.count { break }
        }
        if let part = try parser.finish() { record(part) }
    } catch {
        outcomes.append(.error(error))
    }
    return outcomes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func httpParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let seed = Int(input[0])
    let split = (seed * 7 + size / 3) % (size + 1)
    let methods: [HTTPMethod] = [[.GET], [.HEAD], [.CONNECT], [.HEAD, .GET]][seed & 3]
    for kind in [HTTPParser.Kind.request, .response] {
        let whole = run(input, kind: kind, pieces: [], methods: methods)
        let halves = run(input, kind: kind, pieces: [split], methods: methods)
        precondition(whole == halves, "split feeding changed the result")
        if size <= 256 {
            let bytewise = run(input, kind: kind, pieces: Array(repeating: 1, count: size), methods: methods)
            precondition(whole == bytewise, "byte-at-a-time feeding changed the result")
        }
    }
    return 0
}
