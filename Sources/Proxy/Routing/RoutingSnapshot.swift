package import GLBCore

/// What a name in a snapshot is: an apex, a service, a glue host, an empty non-terminal, or a mix.
package struct NameNode: Sendable {
    /// The zone the name belongs to.
    package var zone: Int32
    /// True at the zone's apex (SOA and NS live here).
    package var isApex = false
    /// Index into `RoutingSnapshot.services` of the route DNS answers with, or -1.
    package var service: Int32 = -1
    /// For a proxy-mode service, the route the HTTP proxy sends requests by (its clusters),
    /// while `service` holds the GLB nodes DNS answers with; -1 otherwise.
    package var proxyService: Int32 = -1
    /// Index into `RoutingSnapshot.hosts`, or -1.
    package var host: Int32 = -1
}

/// One address a service may answer with, with everything the Router needs to decide on it.
package struct Endpoint: Sendable {
    package let address: IPAddress
    /// Index into `RoutingSnapshot.clusters`.
    package let cluster: Int32
    /// The cluster's weight shared evenly by its addresses of this family, scaled by 2^16 so the
    /// share stays an integer: a cluster's weight is per cluster, however many addresses it has.
    package let weight: UInt64
    /// The cluster's failover priority.
    package let priority: Int
    /// The cluster's health at compile time.
    package let healthy: Bool
    /// Whether this node's own probes reach it (the proxy's view; see `ClusterInput`).
    package let locallyHealthy: Bool
    /// The cluster's state (never `.disabled`: disabled clusters get no endpoints).
    package let state: ClusterState
}

/// A compiled cluster, kept for `explain` and the HTTP proxy.
package struct ClusterRoute: Sendable {
    /// The cluster's name.
    package let name: String
    package let region: String
    package let addresses: [IPAddress]
    package let port: UInt16
    package let weight: UInt32
    package let priority: Int
    package let state: ClusterState
    package let healthy: Bool
    /// Its health by this node's own probes.
    package let locallyHealthy: Bool
    /// Countries `geo` sends here first (valid codes only).
    package var countries: [GeoCode] = []
    /// Continents `geo` sends here when no country matched.
    package var continents: [GeoCode] = []
    /// Degrees north and east; NaN when not set.
    package var latitude = Double.nan, longitude = Double.nan
    /// TLS to its origins (an `https` cluster), or nil.
    package var tls: UpstreamTLS? = nil
}

/// A compiled service. Plain values only, so the Router copies one with no reference counting
/// (its name, the one reference, is in `RoutingSnapshot.serviceNames`).
package struct ServiceRoute: Sendable {
    /// Index into `RoutingSnapshot.zones`.
    package let zone: Int32
    package let policy: RoutePolicy
    /// Answer TTL.
    package let ttl: UInt32
    /// Distinct addresses per answer for weighted and failover (at least 1).
    package let answers: Int
    /// NODATA instead of failing open.
    package let failClosed: Bool
    /// This service's slice of `RoutingSnapshot.clusters`.
    package let clusters: Range<Int>
    /// IPv4 endpoints in `RoutingSnapshot.endpoints`, sorted by priority (stable).
    package let v4: Range<Int>
    /// IPv6 endpoints, likewise.
    package let v6: Range<Int>
    /// Index of the canary cluster in `RoutingSnapshot.clusters`, or -1.
    package let canaryCluster: Int32
    /// The canary percentage as configured (for `explain`).
    package let canaryPercent: Double
    /// Clients whose key hash has top 32 bits below this go to the canary (see `Canary`).
    package let canaryThreshold: UInt64
}

