package import GLBCore

/// A DNS zone GLB is authoritative for: its SOA and NS data. Services live in a zone.
package struct Zone: ReplicatedRecord {
    /// The zone apex, fully qualified and lowercase with its trailing dot: `glb.example.`.
    package var name: String
    /// TTL in seconds of the SOA and NS records.
    package var ttl: Int
    /// The SOA minimum: how long resolvers may cache NXDOMAIN and NODATA (RFC 2308 §4).
    package var negativeTTL: Int
    /// The NS names, fully qualified. Empty means the agent publishes the live nodes.
    package var nameservers: [String]
    /// The SOA RNAME (the responsible mailbox, as a name): `hostmaster.glb.example.` by default.
    package var hostmaster: String
    /// Set by the store on write.
    package var version: HLCTimestamp
    /// Set by the store on write.
    package var origin: String

    /// A zone with defaults for everything but its name.
    package init(name: String, ttl: Int = 300, negativeTTL: Int = 30, nameservers: [String] = [], hostmaster: String? = nil,
                 version: HLCTimestamp = .zero, origin: String = "") {
        self.name = name
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.nameservers = nameservers
        self.hostmaster = hostmaster ?? "hostmaster." + name
        self.version = version
        self.origin = origin
    }

    enum CodingKeys: String, CodingKey {
        case name, ttl, negativeTTL = "negative_ttl", nameservers, hostmaster, version, origin
    }

    /// Decodes leniently: every field with a default may be missing, and so may `name`, which
    /// the admin API takes from the URL path (validation rejects it if it stays empty).
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decodeIfPresent(String.self, forKey: .name) ?? "",
                  ttl: try c.decodeIfPresent(Int.self, forKey: .ttl) ?? 300,
                  negativeTTL: try c.decodeIfPresent(Int.self, forKey: .negativeTTL) ?? 30,
                  nameservers: try c.decodeIfPresent([String].self, forKey: .nameservers) ?? [],
                  hostmaster: try c.decodeIfPresent(String.self, forKey: .hostmaster),
                  version: try c.decodeIfPresent(HLCTimestamp.self, forKey: .version) ?? .zero,
                  origin: try c.decodeIfPresent(String.self, forKey: .origin) ?? "")
    }

    /// TTLs are capped at one day: a longer SOA/NS TTL would only slow an operator's fix.
    package func validated() throws(ValidationError) -> Zone {
        try Check.fqdn(name, "name")
        try Check.range(ttl, 0...86_400, "ttl")
        try Check.range(negativeTTL, 0...86_400, "negative_ttl")
        guard nameservers.count <= 16 else {
            throw ValidationError(field: "nameservers", message: "nameservers may list at most 16 names, got \(nameservers.count)")
        }
        for nameserver in nameservers { try Check.fqdn(nameserver, "nameservers") }
        try Check.fqdn(hostmaster, "hostmaster")
        return self
    }
}
