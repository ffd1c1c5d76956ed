/// A whole HTTP request as the control plane sees it (admin API, test origins): strings and a
/// complete body. The proxy's data path never builds one of these; it works on `HTTPHead` bytes.
package struct HTTPRequest: Sendable {
    package var method: String
    /// The request-target as sent: `/v1/services/www?zone=glb.example.`
    package var target: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// The peer, when the request came from a socket.
    package var remote: SocketAddress?

    package init(method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [], remote: SocketAddress? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.remote = remote
    }

    /// The path part of the target, percent-decoded per segment by `pathSegments`.
    package var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The path split on "/", each segment percent-decoded; nil if a segment has a bad escape.
    package var pathSegments: [String]? {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = Self.percentDecode(raw) else { return nil }
            segments.append(decoded)
        }
        return segments
    }

    /// Query parameters (`a=1&b=2`), percent-decoded; later duplicates win.
    package var query: [String: String] {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [:] }
        var result: [String: String] = [:]
        for pair in parts[1].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.percentDecode(kv[0].replacingPlus) else { continue }
            result[key] = kv.count > 1 ? Self.percentDecode(kv[1].replacingPlus) ?? "" : ""
        }
        return result
    }

    /// The first header with this name, compared case-insensitively (RFC 9110 §5.1).
    package func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    static func percentDecode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Substring {
    fileprivate var replacingPlus: String { String(self).replacing("+", with: " ") }
}

/// A whole HTTP response from a control-plane handler.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a body and its content type.
    package init(status: Int, contentType: String, body: String) {
        self.init(status: status, headers: [("Content-Type", contentType)], body: Array(body.utf8))
    }

    package func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

/// Answers control-plane requests. Called off the event loops, so it may await actors.
package protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) async -> HTTPResponse
}
