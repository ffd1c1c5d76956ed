import GLBCore

/// One loop's share of a `DNSServer`: the TCP listener and the state its connections' query path
/// needs. Loop-confined; not `Sendable`. (UDP has threads of its own: `DNSUDPListener`.)
final class DNSLoopState {
    unowned let server: DNSServer
    let loop: EventLoop
    /// This loop's metric shard.
    let metrics: DNSMetrics
    var responder = DNSResponder()
    var rng: SplitMix64
    var snapshot: RoutingSnapshot
    /// Where TCP answers are written.
    let tcpScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSLimits.maxTCPSize, alignment: 8)
    private var tcp: DNSTCPListener?
    private var closed = false

    /// Listens for TCP on `address`, the port the UDP listeners got.
    init(server: DNSServer, loop: EventLoop, address: SocketAddress, seed: UInt64, metrics: DNSMetrics) throws(SystemError) {
        self.server = server
        self.loop = loop
        self.metrics = metrics
        rng = SplitMix64(seed: seed)
        snapshot = server.publisher.snapshot
        let tcp = try DNSTCPListener(address: address)
        self.tcp = tcp
        tcp.state = self
        do throws(SystemError) {
            try loop.register(tcp, interest: .read)
        } catch {
            close()
            throw error
        }
        loop.addTickHook { [weak self] in
            guard let self else { return }
            self.server.publisher.refresh(&self.snapshot)
        }
    }

    deinit { tcpScratch.deallocate() }

    /// Answers one query into `memory`; returns the answer's length, or nil to drop it.
    @inline(__always)
    func answer(_ query: UnsafeRawBufferPointer, from client: IPAddress, overTCP: Bool, snapshot: RoutingSnapshot,
                into memory: UnsafeMutableRawBufferPointer) -> Int? {
        responder.respond(to: query, client: client, overTCP: overTCP, snapshot: snapshot, rng: &rng, into: memory)
    }

    func close() {
        guard !closed else { return }
        closed = true
        tcp?.close()
        tcp = nil
    }
}
