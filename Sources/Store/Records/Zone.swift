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
    /// Addresses of in-zone nameservers (`ns1.glb.example.` → `["192.0.2.53"]`): the glue a
    /// delegation needs, answered with the NS records (RFC 1034 §4.2.1).
    package var glue: [String: [String]]
    /// Set by the store on write.
    package var version: HLCTimestamp
    /// Set by the store on write.
    package var origin: String

    /// A zone with defaults for everything but its name.
    package init(name: String, ttl: Int = 300, negativeTTL: Int = 30, nameservers: [String] = [], hostmaster: String? = nil,
                 glue: [String: [String]] = [:], version: HLCTimestamp = .zero, origin: String = "") {
        self.name = name
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.nameservers = nameservers
        self.hostmaster = hostmaster ?? "hostmaster." + name
        self.glue = glue
        self.version = version
        self.origin = origin
    }

    enum CodingKeys: String, CodingKey {
        case name, ttl, negativeTTL = "negative_ttl", nameservers, hostmaster, glue, version, origin
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
                  glue: try c.decodeIfPresent([String: [String]].self, forKey: .glue) ?? [:],
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
        // The defaults are built from the name (no nameservers: the agent serves ns1.<zone>), and
        // a name near 253 characters leaves them no room: the zone would be stored but not served.
        if nameservers.isEmpty, ("ns1." + name).utf8.count > 254 {
            throw .inconsistent(field: "nameservers", message: "the default nameserver ns1.\(name) is longer than 253 characters; give nameservers")
        }
        if hostmaster == "hostmaster." + name, hostmaster.utf8.count > 254 {
            throw .inconsistent(field: "hostmaster", message: "the default hostmaster \(hostmaster) is longer than 253 characters; give hostmaster")
        }
        try Check.fqdn(hostmaster, "hostmaster")
        var normalised = self
        normalised.glue = [:]
        for (host, addresses) in glue {
            let lower = host.lowercased()
            guard nameservers.contains(lower) else {
                throw .inconsistent(field: "glue", message: "glue names \(host), which is not one of the zone's nameservers")
            }
            guard lower.hasSuffix("." + name) else {
                throw .inconsistent(field: "glue", message: "glue is only for nameservers inside the zone; \(host) is not in \(name)")
            }
            guard (1...8).contains(addresses.count) else {
                throw ValidationError(field: "glue", message: "glue for \(host) needs 1 to 8 addresses, got \(addresses.count)")
            }
            normalised.glue[lower] = try addresses.map { address throws(ValidationError) in try Check.address(address, "glue") }
        }
        return normalised
    }
}
