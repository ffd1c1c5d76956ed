/// How every node probes a service's clusters, and how many results flip a cluster's state.
package struct HealthCheck: Sendable, Equatable, Codable {
    /// The kind of probe. Append only: values are stored and on the wire.
    package enum Kind: String, Sendable, Codable, CaseIterable {
        /// An HTTP GET that must answer an expected status (and body, if set).
        case http
        /// The same over TLS, verifying the certificate unless `tlsVerify` is false.
        case https
        /// A TCP connect that must succeed.
        case tcp
    }

    /// The probe kind: `http` by default.
    package var type: Kind
    /// The request path for HTTP(S) probes; starts with `/`.
    package var path: String
    /// Probe this port instead of the cluster's.
    package var port: Int?
    /// Probe this address instead of the cluster's (normalised IP literal).
    package var address: String?
    /// The Host header and TLS SNI name, when the cluster needs one.
    package var host: String?
    /// Milliseconds between probes of one cluster by one node.
    package var intervalMS: Int
    /// Milliseconds before a probe counts as failed; at most `intervalMS`.
    package var timeoutMS: Int
    /// Consecutive successes that bring a down cluster up.
    package var rise: Int
    /// Consecutive failures that take an up cluster down.
    package var fall: Int
    /// Accepted HTTP statuses: `"200"` or an inclusive range `"200-399"`.
    package var expectStatus: String
    /// A substring the response body must contain, if set.
    package var bodyContains: String?
    /// Whether HTTPS probes verify the certificate chain and name.
    package var tlsVerify: Bool

    /// A check with defaults; `timeoutMS` defaults to the smaller of the interval and 2 s.
    package init(type: Kind = .http, path: String = "/", port: Int? = nil, address: String? = nil, host: String? = nil,
                 intervalMS: Int = 1000, timeoutMS: Int? = nil, rise: Int = 2, fall: Int = 2,
                 expectStatus: String = "200-399", bodyContains: String? = nil, tlsVerify: Bool = true) {
        self.type = type
        self.path = path
        self.port = port
        self.address = address
        self.host = host
        self.intervalMS = intervalMS
        self.timeoutMS = timeoutMS ?? min(intervalMS, 2000)
        self.rise = rise
        self.fall = fall
        self.expectStatus = expectStatus
        self.bodyContains = bodyContains
        self.tlsVerify = tlsVerify
    }

    enum CodingKeys: String, CodingKey {
        case type, path, port, address, host, intervalMS = "interval_ms", timeoutMS = "timeout_ms", rise, fall
        case expectStatus = "expect_status", bodyContains = "body_contains", tlsVerify = "tls_verify"
    }

    /// Decodes leniently: any field may be missing and takes its default.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(type: try c.decodeIfPresent(Kind.self, forKey: .type) ?? .http,
                  path: try c.decodeIfPresent(String.self, forKey: .path) ?? "/",
                  port: try c.decodeIfPresent(Int.self, forKey: .port),
                  address: try c.decodeIfPresent(String.self, forKey: .address),
                  host: try c.decodeIfPresent(String.self, forKey: .host),
                  intervalMS: try c.decodeIfPresent(Int.self, forKey: .intervalMS) ?? 1000,
                  timeoutMS: try c.decodeIfPresent(Int.self, forKey: .timeoutMS),
                  rise: try c.decodeIfPresent(Int.self, forKey: .rise) ?? 2,
                  fall: try c.decodeIfPresent(Int.self, forKey: .fall) ?? 2,
                  expectStatus: try c.decodeIfPresent(String.self, forKey: .expectStatus) ?? "200-399",
                  bodyContains: try c.decodeIfPresent(String.self, forKey: .bodyContains),
                  tlsVerify: try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true)
    }

    /// The accepted status range, parsed from `expectStatus`; nil when it is malformed.
    package var expectedStatuses: ClosedRange<Int>? {
        let parts = expectStatus.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        var bounds: [Int] = []
        for part in parts {
            guard part.utf8.count == 3, part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let value = Int(part), (100...599).contains(value) else { return nil }
            bounds.append(value)
        }
        guard let low = bounds.first, let high = bounds.last, low <= high else { return nil }
        return low...high
    }

    /// Checks every rule; `prefix` names the parent field in messages (`check.`).
    package func validated(prefix: String = "check.") throws(ValidationError) -> HealthCheck {
        var result = self
        // Visible ASCII only: both go on the wire as they are (request line, Host, SNI), where
        // other bytes must be percent-encoded or punycoded; and the rule is one a schema can state.
        guard path.hasPrefix("/"), path.utf8.allSatisfy(Self.isVisibleASCII) else {
            throw ValidationError(field: prefix + "path",
                                  message: "\(prefix)path must start with '/' and contain only visible ASCII (no spaces; percent-encode the rest), got \"\(path)\"")
        }
        if let port { try Check.range(port, 1...65_535, prefix + "port") }
        if let address { result.address = try Check.address(address, prefix + "address") }
        if let host {
            guard (1...253).contains(host.utf8.count), host.utf8.allSatisfy(Self.isVisibleASCII) else {
                throw ValidationError(field: prefix + "host",
                                      message: "\(prefix)host must be a host name of 1-253 visible ASCII characters (no spaces), got \"\(host)\"")
            }
        }
        try Check.range(intervalMS, 100...3_600_000, prefix + "interval_ms")
        try Check.range(timeoutMS, 1...3_600_000, prefix + "timeout_ms")
        guard timeoutMS <= intervalMS else {
            throw .inconsistent(field: prefix + "timeout_ms",
                                message: "\(prefix)timeout_ms must be at most \(prefix)interval_ms (\(intervalMS)), got \(timeoutMS)")
        }
        try Check.range(rise, 1...100, prefix + "rise")
        try Check.range(fall, 1...100, prefix + "fall")
        guard expectedStatuses != nil else {
            let bounds = expectStatus.split(separator: "-")
            if bounds.count == 2, bounds.allSatisfy({ HealthCheck(expectStatus: String($0)).expectedStatuses != nil }) {
                throw .inconsistent(field: prefix + "expect_status",
                                    message: "\(prefix)expect_status must be a range from low to high, got \"\(expectStatus)\"")
            }
            throw ValidationError(field: prefix + "expect_status",
                                  message: "\(prefix)expect_status must be a status like \"200\" or a range like \"200-399\" within 100-599, got \"\(expectStatus)\"")
        }
        if let bodyContains, bodyContains.isEmpty { result.bodyContains = nil }
        return result
    }

    /// `!` through `~`: printable, and no space.
    private static func isVisibleASCII(_ byte: UInt8) -> Bool { (0x21...0x7E).contains(byte) }
}
