import GLBCore
import GLBTestSupport
import HealthProber
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP origin that lives on the test's own event loop, so the probe and the origin turn
/// in the same ticks and nothing needs a second thread. Its behaviour can be switched between
/// probes, as an origin that starts failing would.
final class LoopbackOrigin: Selectable {
    enum Behaviour {
        /// Reads the request, answers `status` with `body`, and closes.
        case respond(status: Int, body: String)
        /// Reads the request and never answers.
        case hang
        /// Reads the request, then closes without answering (FIN).
        case closeAfterRequest
        /// Resets the connection as soon as it is accepted (SO_LINGER 0, then close: RST).
        case reset
    }

    var behaviour: Behaviour
    let descriptor: CInt
    let address: SocketAddress
    /// The request heads received, in order, as text.
    private(set) var requests: [String] = []
    private let loop: EventLoop
    private var connections: [ObjectIdentifier: Connection] = [:]

    init(loop: EventLoop, behaviour: Behaviour) throws {
        self.loop = loop
        self.behaviour = behaviour
        descriptor = try Socket.listenTCP(SocketAddress(ip: .v4(0x7F00_0001), port: 0), reusePort: false)
        address = Socket.localAddress(descriptor)!
        try loop.register(self, interest: .read)
    }

    func close() {
        for connection in connections.values { connection.close() }
        loop.deregister(self)
        closeDescriptor(descriptor)
    }

    func readable(now: Instant) {
        while let (fd, _) = try? Socket.accept(descriptor) {
            if case .reset = behaviour {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                closeDescriptor(fd)
                continue
            }
            let connection = Connection(fd: fd, origin: self)
            connections[ObjectIdentifier(connection)] = connection
            try? loop.register(connection, interest: .read)
        }
    }

    func writable(now: Instant) {}

    fileprivate func received(_ head: HTTPHead, on connection: Connection) {
        requests.append(String(decoding: head.bytes, as: UTF8.self))
        switch behaviour {
        case .respond(let status, let body):
            var out = ByteBuffer()
            try? HTTPWriter.writeResponseHead(status: status, headers: [("Content-Length", "\(body.utf8.count)"), ("Connection", "close")],
                                              into: &out)
            out.writeString(body)
            _ = try? Socket.flush(connection.descriptor, &out)      // small: fits the socket buffer
            connection.close()
        case .hang:
            break
        case .closeAfterRequest, .reset:
            connection.close()
        }
    }

    fileprivate func closed(_ connection: Connection) {
        connections[ObjectIdentifier(connection)] = nil
    }

    fileprivate final class Connection: Selectable {
        let descriptor: CInt
        private unowned let origin: LoopbackOrigin
        private var inbound = ByteBuffer()
        private var parser = HTTPParser(kind: .request)
        private var open = true

        init(fd: CInt, origin: LoopbackOrigin) {
            descriptor = fd
            self.origin = origin
        }

        func readable(now: Instant) {
            guard open else { return }
            guard let count = try? Socket.read(descriptor, into: &inbound) else { return }
            if count == 0 { return close() }
            do {
                while open, let part = try parser.next(from: &inbound) {
                    if case .head(let head) = part { origin.received(head, on: self) }
                }
            } catch {
                // Not HTTP (a TLS ClientHello, say): answer as a real server would, and close.
                var out = ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                _ = try? Socket.flush(descriptor, &out)
                close()
            }
        }

        func writable(now: Instant) {}

        func close() {
            guard open else { return }
            open = false
            origin.loop.deregister(self)
            closeDescriptor(descriptor)
            origin.closed(self)
        }
    }
}

/// A loop on a manual clock, ticked by the test: time moves only when the test advances it, but
/// real sockets still need real readiness, so waits for I/O tick with a short `epoll_wait`,
/// bounded by a tick budget so that a bug fails the test instead of hanging it.
struct ManualLoop {
    let clock = ManualClock()
    let loop: EventLoop

    init() throws {
        loop = try EventLoop(name: "probe-test", clock: clock)
    }

    /// Ticks until `done()` holds; false if it still does not after `maxTicks` (about 10 s).
    @discardableResult
    func run(maxTicks: Int = 2000, until done: () -> Bool) -> Bool {
        for _ in 0..<maxTicks {
            if done() { return true }
            loop.tick(maxWait: .milliseconds(5))
        }
        return done()
    }

    /// Runs one probe attempt to its end and returns the result (nil if it never ended).
    func probe(_ target: ProbeTarget, tls: TLSContext, origin: LoopbackOrigin? = nil,
               onRequest: (() -> Void)? = nil) -> ProbeResult? {
        var result: ProbeResult?
        let probe = Probe(target: target, loop: loop, tls: tls) { result = $0 }
        probe.start()
        if let origin, let onRequest {
            guard run(until: { origin.requests.count > 0 || result != nil }) else { return nil }
            if result == nil { onRequest() }
        }
        run { result != nil }
        #expect(probe.isFinished)
        return result
    }
}

/// A TCP port on 127.0.0.1 with nothing listening: bound by the kernel, then closed.
func closedPort() throws -> UInt16 {
    let fd = try Socket.listenTCP(SocketAddress(ip: .v4(0x7F00_0001), port: 0), reusePort: false)
    defer { closeDescriptor(fd) }
    return Socket.localAddress(fd)!.port
}

extension ProbeTarget {
    static func loopback(_ kind: ProbeSpec.Kind, port: UInt16, id: String = "www/eu",
                         configure: (inout ProbeSpec) -> Void = { _ in }) -> ProbeTarget {
        var spec = ProbeSpec(kind: kind, path: "/healthz", interval: .seconds(1), timeout: .milliseconds(500))
        configure(&spec)
        return ProbeTarget(id: id, address: .v4(0x7F00_0001), port: port, spec: spec)
    }
}
