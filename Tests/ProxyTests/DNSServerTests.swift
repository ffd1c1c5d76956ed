#if canImport(Glibc)
import Glibc
#endif
@testable import GLBCore
import GLBTestSupport
@testable import Proxy
import Testing

/// `DNSServer` over real loopback sockets: UDP served by its listener threads, TCP by the loops,
/// a published snapshot reaching both, and a shutdown that leaves no socket or thread behind.
@Suite(.serialized) struct DNSServerTests {
    /// One query over UDP from a fresh socket; nil if no reply came within two seconds.
    static func udp(_ query: [UInt8], to server: SocketAddress) async throws -> Response? {
        try await offPool {
            let fd = try Socket.bindUDP(SocketAddress(ip: .v4(0x7F00_0001), port: 0), reusePort: false)
            defer { closeDescriptor(fd) }
            _ = try query.withUnsafeBytes { try Socket.send(fd, $0, to: server) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 2000) == 1 else { return nil }
            var reply = [UInt8](repeating: 0, count: 65535)
            let received = try reply.withUnsafeMutableBytes { try Socket.receive(fd, into: $0) }
            return received.map { Response(Array(reply[0..<$0.count])) }
        }
    }

    /// One length-prefixed query over a fresh TCP connection (RFC 7766 §8).
    static func tcp(_ query: [UInt8], to server: SocketAddress) async throws -> Response? {
        try await offPool {
            let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            let connected = server.withSockAddr { connect(fd, $0, $1) }
            guard connected == 0 else { return nil }
            let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
            guard framed.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == framed.count else { return nil }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while received.count < 2 || received.count < 2 + (Int(received[0]) << 8 | Int(received[1])) {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return nil }
                received += chunk[0..<n]
            }
            return Response(Array(received[2...]))
        }
    }

    @Test func udpAndTCPAnswerAndBothPickUpANewSnapshot() async throws {
        let group = try EventLoopGroup(count: 2, name: "dns")
        group.start()
        defer { group.shutdown() }
        let publisher = SnapshotPublisher(testSnapshot)
        let registry = MetricsRegistry()
        let server = DNSServer(configuration: .init(address: SocketAddress(ip: .v4(0x7F00_0001), port: 0)), loops: group.loops,
                               publisher: publisher, logger: Logger(component: "dns", sink: { _ in }), registry: registry)
        try await server.start()
        let address = try #require(server.address)
        let query = QueryBuilder(name: "www.glb.example.").bytes

        let overUDP = try #require(try await Self.udp(query, to: address))
        #expect(overUDP.aa && overUDP.addresses.count == 1)
        let overTCP = try #require(try await Self.tcp(query, to: address))
        #expect(overTCP.aa && overTCP.addresses.count == 1)

        // Generation 2 has only the eu cluster: every answer from now on names it, on both transports.
        var input = testInput(generation: 2)
        input.services[0].clusters.removeLast()
        #expect(publisher.publish(RoutingSnapshot(compiling: input)))
        for _ in 0..<8 {
            #expect(try await Self.udp(query, to: address)?.addresses == [ip("127.0.0.11")])
        }
        #expect(try await Self.tcp(query, to: address)?.addresses == [ip("127.0.0.11")])

        let metrics = registry.render()
        #expect(metrics.contains(#"glb_dns_responses_total{rcode="noerror",transport="udp"} 9"#), "UDP shards are summed")
        #expect(metrics.contains(#"glb_dns_responses_total{rcode="noerror",transport="tcp"} 2"#))
        await server.shutdown()
    }

    /// The names of this process's threads (`/proc/self/task/*/comm`).
    static func threadNames() -> [String] {
        guard let dir = opendir("/proc/self/task") else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let task = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard !task.hasPrefix("."), let file = fopen("/proc/self/task/\(task)/comm", "r") else { continue }
            var line = [CChar](repeating: 0, count: 64)
            if fgets(&line, 64, file) != nil { names.append(String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map(UInt8.init), as: UTF8.self)) }
            fclose(file)
        }
        return names
    }

    @Test func shutdownStopsTheUDPThreadsAndClosesEverySocket() async throws {
        let group = try EventLoopGroup(count: 2, name: "dns")
        group.start()
        defer { group.shutdown() }
        let server = DNSServer(configuration: .init(address: SocketAddress(ip: .v4(0x7F00_0001), port: 0)), loops: group.loops,
                               publisher: SnapshotPublisher(testSnapshot), logger: Logger(component: "dns", sink: { _ in }),
                               registry: MetricsRegistry())
        try await server.start()
        let address = try #require(server.address)
        #expect(try await Self.udp(QueryBuilder().bytes, to: address) != nil)
        let udpThreads = { Self.threadNames().filter { $0.hasPrefix("glb-dns-udp-") } }
        #expect(udpThreads().count >= 2, "one named thread per UDP socket: \(Self.threadNames())")

        // The UDP threads sleep in recvmmsg: shutdown must wake and join them. Then the port is
        // free: a socket without SO_REUSEPORT binds only when none of ours is left on it.
        await server.shutdown()
        #expect(udpThreads().isEmpty, "joined, not left running")
        let udp = try Socket.bindUDP(address, reusePort: false)
        closeDescriptor(udp)
        let tcp = try Socket.listenTCP(address, reusePort: false)
        closeDescriptor(tcp)
        await server.shutdown()     // idempotent
    }
}
