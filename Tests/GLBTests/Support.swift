import Foundation
import GLBCore
import GLBTestSupport
@testable import GLB

/// Runs blocking work (socket calls, subprocess waits) on its own thread, so it never holds one
/// of the few cooperative-pool threads the agent under test needs to answer.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// A `glb agent` running in this process on loopback port 0 with its own data directory.
final class RunningAgent: Sendable {
    let address: SocketAddress
    let dns: SocketAddress?
    let dataDirectory: String
    private let stopper: AsyncStream<Void>.Continuation
    private let task: Task<Void, any Error>

    private init(endpoints: Agent.Endpoints, dataDirectory: String, stopper: AsyncStream<Void>.Continuation, task: Task<Void, any Error>) {
        self.address = endpoints.admin
        self.dns = endpoints.dns
        self.dataDirectory = dataDirectory
        self.stopper = stopper
        self.task = task
    }

    static func start(dataDirectory: String, adminToken: String? = nil, readToken: String? = nil,
                      zones: [String] = ["glb.example."], dns: Bool = false, shutdownGrace: Duration = .seconds(5)) async throws -> RunningAgent {
        var config = AgentConfig()
        config.dataDirectory = dataDirectory
        config.zones = zones
        config.admin = SocketAddress(ip: .v4(0x7F00_0001), port: 0)
        config.adminToken = adminToken
        config.readToken = readToken
        config.node = "test-node"
        config.loops = 1
        config.shutdownGrace = shutdownGrace
        if dns { config.dns = SocketAddress(ip: .v4(0x7F00_0001), port: 0) }
        let agent = Agent(config: config, logger: Logger(component: "agent", minimum: .warning))
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
