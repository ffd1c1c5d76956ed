import Foundation
import GLBCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An origin on raw blocking sockets, one thread per connection, for cases an `HTTPServer`
/// cannot play: chunked responses, bodies counted instead of kept, a WebSocket-style 101 and echo.
/// Every wait is a bounded `poll`.
final class RawOrigin: Sendable {
    let address: SocketAddress
    private let fd: CInt
    private let stopped = Atomic<Bool>(false)
    let accepted = Atomic<Int>(0)
    /// Connections open now, so that `kill()` can cut them.
    private let open = Mutex<Set<CInt>>([])

    init(_ handler: @escaping @Sendable (RawOriginConnection) throws -> Void) throws {
        fd = try Socket.listenTCP(SocketAddress(ip: .v4(0x7F00_0001), port: 0), reusePort: false)
        address = Socket.localAddress(fd)!
        let listener = fd
        Thread { [self] in
            while !self.stopped.load(ordering: .acquiring) {
                var pfd = pollfd(fd: listener, events: CShort(POLLIN), revents: 0)
                guard poll(&pfd, 1, 50) > 0, !self.stopped.load(ordering: .acquiring),
                      let (client, _) = (try? Socket.accept(listener)) ?? nil else { continue }
                self.accepted.wrappingAdd(1, ordering: .relaxed)
                self.open.withLock { _ = $0.insert(client) }
                Thread {
                    let connection = RawOriginConnection(fd: client)
                    try? handler(connection)
                    self.open.withLock { _ = $0.remove(client) }
                    closeDescriptor(client)
                }.start()
            }
            closeDescriptor(listener)
        }.start()
    }

    func stop() { stopped.store(true, ordering: .releasing) }

    /// A hard kill, as `kill -9` looks from outside: new connections are refused from now on
    /// (Linux: a listener shut down stops listening) and every open connection is cut in the
    /// middle of whatever it was doing.
    func kill() {
        stopped.store(true, ordering: .releasing)
        Glibc.shutdown(fd, CInt(SHUT_RDWR))
        open.withLock { fds in
            for client in fds { Glibc.shutdown(client, CInt(SHUT_RDWR)) }
        }
    }
}

/// One accepted connection of a `RawOrigin`.
final class RawOriginConnection: @unchecked Sendable {
    let fd: CInt
    var inbound = ByteBuffer(capacity: 65536)
    var parser = HTTPParser(kind: .request)

    init(fd: CInt) { self.fd = fd }

    /// The next request head, or nil at EOF.
    func readHead() throws -> HTTPHead? {
        while true {
            if let part = try parser.next(from: &inbound) {
                if case .head(let head) = part { return head }
                continue
            }
            guard try fill() else { return nil }
        }
    }

    /// Reads the body to its end, handing each slice to `body`.
    func readBody(_ body: (ArraySlice<UInt8>) -> Void) throws {
        while true {
            switch try parser.next(from: &inbound) {
            case .body(let slice): body(slice)
            case .end: return
            case .head: throw ProxyTestFailure(description: "a head inside a body")
            case nil: guard try fill() else { throw ProxyTestFailure(description: "EOF inside a body") }
            }
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var out = ByteBuffer(bytes: bytes)
        while try !Socket.flush(fd, &out) { try waitFor(CShort(POLLOUT)) }
    }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Raw bytes (after a 101): what is buffered, or what arrives next; nil at EOF.
    func readRaw() throws -> [UInt8]? {
        if !inbound.isEmpty { return inbound.readAll() }
        guard try fill() else { return nil }
        return inbound.readAll()
    }

    private func fill() throws -> Bool {
        while true {
            try waitFor(CShort(POLLIN))
            do {
                guard let count = try Socket.read(fd, into: &inbound, chunk: 65536) else { continue }
                return count > 0
            } catch {
                if error.errno == ECONNRESET { return false }
                throw error
            }
        }
    }

    private func waitFor(_ events: CShort) throws {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        guard poll(&pfd, 1, 10_000) > 0 else { throw ProxyTestFailure(description: "origin timed out") }
    }
}
