import Foundation
import GLBCore
import HealthProber
import Proxy
import Store
import Synchronization

/// One GLB node: opens the store, starts the event loops and the listeners, and stops them all
/// in reverse order when told to (DESIGN.md "Data flow").
///
///     start:  data dir → Store (SQLite) → zones from --zone → event loops → admin API → ready
///     stop:   not ready → listeners drain (grace) → loops joined → store closed
///
/// Every socket, timer and task started here has its owner in this type, so `run` returning means
/// nothing is left running.
final class Agent: Sendable {
    let config: AgentConfig
    let clock: any GLBClock
    let logger: Logger
    let metrics = MetricsRegistry()
    private let ready = Atomic<Bool>(false)
    private let adminAddress = Mutex<SocketAddress?>(nil)

    init(config: AgentConfig, clock: any GLBClock = SystemClock(), logger: Logger) {
        self.config = config
        self.clock = clock
        self.logger = logger
    }

    /// The admin API's bound address, once it is listening (tests start agents on port 0).
    var boundAdminAddress: SocketAddress? { adminAddress.withLock { $0 } }

    var isReady: Bool { ready.load(ordering: .acquiring) }

    /// Where a running agent listens (with real ports when configured with port 0).
    struct Endpoints: Sendable {
        var admin: SocketAddress
        var dns: SocketAddress?
        var http: SocketAddress?
        var https: SocketAddress?
        var gossip: SocketAddress?
    }

