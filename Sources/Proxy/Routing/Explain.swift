package import GLBCore

/// Why a client gets the answer it gets: every input and step of the Router's decision, for
/// `glb explain SERVICE --client IP`. Built by running the real Router with a recording trace, so
/// the explanation cannot drift from the data path.
package struct Explanation: Sendable, CustomStringConvertible {
    /// One cluster as the Router saw it.
    package struct Candidate: Sendable {
        /// Name, region, state, health, weight and priority as compiled.
        package var name: String, region: String, state: ClusterState, healthy: Bool, weight: UInt32, priority: Int
        package var addresses: [IPAddress]
        /// True for the service's canary cluster.
        package var isCanary: Bool
        /// Geo lists and coordinates (empty / NaN when not set).
        package var countries: [GeoCode] = [], continents: [GeoCode] = [], latitude = Double.nan, longitude = Double.nan
    }

    /// The decision for one address family.
    package struct FamilyDecision: Sendable {
        /// A or AAAA.
        package var family: AddressFamily
        /// The Router's result.
        package var decision: RouteDecision
        /// The steps, in order.
        package var steps: [String]
        /// The addresses answered (one sample: weighted draws are random).
        package var answer: [IPAddress]
        /// The ECS scope prefix the responder would return.
        package var scope: UInt8
    }

    /// The service's owner name.
    package var service: String
    /// Its policy, TTL, answer count and fail mode.
    package var policy: RoutePolicy, ttl: UInt32, answers: Int, failClosed: Bool
    /// The key the canary hash was computed over.
    package var clientKey: ClientKey
    /// FNV-1a + SplitMix64 finalizer of `clientKey` (see `ClientKey.hash`).
    package var keyHash: UInt64
    /// The canary cluster and percentage, if any.
    package var canary: (cluster: String, percent: Double)?
    /// Every cluster.
    package var candidates: [Candidate]
    /// The A and the AAAA decision.
    package var families: [FamilyDecision]
    /// Where the client was found, for `geo` and `latency` services.
    package var location: ClientLocation? = nil
    /// The CIDR-map region of `location`, if any.
    package var region: String? = nil
    /// Where the location came from, for people: `cidr_map`, `database` (with its type) or none.
    package var locationSource: String? = nil

    /// Explains `service` (an FQDN, or a name relative to the snapshot's first zone that has it) for
    /// a query from `client` with optional ECS `subnet`. Nil if there is no such service.
    package static func explain(service: String, client: IPAddress, subnet: ClientSubnet? = nil,
                                snapshot: RoutingSnapshot) -> Explanation? {
        var rng = SystemRandomNumberGenerator()
        return explain(service: service, client: client, subnet: subnet, snapshot: snapshot, rng: &rng)
    }

    /// `explain` with an injected RNG (tests).
    package static func explain(service: String, client: IPAddress, subnet: ClientSubnet? = nil, snapshot: RoutingSnapshot,
                                rng: inout some RandomNumberGenerator) -> Explanation? {
        var index = snapshot.service(named: service)
        for zone in snapshot.zones where index == nil {
            if let fqdn = zone.name.prepending(service) { index = snapshot.service(named: fqdn.description) }
        }
        guard let index else { return nil }
        let svc = snapshot.services[index]
        let key = ClientKey(client: client, subnet: subnet)
        var result = Explanation(
            service: snapshot.serviceNames[index].description, policy: svc.policy, ttl: svc.ttl, answers: svc.answers, failClosed: svc.failClosed,
            clientKey: key, keyHash: key.hash,
            canary: svc.canaryCluster >= 0 ? (snapshot.clusters[Int(svc.canaryCluster)].name, svc.canaryPercent) : nil,
            candidates: svc.clusters.map { c in
                let cluster = snapshot.clusters[c]
                return Candidate(name: cluster.name, region: cluster.region, state: cluster.state, healthy: cluster.healthy,
                                 weight: cluster.weight, priority: cluster.priority, addresses: cluster.addresses,
                                 isCanary: c == Int(svc.canaryCluster), countries: cluster.countries, continents: cluster.continents,
                                 latitude: cluster.latitude, longitude: cluster.longitude)
            },
            families: [])
        if svc.policy == .geo || svc.policy == .latency {
            let location = snapshot.geo.locate(key)
            result.location = location
            result.region = snapshot.geo.region(of: location.location)
            switch location.source {
            case .cidrMap: result.locationSource = "cidr_map"
            case .database: result.locationSource = "database " + (snapshot.geo.database?.databaseType ?? "")
            case .corruptRecord: result.locationSource = "corrupt_record"
            case .unknown: result.locationSource = "none"
            }
        }
        var router = Router()
        for family in [AddressFamily.v4, .v6] {
            var trace = RecordingTrace()
            let decision = router.route(service: index, family: family, client: key, snapshot: snapshot, rng: &rng, trace: &trace)
            result.families.append(FamilyDecision(family: family, decision: decision, steps: trace.steps,
                                                  answer: router.chosen.map { snapshot.endpoints[Int($0)].address },
                                                  scope: decision.ecsScope(for: key)))
        }
        return result
    }

    /// A human-readable report.
    package var description: String {
        var lines = ["service \(service): policy \(policy.rawValue), ttl \(ttl)s, answers \(answers), \(failClosed ? "fail-closed" : "fail-open")"]
        lines.append("client key \(clientKey.address)/\(clientKey.prefix) (\(clientKey.fromClientSubnet ? "from EDNS Client Subnet" : "from the source address")), hash \(hex(keyHash))")
        if let canary { lines.append("canary \(canary.cluster) at \(canary.percent)%") }
        lines.append("clusters:")
        for c in candidates {
            let addresses = c.addresses.map(\.description).joined(separator: ",")
            var geo = ""
            if !c.countries.isEmpty { geo += " countries=" + c.countries.map(\.description).joined(separator: ",") }
            if !c.continents.isEmpty { geo += " continents=" + c.continents.map(\.description).joined(separator: ",") }
            if !c.latitude.isNaN { geo += " at=\(c.latitude),\(c.longitude)" }
            lines.append("  \(c.name)\(c.isCanary ? " (canary)" : "") region=\(c.region.isEmpty ? "-" : c.region) state=\(c.state.rawValue) \(c.healthy ? "healthy" : "DOWN") weight=\(c.weight) priority=\(c.priority)\(geo) addresses=\(addresses)")
        }
        for f in families {
            lines.append("\(f.family == .v4 ? "A" : "AAAA"): \(f.decision.outcome)" + (f.decision.tier.map { ", tier \($0)" } ?? "")
                         + (f.decision.geoLevel.map { ", geo level \($0)" } ?? "")
                         + (f.decision.canarySide.map { ", canary side \($0)" } ?? ""))
            for step in f.steps { lines.append("  - \(step)") }
            lines.append("  answer: \(f.answer.isEmpty ? "(none: NODATA)" : f.answer.map(\.description).joined(separator: " ")), ECS scope /\(f.scope)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Collects trace steps as text (control plane only).
struct RecordingTrace: RouteTrace {
    var steps: [String] = []
    mutating func note(_ step: @autoclosure () -> String) { steps.append(step()) }
}
