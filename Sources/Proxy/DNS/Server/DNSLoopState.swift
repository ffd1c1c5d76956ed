import GLBCore

/// One loop's share of a `DNSServer`: the UDP socket, the TCP listener, and the per-loop state the
/// query path needs. Loop-confined; not `Sendable`.
final class DNSLoopState {
    unowned let server: DNSServer
    let loop: EventLoop
    let boundAddress: SocketAddress
    /// This loop's metric shard.
    let metrics: DNSMetrics
    var responder = DNSResponder()
    var rng: SplitMix64
    var snapshot: RoutingSnapshot
    /// The response scratch buffer; the responder swaps it in and out, so it is reused.
    var response: [UInt8] = []
    private var udp: DNSUDPSocket?
    private var tcp: DNSTCPListener?
    private var closed = false

    init(server: DNSServer, loop: EventLoop, address: SocketAddress, seed: UInt64, metrics: DNSMetrics) throws(SystemError) {
        self.server = server
        self.loop = loop
        self.metrics = metrics
        rng = SplitMix64(seed: seed)
        snapshot = server.publisher.snapshot
        let udp = try DNSUDPSocket(address: address)
        let bound = Socket.localAddress(udp.descriptor) ?? address
        let tcp: DNSTCPListener
        do throws(SystemError) {
            tcp = try DNSTCPListener(address: bound)
        } catch {
            closeDescriptor(udp.descriptor)
            throw error
        }
        boundAddress = bound
        self.udp = udp
        self.tcp = tcp
        udp.state = self
        tcp.state = self
        do throws(SystemError) {
            try loop.register(udp, interest: .read)
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

    /// Answers one query into `response`; returns the answer's length, or nil to drop it.
    @inline(__always)
    func answer(_ query: UnsafeRawBufferPointer, from client: IPAddress, overTCP: Bool) -> Int? {
        responder.respond(to: query, client: client, overTCP: overTCP, snapshot: snapshot, rng: &rng, into: &response)
    }

    func close() {
        guard !closed else { return }
        closed = true
        if let udp {
            loop.deregister(udp)
            closeDescriptor(udp.descriptor)
        }
        tcp?.close()
        udp = nil
        tcp = nil
    }
}

/// The UDP side: read every waiting datagram, answer each at once (RFC 1035 §4.2.1).
final class DNSUDPSocket: Selectable {
    let descriptor: CInt
    weak var state: DNSLoopState?
    /// Room for the largest datagram (EDNS allows up to 65535 bytes).
    private var query = [UInt8](repeating: 0, count: 65535)

    init(address: SocketAddress) throws(SystemError) {
        descriptor = try Socket.bindUDP(address, reusePort: true)
    }

    func readable(now: Instant) {
        guard let state else { return }
        let metrics = state.metrics
        // Bounded, so one busy socket cannot starve the loop's other work.
        for _ in 0..<64 {
            let received: (count: Int, peer: SocketAddress)?
            do {
                received = try query.withUnsafeMutableBytes { raw throws(SystemError) in try Socket.receive(descriptor, into: raw) }
            } catch {
                return
            }
            guard let (count, peer) = received else { return }
            let length = query.withUnsafeBytes { raw in
                state.answer(UnsafeRawBufferPointer(rebasing: raw[0..<count]), from: peer.ip, overTCP: false)
            }
            guard let length else {
                metrics.dropped.incrementFromOwner()
                continue
            }
            let sent = state.response.withUnsafeBytes { raw -> Bool in
                let answer = UnsafeRawBufferPointer(rebasing: raw[0..<length])
                metrics.count(response: answer, tcp: false)
                return (try? Socket.send(descriptor, answer, to: peer)) ?? false
            }
            if !sent { metrics.dropped.incrementFromOwner() }
        }
    }

    func writable(now: Instant) {}
}
