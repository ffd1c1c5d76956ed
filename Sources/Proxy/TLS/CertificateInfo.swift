/// What an operator needs to know about one loaded certificate: `glb status`, `/metrics` and the
/// expiry warnings read this, never the OpenSSL objects.
package struct CertificateInfo: Sendable, Equatable {
    /// The file stem in the certificate directory: `www` for `www.crt` + `www.key`.
    package let name: String
    /// The DNS names it serves (subjectAltName, lower-cased; `*.example.com` for a wildcard).
    package let dnsNames: [String]
    /// notAfter, in seconds since the Unix epoch.
    package let notAfter: Int64
    /// The certificate (chain) file.
    package let certificateFile: String
    /// The private key file (the same file when one PEM holds both).
    package let keyFile: String
    /// True for the certificate served when SNI is absent or matches nothing.
    package let isDefault: Bool

    /// Whole days until notAfter at `wallMilliseconds` (negative once expired).
    package func daysToExpiry(wallMilliseconds: Int64) -> Double {
        let seconds = notAfter - wallMilliseconds / 1000
        return Double(seconds / 86_400) + (seconds < 0 && seconds % 86_400 != 0 ? -1 : 0)
    }

    /// The warning threshold: from this many days before notAfter, every reload and the daily
    /// check log a warning (expired certificates are the seed's first outage on its list).
    package static let warningDays = 14.0

    func with(isDefault: Bool) -> CertificateInfo {
        CertificateInfo(name: name, dnsNames: dnsNames, notAfter: notAfter, certificateFile: certificateFile,
                        keyFile: keyFile, isDefault: isDefault)
    }
}
