package import GLBCore

// Plain inputs to `RoutingSnapshot.init(compiling:)`. The agent maps store rows and health state to
// these; Proxy never sees the store. Strings are fine here: this is the control plane.

/// Everything a snapshot is compiled from.
package struct RouteInput: Sendable {
    /// Increases with every change; loops compare it to pick up a new snapshot.
    package var generation: UInt64
    /// The zones GLB is authoritative for.
    package var zones: [ZoneInput]
    /// The services in those zones.
    package var services: [ServiceInput]
    /// Where `geo` and `latency` find clients (the MaxMind database and the operator's CIDR
    /// map), carried by reference: a reload compiles a new snapshot around the new sources.
    package var geo: GeoSources
    /// RTTs and node locations for `latency`; nil means none known yet.
    package var latency: LatencyInput?

    /// Memberwise.
    package init(generation: UInt64, zones: [ZoneInput], services: [ServiceInput], geo: GeoSources = .none,
                 latency: LatencyInput? = nil) {
        self.generation = generation
        self.zones = zones
        self.services = services
        self.geo = geo
        self.latency = latency
    }
}

/// One authoritative zone.
package struct ZoneInput: Sendable {
    /// The apex, `"glb.example."` (the trailing dot is optional).
    package var name: String
    /// TTL of the SOA and NS records and of glue.
    package var ttl: UInt32
    /// The SOA MINIMUM field: how long resolvers cache negative answers (RFC 2308 §4).
    package var negativeTTL: UInt32
    /// The SOA SERIAL.
    package var serial: UInt32
    /// The SOA RNAME, either as a name (`"hostmaster.glb.example."`) or a mail address
    /// (`"hostmaster@glb.example"`, whose local part becomes the first label).
    package var hostmaster: String
    /// NS names (the GLB nodes); the first is also the SOA MNAME.
    package var nameservers: [String]
    /// Addresses of in-zone nameservers, keyed by NS name; used as glue and answered for A/AAAA.
    package var glue: [String: [IPAddress]]

    /// Memberwise.
    package init(name: String, ttl: UInt32, negativeTTL: UInt32, serial: UInt32, hostmaster: String,
                 nameservers: [String], glue: [String: [IPAddress]]) {
        self.name = name
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.serial = serial
        self.hostmaster = hostmaster
        self.nameservers = nameservers
        self.glue = glue
    }
}

/// How a service chooses among its clusters. Append only; values are stored and on the wire.
package enum RoutePolicy: String, Sendable, CaseIterable {
    /// One address per query (or `answers` distinct ones), drawn by cluster weight.
    case weighted
    /// Priority tiers, lowest value first; the next tier only when a tier has no healthy cluster.
    case failover
    /// Every healthy address.
    case all
    /// The clusters nearest the client: country (or CIDR-map region), then continent, then the
    /// clusters with no geo lists, then any, by weight within a level (docs/geo.md).
    case geo
    /// The cluster with the lowest RTT from the GLB node nearest the client, with hysteresis;
    /// by distance when no RTT is known (docs/geo.md).
    case latency
}

/// Where a cluster is in its life cycle. Append only; values are stored and on the wire.
package enum ClusterState: String, Sendable, CaseIterable {
    /// Takes traffic.
    case active
    /// Takes no new answers unless nothing else is healthy.
    case draining
    /// Never answered.
    case disabled
}

