import CGLBLinux
#if canImport(Glibc)
import Glibc
#endif
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
    /// Where TCP answers are written (UDP answers go straight into their batch slot).
    let tcpScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSLimits.maxTCPSize, alignment: 8)
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

    deinit { tcpScratch.deallocate() }

    /// Answers one query into `memory`; returns the answer's length, or nil to drop it. The
    /// snapshot is the caller's: read once per batch, not per query (each read is a retain).
    @inline(__always)
    func answer(_ query: UnsafeRawBufferPointer, from client: IPAddress, overTCP: Bool, snapshot: RoutingSnapshot,
                into memory: UnsafeMutableRawBufferPointer) -> Int? {
        responder.respond(to: query, client: client, overTCP: overTCP, snapshot: snapshot, rng: &rng, into: memory)
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

/// The UDP side: read the waiting datagrams in batches with recvmmsg(2), answer each, and send
/// the answers in one sendmmsg(2) per batch (RFC 1035 §4.2.1; gdnsd's dnsio_udp.c does the same).
/// Batching turns two system calls per query into two per batch under load.
final class DNSUDPSocket: Selectable {
    let descriptor: CInt
    weak var state: DNSLoopState?
    private let batch: UnsafeMutablePointer<cglb_udp_batch>

    /// Datagrams per batch; and the largest query and answer a batch slot holds. Answers over UDP
    /// never exceed the advertised 1232 bytes (larger ones are truncated with TC).
    static let batchSize: CInt = 64
    static let querySize: CInt = 4096
    static let answerSize: CInt = 1536

    init(address: SocketAddress) throws(SystemError) {
        descriptor = try Socket.bindUDP(address, reusePort: true)
        guard let batch = cglb_udp_batch_create(Self.batchSize, Self.querySize, Self.answerSize) else {
            closeDescriptor(descriptor)
            throw SystemError(call: "malloc (UDP batch)", errno: ENOMEM)
        }
        self.batch = batch
    }

    deinit { cglb_udp_batch_destroy(batch) }

    func readable(now: Instant) {
        guard let state else { return }
        let metrics = state.metrics
        // A few batches per wake-up at most, so one busy socket cannot starve the loop.
        for _ in 0..<4 {
            let received = cglb_udp_batch_receive(descriptor, batch)
            guard received > 0 else { return }
            let snapshot = state.snapshot
            var tally = DNSMetrics.Tally()
            var queued: CInt = 0
            var v6 = (UInt64(0), UInt64(0))
            for i in 0..<received {
                var length: CInt = 0
                let bytes = cglb_udp_batch_in(batch, i, &length)!
                var v4: UInt32 = 0
                let family = withUnsafeMutableBytes(of: &v6) { cglb_udp_batch_peer(batch, i, &v4, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
                let client: IPAddress = family == 6 ? .v6(high: UInt64(bigEndian: v6.0), low: UInt64(bigEndian: v6.1)) : .v4(v4)
                // The answer is written where sendmmsg will read it: no copy.
                let slot = UnsafeMutableRawBufferPointer(start: cglb_udp_batch_out(batch, queued), count: Int(Self.answerSize))
                guard let answer = state.answer(UnsafeRawBufferPointer(start: bytes, count: Int(length)), from: client, overTCP: false,
                                                snapshot: snapshot, into: slot) else {
                    tally.dropped += 1
                    continue
                }
                tally.count(response: UnsafeRawBufferPointer(rebasing: slot[0..<answer]), metrics: metrics)
                cglb_udp_batch_queue(batch, queued, i, CInt(answer))
                queued += 1
            }
            let sent = cglb_udp_batch_send(descriptor, batch, queued)
            tally.dropped += UInt64(queued - sent)
            metrics.add(tally)
            if received < Self.batchSize { return }
        }
    }

    func writable(now: Instant) {}
}
