import GLBCore
import GLBTestSupport
import Proxy
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct ProxyTestFailure: Error, CustomStringConvertible {
    let description: String
}

let loopback = SocketAddress(ip: .v4(0x7F00_0001), port: 0)

/// Answers with the method, target and selected request headers echoed, and the request body
/// (or "METHOD TARGET") as the body. `/status/NNN` answers NNN; `/big/N` answers N bytes;
/// `/slow` waits for the gate.
final class OriginHandler: HTTPHandler {
    let name: String
    let arrivals: AsyncStream<String>
    private let arrived: AsyncStream<String>.Continuation
    private let gate: AsyncStream<Void>
    let opener: AsyncStream<Void>.Continuation

    init(name: String) {
        self.name = name
        (arrivals, arrived) = AsyncStream.makeStream()
        (gate, opener) = AsyncStream.makeStream()
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if request.target == "/slow" {
            arrived.yield(request.target)
            for await _ in gate { break }
        }
        var status = 200
        var body = request.body.isEmpty ? Array("\(request.method) \(request.target)".utf8) : request.body
        if request.target.hasPrefix("/status/"), let code = Int(request.target.dropFirst("/status/".count)) { status = code }
        if request.target.hasPrefix("/big/"), let size = Int(request.target.dropFirst("/big/".count)) {
            body = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
        }
        var headers: [(name: String, value: String)] = [("X-Origin", name), ("X-Echo-Target", request.target)]
        for echoed in ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-Id", "traceparent", "Connection", "Keep-Alive", "X-Secret", "Expect", "Host"] {
            if let value = request.header(echoed) { headers.append(("X-Saw-" + echoed, value)) }
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}

/// A GLBCore `HTTPServer` on its own loop: a real origin.
final class Origin: Sendable {
    let group: EventLoopGroup
    let server: HTTPServer
    let handler: OriginHandler
    let address: SocketAddress

    private init(group: EventLoopGroup, server: HTTPServer, handler: OriginHandler, address: SocketAddress) {
        self.group = group
        self.server = server
        self.handler = handler
        self.address = address
    }

    static func start(_ name: String) async throws -> Origin {
        let group = try EventLoopGroup(count: 1, name: "origin-\(name)")
        group.start()
        let handler = OriginHandler(name: name)
        var configuration = HTTPServer.Configuration(address: loopback, name: name)
        configuration.maxBodyBytes = 4 << 20
        let server = HTTPServer(configuration: configuration, loops: group.loops, handler: handler,
                                logger: Logger(component: name, sink: { _ in }), registry: MetricsRegistry())
        try await server.start()
        return Origin(group: group, server: server, handler: handler, address: server.address!)
    }

    /// A hard kill: the listener and every connection close now; requests in flight get nothing.
    func kill() async {
        await server.shutdown(grace: .zero)
    }

    func stop() async {
        await server.shutdown(grace: .zero)
        handler.opener.finish()
        _ = try? await blocking { self.group.shutdown() }
    }
}

/// A cluster on `address`, for a `ServiceInput`.
func origin(_ name: String, _ address: SocketAddress, weight: UInt32 = 100, healthy: Bool = true) -> ClusterInput {
    ClusterInput(name: name, addresses: [address.ip], port: address.port, weight: weight, healthy: healthy)
}

func services(_ list: [ServiceInput], generation: UInt64 = 1) -> RoutingSnapshot {
    let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.", nameservers: ["ns1.glb.example."], glue: [:])
    return RoutingSnapshot(compiling: RouteInput(generation: generation, zones: [zone], services: list))
}

/// An `HTTPProxy` on one loop in front of the given services.
final class ProxyHarness: Sendable {
    let group: EventLoopGroup
    let proxy: HTTPProxy
    let publisher: SnapshotPublisher
    let registry: MetricsRegistry
    let address: SocketAddress
    private let lines: LogLines

    /// The proxy's log lines so far (access log included), in order.
    var logLines: [String] { lines.all }

    /// Where the proxy's logger writes in tests.
    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    private init(group: EventLoopGroup, proxy: HTTPProxy, publisher: SnapshotPublisher, registry: MetricsRegistry, address: SocketAddress,
                 lines: LogLines) {
        self.group = group
        self.proxy = proxy
        self.publisher = publisher
        self.registry = registry
        self.address = address
        self.lines = lines
    }

    static func start(_ list: [ServiceInput], clock: any GLBClock = SystemClock(), loops: Int = 1, registry: MetricsRegistry = MetricsRegistry(),
                      configure: (inout HTTPProxy.Configuration) -> Void = { _ in }) async throws -> ProxyHarness {
        let group = try EventLoopGroup(count: loops, name: "proxy", clock: clock)
        group.start()
        let publisher = SnapshotPublisher(services(list))
        var configuration = HTTPProxy.Configuration(address: loopback)
        configure(&configuration)
        let lines = LogLines()
        let proxy = HTTPProxy(configuration: configuration, loops: group.loops, publisher: publisher,
                              logger: Logger(component: "proxy", clock: clock, sink: { lines.append($0) }),
                              registry: registry)
        try await proxy.start()
        let harness = ProxyHarness(group: group, proxy: proxy, publisher: publisher, registry: registry, address: proxy.address!, lines: lines)
        return harness
    }

    func stop() async {
        await proxy.shutdown(grace: .zero)
        _ = try? await blocking { self.group.shutdown() }
    }

