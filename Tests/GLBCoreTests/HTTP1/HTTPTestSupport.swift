import GLBCore
import GLBTestSupport

/// A parsed part in a form tests can compare: heads summarised, body slices merged per message.
enum Event: Equatable, CustomStringConvertible {
    case head(String)
    case body(String)
    case end

    var description: String {
        switch self {
        case .head(let s): "head(\(s))"
        case .body(let s): "body(\(s.debugDescription))"
        case .end: "end"
        }
    }
}

/// `GET /a HTTP/1.1 ka framing=… [100-continue] [upgrade] | name: value | …`
func summary(_ head: HTTPHead) -> String {
    var s = head.kind == .request ? "\(head.method) \(head.targetString) \(head.version)" : "\(head.version) \(head.status) \(head.reasonString)"
    s += head.keepAlive ? " ka" : " close"
    s += " framing=\(head.framing)"
    if head.expectsContinue { s += " 100-continue" }
    if head.isUpgrade { s += " upgrade" }
    for (name, value) in head.headers {
        s += " | " + String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self)
    }
    return s
}

/// Feeds `input` to a parser in pieces of `pieceSize` bytes (all at once when nil), draining parts
/// after each piece, then calls `finish()`. Responses answer `methods` in order (GET after those).
func parse(_ input: [UInt8], kind: HTTPParser.Kind, pieceSize: Int? = nil, methods: [HTTPMethod] = [],
           limits: HTTPLimits = HTTPLimits(), remaining: UnsafeMutablePointer<ByteBuffer>? = nil) throws(HTTPParseError) -> [Event] {
    var parser = HTTPParser(kind: kind, limits: limits)
    var buffer = ByteBuffer()
    var events: [Event] = []
    var responses = 0
    func expectNext() {
        if kind == .response { parser.expectResponse(to: responses < methods.count ? methods[responses] : .GET) }
    }
    func record(_ part: HTTPPart) {
        switch part {
        case .head(let head): events.append(.head(summary(head)))
        case .body(let bytes):
            if case .body(let previous)? = events.last {
                events[events.count - 1] = .body(previous + String(decoding: bytes, as: UTF8.self))
            } else {
                events.append(.body(String(decoding: bytes, as: UTF8.self)))
            }
        case .end:
            events.append(.end)
            responses += 1
            expectNext()
        }
    }
    expectNext()
    let size = max(1, pieceSize ?? input.count)
    var offset = 0
    repeat {
        let end = min(input.count, offset + size)
        buffer.writeBytes(input[offset..<end])
        offset = end
        while let part = try parser.next(from: &buffer) { record(part) }
        buffer.discardReadBytes()
    } while offset < input.count
    if let part = try parser.finish() { record(part) }
    remaining?.pointee = buffer
    return events
}

/// The error `parse` throws, or nil.
func parseError(_ input: [UInt8], kind: HTTPParser.Kind, pieceSize: Int? = nil, limits: HTTPLimits = HTTPLimits()) -> HTTPParseError? {
    do {
        _ = try parse(input, kind: kind, pieceSize: pieceSize, limits: limits)
        return nil
    } catch {
        return error
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
