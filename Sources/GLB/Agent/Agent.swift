import Foundation
import GLBCore
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
    /// The routing snapshot every event loop reads; rebuilt on every config or health change.
    let publisher = SnapshotPublisher()
    private let compiler = Mutex(RouteCompiler())
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
    }

    /// Runs the node until `shutdown` returns, then stops cleanly. `onReady` is called once every
    /// listener is up, with the bound addresses (tests bind port 0 and need the real ones).
    func run(until shutdown: @escaping @Sendable () async -> Void,
             onReady: @Sendable (Endpoints) -> Void = { _ in }) async throws {
        let started = clock.now
        let store = try openStore()
        defer { Task { await store.close() } }
        try await ensureZones(store)

        try await recompile(store)
        if let http = config.http {
            logger.warning("--http is accepted but the HTTP reverse proxy is not built yet (issue 5); nothing listens there", ["http": "\(http)"])
        }

        let group = try EventLoopGroup(count: config.loops, name: "loop", clock: clock)
        group.start()
        defer { group.shutdown() }

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

        let admin = HTTPServer(
            configuration: HTTPServer.Configuration(address: config.admin, name: "admin"),
            loops: [group.loops[0]],                 // the admin API is control plane: one loop is plenty
            handler: AdminAPI(store: store, metrics: metrics, auth: AdminAuth(adminToken: config.adminToken, readToken: config.readToken),
                              node: .init(name: config.node, region: config.region), publisher: publisher, clock: clock, startedAt: started,
                              logger: logger.named("admin"), isReady: { [weak self] in self?.isReady ?? false }),
            logger: logger.named("admin"), registry: metrics)
        do {
            try await admin.start()
        } catch {
            throw AgentError("--admin: cannot listen on \(config.admin): \(error)")
        }
        adminAddress.withLock { $0 = admin.address }
        registerMetrics(store: store)

        ready.store(true, ordering: .releasing)
        logger.info("glb agent ready", [
            "node": config.node, "region": config.region, "admin": admin.address.map { "\($0)" } ?? "-",
            "dns": dns?.address.map { "\($0)" } ?? "off",
            "data": config.dataDirectory, "zones": config.zones.joined(separator: ","),
            "startup_ms": String((clock.now - started).milliseconds),
        ])
        onReady(Endpoints(admin: admin.address ?? config.admin, dns: dns?.address))

        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.followChanges(store) }
            await shutdown()
            tasks.cancelAll()
        }

        ready.store(false, ordering: .releasing)
        logger.info("stopping: finishing in-flight requests", ["grace_s": "\(config.shutdownGrace)"])
        await dns?.shutdown()
        await admin.shutdown(grace: config.shutdownGrace, clock: clock)
        await store.close()
        logger.info("stopped")
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
    /// are left as the operator last set them.
    private func ensureZones(_ store: Store) async throws {
        let context = WriteContext(actor: "node:\(config.node)", source: "glb agent --zone")
        for name in config.zones where try await store.zone(named: name) == nil {
            // The NS record names this node; with a specific --dns address that address is its glue,
            // so a resolver delegated here can find us (RFC 1034 §4.2.1).
            var glue: [String: [String]] = [:]
            if let dns = config.dns, dns.ip != .v4(0) { glue["ns1.\(name)"] = ["\(dns.ip)"] }
            _ = try await store.putZone(Zone(name: name, nameservers: ["ns1.\(name)"], glue: glue), context: context)
            logger.info("zone created", ["zone": name])
        }
    }

    private func registerMetrics(store: Store) {
        metrics.gauge("glb_build_info", help: "Always 1; the labels say which build is running.", labels: ["version": CLI.version]).set(1)
        let ready = metrics.gauge("glb_ready", help: "1 when the node serves traffic, 0 while starting or stopping.")
        metrics.onCollect { [weak self] in ready.set(self?.isReady == true ? 1 : 0) }
    }

    /// Rebuilds and publishes the routing snapshot after every committed config write, so `dig`
    /// sees a REST change at once (the loops pick the new snapshot up on their next tick).
    private func followChanges(_ store: Store) async {
        for await _ in store.changes {
            do {
                try await recompile(store)
            } catch {
                logger.error("cannot rebuild the routing snapshot; serving the previous one", ["error": "\(error)"])
            }
        }
    }

    /// Reads the whole config, compiles a snapshot off the event loops and publishes it.
    func recompile(_ store: Store) async throws {
        let config = try await store.configSnapshot()
        let input = compiler.withLock { $0.compile(config) }
        let snapshot = RoutingSnapshot(compiling: input)
        publisher.publish(snapshot)
        metrics.gauge("glb_config_version", help: "Wall-clock milliseconds of the newest config row this node serves (HLC physical part).")
            .set(Double(config.version.wallMilliseconds))
        metrics.gauge("glb_routing_generation", help: "Generation of the routing snapshot the event loops serve.").set(Double(snapshot.generation))
        for problem in snapshot.problems { logger.warning("config row skipped in routing", ["problem": problem]) }
    }
}

/// A reason the agent cannot start or keep running, worded for the operator.
struct AgentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
