package import GLBCore

/// How the router picks clusters for a service. Append only: values are stored and on the wire.
package enum RoutingPolicy: String, Sendable, Codable, CaseIterable {
    /// Spread by cluster weight.
    case weighted
    /// The lowest priority tier that is up; spill to the next only when it is down or short.
    case failover
    /// The cluster nearest the client's location.
    case geo
    /// The cluster with the lowest measured RTT from the node nearest the client.
    case latency
    /// Every healthy address.
    case all
}

/// What a service's DNS answers point at. Append only: values are stored and on the wire.
package enum ServiceMode: String, Sendable, Codable, CaseIterable {
    /// Answer with the chosen clusters' addresses.
    case dns
    /// Answer with healthy GLB ingress nodes, which proxy each request to a cluster.
    case proxy
}

/// A name in a zone (`www` in `glb.example.` is `www.glb.example.`) with its routing policy,
/// TTL, health check and mode. Service names are unique across zones: the REST path is
/// `/v1/services/<name>`.
package struct Service: ReplicatedRecord {
    /// Relative to the zone, lowercase, no trailing dot: `www`, `api.v2`.
    package var name: String
    /// The zone, which must exist: `glb.example.`.
    package var zone: String
    /// How clusters are chosen.
    package var policy: RoutingPolicy
    /// TTL in seconds of the answers.
    package var ttl: Int
    /// DNS answers with cluster addresses, or proxy through GLB nodes.
    package var mode: ServiceMode
    /// When nothing is healthy: true answers nothing, false (the default) answers the configured tier anyway.
    package var failClosed: Bool
    /// How many addresses a weighted answer carries.
    package var answers: Int
    /// How clusters are probed.
    package var check: HealthCheck
    /// Set by the store on write.
    package var version: HLCTimestamp
    /// Set by the store on write.
    package var origin: String

    /// A service with defaults for everything but its name and zone.
    package init(name: String, zone: String, policy: RoutingPolicy = .weighted, ttl: Int = 30, mode: ServiceMode = .dns,
                 failClosed: Bool = false, answers: Int = 1, check: HealthCheck = HealthCheck(),
                 version: HLCTimestamp = .zero, origin: String = "") {
        self.name = name
        self.zone = zone
        self.policy = policy
        self.ttl = ttl
        self.mode = mode
        self.failClosed = failClosed
        self.answers = answers
        self.check = check
        self.version = version
        self.origin = origin
    }

    /// The fully qualified name clients ask for: `www.glb.example.`.
    package var fqdn: String { name + "." + zone }

    enum CodingKeys: String, CodingKey {
        case name, zone, policy, ttl, mode, failClosed = "fail_closed", answers, check, version, origin
    }

    /// Decodes leniently: defaulted fields may be missing, and so may `name` (from the URL path).
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decodeIfPresent(String.self, forKey: .name) ?? "",
                  zone: try c.decodeIfPresent(String.self, forKey: .zone) ?? "",
                  policy: try c.decodeIfPresent(RoutingPolicy.self, forKey: .policy) ?? .weighted,
                  ttl: try c.decodeIfPresent(Int.self, forKey: .ttl) ?? 30,
                  mode: try c.decodeIfPresent(ServiceMode.self, forKey: .mode) ?? .dns,
                  failClosed: try c.decodeIfPresent(Bool.self, forKey: .failClosed) ?? false,
                  answers: try c.decodeIfPresent(Int.self, forKey: .answers) ?? 1,
                  check: try c.decodeIfPresent(HealthCheck.self, forKey: .check) ?? HealthCheck(),
                  version: try c.decodeIfPresent(HLCTimestamp.self, forKey: .version) ?? .zero,
                  origin: try c.decodeIfPresent(String.self, forKey: .origin) ?? "")
    }

    /// Checks the record's own rules. Whether `zone` exists is the store's check.
    package func validated() throws(ValidationError) -> Service {
        var result = self
        try Check.relativeName(name, "name")
        try Check.fqdn(zone, "zone")
        guard fqdn.utf8.count <= 254 else {
            throw .inconsistent(field: "name", message: "name \"\(fqdn)\" is longer than 253 characters with its zone")
        }
        try Check.range(ttl, 0...86_400, "ttl")
        try Check.range(answers, 1...16, "answers")
        result.check = try check.validated()
        return result
    }
}
