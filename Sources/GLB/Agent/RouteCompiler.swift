import GLBCore
import Proxy
import Store

/// Turns the store's rows and the node's view of health into the `RouteInput` that Proxy
/// compiles into a `RoutingSnapshot`. The only place where store records meet routing types:
/// Proxy never imports Store (STYLE.md §8.1), so this translation lives in the agent.
struct RouteCompiler {
    private(set) var generation: UInt64 = 0

    /// Health as the routing layer needs it: cluster key (`service/cluster`) → the quorum's
    /// verdict and this node's own. A cluster with no entry has not been judged yet and is answered.
    typealias HealthView = [String: HealthMonitor.ClusterHealth]

    /// A GLB node that proxy-mode services answer with: a live gossip member that advertises an
    /// ingress address (or this node alone, without gossip).
    struct IngressNode: Hashable, Sendable {
        var name: String
        var region: String
        var address: IPAddress
    }

    mutating func compile(_ config: ConfigSnapshot, health: HealthView = [:], ingress: [IngressNode] = []) -> RouteInput {
        generation += 1
        let serial = UInt32(truncatingIfNeeded: max(1, config.version.wallMilliseconds / 1000))
        let zones = config.zones.map { zone in
            ZoneInput(name: zone.name, ttl: UInt32(zone.ttl), negativeTTL: UInt32(zone.negativeTTL), serial: serial,
                      hostmaster: zone.hostmaster,
                      nameservers: zone.nameservers.isEmpty ? ["ns1.\(zone.name)"] : zone.nameservers,
                      glue: zone.glue.mapValues { $0.compactMap(IPAddress.init) })
        }
        let canaries = Dictionary(config.canaries.map { ($0.service, $0) }, uniquingKeysWith: { a, _ in a })
        let clustersByService = Dictionary(grouping: config.clusters, by: \.service)
        let services = config.services.map { service in
            ServiceInput(
                name: service.name, zone: service.zone, policy: Self.policy(service.policy), ttl: UInt32(service.ttl),
                answers: service.answers, failClosed: service.failClosed,
                clusters: (clustersByService[service.name] ?? []).map { cluster in
                    ClusterInput(name: cluster.name, region: cluster.region, addresses: cluster.addresses.compactMap(IPAddress.init),
                                 port: UInt16(clamping: cluster.port), weight: UInt32(clamping: cluster.weight),
                                 priority: cluster.priority, state: Self.state(cluster.state),
                                 healthy: health[cluster.key]?.answerable ?? true,
                                 locallyHealthy: health[cluster.key]?.local ?? true, countries: cluster.countries,
                                 continents: cluster.continents, latitude: cluster.latitude, longitude: cluster.longitude,
                                 tls: cluster.tls ? UpstreamTLS(serverName: cluster.tlsServerName ?? Self.serverName(service.fqdn),
                                                                verify: cluster.tlsVerify) : nil)
                },
                canary: canaries[service.name].map { CanaryInput(cluster: $0.cluster, percent: $0.percent) },
                ingress: service.mode == .proxy ? ingress.map { ClusterInput(name: $0.name, region: $0.region, addresses: [$0.address]) } : nil)
        }
        return RouteInput(generation: generation, zones: zones, services: services)
    }

    /// SNI carries a host name without the root's trailing dot (RFC 6066 §3).
    static func serverName(_ fqdn: String) -> String {
        fqdn.hasSuffix(".") ? String(fqdn.dropLast()) : fqdn
    }

    static func policy(_ policy: RoutingPolicy) -> RoutePolicy {
        switch policy {
        case .weighted: .weighted
        case .failover: .failover
        case .all: .all
        case .geo: .geo
        case .latency: .latency
        }
    }

    static func state(_ state: Cluster.State) -> ClusterState {
        switch state {
        case .active: .active
        case .draining: .draining
        case .disabled: .disabled
        }
    }
}