/// An immutable, compiled view of every zone and service: what the data plane answers from.
/// Built on the control plane by `init(compiling:)`, published through `SnapshotPublisher`, and
/// read by every event loop without locks. Everything is `let`; query-time lookups hash packet
/// bytes (`NameTable`) and index flat arrays, so answering allocates nothing.
package final class RoutingSnapshot: Sendable {
    /// The input's generation.
    package let generation: UInt64
    /// Zones, in input order (duplicates dropped).
    package let zones: [Zone]
    /// Services, in input order (invalid ones dropped).
    package let services: [ServiceRoute]
    /// Each service's owner name, parallel to `services`.
    package let serviceNames: [DNSName]
    /// Every cluster of every service, each service's a contiguous slice.
    package let clusters: [ClusterRoute]
    /// Every answerable address, each service's per family a contiguous slice.
    package let endpoints: [Endpoint]
    /// In-zone nameserver addresses.
    package let hosts: [GlueHost]
    /// Every owner name: apexes, services, glue hosts and empty non-terminals (RFC 8020: those are
    /// NODATA, not NXDOMAIN).
    package let names: NameTable<NameNode>
    /// The most endpoints one service has in one family: the Router's scratch capacity.
    package let maxEndpoints: Int
    /// The largest cluster weight the Router honours; larger ones count as this.
    package static let maxWeight: UInt32 = 1 << 24

    /// What was dropped while compiling, for the logs.
    package let problems: [String]
    /// Client location sources for `geo` and `latency`.
    package let geo: GeoSources
    /// The compiled RTT tables for `latency`.
    package let latency: LatencyTable

    /// A snapshot with nothing in it (generation 0): every query gets REFUSED.
    package static let empty = RoutingSnapshot(compiling: RouteInput(generation: 0, zones: [], services: []))

    /// Compiles `input`. Invalid zones or services are dropped and described in `problems` rather
    /// than failing the whole snapshot: one bad row must not take every other name down.
    package init(compiling input: RouteInput) {
        var problems: [String] = []
        var names = NameTable<NameNode>()
        var zones: [Zone] = [], hosts: [GlueHost] = []
        var zoneIndex: [DNSName: Int32] = [:]

        for z in input.zones {
            guard let apex = DNSName(z.name) else { problems.append("zone \(z.name): not a valid name"); continue }
            guard zoneIndex[apex] == nil else { problems.append("zone \(apex): duplicate"); continue }
            let index = Int32(zones.count)
            let ns = z.nameservers.compactMap { text -> DNSName? in
                if let name = DNSName(text) { return name }
                problems.append("zone \(apex): nameserver \(text) is not a valid name")
                return nil
            }
            var glueByName: [DNSName: [IPAddress]] = [:]
            for (text, addresses) in z.glue {
                guard let name = DNSName(text) else { problems.append("zone \(apex): glue name \(text) is not valid"); continue }
                glueByName[name, default: []] += addresses
            }
            var glue: [Int32] = []
            names.insert(apex, NameNode(zone: index, isApex: true))
            for name in ns {
                guard name.isSubdomain(of: apex), let addresses = glueByName[name], !addresses.isEmpty else {
                    glue.append(-1)
                    continue
                }
                glue.append(Int32(hosts.count))
                hosts.append(GlueHost(name: name, v4: addresses.filter(\.isIPv4), v6: addresses.filter { !$0.isIPv4 }))
                RoutingSnapshot.insertWithAncestors(name, zone: index, apex: apex, into: &names) { $0.host = Int32(hosts.count - 1) }
            }
            var hostmaster = Zone.mailbox(z.hostmaster, in: apex)
            if hostmaster == nil {
                problems.append("zone \(apex): hostmaster \(z.hostmaster) is not valid; using hostmaster.\(apex)")
                hostmaster = apex.prepending("hostmaster") ?? apex
            }
            zones.append(Zone(name: apex, ttl: z.ttl, negativeTTL: z.negativeTTL, serial: z.serial,
                              hostmaster: hostmaster!, nameservers: ns, glue: glue))
            zoneIndex[apex] = index
        }

        var services: [ServiceRoute] = [], serviceNames: [DNSName] = [], clusters: [ClusterRoute] = [], endpoints: [Endpoint] = []
        var maxEndpoints = 0
        services.reserveCapacity(input.services.count)
        /// Appends one route of `s` over `input`: its clusters, endpoints and the service entry.
        func appendRoute(_ s: ServiceInput, name fqdn: DNSName, zone: Int32, clusters input: [ClusterInput], canary wanted: CanaryInput?) {
            let firstCluster = clusters.count
            var canary: Int32 = -1
            for c in input {
                if let wanted = wanted?.cluster, wanted == c.name { canary = Int32(clusters.count) }
                var route = ClusterRoute(name: c.name, region: c.region, addresses: c.addresses, port: c.port,
                                         weight: c.weight, priority: c.priority, state: c.state, healthy: c.healthy,
                                         locallyHealthy: c.locallyHealthy)
                route.tls = c.tls
                RoutingSnapshot.compileGeo(c, into: &route, service: "\(fqdn)", problems: &problems)
                clusters.append(route)
            }
            if let wanted, canary < 0 { problems.append("service \(fqdn): canary cluster \(wanted.cluster) does not exist") }
            let clusterRange = firstCluster..<clusters.count
            let v4 = RoutingSnapshot.appendEndpoints(ipv4: true, clusters: clusterRange, from: clusters, to: &endpoints)
            let v6 = RoutingSnapshot.appendEndpoints(ipv4: false, clusters: clusterRange, from: clusters, to: &endpoints)
            maxEndpoints = Swift.max(maxEndpoints, v4.count, v6.count)
            let percent = canary >= 0 ? (wanted?.percent ?? 0) : 0
            serviceNames.append(fqdn)
            services.append(ServiceRoute(zone: zone, policy: s.policy, ttl: s.ttl, answers: Swift.max(1, s.answers),
                                         failClosed: s.failClosed, clusters: clusterRange, v4: v4, v6: v6,
                                         canaryCluster: canary, canaryPercent: percent,
                                         canaryThreshold: Canary.threshold(percent: percent)))
        }
        for s in input.services {
            guard let apex = DNSName(s.zone), let zone = zoneIndex[apex] else {
                problems.append("service \(s.name): zone \(s.zone) is not configured"); continue
            }
            guard let fqdn = apex.prepending(s.name) else { problems.append("service \(s.name).\(apex): not a valid name"); continue }
            let existing = fqdn.wire.withUnsafeBytes { names.lookup($0) }
            guard existing == nil || existing!.service < 0 else { problems.append("service \(fqdn): duplicate"); continue }
            // Proxy mode (docs/architecture.md "Concepts"): DNS answers with the GLB nodes, and the proxy on
            // those nodes routes to the clusters; two routes under one name.
            let clusterRoute = Int32(services.count)
            var ingressRoute: Int32 = -1
            appendRoute(s, name: fqdn, zone: zone, clusters: s.clusters, canary: s.canary)
            if let ingress = s.ingress {
                ingressRoute = Int32(services.count)
                appendRoute(s, name: fqdn, zone: zone, clusters: ingress, canary: nil)
            }
            RoutingSnapshot.insertWithAncestors(fqdn, zone: zone, apex: apex, into: &names) { node in
                node.service = ingressRoute >= 0 ? ingressRoute : clusterRoute
                node.proxyService = ingressRoute >= 0 ? clusterRoute : -1
            }
        }

        self.generation = input.generation
        self.zones = zones
        self.services = services
        self.serviceNames = serviceNames
        self.clusters = clusters
        self.endpoints = endpoints
        self.hosts = hosts
        self.names = names
        self.maxEndpoints = maxEndpoints
        self.geo = input.geo
        self.latency = LatencyTable(input.latency, services: services, names: serviceNames, clusters: clusters, problems: &problems)
        self.problems = problems
    }

    /// Geo fields of a cluster: codes the store validated already, checked again so a bad row
    /// from an older peer is dropped with a problem instead of matching nothing silently.
    private static func compileGeo(_ c: ClusterInput, into route: inout ClusterRoute, service: String, problems: inout [String]) {
        for text in c.countries {
            if let code = GeoCode(text) { route.countries.append(code) } else { problems.append("service \(service) cluster \(c.name): country \(text) is not a two-letter code") }
        }
        for text in c.continents {
            if let code = GeoCode(text), GeoCode.continents.contains(code) { route.continents.append(code) } else {
                problems.append("service \(service) cluster \(c.name): continent \(text) is not one of AF AN AS EU NA OC SA")
            }
        }
        if let latitude = c.latitude, let longitude = c.longitude, (-90...90).contains(latitude), (-180...180).contains(longitude) {
            route.latitude = latitude
            route.longitude = longitude
        }
    }

    /// The index of the service at `fqdn` (`"www.glb.example."`, trailing dot optional), for the
    /// control plane and `explain`.
    /// `forProxy` picks the route the HTTP proxy uses (they differ for proxy-mode services).
    package func service(named fqdn: String, forProxy: Bool = false) -> Int? {
        guard let name = DNSName(fqdn), let node = name.wire.withUnsafeBytes({ names.lookup($0) }), node.service >= 0 else { return nil }
        return Int(forProxy && node.proxyService >= 0 ? node.proxyService : node.service)
    }

    /// Inserts `name` and every missing name between it and `apex` (the empty non-terminals), then
    /// lets `update` mark `name`'s node.
    private static func insertWithAncestors(_ name: DNSName, zone: Int32, apex: DNSName, into names: inout NameTable<NameNode>,
                                            update: (inout NameNode) -> Void) {
        let (index, _) = names.insert(name, NameNode(zone: zone))
        names.update(at: index, update)
        var ancestor = name.parent
        while let a = ancestor, a.wire.count > apex.wire.count {
            guard names.insert(a, NameNode(zone: zone)).inserted else { break }
            ancestor = a.parent
        }
    }

    /// Appends one family's endpoints of `range`, sorted by priority, skipping disabled clusters.
    private static func appendEndpoints(ipv4: Bool, clusters range: Range<Int>, from clusters: [ClusterRoute],
                                        to endpoints: inout [Endpoint]) -> Range<Int> {
        let start = endpoints.count
        for c in range where clusters[c].state != .disabled {
            let cluster = clusters[c]
            let count = cluster.addresses.reduce(0) { $0 + ($1.isIPv4 == ipv4 ? 1 : 0) }
            guard count > 0 else { continue }
            // Weights are capped at 2^24 so that 2^23 endpoints of 2^40 each still sum in a UInt64.
            let share = (UInt64(Swift.min(cluster.weight, RoutingSnapshot.maxWeight)) << 16) / UInt64(count)
            for address in cluster.addresses where address.isIPv4 == ipv4 {
                endpoints.append(Endpoint(address: address, cluster: Int32(c), weight: share, priority: cluster.priority,
                                          healthy: cluster.healthy, locallyHealthy: cluster.locallyHealthy, state: cluster.state))
            }
        }
        // Stable sort by priority so failover tiers are contiguous runs.
        let sorted = endpoints[start...].enumerated().sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }.map(\.element)
        endpoints.replaceSubrange(start..., with: sorted)
        return start..<endpoints.count
    }
}
