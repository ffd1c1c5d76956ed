import FoundationEssentials
import GLBCore
import HealthProber
import Proxy
import Store
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One GLB node: opens the store, starts the event loops and the listeners, and stops them all
/// in reverse order when told to (docs/architecture.md "Data flow").
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
        try makeDataDirectory()
        let lock = try DataDirectoryLock(directory: config.dataDirectory)
        defer { lock.release() }
        try refuseTakenAddresses()
        let store = try openStore()
        defer { Task { await store.close() } }
        try await ensureZones(store)

        let group = try EventLoopGroup(count: config.loops, name: "loop", clock: clock)
        group.start()
        defer { group.shutdown() }
        // The admin API and config push-pull get a loop of their own (Envoy keeps its admin on
        // the main thread, apart from the workers): a flood of admin connections, a huge body
        // or a slow client then costs the data-plane loops nothing but CPU time the kernel
        // shares out, never a turn of their own. Nice 10: when both want the CPU, the kernel
        // gives the data plane about ten times the control loop's share (CFS weights).
        let control = try EventLoopGroup(count: 1, name: "control", clock: clock, niceness: 10)
        control.start()
        defer { control.shutdown() }

        let prober = Prober(loop: group.loops[group.loops.count - 1], logger: logger, registry: metrics, seed: UInt64(clock.wallMilliseconds))
        defer { prober.stop() }
        let monitor = HealthMonitor(prober: prober, node: config.node, quorum: config.healthQuorum,
                                    freshness: config.observationFreshness)
        let routing = Routing(monitor: monitor, clock: clock, metrics: metrics, logger: logger.named("routing"),
                              node: .init(name: config.node, region: config.region, latitude: config.location?.latitude,
                                          longitude: config.location?.longitude))
        let geo = GeoLoader(databasePath: config.geoDatabase, cidrMapPath: config.geoCIDRMap, logger: logger.named("geo"), metrics: metrics)
        await routing.geoChanged(try geo.loadInitial())
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
            configuration.trustedProxies = config.trustedProxies
            if let limit = config.httpMaxBody { configuration.maxRequestBodyBytes = limit }
            if let idle = config.httpPoolIdle { configuration.maxIdlePerUpstream = idle }
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

        let ingress = proxy == nil ? nil : config.advertisedAddress
        if proxy != nil, ingress == nil {
            // Only "mode": "proxy" services answer with node addresses; say so, so that an
            // operator without them can ignore this.
            logger.warning("services in proxy mode will not be answered with this node: its proxy listens on a wildcard address; set --advertise IP",
                           ["http": "\(config.http.map { "\($0)" } ?? "-")", "https": "\(config.https.map { "\($0)" } ?? "-")"])
        }
        let metadata = NodeMetadata(dns: dns?.address.map { "\($0)" }, http: proxy?.address.map { "\($0)" }, ingress: ingress.map { "\($0)" },
                                    config: await routing.currentConfig.map { $0.version.readable }, location: config.location)
        let gossip = try await startGossip(loop: group.loops[0], metadata: metadata)
        let replication = if let gossip { try await startReplication(gossip, store: store, loop: control.loops[0]) } else { nil as (Replicator, HTTPServer)? }
        let replicator = replication?.0, syncServer = replication?.1
        if let gossip, !config.join.isEmpty {
            gossip.agent.join(config.join)
            logger.info("joining", ["through": config.join.map { "\($0)" }.joined(separator: ",")])
        }
        if gossip == nil, let ingress {
            await routing.ingressChanged([.init(name: config.node, region: config.region, address: ingress)])
        }

        let admin = HTTPServer(
            configuration: HTTPServer.Configuration(address: config.admin, name: "admin"),
            loops: control.loops,                    // control plane: its own loop, one is plenty
            handler: AdminAPI(store: store, metrics: metrics, auth: AdminAuth(adminToken: config.adminToken, readToken: config.readToken),
                              node: .init(name: config.node, region: config.region), publisher: publisher,
                              running: RunningNode(prober: prober, monitor: monitor, routing: routing, store: store, gossip: gossip,
                                                   certificateStore: certificates, clock: clock, agent: self),
                              clock: clock, startedAt: started, logger: logger.named("admin")),
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
        let hangups = ProcessSignals.claimHangups()
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

        let peers = gossip.map { PeerLink(agent: $0.agent, metadata: metadata) }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.followChanges(store, routing, replicator, peers) }
            if let peers, let replicator {
                tasks.addTask { await self.followGossip(peers, routing, replicator) }
                tasks.addTask { await self.sendDigests(replicator) }
                tasks.addTask { await self.pushPull(replicator) }
                tasks.addTask { await self.sendObservations(peers, routing) }
            }
            if let gossip, !config.join.isEmpty { tasks.addTask { await self.reportUnansweredJoin(gossip) } }
            tasks.addTask { await self.followHealth(prober, routing, store, peers) }
            tasks.addTask { await self.collectTombstones(store) }
            tasks.addTask { await self.watchGeo(geo, routing) }
            if let certificates { tasks.addTask { await certificates.watch() } }
            tasks.addTask {
                for await _ in hangups {
                    if let certificates { certificates.requestReload() }
                    if geo.databasePath != nil || geo.cidrMapPath != nil {
                        self.logger.info("SIGHUP: checking the geo files")
                        if let sources = geo.reloadIfChanged() { await routing.geoChanged(sources) }
                    }
                    if certificates == nil, geo.databasePath == nil, geo.cidrMapPath == nil {
                        self.logger.info("SIGHUP: nothing to reload (no --certs, --geoip or --geo-cidr-map)")
                    }
                }
            }
            await shutdown()
            tasks.cancelAll()
        }

        ready.store(false, ordering: .releasing)
        if let gossip {
            if config.gracefulLeave {
                // Goodbye first: peers record `left` at once instead of suspecting a dead node.
                await gossip.agent.leave()
                logger.info("left the gossip cluster")
            } else {
                await gossip.agent.stop()
            }
        }
        logger.info("stopping: finishing in-flight requests", ["grace_s": "\(config.shutdownGrace.seconds)"])
        await dns?.shutdown()
        async let proxyDrained: Void? = proxy?.shutdown(grace: config.shutdownGrace, clock: clock)
        async let adminDrained: Void = admin.shutdown(grace: config.shutdownGrace, clock: clock)
        async let syncDrained: Void? = syncServer?.shutdown(grace: .seconds(1), clock: clock)
        _ = await (proxyDrained, adminDrained, syncDrained)
        await store.close()
        logger.info("stopped")
    }

    /// Config replication over gossip, and its TCP push-pull endpoint on the gossip address and
    /// port (as memberlist does).
    private func startReplication(_ gossip: Gossip, store: Store, loop: EventLoop) async throws -> (Replicator, HTTPServer) {
        let sync = ConfigSync(keyring: config.gossipKeyring)
        let replicator = try await Replicator(store: store, gossip: gossip.agent, node: config.node, sync: sync, metrics: metrics,
                                              logger: logger.named("replication"))
        var configuration = HTTPServer.Configuration(address: gossip.address, name: "sync")
        configuration.maxBodyBytes = ConfigSync.maxBodyBytes
        let server = HTTPServer(configuration: configuration, loops: [loop],
                                handler: ConfigSyncEndpoint(sync: sync, replicator: replicator, logger: logger.named("replication")),
                                logger: logger.named("sync"), registry: metrics)
        defer {
            if let reserved = gossip.reservedTCPPort { closeDescriptor(reserved) }
        }
        do {
            try await server.start()
        } catch {
            throw AgentError("--gossip: cannot listen on \(gossip.address) (TCP, for config push-pull): \(error)")
        }
        return (replicator, server)
    }

    /// The running gossip member and where it listens.
    struct Gossip: Sendable {
        let agent: GossipAgent
        let address: SocketAddress
        /// With `--gossip` on port 0: a socket holding the TCP port for the push-pull listener
        /// until it is up (`startReplication` closes it).
        var reservedTCPPort: CInt?
        func members() -> [GossipMember] { agent.members() }
    }

    /// Starts the SWIM member on `loop` when --gossip is set. It joins through --join later
    /// (`run`), once the push-pull listener that joining peers call back on is up.
    private func startGossip(loop: EventLoop, metadata: NodeMetadata) async throws -> Gossip? {
        guard var bind = config.gossip else { return nil }
        // The push-pull listener shares the gossip port number over TCP. With port 0 (tests), take
        // a TCP port first and hold it until that listener is up (`startReplication`): a UDP port
        // picked alone was, now and then, already some TCP socket's.
        var reserved: CInt?
        if bind.port == 0 {
            do {
                let reservation = try Socket.reserveTCP(bind)
                reserved = reservation.descriptor
                bind = reservation.address
            } catch {
                throw AgentError("--gossip: cannot find a free port on \(bind.ip) (TCP): \(error)")
            }
        }
        var seed = SplitMix64(seed: UInt64(bitPattern: clock.wallMilliseconds) ^ UInt64(truncatingIfNeeded: config.node.hashValue))
        let agent = GossipAgent(name: config.node, region: config.region, metadata: metadata.bytes, config: config.gossipTuning,
                                keyring: config.gossipKeyring, loop: loop, registry: metrics, seed: seed.next(),
                                logger: logger.named("gossip"))
        do {
            let address = try await agent.start(bind: bind, advertise: config.advertise, seeds: [])
            logger.info("gossip started", ["address": "\(address)", "advertised": config.advertise.map { "\($0)" } ?? "\(address.ip)",
                                           "encrypted": config.gossipKeyring == nil ? "no" : "yes"])
            return Gossip(agent: agent, address: address, reservedTCPPort: reserved)
        } catch {
            if let reserved { closeDescriptor(reserved) }
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

    /// mkdir -p, mode 0700 (the store holds tokens' audit trail and the whole config).
    private func makeDataDirectory() throws {
        let directory = config.dataDirectory
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0, errno != EEXIST {
                throw AgentError("--data: cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func openStore() throws -> Store {
        let directory = config.dataDirectory
        do {
            return try Store(path: directory + "/glb.sqlite", nodeID: config.node, clock: clock)
        } catch {
            throw AgentError("--data: cannot open the store in \(directory): \(error)")
        }
    }

    /// Refuses to start when another process already listens on any address this agent is
    /// configured for. The listeners use SO_REUSEPORT, which would otherwise let a second agent
    /// join the first one's port group and take half its queries and connections.
    private func refuseTakenAddresses() throws {
        var claims: [(flag: String, address: SocketAddress, datagram: Bool)] = [("--admin", config.admin, false)]
        if let dns = config.dns { claims += [("--dns", dns, true), ("--dns", dns, false)] }
        if let http = config.http { claims.append(("--http", http, false)) }
        if let https = config.https { claims.append(("--https", https, false)) }
        if let gossip = config.gossip { claims += [("--gossip", gossip, true), ("--gossip", gossip, false)] }
        for claim in claims where Socket.addressInUse(claim.address, datagram: claim.datagram) {
            throw AgentError("\(claim.flag) \(claim.address): the port is already in use (\(claim.datagram ? "UDP" : "TCP")) by another process, perhaps another glb agent; stop it or choose another address")
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
            if let dns = config.dns, !dns.ip.isUnspecified { glue["ns1.\(name)"] = ["\(dns.ip)"] }
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

    /// Every hour (and at start), removes tombstones older than the grace period.
    private func collectTombstones(_ store: Store) async {
        let collected = metrics.counter("glb_store_tombstones_collected_total", help: "Deleted config rows removed after the tombstone grace period.")
        await repeatEvery(.seconds(3600), on: clock, startingNow: true) {
            let cutoff = HLCTimestamp(wallMilliseconds: clock.wallMilliseconds - config.tombstoneGrace.milliseconds, logical: 0)
            do {
                let count = try await store.collectTombstones(olderThan: cutoff)
                if count > 0 {
                    collected.increment(by: UInt64(count))
                    logger.info("collected tombstones", ["rows": "\(count)", "older_than": cutoff.description])
                }
            } catch {
                logger.warning("cannot collect tombstones", ["error": "\(error)"])
            }
        }
    }

    /// A node whose --join found no one says so once, with the likely reasons: the peers behind
    /// those addresses drop its packets without a word when its key is not theirs (they log it
    /// on their side), so silence here would leave it alone with no clue.
    private func reportUnansweredJoin(_ gossip: Gossip) async {
        do { try await clock.sleep(until: clock.now + config.joinReportDelay) } catch { return }
        guard gossip.members().count <= 1 else { return }
        let metrics = gossip.agent.metrics
        let foreign = metrics.droppedCount("unknown_key") + metrics.droppedCount("auth") + metrics.droppedCount("plaintext")
        logger.warning("no member answered the join", [
            "join": config.join.map { "\($0)" }.joined(separator: ","),
            "waited_s": "\(config.joinReportDelay.seconds)",
            "why": foreign > 0
                ? "packets arrive sealed with another gossip key: give every node the same --gossip-key-file or GLB_GOSSIP_KEY"
                : "the peers are down, unreachable over UDP and TCP, or use another gossip key (their log says so)",
        ])
    }

    /// Every `pushPullInterval`, a TCP push-pull with one random live peer (the first round waits
    /// one interval: joins already push-pull with the member that joined).
    private func pushPull(_ replicator: Replicator) async {
        await repeatEvery(config.pushPullInterval, on: clock) { await replicator.pushPullWithRandomPeer() }
    }

    /// A digest at once (for the members already known), then every interval: the catch-up
    /// path for a node that missed rows while it was away or a packet was lost.
    private func sendDigests(_ replicator: Replicator) async {
        await repeatEvery(config.replicationDigestInterval, on: clock, startingNow: true) { await replicator.sendDigest() }
    }

    /// Reloads the geo files when they change (polled) or on SIGHUP, and refreshes latency
    /// rankings, all on the control plane; the loops see the result as a new snapshot.
    private func watchGeo(_ geo: GeoLoader, _ routing: Routing) async {
        await withTaskGroup(of: Void.self) { group in
            if geo.databasePath != nil || geo.cidrMapPath != nil {
                group.addTask {
                    await repeatEvery(self.config.geoPollInterval, on: self.clock) {
                        if let sources = geo.reloadIfChanged() { await routing.geoChanged(sources) }
                    }
                }
            }
            group.addTask {
                await repeatEvery(self.config.latencyRefreshInterval, on: self.clock) { await routing.refreshLatency() }
            }
        }
    }
}

/// A reason the agent cannot start or keep running, worded for the operator.
struct AgentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
