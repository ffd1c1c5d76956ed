package import GLBCore

/// How to check one service's clusters: what to send, what counts as healthy, and how often.
///
/// One spec per service, shared by its clusters (one check per service). The address and
/// port overrides let a cluster be judged by something other than the address DNS answers with,
/// for example a health port on the load balancer in front of it.
package struct ProbeSpec: Hashable, Sendable {
    /// The protocol of the check.
    package enum Kind: String, Hashable, Sendable, CaseIterable {
        /// `GET path` over plain HTTP/1.1.
        case http
        /// `GET path` over TLS (OpenSSL), certificate verified unless `tlsVerify` is false.
        case https
        /// A TCP connect, nothing more: healthy once the three-way handshake completes.
        case tcp
    }

    package var kind: Kind
    /// The request target for http and https; must be an origin-form target such as `/healthz`.
    package var path: String
    /// The Host header and, for https, the TLS server name (SNI) and the name the certificate
    /// must carry. Nil: the probed address (then no SNI is sent, as RFC 6066 §3 forbids IP
    /// literals there, and the certificate must carry that IP address).
    package var host: String?
    /// Probe this port instead of the target's.
    package var port: UInt16?
    /// Probe this address instead of the target's.
    package var address: IPAddress?
    /// Statuses that count as healthy.
    package var expectedStatus: ClosedRange<Int>
    /// If set, the response body must contain this text within its first `HTTPCheck.bodyLimit`
    /// bytes.
    package var bodyContains: String?
    /// Time between the starts of two probes of one target.
    package var interval: Duration
    /// A probe still unfinished this long after it started is cut and counted as `.timeout`.
    /// Keep it at or below `interval`: a probe still running when the next is due makes that
    /// next one skip its turn.
    package var timeout: Duration
    /// Consecutive successes that bring a down target up.
    package var rise: Int
    /// Consecutive failures that bring an up (or unknown) target down.
    package var fall: Int
    /// Verify the server certificate against the system trust store and the expected name.
    package var tlsVerify: Bool
    /// The User-Agent of http and https probes. The agent names itself in it
    /// (`glb-health/1 (node=eu-1)`), so an origin's logs tell which region probed.
    package var userAgent = "glb-health/1"

    /// Defaults: `GET /`, 200...399 healthy, every 5 s with a 2 s timeout, rise 2, fall 3,
    /// certificate verified. `rise` and `fall` below 1 are raised to 1.
    package init(kind: Kind, path: String = "/", host: String? = nil, port: UInt16? = nil, address: IPAddress? = nil,
                 expectedStatus: ClosedRange<Int> = 200...399, bodyContains: String? = nil,
                 interval: Duration = .seconds(5), timeout: Duration = .seconds(2),
                 rise: Int = 2, fall: Int = 3, tlsVerify: Bool = true) {
        self.kind = kind
        self.path = path
        self.host = host
        self.port = port
        self.address = address
        self.expectedStatus = expectedStatus
        self.bodyContains = bodyContains
        self.interval = interval
        self.timeout = timeout
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self.tlsVerify = tlsVerify
    }

    /// The spec with timing and thresholds cleared: two specs that agree here check the same
    /// thing, so a target's health verdict survives a change to only those.
    var whatIsChecked: ProbeSpec {
        var copy = self
        (copy.interval, copy.timeout, copy.rise, copy.fall) = (.zero, .zero, 1, 1)
        return copy
    }
}

/// One thing to probe: a cluster of a service, at the address GLB answers with.
package struct ProbeTarget: Hashable, Sendable, Identifiable {
    /// Stable name chosen by the agent, for example `"www/eu"` (service/cluster); used as the
    /// metrics label and the key of `Prober.snapshot()`.
    package var id: String
    package var address: IPAddress
    package var port: UInt16
    package var spec: ProbeSpec

    package init(id: String, address: IPAddress, port: UInt16, spec: ProbeSpec) {
        self.id = id
        self.address = address
        self.port = port
        self.spec = spec
    }

    /// Where probes connect: the spec's overrides, else the target's own address and port.
    package var probeAddress: SocketAddress {
        SocketAddress(ip: spec.address ?? address, port: spec.port ?? port)
    }

    /// The Host header: the spec's host, else the probed address (bracketed if IPv6), with
    /// `:port` unless it is the scheme's default (RFC 9110 §7.2).
    package var hostHeader: String {
        let probed = probeAddress
        let name = spec.host ?? (probed.ip.isIPv4 ? "\(probed.ip)" : "[\(probed.ip)]")
        let defaultPort: UInt16 = spec.kind == .https ? 443 : 80
        return probed.port == defaultPort ? name : "\(name):\(probed.port)"
    }
}
