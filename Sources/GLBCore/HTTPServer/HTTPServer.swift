import Synchronization

/// A small HTTP/1.1 server for the control plane (admin API, test origins), served by the event
/// loops: each loop owns a SO_REUSEPORT listener and its connections; the handler runs off the
/// loops (it may await actors) and the response hops back to the connection's loop.
///
///     loop k: listener ──accept──▶ HTTPServerConnection ──parse──▶ HTTPRequest
///                                          ▲                          │ Task
///                                          └──── execute(respond) ◀── handler.handle()
///
/// Shutdown is graceful: listeners close first, idle connections close at once, and connections
/// with a request in flight finish it (with `Connection: close`) before closing, within a grace
/// period after which they are cut.
package final class HTTPServer: Sendable {
    package struct Configuration: Sendable {
        package var address: SocketAddress
        /// Name in logs and metric labels (`admin`).
        package var name: String
        package var maxConnections: Int = 1024
        /// Larger request bodies get 413 before they are read.
        package var maxBodyBytes: Int = 1 << 20
        /// From a request's first byte to its last header: slow-loris defence, answered with 408.
        package var headerTimeout: Duration = .seconds(10)
        /// An idle keep-alive connection is closed after this.
        package var idleTimeout: Duration = .seconds(60)
        package var limits = HTTPLimits()

        package init(address: SocketAddress, name: String) {
            self.address = address
            self.name = name
        }
    }

    package let configuration: Configuration
    let handler: any HTTPHandler
    let loops: [EventLoop]
    let logger: Logger
    let metrics: Metrics
    private let states: Mutex<[LoopBound<ServerLoopState>]> = Mutex([])
    let connections = ConnectionCounter()
    private let boundAddress = Mutex<SocketAddress?>(nil)

    struct Metrics: Sendable {
        let requests: [Counter]            // by status class 1xx..5xx, index 0..4
        let rejectedConnections: Counter
        let duration: Histogram
    }

    package init(configuration: Configuration, loops: [EventLoop], handler: any HTTPHandler,
                 logger: Logger, registry: MetricsRegistry) {
        self.configuration = configuration
        self.loops = loops
        self.handler = handler
        self.logger = logger
        let label = ["server": configuration.name]
        metrics = Metrics(
            requests: (1...5).map { registry.counter("glb_http_server_requests_total", help: "Requests answered by GLB's own HTTP servers, by status class.", labels: label.merging(["code": "\($0)xx"]) { a, _ in a }) },
            rejectedConnections: registry.counter("glb_http_server_rejected_connections_total", help: "Connections closed at accept because the server was at its connection cap.", labels: label),
            duration: registry.histogram("glb_http_server_request_duration_seconds", help: "Time from a request's last byte to its response being queued.", labels: label))
        let gauge = registry.gauge("glb_http_server_connections", help: "Open connections on GLB's own HTTP servers.", labels: label)
        registry.onCollect { [weak self] in gauge.set(Double(self?.connections.count ?? 0)) }
    }

    /// The address the server is listening on (with the real port when configured with port 0).
    package var address: SocketAddress? { boundAddress.withLock { $0 } }

    /// Binds one listener per loop and starts accepting. Throws if the address cannot be bound.
    package func start() async throws(SystemError) {
        var address = configuration.address
        for loop in loops {
            let bindTo = address
            address = try await loop.submit { () throws(SystemError) -> SocketAddress in
                let state = try ServerLoopState(server: self, loop: loop, address: bindTo)
                self.states.withLock { $0.append(LoopBound(state, loop: loop)) }
                return state.listenAddress       // later loops share the port the first one got
            }
        }
        boundAddress.withLock { $0 = address }
    }

    /// Stops accepting, lets in-flight requests finish for up to `grace`, then closes what is left.
    package func shutdown(grace: Duration, clock: any GLBClock = SystemClock()) async {
        let states = self.states.withLock { $0 }
        for state in states { await state.run { $0.beginDrain() } }
        await connections.drained(within: grace, clock: clock)
        for state in states { await state.run { $0.closeAll() } }
    }

    func countResponse(status: Int) {
        let index = min(max(status / 100, 1), 5) - 1
        metrics.requests[index].increment()
    }
}

/// One loop's share of a server: its listener and its connections. Loop-confined.
final class ServerLoopState: Selectable {
    let server: HTTPServer
    let loop: EventLoop
    let descriptor: CInt
    let listenAddress: SocketAddress
    private var connections: [ObjectIdentifier: HTTPServerConnection] = [:]
    private var accepting = true

    init(server: HTTPServer, loop: EventLoop, address: SocketAddress) throws(SystemError) {
        self.server = server
        self.loop = loop
        descriptor = try Socket.listenTCP(address, reusePort: true)
        listenAddress = Socket.localAddress(descriptor) ?? address
        do throws(SystemError) {
            try loop.register(self, interest: .read)
        } catch {
            closeDescriptor(descriptor)
            throw error
        }
    }

    func readable(now: Instant) {
        while accepting {
            let accepted: (fd: CInt, peer: SocketAddress?)?
            do {
                accepted = try Socket.accept(descriptor)
            } catch {
                guard error.isResourceShortage else { continue }     // that connection only
                server.logger.warning("accept failed; pausing accepts for 100 ms", ["server": server.configuration.name, "error": "\(error)"])
                loop.pauseAccepting(self)
                return
            }
            guard let accepted else { return }
            guard server.connections.admit(limit: server.configuration.maxConnections) else {
                server.metrics.rejectedConnections.increment()
                closeDescriptor(accepted.fd)
                continue
            }
            let connection = HTTPServerConnection(fd: accepted.fd, peer: accepted.peer, state: self, now: now)
            do {
                try loop.register(connection, interest: .read)
                connections[ObjectIdentifier(connection)] = connection
            } catch {
                closeDescriptor(accepted.fd)
                server.connections.closed()
            }
        }
    }

    func writable(now: Instant) {}

    func removed(_ connection: HTTPServerConnection) {
        if connections.removeValue(forKey: ObjectIdentifier(connection)) != nil { server.connections.closed() }
    }

    /// Stops accepting and asks every connection to finish.
    func beginDrain() {
        if accepting {
            accepting = false
            loop.deregister(self)
            closeDescriptor(descriptor)
        }
        for connection in Array(connections.values) { connection.drain() }
    }

    func closeAll() {
        beginDrain()
        for connection in Array(connections.values) { connection.close() }
    }
}
