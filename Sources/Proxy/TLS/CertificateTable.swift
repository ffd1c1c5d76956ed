import CGLBOpenSSL
import GLBCore

/// An immutable set of server certificates and the SNI index over them: what the loops read.
/// Built by `CertificateStore` on the control plane and published whole, like `RoutingSnapshot`;
/// a connection keeps the table it was accepted with until it closes, so a reload never changes
/// a handshake in progress.
///
/// Name matching follows RFC 6125 §6.4: exact names first, then a wildcard `*.example.com`,
/// which covers exactly one more label (`www.example.com`, not `example.com` nor
/// `a.b.example.com`). No SNI, or a name nothing covers, gets the default certificate.
package final class CertificateTable: Sendable {
    package let generation: UInt64
    let certificates: [ServerCertificate]
    /// Lower-cased DNS name → index into `certificates`.
    private let exact: [String: Int]
    /// The part after `*.` of each wildcard name → index.
    private let wildcard: [String: Int]
    let defaultIndex: Int

    /// `certificates` must not be empty. The default is the one named `default`, else the first.
    init(generation: UInt64, certificates: [ServerCertificate]) {
        precondition(!certificates.isEmpty, "a certificate table needs at least one certificate")
        self.generation = generation
        self.certificates = certificates
        var exact: [String: Int] = [:], wildcard: [String: Int] = [:]
        for (index, certificate) in certificates.enumerated() {
            for name in certificate.info.dnsNames {
                // The first certificate to claim a name keeps it (files are loaded in name order).
                if name.hasPrefix("*.") {
                    if wildcard[String(name.dropFirst(2))] == nil { wildcard[String(name.dropFirst(2))] = index }
                } else if exact[name] == nil {
                    exact[name] = index
                }
            }
        }
        self.exact = exact
        self.wildcard = wildcard
        defaultIndex = certificates.firstIndex { $0.info.name == "default" } ?? 0
    }

    /// What each certificate is, the default marked.
    package var infos: [CertificateInfo] {
        certificates.enumerated().map { $0.element.info.with(isDefault: $0.offset == defaultIndex) }
    }

    /// The certificate for an SNI host name (a C string from OpenSSL), or nil for the default.
    func certificate(serverName: UnsafePointer<CChar>) -> ServerCertificate? {
        // A handshake allocates anyway; one lower-cased String per SNI lookup is noise beside it.
        let name = String(cString: serverName).lowercased()
        if let index = exact[name] { return certificates[index] }
        guard let dot = name.firstIndex(of: "."), let index = wildcard[String(name[name.index(after: dot)...])] else { return nil }
        return certificates[index]
    }

    /// A server `SSL` for a new connection: the default certificate until the SNI callback picks
    /// another. The SSL points at this table (ex_data slot 0) for that callback, so the caller
    /// must keep the table alive as long as the SSL.
    func makeSSL() -> OpaquePointer? {
        guard let ssl = SSL_new(certificates[defaultIndex].context) else { return nil }
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        return ssl
    }
}
