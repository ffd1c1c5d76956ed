import GLBCore
import GLBTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Answers every request with what it received: method and target in headers, and the request
/// body as the body, or "METHOD TARGET" when there is none (so HEAD has a body to leave out).
/// `/status/NNN` answers with that status.
struct HTTPEcho: HTTPHandler {
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let body = request.body.isEmpty ? Array("\(request.method) \(request.target)".utf8) : request.body
        var status = 200
        if request.target.hasPrefix("/status/"), let code = Int(request.target.dropFirst("/status/".count)) { status = code }
        return HTTPResponse(status: status, headers: [("X-Echo-Method", request.method), ("X-Echo-Target", request.target),
                                                      ("Content-Type", "text/plain")], body: body)
    }
}

/// An `HTTPEcho` that holds requests for `/slow` until the test opens the gate, and reports each
/// arrival, so a test controls exactly when a handler finishes without sleeping.
final class GatedEcho: HTTPHandler {
    let arrivals: AsyncStream<String>
    private let arrived: AsyncStream<String>.Continuation
    private let gate: AsyncStream<Void>
    /// `yield()` releases one waiting request; `finish()` releases all, now and later.
    let opener: AsyncStream<Void>.Continuation

    init() {
        (arrivals, arrived) = AsyncStream.makeStream()
        (gate, opener) = AsyncStream.makeStream()
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if request.target == "/slow" {
            arrived.yield(request.target)
            for await _ in gate { break }
        }
        return await HTTPEcho().handle(request)
    }
}

struct RawSocketFailure: Error, CustomStringConvertible {
    let description: String
}

/// A client on one raw TCP connection: it sends exactly the bytes it is given (pipelined,
/// partial or malformed) and parses what comes back with GLB's own response parser.
///
/// Every wait is a `poll` bounded by `timeout`, so a server bug fails the test instead of
/// hanging it. `@unchecked Sendable`: one test drives it, one call at a time, each call inside
/// `blocking {}` and awaited before the next.
final class RawHTTPConnection: @unchecked Sendable {
    static let timeout = Duration.seconds(5)
    private let fd: CInt
    private let clock = SystemClock()
    private var inbound = ByteBuffer(capacity: 4096)
    private var parser = HTTPParser(kind: .response)

    private init(address: SocketAddress) throws {
        fd = try Socket.connectTCP(address)
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

    static func connect(to address: SocketAddress) async throws -> RawHTTPConnection {
        try await blocking { try RawHTTPConnection(address: address) }
    }

    func send(_ text: String) async throws {
        try await blocking { try self.sendNow(Array(text.utf8)) }
    }

    /// The next response; an interim 1xx comes back on its own, the final one on the next call.
    func readResponse(to method: HTTPMethod = .GET) async throws -> HTTPResponse {
        try await blocking { try self.readResponseNow(to: method) }
    }

    /// Reads until the server closes the connection (a reset counts as closed) and returns the
    /// bytes that came before the close.
    func readUntilClosed() async throws -> [UInt8] {
        try await blocking { try self.readUntilClosedNow() }
    }

    /// True when no byte is waiting and the server has not closed: checked without waiting.
    var isQuietAndOpen: Bool {
        get async throws {
            try await blocking {
                var pfd = pollfd(fd: self.fd, events: CShort(POLLIN), revents: 0)
                return self.inbound.isEmpty && poll(&pfd, 1, 0) == 0
            }
        }
    }

    private func sendNow(_ bytes: [UInt8]) throws {
        var out = ByteBuffer(bytes: bytes)
        let deadline = clock.now + Self.timeout
        while try !Socket.flush(fd, &out) { try waitFor(CShort(POLLOUT), until: deadline) }
    }

    private func readResponseNow(to method: HTTPMethod) throws -> HTTPResponse {
        let deadline = clock.now + Self.timeout
        parser.expectResponse(to: method)
        var response: HTTPResponse?
        var body: [UInt8] = []
        while true {
            switch try parser.next(from: &inbound) {
            case .head(let head):
                let headers = head.headers.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) }
                let parsed = HTTPResponse(status: head.status, headers: headers)
                if head.isInformational { return parsed }
                response = parsed
            case .body(let slice):
                body.append(contentsOf: slice)
            case .end:
                guard var response else { throw RawSocketFailure(description: "a message ended before its head") }
                response.body = body
                return response
            case nil:
                guard try fill(until: deadline) else {
                    throw RawSocketFailure(description: "the server closed the connection before a whole response")
                }
            }
        }
    }

    private func readUntilClosedNow() throws -> [UInt8] {
        let deadline = clock.now + Self.timeout
        do {
            while try fill(until: deadline) {}
        } catch let error as SystemError where error.errno == ECONNRESET {
            // The server closed with bytes unread; for these tests that is a close too.
        }
        return inbound.readAll()
    }

    /// Reads what is there into `inbound`; false at end of stream.
    private func fill(until deadline: Instant) throws -> Bool {
        while true {
            try waitFor(CShort(POLLIN), until: deadline)
            guard let count = try Socket.read(fd, into: &inbound) else { continue }
            return count > 0
        }
    }

    private func waitFor(_ events: CShort, until deadline: Instant) throws {
        while true {
            let remaining = deadline - clock.now
            guard remaining > .zero else { throw RawSocketFailure(description: "timed out after \(Self.timeout) waiting for the server") }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, CInt(clamping: max(1, remaining.milliseconds)))
            if rc > 0 { return }
        }
    }
}

