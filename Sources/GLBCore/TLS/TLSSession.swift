import CGLBOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// One TLS connection, client or server side, on a non-blocking socket its owner keeps
/// (`SSL_set_fd`: the SSL never closes the descriptor). Each call maps SSL_ERROR_WANT_READ and
/// WANT_WRITE to the epoll interest the owner needs next, so the same type serves the prober's
/// HTTPS checks, the proxy's TLS termination and its `https` upstreams. Loop-confined; not Sendable.
package final class TLSSession {
    private let ssl: OpaquePointer
    private var handshakeDone = false

    /// Wraps an `SSL` made by the caller (`SSL_new`); the session frees it.
    package init(ssl: OpaquePointer, fd: CInt, server: Bool) {
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        if server { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
    }

    /// A client session on `fd`.
    /// - Parameters:
    ///   - serverName: sent as SNI (RFC 6066 §3) and checked against the certificate; nil: no
    ///     SNI, and the certificate must carry `address`.
    ///   - alpnHTTP11: offer ALPN `http/1.1` (RFC 7301), as the proxy's upstreams do.
    package static func client(context: TLSContext, fd: CInt, serverName: String?, address: IPAddress, verify: Bool,
                               alpnHTTP11: Bool = false) -> TLSSession? {
        guard let ssl = SSL_new(context.context) else { return nil }
        let session = TLSSession(ssl: ssl, fd: fd, server: false)
        if let serverName, IPAddress(serverName) == nil {
            _ = cglb_ssl_set_tlsext_host_name(ssl, serverName)
            if verify { _ = SSL_set1_host(ssl, serverName) }
        } else if verify {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName ?? "\(address)")
        }
        if alpnHTTP11 { _ = cglb_ssl_set_alpn_http11(ssl) }
        SSL_set_verify(ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        return session
    }

    deinit { SSL_free(ssl) }

    /// True once the handshake has completed.
    package var isEstablished: Bool { handshakeDone }

    /// Whether the handshake resumed a session (a ticket, RFC 5077 / RFC 8446 §2.2).
    package var resumed: Bool { SSL_session_reused(ssl) == 1 }

    /// The negotiated protocol version: `TLSv1.3`, `TLSv1.2`.
    package var version: String { String(cString: SSL_get_version(ssl)) }

    /// OpenSSL holds bytes a read has not taken yet (decrypted, or a record not yet processed):
    /// epoll cannot see these, so the owner must read again before waiting for the socket.
    package var hasPending: Bool { SSL_has_pending(ssl) == 1 }

    /// Runs the handshake as far as the socket allows.
    package func handshake() -> TLSStep {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        guard rc == 1 else { return classify(rc, during: "TLS handshake") }
        handshakeDone = true
        return .done(0)
    }

    /// Writes what `SSL_write` takes of `buffer` and consumes it; `.done` once it is empty.
    package func send(_ buffer: inout ByteBuffer) -> TLSStep {
        while buffer.readableBytes > 0 {
            ERR_clear_error()
            let rc = buffer.withUnsafeReadableBytes { SSL_write(ssl, $0.baseAddress, CInt(clamping: $0.count)) }
            guard rc > 0 else { return classify(rc, during: "writing") }
            buffer.moveReaderIndex(forwardBy: Int(rc))
        }
        return .done(0)
    }

    /// Reads once into `buffer`'s writable space, growing it to `chunk` bytes first.
    package func receive(into buffer: inout ByteBuffer, chunk: Int = 16384) -> TLSStep {
        buffer.reserveWritable(chunk)
        var step = TLSStep.done(0)
        ERR_clear_error()
        _ = try? buffer.writeWithUnsafeMutableBytes { raw throws(SystemError) in
            let rc = SSL_read(ssl, raw.baseAddress, CInt(clamping: raw.count))
            if rc > 0 {
                step = .done(Int(rc))
                return Int(rc)
            }
            step = classify(rc, during: "reading")
            return 0
        }
        return step
    }

    /// Sends close_notify (RFC 8446 §6.1) if the socket takes it now; never waits for the peer's.
    package func shutdown() {
        guard handshakeDone else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func classify(_ rc: CInt, during phase: String) -> TLSStep {
        let code = errno                                 // first, before anything can clobber it
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return handshakeDone ? .endOfStream : .failed(TLSFailure(.handshake, reason: "eof", "peer closed during the handshake"))
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            if code == 0 || rc == 0 {
                return handshakeDone ? .endOfStream : .failed(TLSFailure(.handshake, reason: "eof", "peer closed during the handshake"))
            }
            return .failed(TLSFailure(.system(code), reason: "reset", "\(phase): \(String(cString: strerror(code)))"))
        default:
            let verify = SSL_get_verify_result(ssl)
            if !handshakeDone, verify != X509_V_OK {
                ERR_clear_error()
                let text = String(cString: X509_verify_cert_error_string(verify))
                return .failed(TLSFailure(.certificate, reason: "certificate", "certificate verify failed: \(text)"))
            }
            let reason = Self.reason(for: ERR_peek_error())
            let text = TLSErrors.drain() ?? "unknown OpenSSL error"
            return .failed(TLSFailure(handshakeDone ? .record : .handshake, reason: reason, "\(phase): \(text)"))
        }
    }

    /// The metric label for an OpenSSL error code: a small closed set, so label cardinality stays
    /// bounded whatever a client sends.
    package static func reason(for error: UInt) -> String {
        switch cglb_err_reason(error) {
        case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_WRONG_VERSION_NUMBER, SSL_R_VERSION_TOO_LOW, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
            "protocol_version"
        case SSL_R_NO_SHARED_CIPHER, SSL_R_NO_SHARED_GROUPS, SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
            "no_shared_cipher"
        case SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST:
            "plaintext_http"
        case SSL_R_NO_APPLICATION_PROTOCOL, SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
            "alpn"
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
             SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, SSL_R_CERTIFICATE_VERIFY_FAILED:
            "certificate"
        default:
            "other"
        }
    }
}
