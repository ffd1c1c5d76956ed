package import GLBCore

/// One deployment of a service in one region: where it listens, how much traffic it takes, and
/// in which failover tier.
package struct Cluster: ReplicatedRecord {
    /// Whether a cluster takes traffic. Append only: values are stored and on the wire.
    package enum State: String, Sendable, Codable, CaseIterable {
        /// Takes traffic.
        case active
        /// Takes no new traffic; existing proxy connections finish.
        case draining
        /// Takes no traffic and is not probed.
        case disabled
    }

    /// The service this cluster belongs to.
    package var service: String
    /// A single label, unique within the service: `eu`, `us-east-1`.
    package var name: String
    /// Where it runs: `eu-west`.
    package var region: String
    /// IPv4 or IPv6 literals, stored in canonical form; 1 to 32 of them.
    package var addresses: [String]
    /// The port the cluster serves on.
    package var port: Int
    /// Relative share of traffic under `weighted`; 0 takes none.
    package var weight: Int
    /// Failover tier: lower is preferred.
    package var priority: Int
    /// Whether it takes traffic.
    package var state: State
    /// Degrees north, for `geo` routing; set with `longitude` or not at all.
    package var latitude: Double?
    /// Degrees east, for `geo` routing; set with `latitude` or not at all.
    package var longitude: Double?
    /// ISO 3166-1 alpha-2 codes (`GB`): `geo` sends clients from these countries here first.
    package var countries: [String] = []
    /// Continent codes (`EU`; AF AN AS EU NA OC SA): `geo` sends clients from these continents
    /// here when no cluster lists their country. A cluster with neither list is in the default set.
    package var continents: [String] = []
    /// The HTTP proxy speaks TLS to it (an `https` cluster).
    package var tls: Bool
    /// The name sent as SNI and verified in its certificate; nil: the service's FQDN.
    package var tlsServerName: String?
    /// Verify its certificate (chain and name); on by default.
    package var tlsVerify: Bool
    /// Set by the store on write.
    package var version: HLCTimestamp
    /// Set by the store on write.
    package var origin: String

    /// A cluster with defaults for weight, priority and state.
    package init(service: String, name: String, region: String, addresses: [String], port: Int, weight: Int = 100,
                 priority: Int = 0, state: State = .active, latitude: Double? = nil, longitude: Double? = nil,
                 tls: Bool = false, tlsServerName: String? = nil, tlsVerify: Bool = true,
                 version: HLCTimestamp = .zero, origin: String = "") {
        self.service = service
        self.name = name
        self.region = region
        self.addresses = addresses
        self.port = port
        self.weight = weight
        self.priority = priority
        self.state = state
        self.latitude = latitude
        self.longitude = longitude
        self.tls = tls
        self.tlsServerName = tlsServerName
        self.tlsVerify = tlsVerify
        self.version = version
        self.origin = origin
    }

    /// The audit and REST key: `www/eu`.
    package var key: String { service + "/" + name }

    enum CodingKeys: String, CodingKey {
        case service, name, region, addresses, port, weight, priority, state, latitude, longitude, countries, continents, version, origin
        case tls, tlsServerName = "tls_server_name", tlsVerify = "tls_verify"
        /// Accepted on input only, for the one-address case: `"address": "10.0.0.1"`.
        case address
    }

    /// Decodes leniently: defaulted fields may be missing, `service` and `name` too (the admin
    /// API takes them from the path), and a single `address` stands for `addresses: [address]`.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var addresses = try c.decodeIfPresent([String].self, forKey: .addresses) ?? []
        if let address = try c.decodeIfPresent(String.self, forKey: .address) { addresses.append(address) }
        self.init(service: try c.decodeIfPresent(String.self, forKey: .service) ?? "",
                  name: try c.decodeIfPresent(String.self, forKey: .name) ?? "",
                  region: try c.decodeIfPresent(String.self, forKey: .region) ?? "",
                  addresses: addresses,
                  port: try c.decodeIfPresent(Int.self, forKey: .port) ?? 0,
                  weight: try c.decodeIfPresent(Int.self, forKey: .weight) ?? 100,
                  priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0,
                  state: try c.decodeIfPresent(State.self, forKey: .state) ?? .active,
                  latitude: try c.decodeIfPresent(Double.self, forKey: .latitude),
                  longitude: try c.decodeIfPresent(Double.self, forKey: .longitude),
                  tls: try c.decodeIfPresent(Bool.self, forKey: .tls) ?? false,
                  tlsServerName: try c.decodeIfPresent(String.self, forKey: .tlsServerName),
                  tlsVerify: try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true,
                  version: try c.decodeIfPresent(HLCTimestamp.self, forKey: .version) ?? .zero,
                  origin: try c.decodeIfPresent(String.self, forKey: .origin) ?? "")
        countries = try c.decodeIfPresent([String].self, forKey: .countries) ?? []
        continents = try c.decodeIfPresent([String].self, forKey: .continents) ?? []
    }

    /// Encodes `addresses` only (never the input-only `address`); nil coordinates and empty geo
    /// lists are omitted.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(service, forKey: .service)
        try c.encode(name, forKey: .name)
        try c.encode(region, forKey: .region)
        try c.encode(addresses, forKey: .addresses)
        try c.encode(port, forKey: .port)
        try c.encode(weight, forKey: .weight)
        try c.encode(priority, forKey: .priority)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(latitude, forKey: .latitude)
        try c.encodeIfPresent(longitude, forKey: .longitude)
        // Omitted when empty, so rows without geo lists encode as before (audit, replication).
        if !countries.isEmpty { try c.encode(countries, forKey: .countries) }
        if !continents.isEmpty { try c.encode(continents, forKey: .continents) }
        try c.encode(tls, forKey: .tls)
        try c.encodeIfPresent(tlsServerName, forKey: .tlsServerName)
        try c.encode(tlsVerify, forKey: .tlsVerify)
        try c.encode(version, forKey: .version)
        try c.encode(origin, forKey: .origin)
    }

    /// Checks the record's own rules and normalises the addresses. Whether `service` exists is
    /// the store's check.
    package func validated() throws(ValidationError) -> Cluster {
        var result = self
        try Check.relativeName(service, "service")
        try Check.singleLabel(name, "name")
        try Check.tag(region, "region")
        guard (1...32).contains(addresses.count) else {
            throw ValidationError(field: "addresses", message: "addresses must list between 1 and 32 IP addresses, got \(addresses.count)")
        }
        result.addresses = []
        for address in addresses {
            let normalized = try Check.address(address, "addresses")
            guard !result.addresses.contains(normalized) else {
                // Two spellings of one address (`::1`, `0::1`) pass a schema's uniqueItems.
                throw .inconsistent(field: "addresses", message: "addresses lists \(normalized) twice")
            }
            result.addresses.append(normalized)
        }
        try Check.range(port, 1...65_535, "port")
        try Check.range(weight, 0...1_000_000, "weight")
        try Check.range(priority, 0...1000, "priority")
        switch (latitude, longitude) {
        case (nil, nil):
            break
        case (let latitude?, let longitude?):
            try Check.finiteRange(latitude, -90...90, "latitude")
            try Check.finiteRange(longitude, -180...180, "longitude")
        case (nil, _):
            throw .inconsistent(field: "latitude", message: "latitude is missing: set both latitude and longitude, or neither")
        case (_, nil):
            throw .inconsistent(field: "longitude", message: "longitude is missing: set both latitude and longitude, or neither")
        }
        result.countries = try Check.geoCodes(countries, "countries", allowed: nil)
        result.continents = try Check.geoCodes(continents, "continents", allowed: Check.continents)
        if let name = tlsServerName {
            guard tls else {
                throw .inconsistent(field: "tls_server_name", message: "tls_server_name is set but tls is false: set \"tls\": true for an https cluster")
            }
            result.tlsServerName = name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased()
            try Check.relativeName(result.tlsServerName!, "tls_server_name")
        }
        return result
    }
}