/// One `HTTPServer` on a one-loop group, bound to 127.0.0.1 port 0.
struct TestServer {
    let group: EventLoopGroup
    let server: HTTPServer
    let registry: MetricsRegistry
    let address: SocketAddress
    var loop: EventLoop { group.loops[0] }

    /// Starts a server, runs `body`, and always shuts the server and its loops down after.
    static func with(handler: any HTTPHandler = HTTPEcho(), clock: any GLBClock = SystemClock(),
                     configure: (inout HTTPServer.Configuration) -> Void = { _ in },
                     _ body: (TestServer) async throws -> Void) async throws {
        let group = try EventLoopGroup(count: 1, name: "http-test", clock: clock)
        group.start()
        var configuration = HTTPServer.Configuration(address: SocketAddress(ip: .v4(0x7F00_0001), port: 0), name: "test")
        configure(&configuration)
        let registry = MetricsRegistry()
        let server = HTTPServer(configuration: configuration, loops: group.loops, handler: handler,
                                logger: Logger(component: "http-test", clock: clock, sink: { _ in }), registry: registry)
        let started: TestServer
        do {
            try await server.start()
            let address = try #require(server.address)
            #expect(address.port != 0, "start() reports the port the kernel chose")
            started = TestServer(group: group, server: server, registry: registry, address: address)
        } catch {
            await stop(server, group)
            throw error
        }
        do {
            try await body(started)
        } catch {
            await stop(server, group)
            throw error
        }
        await stop(server, group)
    }

    private static func stop(_ server: HTTPServer, _ group: EventLoopGroup) async {
        await server.shutdown(grace: .zero)
        _ = try? await blocking { group.shutdown() }       // joins the loop thread
    }

    func connect() async throws -> RawHTTPConnection {
        try await RawHTTPConnection.connect(to: address)
    }

    /// Returns after three loop turns that began after this call. Anything the kernel had ready
    /// when it was called has then been handled: a waiting connection is accepted in the first
    /// turn that polls after the call, and bytes it already carries are read in the next one
    /// (epoll reports a descriptor only from the turn after it was registered).
    func settle() async {
        let loop = self.loop
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.execute { loop.execute { loop.execute { done.resume() } } }
        }
    }

    /// One line of the Prometheus text, or nil.
    func metric(_ prefix: String) -> String? {
        registry.render().split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.map(String.init)
    }
}
