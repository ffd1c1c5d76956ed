/// A request method (RFC 9110 §9). The registered methods are static values that need no
/// allocation; any other token is kept as its bytes.
///
/// Static names are upper case, as on the wire and as in SwiftNIO, so `.GET` reads like the request.
package struct HTTPMethod: Sendable, Hashable, CustomStringConvertible {
    private enum Storage: Sendable, Hashable {
        case known(UInt8)
        case other([UInt8])
    }

    private let storage: Storage

    /// The registered methods, indexed by their `known` code. Order is not on the wire.
    private static let names: [StaticString] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    package static let GET = HTTPMethod(storage: .known(0))
    package static let HEAD = HTTPMethod(storage: .known(1))
    package static let POST = HTTPMethod(storage: .known(2))
    package static let PUT = HTTPMethod(storage: .known(3))
    package static let DELETE = HTTPMethod(storage: .known(4))
    package static let CONNECT = HTTPMethod(storage: .known(5))
    package static let OPTIONS = HTTPMethod(storage: .known(6))
    package static let TRACE = HTTPMethod(storage: .known(7))
    package static let PATCH = HTTPMethod(storage: .known(8))

    private init(storage: Storage) { self.storage = storage }

    /// The method named by `bytes`, or nil if they are not a token (RFC 9110 §9.1: method = token).
    /// Method names are case-sensitive, so `get` is an unknown method, not `GET`.
    package init?(bytes: some Collection<UInt8>) {
        guard !bytes.isEmpty, bytes.allSatisfy(HTTPBytes.isTokenByte) else { return nil }
        // GET first and without the table: most requests are GETs, and the generic comparison
        // loop below cost ~120 instructions per request.
        if bytes.count == 3 {
            var byte = bytes.makeIterator()
            if byte.next() == 0x47, byte.next() == 0x45, byte.next() == 0x54 {
                storage = .known(0)
                return
            }
        }
        for (code, name) in Self.names.enumerated() {
            let matches = name.withUTF8Buffer { $0.elementsEqual(bytes) }
            if matches {
                storage = .known(UInt8(code))
                return
            }
        }
        storage = .other(Array(bytes))
    }

    /// The method named by `string`, or nil if it is not a token.
    package init?(_ string: String) {
        self.init(bytes: string.utf8)
    }

    /// Calls `body` with the method's bytes as sent on the wire.
    package func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch storage {
        case .known(let code): Self.names[Int(code)].withUTF8Buffer(body)
        case .other(let bytes): bytes.withUnsafeBufferPointer(body)
        }
    }

    /// The method's name, for logs and the control plane.
    package var description: String {
        withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Idempotent methods (RFC 9110 §9.2.2) may be retried on another upstream after a failure.
    package var isIdempotent: Bool {
        switch storage {
        case .known(let code): code == 0 || code == 1 || code == 3 || code == 4 || code == 6 || code == 7  // GET HEAD PUT DELETE OPTIONS TRACE
        case .other: false
        }
    }

    /// Safe methods (RFC 9110 §9.2.1) are read-only by definition.
    package var isSafe: Bool {
        switch storage {
        case .known(let code): code == 0 || code == 1 || code == 6 || code == 7  // GET HEAD OPTIONS TRACE
        case .other: false
        }
    }
}
