import Foundation
import Synchronization
import GLBCore
import HealthProber
import GLBTestSupport
@testable import GLB

/// An agent's log lines (warnings and errors), kept for a test to read.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A `glb agent` running in this process on loopback port 0 with its own data directory.
final class RunningAgent: Sendable {
    let address: SocketAddress
    let dns: SocketAddress?
    let http: SocketAddress?
    let gossip: SocketAddress?
    let dataDirectory: String
    private let stopper: AsyncStream<Void>.Continuation
    private let task: Task<Void, any Error>

    private init(endpoints: Agent.Endpoints, dataDirectory: String, stopper: AsyncStream<Void>.Continuation, task: Task<Void, any Error>) {
        self.address = endpoints.admin
        self.dns = endpoints.dns
        self.http = endpoints.http
        self.gossip = endpoints.gossip
        self.dataDirectory = dataDirectory
        self.stopper = stopper
        self.task = task
    }

    static func start(dataDirectory: String, adminToken: String? = nil, readToken: String? = nil,
                      zones: [String] = ["glb.example."], dns: Bool = false, http: Bool = false, shutdownGrace: Duration = .seconds(5),
                      node: String = "test-node", region: String = "local", gossip: Bool = false, join: [SocketAddress] = [],
                      log: CapturedLog? = nil,
                      tune: @Sendable (inout AgentConfig) -> Void = { _ in }) async throws -> RunningAgent {
        var config = AgentConfig()
        config.dataDirectory = dataDirectory
        config.zones = zones
        config.admin = SocketAddress(ip: .v4(0x7F00_0001), port: 0)
        config.adminToken = adminToken
        config.readToken = readToken
        config.node = node
        config.region = region
        if gossip {
            // Loopback needs no key; `.fast` so joins, payloads and failures show in well under a second.
            config.gossip = SocketAddress(ip: .v4(0x7F00_0001), port: 0)
            config.join = join
            config.gossipTuning = .fast
        }
        config.loops = 1
        config.shutdownGrace = shutdownGrace
        if dns { config.dns = SocketAddress(ip: .v4(0x7F00_0001), port: 0) }
        if http { config.http = SocketAddress(ip: .v4(0x7F00_0001), port: 0) }
        tune(&config)
        let logger = log.map { log in Logger(component: "agent", minimum: .warning, sink: { log.append($0) }) }
            ?? Logger(component: "agent", minimum: .warning)
        let agent = Agent(config: config, logger: logger)
        let (stopSignal, stopper) = AsyncStream<Void>.makeStream()
        let (ready, readyContinuation) = AsyncStream<Agent.Endpoints>.makeStream()
        let task = Task {
            defer { readyContinuation.finish() }
            try await agent.run(until: { for await _ in stopSignal { return } }, onReady: { readyContinuation.yield($0) })
        }
        for await endpoints in ready {
            return RunningAgent(endpoints: endpoints, dataDirectory: dataDirectory, stopper: stopper, task: task)
        }
        try await task.value          // run() failed before it was ready: surface its error
        throw AgentError("agent stopped before it was ready")
    }

    /// SIGTERM's path: drain and stop; returns when `run` has returned.
    func stop() async throws {
        stopper.yield()
        stopper.finish()
        try await task.value
    }

    /// One request to the admin API from a separate thread.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [(name: String, value: String)] = []) async throws -> (status: Int, json: JSONValue?, response: HTTPResponse) {
        let address = self.address
        let request = HTTPRequest(method: method, target: path, headers: headers, body: Array((body ?? "").utf8))
        let response = try await offPool { try BlockingHTTPClient(timeout: .seconds(10)).send(request, to: address) }
        return (response.status, try? JSONParser.parse(response.body), response)
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
/// For multi-agent tests, whose gossip runs on real time: no fixed sleeps, a bound instead.

/// A stand-in for a cluster: GLBCore's HTTP server on a loopback address, answering every path
/// with 200 and its name, so health checks pass. `stop()` kills it; `start()` brings it back on
/// the same port. `refuseProbes(from:)` fails the health checks of chosen nodes only (probes name
/// their node in the User-Agent), which plays a network path that only those nodes lose.
final class TestOrigin: Sendable {
    /// The nodes whose probes are refused.
    final class Refusals: Sendable {
        let nodes = Mutex<Set<String>>([])
    }

    struct Answer: HTTPHandler {
        let name: String
        let refused: Refusals
        func handle(_ request: HTTPRequest) async -> HTTPResponse {
            let agent = request.header("User-Agent") ?? ""
            if refused.nodes.withLock({ $0.contains { agent.contains("node=\($0))") } }) {
                return HTTPResponse(status: 503, contentType: "text/plain", body: "refused for this prober\n")
            }
            return HTTPResponse(status: 200, contentType: "text/plain", body: name + "\n")
        }
    }

    let name: String
    let ip: IPAddress
    private let refused = Refusals()
    private let group: EventLoopGroup
    private let server = Mutex<HTTPServer?>(nil)
    private let port = Mutex<UInt16>(0)

    init(name: String, ip: String) throws {
        self.name = name
        self.ip = IPAddress(ip)!
        group = try EventLoopGroup(count: 1, name: "origin-\(name)")
        group.start()
    }

    deinit { group.shutdown() }

    var address: SocketAddress { SocketAddress(ip: ip, port: port.withLock { $0 }) }

    /// The cluster body for the admin API: this origin's address and port.
    func clusterBody(region: String, weight: Int = 100) -> String {
        #"{"region":"\#(region)","address":"\#(ip)","port":\#(port.withLock { $0 }),"weight":\#(weight)}"#
    }

    func start() async throws {
        let server = HTTPServer(configuration: .init(address: SocketAddress(ip: ip, port: port.withLock { $0 }), name: name),
                                loops: group.loops, handler: Answer(name: name, refused: refused),
                                logger: Logger(component: name, minimum: .error), registry: MetricsRegistry())
        try await server.start()
        port.withLock { $0 = server.address?.port ?? 0 }
        self.server.withLock { $0 = server }
    }

    /// Fails the health checks of `nodes` from now on (and only theirs).
    func refuseProbes(from nodes: Set<String>) {
        refused.nodes.withLock { $0 = nodes }
    }

    func stop() async {
        let running = server.withLock { s in defer { s = nil }; return s }
        await running?.shutdown(grace: .zero)
    }
}

/// Two origins for the operator's story: eu on 127.0.0.11 and us on 127.0.0.12.
struct TwoOrigins {
    let eu: TestOrigin
    let us: TestOrigin

    static func start() async throws -> TwoOrigins {
        let origins = TwoOrigins(eu: try TestOrigin(name: "eu-origin", ip: "127.0.0.11"), us: try TestOrigin(name: "us-origin", ip: "127.0.0.12"))
        try await origins.eu.start()
        try await origins.us.start()
        return origins
    }

    func stop() async {
        await eu.stop()
        await us.stop()
    }
}