    /// Runs the node until `shutdown` returns, then stops cleanly. `onReady` is called once every
    /// listener is up, with the bound addresses (tests bind port 0 and need the real ones).
    func run(until shutdown: @escaping @Sendable () async -> Void,
             onReady: @Sendable (Endpoints) -> Void = { _ in }) async throws {
        let started = clock.now
        let store = try openStore()
        defer { Task { await store.close() } }
        try await ensureZones(store)

        let group = try EventLoopGroup(count: config.loops, name: "loop", clock: clock)
        group.start()
        defer { group.shutdown() }

        let prober: Prober
        do {
            prober = try Prober(loop: group.loops[group.loops.count - 1], logger: logger, registry: metrics, seed: UInt64(clock.wallMilliseconds))
        } catch {
            throw AgentError("cannot set up TLS for HTTPS health checks: \(error)")
        }
        defer { prober.stop() }
        let routing = Routing(monitor: HealthMonitor(prober: prober), metrics: metrics, logger: logger.named("routing"))
        await routing.configChanged(try await store.configSnapshot())
        let publisher = routing.publisher

        var dns: DNSServer?
        if let address = config.dns {
            let server = DNSServer(configuration: .init(address: address), loops: group.loops, publisher: publisher,
                                   logger: logger.named("dns"), registry: metrics)
            do {
                try await server.start()
            } catch {
                throw AgentError("--dns: cannot listen on \(address) (UDP and TCP): \(error)")
            }
            dns = server
        }

        let certificates = try loadCertificates()
        var proxy: HTTPProxy?
        if config.http != nil || config.https != nil {
            var configuration = HTTPProxy.Configuration(address: config.http, defaultService: config.httpDefaultService)
            configuration.accessLogSampleRate = config.accessLogSampleRate
            configuration.httpsAddress = config.https
            configuration.certificates = certificates
            configuration.upstreamTrustRootsFile = config.upstreamCA
            let server = HTTPProxy(configuration: configuration, loops: group.loops, publisher: publisher,
                                   logger: logger.named("http"), registry: metrics)
            do {
                try await server.start()
            } catch {
                let flags = [config.http.map { "--http \($0)" }, config.https.map { "--https \($0)" }].compactMap { $0 }
                throw AgentError("\(flags.joined(separator: " or ")): cannot listen: \(error)")
            }
            proxy = server
        }

        let gossip = try await startGossip(loop: group.loops[0], dns: dns?.address, http: proxy?.address)

        let admin = HTTPServer(
            configuration: HTTPServer.Configuration(address: config.admin, name: "admin"),
            loops: [group.loops[0]],                 // the admin API is control plane: one loop is plenty
            handler: AdminAPI(store: store, metrics: metrics, auth: AdminAuth(adminToken: config.adminToken, readToken: config.readToken),
                              node: .init(name: config.node, region: config.region), publisher: publisher, health: { prober.snapshot() },
                              afterWrite: { await routing.catchUp(with: store) }, members: { gossip?.members() }, certificates: { certificates?.certificates ?? [] },
                              clock: clock, startedAt: started,
                              logger: logger.named("admin"), isReady: { [weak self] in self?.isReady ?? false }),
            logger: logger.named("admin"), registry: metrics)
        do {
            try await admin.start()
        } catch {
            throw AgentError("--admin: cannot listen on \(config.admin): \(error)")
        }
        adminAddress.withLock { $0 = admin.address }
        registerMetrics(store: store)

        // SIGHUP is caught from here on, before anyone is told the node is ready, so
        // `systemctl reload` never meets the default action (exit), with or without --https.
        let hangups = ReloadSignal.stream()
        ready.store(true, ordering: .releasing)
        logger.info("glb agent ready", [
            "node": config.node, "region": config.region, "admin": admin.address.map { "\($0)" } ?? "-",
            "dns": dns?.address.map { "\($0)" } ?? "off", "http": proxy?.address.map { "\($0)" } ?? "off",
            "https": proxy?.httpsAddress.map { "\($0)" } ?? "off",
            "gossip": gossip.map { "\($0.address)" } ?? "off",
            "data": config.dataDirectory, "zones": config.zones.joined(separator: ","),
            "startup_ms": String((clock.now - started).milliseconds),
        ])
        onReady(Endpoints(admin: admin.address ?? config.admin, dns: dns?.address, http: proxy?.address, https: proxy?.httpsAddress,
                          gossip: gossip?.address))

        let replicator: Replicator? = if let gossip {
            try await Replicator(store: store, gossip: gossip.agent, node: config.node, logger: logger.named("replication"))
        } else {
            nil
        }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.followChanges(store, routing, replicator) }
            if let gossip, let replicator {
                tasks.addTask { for await event in gossip.agent.events { await replicator.handle(event) } }
                tasks.addTask { await self.sendDigests(replicator) }
            }
            tasks.addTask { await self.followHealth(prober, routing, store) }
            if let certificates { tasks.addTask { await certificates.watch() } }
            tasks.addTask {
                for await _ in hangups {
                    if let certificates { certificates.requestReload() } else { self.logger.info("SIGHUP: nothing to reload without --https") }
                }
            }
            await shutdown()
            tasks.cancelAll()
        }

        ready.store(false, ordering: .releasing)
        if let gossip {
            // Goodbye first: peers record `left` at once instead of suspecting a dead node.
            await gossip.agent.leave()
            logger.info("left the gossip cluster")
        }
        logger.info("stopping: finishing in-flight requests", ["grace_s": "\(config.shutdownGrace)"])
        await dns?.shutdown()
        async let proxyDrained: Void? = proxy?.shutdown(grace: config.shutdownGrace, clock: clock)
        async let adminDrained: Void = admin.shutdown(grace: config.shutdownGrace, clock: clock)
        _ = await (proxyDrained, adminDrained)
        await store.close()
        logger.info("stopped")
    }

    /// The running gossip member and where it listens.
    struct Gossip: Sendable {
        let agent: GossipAgent
        let address: SocketAddress
        func members() -> [GossipMember] { agent.members() }
    }

    /// Starts the SWIM member on `loop` when --gossip is set, and joins through --join.
    private func startGossip(loop: EventLoop, dns: SocketAddress?, http: SocketAddress?) async throws -> Gossip? {
        guard let bind = config.gossip else { return nil }
        let metadata = NodeMetadata(dns: dns.map { "\($0)" }, http: http.map { "\($0)" })
        var seed = SplitMix64(seed: UInt64(bitPattern: clock.wallMilliseconds) ^ UInt64(truncatingIfNeeded: config.node.hashValue))
        let agent = GossipAgent(name: config.node, region: config.region, metadata: metadata.bytes, config: config.gossipTuning,
                                keyring: config.gossipKeyring, loop: loop, registry: metrics, seed: seed.next())
        do {
            let address = try await agent.start(bind: bind, seeds: config.join)
            logger.info("gossip started", ["address": "\(address)", "join": config.join.map { "\($0)" }.joined(separator: ","),
                                           "encrypted": config.gossipKeyring == nil ? "no" : "yes"])
            return Gossip(agent: agent, address: address)
        } catch {
            switch error {
            case .plaintextOffLoopback:
                throw AgentError("--gossip: without --gossip-key-file or GLB_GOSSIP_KEY, gossip stays on loopback")
            case .socket(let cause):
                throw AgentError("--gossip: cannot listen on \(bind) (UDP): \(cause)")
            case .alreadyStarted:
                throw AgentError("--gossip: started twice")
            }
        }
    }

    /// The certificates for --https, loaded before anything listens: a directory with no usable
    /// pair stops the agent with every reason, instead of failing every handshake later.
    private func loadCertificates() throws -> CertificateStore? {
        guard let directory = config.certificates, config.https != nil else { return nil }
        do {
            return try CertificateStore(directory: directory, logger: logger.named("tls"), registry: metrics, clock: clock)
        } catch {
            throw AgentError("--certs: \(error)")
        }
    }

    private func openStore() throws -> Store {
        let directory = config.dataDirectory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AgentError("--data: cannot create \(directory): \(error.localizedDescription)")
        }
        do {
            return try Store(path: directory + "/glb.sqlite", nodeID: config.node, clock: clock)
        } catch {
            throw AgentError("--data: cannot open the store in \(directory): \(error)")
        }
    }

    /// Creates the zones named by --zone that the store does not have yet. Zones already there
    /// are left as the operator last set them, and so are zones a peer replicates later.
    private func ensureZones(_ store: Store) async throws {
        let context = WriteContext(actor: "node:\(config.node)", source: "glb agent --zone")
        for name in config.zones where try await store.zone(named: name) == nil {
            // The NS record names this node; with a specific --dns address that address is its glue,
            // so a resolver delegated here can find us (RFC 1034 §4.2.1).
            var glue: [String: [String]] = [:]
            if let dns = config.dns, dns.ip != .v4(0) { glue["ns1.\(name)"] = ["\(dns.ip)"] }
            // At the seed version: any zone row an operator wrote, on any node, wins over this one.
            _ = try await store.seedZone(Zone(name: name, nameservers: ["ns1.\(name)"], glue: glue), context: context)
            logger.info("zone created", ["zone": name])
        }
    }

    private func registerMetrics(store: Store) {
        metrics.gauge("glb_build_info", help: "Always 1; the labels say which build is running.", labels: ["version": CLI.version]).set(1)
        let ready = metrics.gauge("glb_ready", help: "1 when the node serves traffic, 0 while starting or stopping.")
        metrics.onCollect { [weak self] in ready.set(self?.isReady == true ? 1 : 0) }
    }

    /// Rebuilds and publishes the routing snapshot after every committed config write, so `dig`
    /// sees a REST change at once (the loops pick the new snapshot up before their next packet).
    /// Then hands the write to replication, which gossips the rows this node wrote.
    private func followChanges(_ store: Store, _ routing: Routing, _ replicator: Replicator?) async {
        for await _ in store.changes {
            await routing.catchUp(with: store)
            await replicator?.localChanged()
        }
    }

    /// A digest at once (for the members already known), then every interval: the catch-up
    /// path for a node that missed rows while it was away or a packet was lost.
    private func sendDigests(_ replicator: Replicator) async {
        while !Task.isCancelled {
            await replicator.sendDigest()
            do { try await clock.sleep(until: clock.now + config.replicationDigestInterval) } catch { return }
        }
    }

    /// Turns every health transition into a new snapshot first (failover time is what matters),
    /// then a row in the store's event history.
    private func followHealth(_ prober: Prober, _ routing: Routing, _ store: Store) async {
        for await transition in prober.transitions {
            if routing.monitor?.apply(transition) == true { await routing.healthChanged() }
            let rtt = transition.rtt.map { $0.microseconds }      // the prober has logged it already
            let event = HealthEvent(atMS: transition.wallMilliseconds, node: config.node, target: transition.targetID,
                                    from: transition.from.rawValue, to: transition.to.rawValue, reason: transition.reason, rttMicroseconds: rtt)
            do { try await store.recordHealthEvent(event) } catch {
                logger.warning("cannot record a health event", ["error": "\(error)"])
            }
        }
    }
}

extension Duration {
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

/// A reason the agent cannot start or keep running, worded for the operator.
struct AgentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