    /// The value of one Prometheus series, or nil.
    func metric(_ series: String) -> Double? {
        registry.render().split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.split(separator: " ").last!) }
    }

    func connect() async throws -> RawClient {
        try await RawClient.connect(to: address)
    }

    /// Returns after a few loop turns that began after this call.
    func settle() async {
        let loop = group.loops[0]
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.execute { loop.execute { loop.execute { done.resume() } } }
        }
    }
}

/// A parsed response as the client saw it.
struct ClientResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A client on one raw TCP connection; every wait is a bounded `poll`, so a proxy bug fails the
/// test instead of hanging it. `@unchecked Sendable`: one test drives it, one call at a time.
final class RawClient: @unchecked Sendable {
    /// How long a read may wait with no byte arriving: a stall, not a slow run, fails the test
    /// (with every suite running in parallel on two cores a large body can take a while).
    static let timeout = Duration.seconds(10)
    let fd: CInt
    private let clock = SystemClock()
    private var inbound = ByteBuffer(capacity: 4096)
    private var parser = HTTPParser(kind: .response)
    /// Body bytes of the response being read so far (for failure messages).
    var received = 0

    /// A client on a socket the caller already connected (blocking or not).
    init(connected fd: CInt) {
        self.fd = fd
    }

    init(address: SocketAddress, receiveBuffer: CInt? = nil) throws {
        fd = try Socket.connectTCP(address)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        do {
            try waitFor(CShort(POLLOUT), until: clock.now + Self.timeout)
            let error = Socket.pendingError(fd)
            if error != 0 { throw SystemError(call: "connect", errno: error) }
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    deinit { closeDescriptor(fd) }

    static func connect(to address: SocketAddress, receiveBuffer: CInt? = nil) async throws -> RawClient {
        try await blocking { try RawClient(address: address, receiveBuffer: receiveBuffer) }
    }

    func send(_ text: String) async throws {
        try await blocking { try self.sendNow(Array(text.utf8)) }
    }

    func sendNow(_ bytes: [UInt8]) throws {
        var out = ByteBuffer(bytes: bytes)
        let deadline = clock.now + Self.timeout
        while try !Socket.flush(fd, &out) { try waitFor(CShort(POLLOUT), until: deadline) }
    }

    /// Shuts the sending side (a FIN): the proxy hears no more requests but may still answer.
    func halfClose() {
        Glibc.shutdown(fd, CInt(SHUT_WR))
    }

    /// `GET target` with `Host: host` and extra header lines, then the response.
    func get(_ target: String, host: String = "www.glb.example", headers: String = "") async throws -> ClientResponse {
        try await send("GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\(headers)\r\n")
        return try await readResponse()
    }

    func readResponse(to method: HTTPMethod = .GET, chunk: Int = 16384) async throws -> ClientResponse {
        try await blocking { try self.readResponseNow(to: method, chunk: chunk) }
    }

    func readResponseNow(to method: HTTPMethod = .GET, chunk: Int = 16384) throws -> ClientResponse {
        var deadline = clock.now + Self.timeout
        parser.expectResponse(to: method)
        var response: ClientResponse?
        var body: [UInt8] = []
        while true {
            switch try parser.next(from: &inbound) {
            case .head(let head):
                let headers = head.headers.map { (name: String(decoding: $0.name, as: UTF8.self), value: String(decoding: $0.value, as: UTF8.self)) }
                let parsed = ClientResponse(status: head.status, headers: headers, body: [])
                if head.isInformational || head.status == 101 { return parsed }
                response = parsed
            case .body(let slice):
                body.append(contentsOf: slice)
                received = body.count
            case .end:
                guard var response else { throw ProxyTestFailure(description: "a message ended before its head") }
                response.body = body
                return response
            case nil:
                defer { deadline = clock.now + Self.timeout }      // progress restarts the clock
                guard try fill(until: deadline, chunk: chunk) else {
                    if let part = try parser.finish(), case .end = part, var response {
                        response.body = body
                        return response
                    }
                    throw ProxyTestFailure(description: "the proxy closed the connection before a whole response")
                }
            }
        }
    }

    /// Reads raw bytes until `count` have arrived (for tunnels).
    func readRaw(count: Int) async throws -> [UInt8] {
        try await blocking {
            let deadline = self.clock.now + Self.timeout
            while self.inbound.readableBytes < count {
                guard try self.fill(until: deadline, chunk: 4096) else { break }
            }
            return self.inbound.readBytes(length: min(count, self.inbound.readableBytes)) ?? []
        }
    }

    /// True once the proxy has closed the connection (bytes before the close are discarded).
    func waitForClose() async throws -> Bool {
        try await blocking {
            let deadline = self.clock.now + Self.timeout
            do {
                while try self.fill(until: deadline, chunk: 4096) { self.inbound.clear() }
            } catch let error as SystemError where error.errno == ECONNRESET {}
            return true
        }
    }

    private func fill(until deadline: Instant, chunk: Int) throws -> Bool {
        while true {
            try waitFor(CShort(POLLIN), until: deadline)
            guard let count = try Socket.read(fd, into: &inbound, chunk: chunk) else { continue }
            return count > 0
        }
    }

    func waitFor(_ events: CShort, until deadline: Instant) throws {
        while true {
            let remaining = deadline - clock.now
            guard remaining > .zero else { throw ProxyTestFailure(description: "timed out after \(Self.timeout) waiting for the proxy (\(received) body bytes in)") }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            if poll(&pfd, 1, CInt(clamping: max(1, remaining.milliseconds))) > 0 { return }
        }
    }
}
