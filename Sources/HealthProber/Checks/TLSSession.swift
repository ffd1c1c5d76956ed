import CGLBOpenSSL
import GLBCore
#if canImport(Glibc)
import Glibc
#endif

/// What a non-blocking step on a transport did.
enum IOStep {
    /// The step is done (handshake complete, everything written, or `n` bytes read).
    case done(Int)
    /// Wait for the descriptor to become readable, then retry the same step.
    case wantRead
    /// Wait for the descriptor to become writable, then retry the same step.
    case wantWrite
    /// The peer closed its side (reads only).
    case endOfStream
    case failed(ProbeFailure)
}

/// One client TLS connection on a non-blocking socket the probe owns (`SSL_set_fd`: the SSL does
/// not close it). Each call maps SSL_ERROR_WANT_READ/WANT_WRITE to the epoll interest the probe
/// needs next. Loop-confined; not Sendable.
final class TLSSession {
    private let ssl: OpaquePointer

    /// - Parameters:
    ///   - serverName: sent as SNI and checked against the certificate; nil: no SNI, and the
    ///     certificate must carry `address`.
    init?(context: TLSContext, fd: CInt, serverName: String?, address: IPAddress, verify: Bool) {
        guard let ssl = SSL_new(context.context) else { return nil }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { return nil }
        if let serverName, IPAddress(serverName) == nil {
            _ = cglb_ssl_set_tlsext_host_name(ssl, serverName)
            if verify { _ = SSL_set1_host(ssl, serverName) }
        } else if verify {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName ?? "\(address)")
        }
        SSL_set_verify(ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(ssl) }

    func handshake() -> IOStep {
        ERR_clear_error()
        let rc = SSL_connect(ssl)
        return rc == 1 ? .done(0) : classify(rc, during: "TLS handshake", handshake: true)
    }

    /// Writes what `SSL_write` takes of `buffer` and consumes it; `.done` once it is empty.
    func send(_ buffer: inout ByteBuffer) -> IOStep {
        while buffer.readableBytes > 0 {
            ERR_clear_error()
            let rc = buffer.withUnsafeReadableBytes { SSL_write(ssl, $0.baseAddress, CInt(clamping: $0.count)) }
            guard rc > 0 else { return classify(rc, during: "sending the request", handshake: false) }
            buffer.moveReaderIndex(forwardBy: Int(rc))
        }
        return .done(0)
    }

    /// Reads once into `buffer`'s writable space.
    func receive(into buffer: inout ByteBuffer, chunk: Int = 16384) -> IOStep {
        buffer.reserveWritable(chunk)
        var step = IOStep.done(0)
        ERR_clear_error()
        _ = try? buffer.writeWithUnsafeMutableBytes { raw throws(SystemError) in
            let rc = SSL_read(ssl, raw.baseAddress, CInt(clamping: raw.count))
            if rc > 0 {
                step = .done(Int(rc))
                return Int(rc)
            }
            step = classify(rc, during: "reading the response", handshake: false)
            return 0
        }
        return step
    }

    private func classify(_ rc: CInt, during phase: String, handshake: Bool) -> IOStep {
        let code = errno                                 // first, before anything can clobber it
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return handshake ? .failed(ProbeFailure(.tlsHandshake, "peer closed during the handshake")) : .endOfStream
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            if code == 0 || rc == 0 {
                return handshake ? .failed(ProbeFailure(.tlsHandshake, "peer closed during the handshake")) : .endOfStream
            }
            return .failed(ProbeFailure.fromErrno(code, during: phase))
        default:
            let verify = SSL_get_verify_result(ssl)
            if handshake, verify != X509_V_OK {
                ERR_clear_error()
                let text = String(cString: X509_verify_cert_error_string(verify))
                return .failed(ProbeFailure(.certificate, "certificate verify failed: \(text)"))
            }
            let text = TLSErrors.drain() ?? "unknown OpenSSL error"
            return .failed(ProbeFailure(handshake ? .tlsHandshake : .malformedResponse, "\(phase): \(text)"))
        }
    }
}
