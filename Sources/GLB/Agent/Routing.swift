import GLBCore
import HealthProber
import Proxy
import Store

/// The control plane's side of routing: keeps the newest config and health view, compiles them
/// into a `RoutingSnapshot` off the event loops, and publishes it for the loops to pick up.
///
///     store.changes ──configChanged──▶ ┐
///                                      ├─▶ RouteCompiler ─▶ RoutingSnapshot ─▶ publisher ─▶ loops
///     prober.transitions ─healthChanged▶┘
///
/// An actor: config and health events arrive from different tasks and must not interleave a
/// compile with a half-updated view.
actor Routing {
    nonisolated let publisher = SnapshotPublisher()
    nonisolated let monitor: HealthMonitor?
    private var compiler = RouteCompiler()
    private var config: ConfigSnapshot?
    private var ingress: [RouteCompiler.IngressNode] = []
    private let metrics: MetricsRegistry
    private let logger: Logger
    private let clock: any GLBClock
    /// Client location sources (`--geoip`, `--geo-cidr-map`), replaced on reload.
    private var geo = GeoSources.none
    /// This node, for `latency`: its RTTs rank clusters for clients nearest it.
    private let node: LatencyInput.Node?
    /// The other GLB nodes as gossip describes them (region, `--location`), for latency routing.
    private var peers: [String: LatencyInput.Node] = [:]
    /// The latency leaders of the last snapshot: the hysteresis state fed into the next.
    private var leaders: [String: String] = [:]

    init(monitor: HealthMonitor?, clock: any GLBClock, metrics: MetricsRegistry, logger: Logger, node: LatencyInput.Node? = nil) {
        self.monitor = monitor
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.node = node
    }

    /// New geo sources (a reloaded database or CIDR map): serve them from the next snapshot.
    func geoChanged(_ sources: GeoSources) {
        geo = sources
        rebuild()
    }

    /// RTTs move continuously, unlike config and health: recompile now and then while some
    /// service routes by latency, so rankings follow them (hysteresis keeps answers steady).
    func refreshLatency() {
        guard let config, config.services.contains(where: { $0.policy == .latency }) else { return }
        rebuild()
    }

    /// Every fresh RTT known as latency samples: this node's probes and the ones peers gossip in
    /// their health observations. Peers come with the region and `--location` their gossip
    /// metadata carries; an observer known only from its reports is a node without coordinates,
    /// which a client reaches only through a CIDR-map region.
    private func latencyInput(_ config: ConfigSnapshot) -> LatencyInput? {
        guard let node, let monitor, config.services.contains(where: { $0.policy == .latency }) else { return nil }
        let zones = Dictionary(config.services.map { ($0.name, $0.zone) }, uniquingKeysWith: { a, _ in a })
        var samples: [LatencyInput.Sample] = [], nodes = [node], seen: Set<String> = [node.name]
        for peer in peers.values where seen.insert(peer.name).inserted { nodes.append(peer) }
        for (id, byObserver) in monitor.rtts(now: clock.now) {
            let parts = id.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let zone = zones[parts[0]] else { continue }
            let fqdn = parts[0].isEmpty || parts[0] == "@" ? zone : parts[0] + "." + zone
            for (observer, rtt) in byObserver {
                samples.append(.init(node: observer, service: fqdn, cluster: parts[1], rtt: rtt))
                if seen.insert(observer).inserted { nodes.append(.init(name: observer, region: "")) }
            }
        }
        return LatencyInput(localNode: node.name, nodes: nodes, samples: samples, previousLeaders: leaders)
    }

    /// A new config: probe what it describes and serve it.
    func configChanged(_ config: ConfigSnapshot) {
        self.config = config
        monitor?.update(config, now: clock.now)
        metrics.gauge("glb_config_version", help: "Wall-clock milliseconds of the newest config row this node serves (HLC physical part).")
            .set(Double(config.version.wallMilliseconds))
        rebuild()
    }

    /// Compiles the store's config if it changed since the one served. The admin API calls this
    /// before it answers a write, so a client that got a 2xx finds the change in the very next
    /// DNS answer or proxied request (read-your-writes), not a moment later. It compares the
    /// store's revision, not the newest version: a peer's row that arrives late may be older than
    /// the newest row here and must still be served.
    func catchUp(with store: Store) async {
        do {
            if let config, config.revision >= (await store.revision) { return }
            configChanged(try await store.configSnapshot())
        } catch {
            logger.error("cannot rebuild the routing snapshot; serving the previous one", ["error": "\(error)"])
        }
    }

    /// The other nodes' regions and locations changed (gossip metadata).
    func peersChanged(_ nodes: [LatencyInput.Node]) {
        let updated = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard updated != peers else { return }
        peers = updated
        if config?.services.contains(where: { $0.policy == .latency }) == true { rebuild() }
    }

    /// The GLB nodes proxy-mode services answer with changed.
    func ingressChanged(_ nodes: [RouteCompiler.IngressNode]) {
        let sorted = nodes.sorted { $0.name < $1.name }
        guard sorted != ingress else { return }
        ingress = sorted
        rebuild()
    }

    /// A cluster became routable or stopped being so.
    func healthChanged() {
        rebuild()
    }

    /// The config the snapshot was last compiled from.
    var currentConfig: ConfigSnapshot? { config }

    private func rebuild() {
        guard let config else { return }
        let health = monitor?.view ?? [:]
        var input = compiler.compile(config, health: health, ingress: ingress)
        input.geo = geo
        input.latency = latencyInput(config)
        let snapshot = RoutingSnapshot(compiling: input)
        leaders = snapshot.latency.leaders
        publisher.publish(snapshot)
        metrics.gauge("glb_routing_generation", help: "Generation of the routing snapshot the event loops serve.").set(Double(snapshot.generation))
        for problem in snapshot.problems { logger.warning("config row skipped in routing", ["problem": problem]) }
        // The seed's "backend health ratio" SLI: answerable clusters over clusters that could be.
        var totals: [String: (healthy: Int, all: Int)] = [:]
        for cluster in config.clusters where cluster.state != .disabled {
            let healthy = health[cluster.key]?.answerable ?? true
            totals[cluster.service, default: (0, 0)].all += 1
            if healthy { totals[cluster.service, default: (0, 0)].healthy += 1 }
        }
        for service in config.services {
            let t = totals[service.name] ?? (0, 0)
            metrics.gauge("glb_service_healthy_ratio", help: "Share of a service's active and draining clusters that health checks let GLB answer.",
                          labels: ["service": service.name]).set(t.all == 0 ? 0 : Double(t.healthy) / Double(t.all))
        }
    }
}