/// One service: a name in a zone and the clusters behind it.
package struct ServiceInput: Sendable {
    /// The name relative to the zone (`"www"`, `"api.v2"`); `""` or `"@"` is the apex.
    package var name: String
    /// The zone's apex, as in `ZoneInput.name`.
    package var zone: String
    package var policy: RoutePolicy
    /// TTL of A/AAAA answers.
    package var ttl: UInt32
    /// How many distinct addresses `weighted`/`failover` answer with (at least 1).
    package var answers: Int
    /// When no cluster is healthy: false answers with every active address (fail open), true
    /// answers NODATA.
    package var failClosed: Bool
    package var clusters: [ClusterInput]
    /// A canary split, if one is set.
    package var canary: CanaryInput?
    /// Proxy mode: the GLB ingress nodes DNS answers with (each one a "cluster" here, healthy
    /// while it is a live gossip member), while the HTTP proxy routes to `clusters`. Nil: DNS
    /// answers with `clusters` too.
    package var ingress: [ClusterInput]?

    /// Memberwise, with the common defaults.
    package init(name: String, zone: String, policy: RoutePolicy = .weighted, ttl: UInt32 = 30, answers: Int = 1,
                 failClosed: Bool = false, clusters: [ClusterInput], canary: CanaryInput? = nil, ingress: [ClusterInput]? = nil) {
        self.name = name
        self.zone = zone
        self.policy = policy
        self.ttl = ttl
        self.answers = answers
        self.failClosed = failClosed
        self.clusters = clusters
        self.canary = canary
        self.ingress = ingress
    }
}

/// One cluster of a service.
package struct ClusterInput: Sendable {
    /// Unique within the service (`"eu"`).
    package var name: String
    /// A region label: shown by `explain`, matched by the CIDR map's regions under `geo`.
    package var region: String
    /// The addresses answered for it (both families allowed).
    package var addresses: [IPAddress]
    /// The port the HTTP proxy connects to (DNS ignores it).
    package var port: UInt16
    /// Relative weight; 0 takes no weighted traffic (it can still be answered when failing open).
    package var weight: UInt32
    /// Failover tier; lower goes first.
    package var priority: Int
    /// Life-cycle state.
    package var state: ClusterState
    /// The consensus health at compile time: what DNS answers by.
    package var healthy: Bool
    /// This node's own probes: the HTTP proxy steers away from a cluster it cannot reach even
    /// while the quorum still answers it (docs/architecture.md "Health").
    package var locallyHealthy: Bool
    /// ISO 3166-1 alpha-2 codes of the countries `geo` sends here first (`["GB", "IE"]`).
    package var countries: [String]
    /// Continent codes (AF AN AS EU NA OC SA) `geo` sends here when no country matched.
    package var continents: [String]
    /// Where the cluster is, for proximity (both or neither).
    package var latitude: Double?, longitude: Double?
    /// How the HTTP proxy speaks TLS to it; nil: plain HTTP.
    package var tls: UpstreamTLS?

    /// Memberwise, with the common defaults.
    package init(name: String, region: String = "", addresses: [IPAddress], port: UInt16 = 80, weight: UInt32 = 100,
                 priority: Int = 0, state: ClusterState = .active, healthy: Bool = true, locallyHealthy: Bool? = nil,
                 countries: [String] = [], continents: [String] = [], latitude: Double? = nil, longitude: Double? = nil,
                 tls: UpstreamTLS? = nil) {
        self.countries = countries
        self.continents = continents
        self.latitude = latitude
        self.longitude = longitude
        self.tls = tls
        self.name = name
        self.region = region
        self.addresses = addresses
        self.port = port
        self.weight = weight
        self.priority = priority
        self.state = state
        self.healthy = healthy
        self.locallyHealthy = locallyHealthy ?? healthy
    }
}

/// TLS towards an `https` cluster: the name sent as SNI (RFC 6066 §3) and, when `verify`, checked
/// against the certificate, which must chain to the proxy's trust roots.
package struct UpstreamTLS: Sendable, Hashable {
    /// The service's name or the cluster's `tls_server_name`.
    package var serverName: String
    /// Verify the chain and the name (the default); false accepts any certificate.
    package var verify: Bool

    package init(serverName: String, verify: Bool = true) {
        self.serverName = serverName
        self.verify = verify
    }
}

/// A canary split: `percent` of clients (by client-subnet hash) go to `cluster`.
package struct CanaryInput: Sendable {
    /// The canary cluster's name.
    package var cluster: String
    /// 0...100; fractional values allowed.
    package var percent: Double

    /// Memberwise.
    package init(cluster: String, percent: Double) {
        self.cluster = cluster
        self.percent = percent
    }
}
