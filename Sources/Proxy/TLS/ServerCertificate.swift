import CGLBOpenSSL
import GLBCore
#if canImport(Glibc)
import Glibc
#endif

/// One certificate chain and key, loaded into its own OpenSSL server context configured the GLB
/// way. The SNI callback switches a connection to this context (`SSL_set_SSL_CTX`), as nginx does.
///
/// `@unchecked Sendable`: the context is configured in `init` (on the control plane) and never
/// changed after, and OpenSSL allows `SSL_new` and `SSL_set_SSL_CTX` on a shared, configured
/// `SSL_CTX` from any thread.
final class ServerCertificate: @unchecked Sendable {
    let context: OpaquePointer
    let info: CertificateInfo
    /// The files' (path, mtime, size) when loaded: an unchanged pair is not loaded again.
    let fingerprint: [FileStamp]
    /// Held because the context's ticket callback finds the keys through an unretained pointer:
    /// a connection that outlives its `CertificateStore` still resumes sessions safely.
    private let keys: TicketKeys

    /// TLS 1.2 cipher suites from Mozilla's "intermediate" profile (v5.7): forward secrecy and
    /// AEAD only. TLS 1.3 uses OpenSSL's default suites, which are that profile's too.
    static let intermediateCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
    static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// Loads `certificateFile` (leaf first, then intermediates) and `keyFile` (PEM) and checks
    /// that the key belongs to the certificate. Blocking file reads: control plane only.
    init(name: String, certificateFile: String, keyFile: String, fingerprint: [FileStamp], keys: TicketKeys) throws(TLSSetupError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSSetupError("SSL_CTX_new") }
        self.context = context
        self.fingerprint = fingerprint
        self.keys = keys
        var info: CertificateInfo?
        defer { if info == nil { SSL_CTX_free(context) } }
        // RFC 8996 deprecates TLS 1.0 and 1.1: 1.2 (RFC 5246) and 1.3 (RFC 8446) only.
        _ = cglb_ssl_ctx_set_min_proto_version(context, TLS1_2_VERSION)
        _ = cglb_ssl_ctx_set_mode(context, cglb_ssl_mode_nonblocking())
        // No renegotiation (a DoS lever, and gone in 1.3); a client vanishing without
        // close_notify is an ordinary EOF.
        _ = cglb_ssl_ctx_set_options(context, cglb_ssl_op_ignore_unexpected_eof() | cglb_ssl_op_no_renegotiation())
        guard SSL_CTX_set_cipher_list(context, Self.intermediateCiphers) == 1,
              SSL_CTX_set_ciphersuites(context, Self.tls13Suites) == 1,
              cglb_ssl_ctx_set1_groups_list(context, "X25519:prime256v1:secp384r1") == 1 else {
            throw TLSSetupError("setting the cipher suites")
        }
        _ = cglb_ssl_ctx_set_dh_auto(context)
        // Half the read(2) calls per request: a record in one read, not header then body. Bytes
        // read ahead sit in OpenSSL where epoll cannot see them; `TLSSession.hasPending` is how
        // the connection knows to read on (`ProxyConnection.readClient` and `pump`).
        _ = cglb_ssl_ctx_set_read_ahead(context)
        _ = cglb_ssl_ctx_session_cache_off(context)
        // One TLS 1.3 ticket per handshake, not OpenSSL's two: clients resume one connection at a
        // time, and each ticket costs an encryption.
        _ = SSL_CTX_set_num_tickets(context, 1)
        keys.install(on: context)
        cglb_ssl_ctx_alpn_http11(context)
        _ = cglb_ssl_ctx_set_servername_callback(context, serverNameCallback, nil)
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw TLSSetupError("\(certificateFile): not a PEM certificate chain")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSSetupError("\(keyFile): not a PEM private key, or not the key of \(certificateFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSSetupError("\(keyFile) is not the key of \(certificateFile)")
        }
        guard let leaf = SSL_CTX_get0_certificate(context) else { throw TLSSetupError("\(certificateFile): no certificate") }
        var notAfter = tm()
        guard ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &notAfter) == 1 else {
            throw TLSSetupError("\(certificateFile): unreadable notAfter")
        }
        let names = Self.dnsNames(leaf)
        guard !names.isEmpty else {
            // RFC 6125 §6.4.4: clients match the subjectAltName, and ignore the CN when one exists.
            throw TLSSetupError("\(certificateFile): the certificate has no DNS subjectAltName, so no client would accept it")
        }
        info = CertificateInfo(name: name, dnsNames: names, notAfter: Int64(timegm(&notAfter)), certificateFile: certificateFile,
                               keyFile: keyFile, isDefault: false)
        self.info = info!
    }

    deinit { SSL_CTX_free(context) }

    private static func dnsNames(_ leaf: OpaquePointer) -> [String] {
        var names: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        var index: CInt = 0
        while true {
            let length = cglb_x509_san_dns(leaf, index, &buffer, CInt(buffer.count))
            if length < 0 { break }
            if length > 0 {
                names.append(String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased())
            }
            index += 1
        }
        return names
    }
}

/// RFC 6066 §3 server_name: picks the context whose certificate names the requested host. The
/// connection's `CertificateTable` is its SSL's ex_data slot 0; no match (or no SNI) keeps the
/// default certificate the SSL was made with.
private let serverNameCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CInt>?, UnsafeMutableRawPointer?) -> CInt = { ssl, _, _ in
    guard let ssl, let raw = SSL_get_ex_data(ssl, 0) else { return SSL_TLSEXT_ERR_NOACK }
    guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return SSL_TLSEXT_ERR_NOACK }
    let table = Unmanaged<CertificateTable>.fromOpaque(raw).takeUnretainedValue()
    guard let chosen = table.certificate(serverName: name) else { return SSL_TLSEXT_ERR_NOACK }
    if chosen.context != SSL_get_SSL_CTX(ssl) { _ = SSL_set_SSL_CTX(ssl, chosen.context) }
    return SSL_TLSEXT_ERR_OK
}
