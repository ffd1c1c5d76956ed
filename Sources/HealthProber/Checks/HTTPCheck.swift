package import GLBCore

/// The HTTP half of an http or https probe, sans-IO: the request bytes out, response bytes in, a
/// verdict when one can be given (STYLE.md §8.4 "the logic is sans-IO").
///
/// The verdict comes as early as possible: at the head when the status alone decides (out of
/// range, or in range with no body check), as soon as the expected text is seen otherwise. Only
/// the first `bodyLimit` bytes of a body are searched, so a huge or endless body costs at most
/// that much memory and is not read to its end.
package struct HTTPCheck {
    /// The most body bytes kept and searched for `ProbeSpec.bodyContains`.
    package static let bodyLimit = 64 * 1024

    private let expectedStatus: ClosedRange<Int>
    private let needle: [UInt8]?
    private var parser = HTTPParser(kind: .response)
    private var status: Int?
    private var body: [UInt8] = []
    private var sawBytes = false

    package init(spec: ProbeSpec) {
        expectedStatus = spec.expectedStatus
        needle = spec.bodyContains.map { Array($0.utf8) }
        parser.expectResponse(to: .GET)
    }

    /// `GET path HTTP/1.1` with Host, `Connection: close` and the spec's User-Agent.
    package static func request(for target: ProbeTarget) -> Result<ByteBuffer, ProbeFailure> {
        var buffer = ByteBuffer(capacity: 256)
        do throws(HTTPWriteError) {
            try HTTPWriter.writeRequestHead(method: .GET, target: target.spec.path, headers: [
                ("Host", target.hostHeader), ("User-Agent", target.spec.userAgent), ("Accept", "*/*"), ("Connection", "close"),
            ], into: &buffer)
        } catch {
            return .failure(ProbeFailure(.misconfigured, "cannot send GET \(target.spec.path) Host \(target.hostHeader): \(error)"))
        }
        return .success(buffer)
    }

    /// Consumes what arrived; a verdict once there is one, nil to keep reading.
    package mutating func receive(_ buffer: inout ByteBuffer) -> Result<Void, ProbeFailure>? {
        if buffer.readableBytes > 0 { sawBytes = true }
        while true {
            let part: HTTPPart?
            do throws(HTTPParseError) {
                part = try parser.next(from: &buffer)
            } catch {
                return .failure(ProbeFailure(.malformedResponse, "\(error.reason)"))
            }
            guard let part else { return nil }
            if let verdict = take(part) { return verdict }
        }
    }

    /// The peer closed its side: decide with what arrived.
    package mutating func endOfStream() -> Result<Void, ProbeFailure> {
        let part: HTTPPart?
        do throws(HTTPParseError) {
            part = try parser.finish()
        } catch {
            return .failure(closedEarly)
        }
        if let part, let verdict = take(part) { return verdict }
        return .failure(closedEarly)
    }

    private var closedEarly: ProbeFailure {
        let what = status == nil ? (sawBytes ? "part of a response head" : "no response") : "part of the body"
        return ProbeFailure(.closedEarly, "connection closed after \(what)")
    }

    private mutating func take(_ part: HTTPPart) -> Result<Void, ProbeFailure>? {
        switch part {
        case .head(let head):
            if head.isInformational { return nil }          // the final response follows
            guard expectedStatus.contains(head.status) else {
                return .failure(ProbeFailure(.badStatus(head.status), "status \(head.status), expected \(expectedStatus.lowerBound)-\(expectedStatus.upperBound)"))
            }
            status = head.status
            return needle == nil ? .success(()) : nil
        case .body(let slice):
            guard let needle else { return .success(()) }
            let room = Self.bodyLimit - body.count
            let searchFrom = max(0, body.count - needle.count + 1)
            body.append(contentsOf: slice.prefix(room))
            if Self.contains(body, needle, from: searchFrom) { return .success(()) }
            if body.count >= Self.bodyLimit { return .failure(mismatch(within: "the first \(Self.bodyLimit) bytes")) }
            return nil
        case .end:
            guard let needle else { return .success(()) }
            return Self.contains(body, needle, from: 0) ? .success(()) : .failure(mismatch(within: "the body (\(body.count) bytes)"))
        }
    }

    private func mismatch(within scope: String) -> ProbeFailure {
        let text = String(decoding: needle ?? [], as: UTF8.self)
        return ProbeFailure(.bodyMismatch, "\(JSONText.quote(text)) not in \(scope)")
    }

    /// Naive search: bodies are bounded by `bodyLimit` and needles are short.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8], from start: Int) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        var i = max(0, start)
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
