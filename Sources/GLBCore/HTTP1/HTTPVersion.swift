/// The protocol version of an HTTP/1.x message (RFC 9112 §2.3). The parser accepts only 1.0 and
/// 1.1; anything else that is well formed is answered with 505.
package struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// The major version digit.
    package let major: UInt8
    /// The minor version digit.
    package let minor: UInt8

    /// Creates a version from its two digits.
    package init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0: connections close after each message unless `Connection: keep-alive`.
    package static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1: persistent connections by default (RFC 9112 §9.3).
    package static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// `HTTP/1.1` as written on the wire.
    package var description: String { "HTTP/\(major).\(minor)" }
}
