import CGLBOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// An OpenSSL client context: the prober's HTTPS checks and the proxy's `https` upstreams each
/// share one.
///
/// `@unchecked Sendable` because `SSL_CTX*` is a C pointer (TOOLCHAIN.md pitfall 2). Sound because
/// the context is configured once in `init` and never mutated after; OpenSSL documents an
/// `SSL_CTX` as safe to share between threads for `SSL_new` once set up. Every `SSL` made from it
/// belongs to one connection on one loop.
///
/// Verification is per connection: the context loads the trust store, and `TLSSession.client`
/// turns `SSL_VERIFY_PEER` on or off.
package final class TLSContext: @unchecked Sendable {
    package let context: OpaquePointer

    /// A TLS 1.2+ client context trusting the system store, or `trustRootsFile` (a PEM bundle)
    /// instead of it, for tests that verify against their own CA.
    ///
    /// Also sets SIGPIPE to ignored for the process: OpenSSL's socket BIO writes with write(2),
    /// not send(MSG_NOSIGNAL), so a reset peer would otherwise kill the process. The agent does
    /// the same at start-up (main.swift); this covers tests and any other host.
    package init(trustRootsFile: String? = nil) throws(TLSSetupError) {
        signal(SIGPIPE, SIG_IGN)
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSSetupError("SSL_CTX_new") }
        self.context = context
        _ = cglb_ssl_ctx_set_min_proto_version(context, TLS1_2_VERSION)
        _ = cglb_ssl_ctx_set_mode(context, cglb_ssl_mode_nonblocking())
        _ = cglb_ssl_ctx_set_options(context, cglb_ssl_op_ignore_unexpected_eof())
        let loaded: CInt
        if let trustRootsFile {
            loaded = SSL_CTX_load_verify_locations(context, trustRootsFile, nil)
        } else {
            loaded = SSL_CTX_set_default_verify_paths(context)
        }
        guard loaded == 1 else { throw TLSSetupError("loading trust roots from \(trustRootsFile ?? "the system store")") }
    }

    deinit { SSL_CTX_free(context) }
}

/// A TLS context could not be set up: the prober cannot run HTTPS probes, or the proxy cannot
/// reach `https` upstreams or terminate TLS.
package struct TLSSetupError: Error, CustomStringConvertible {
    package let description: String
    /// `step`, with OpenSSL's reason when it queued one (a failure of our own checks has none,
    /// and says all there is to say itself).
    package init(_ step: String) {
        description = TLSErrors.drain().map { "\(step): \($0)" } ?? step
    }
}

/// OpenSSL's per-thread error queue.
package enum TLSErrors {
    /// The earliest queued error as text, and an empty queue (so the next call starts clean).
    package static func drain() -> String? {
        let first = ERR_get_error()
        ERR_clear_error()
        guard first != 0 else { return nil }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(first, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
