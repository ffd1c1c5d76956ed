import CGLBOpenSSL

/// Why a TLS connection failed, with a stable `reason` for metric labels
/// (`glb_tls_handshake_failures_total{reason=...}`) and a message for logs.
package struct TLSFailure: Error, Sendable, CustomStringConvertible {
    /// What kind of failure: callers map these onto their own outcomes.
    package enum Kind: Sendable, Equatable {
        /// The handshake did not complete (protocol version, ciphers, alerts, EOF).
        case handshake
        /// The peer's certificate did not verify.
        case certificate
        /// The socket failed; the errno.
        case system(CInt)
        /// Bad TLS records after the handshake.
        case record
    }

    package let kind: Kind
    /// A label value: `protocol_version`, `no_shared_cipher`, `alpn`, `certificate`, `eof`, ...
    /// (a closed set: see `TLSSession.reason(for:)`).
    package let reason: String
    package let message: String
    package var description: String { message }

    package init(_ kind: Kind, reason: String, _ message: String) {
        self.kind = kind
        self.reason = reason
        self.message = message
    }
}
