package import GLBCore
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Authoritative DNS over UDP and TCP (RFC 1035 §4.2, RFC 7766).
///
///     UDP socket k (SO_REUSEPORT) ── its own thread: recvmmsg ─┐
///     loop k ── TCP listener (SO_REUSEPORT) ── connections ────┤ DNSResponder.respond(snapshot) ──▶ send
///                                                              │
///     per UDP batch / per loop tick: publisher.refresh ◀───────┘ one atomic load when nothing changed
///
/// Each UDP thread and each loop owns its socket, its `DNSResponder`, its RNG, its scratch
/// buffers, its metric shard and its cached `RoutingSnapshot`, so the query path takes no lock,
/// allocates nothing and never waits on the control plane (docs/architecture.md "Data flow"). Why UDP has
/// threads of its own rather than a place in the loops' epoll sets: `DNSUDPListener`.
package final class DNSServer: Sendable {
    package struct Configuration: Sendable {
        package var address: SocketAddress
        /// Open TCP connections across all loops; more are closed at accept.
        package var maxTCPConnections = 1024
        /// A TCP connection with no complete query for this long is closed (RFC 7766 §6.2.3
        /// recommends a few seconds for authoritative servers under load).
        package var tcpIdleTimeout: Duration = .seconds(10)

        package init(address: SocketAddress) { self.address = address }
    }

    package let configuration: Configuration
    let publisher: SnapshotPublisher
    let loops: [EventLoop]
    let logger: Logger
    /// TCP's shards, one per loop in `loops` order; then UDP's, one per UDP listener.
    let shards: [DNSMetrics]
    let udpShards: [DNSMetrics]
    let tcpRejected: Counter
    let tcpConnections: Gauge
    let openTCP = Atomic<Int>(0)
    private let states = Mutex<[LoopBound<DNSLoopState>]>([])
    private let udpListeners = Mutex<[DNSUDPListener]>([])
    private let boundAddress = Mutex<SocketAddress?>(nil)

    package init(configuration: Configuration, loops: [EventLoop], publisher: SnapshotPublisher, logger: Logger, registry: MetricsRegistry) {
        self.configuration = configuration
        self.loops = loops
        self.publisher = publisher
        self.logger = logger
        shards = loops.map { _ in DNSMetrics() }
        udpShards = loops.map { _ in DNSMetrics() }
        DNSMetrics.register(shards + udpShards, in: registry)
        tcpRejected = registry.counter("glb_dns_tcp_rejected_total", help: "TCP connections closed at accept because of the connection cap.")
        tcpConnections = registry.gauge("glb_dns_tcp_connections", help: "Open DNS-over-TCP connections.")
        registry.onCollect { [weak self] in self?.tcpConnections.set(Double(self?.openTCP.load(ordering: .relaxed) ?? 0)) }
    }

    /// Where the server listens (the real port when configured with port 0).
    package var address: SocketAddress? { boundAddress.withLock { $0 } }

    /// Binds a UDP socket with its thread, and a TCP listener on every loop.
    ///
    /// With port 0 the first UDP socket picks a port and TCP must get the same one, which an
    /// outgoing TCP connection may already hold as its ephemeral port (both come from one range):
    /// then everything bound so far is closed and another port is tried, a few times.
    package func start() async throws(SystemError) {
        var attempt = 0
        while true {
            do {
                return try await bindEveryLoop()
            } catch {
                await shutdown()
                attempt += 1
                guard configuration.address.port == 0, error.errno == EADDRINUSE, attempt < 8 else { throw error }
            }
        }
    }

    private func bindEveryLoop() async throws(SystemError) {
        var address = configuration.address
        for (index, loop) in loops.enumerated() {
            let udp = try DNSUDPListener(address: address)
            udpListeners.withLock { $0.append(udp) }
            address = udp.boundAddress                   // later sockets share the port the first one got
            let seed = UInt64(index) &+ 0x9E37_79B9
            try udp.start(name: "dns-udp-\(index)", publisher: publisher, metrics: udpShards[index], seed: seed ^ 0x5544_5000)
            let bindTo = address
            try await loop.submit { () throws(SystemError) in
                let state = try DNSLoopState(server: self, loop: loop, address: bindTo, seed: seed, metrics: self.shards[index])
                self.states.withLock { $0.append(LoopBound(state, loop: loop)) }
            }
        }
        boundAddress.withLock { $0 = address }
    }

    /// Stops the UDP threads and closes every socket. DNS has no request to finish: a client
    /// whose query is lost retries.
    package func shutdown() async {
        let udp = udpListeners.withLock { l in defer { l.removeAll() }; return l }
        for listener in udp { listener.stop() }
        let states = self.states.withLock { s in defer { s.removeAll() }; return s }
        for state in states { await state.run { $0.close() } }
    }
}

/// The SLIs of the DNS server: responses by transport and response code, drops, truncations.
/// One shard per thread that answers (each loop for TCP, each UDP listener's thread), written only
/// by that thread (`incrementFromOwner`), so the query path never contends on a shared cache
/// line; the registry sums the shards when it renders.
final class DNSMetrics: Sendable {
    /// Indexed by transport (0 udp, 1 tcp) × 7 + rcode (0...5, 6 = other). Flat: an array of
    /// arrays cost a retain of the inner one on every query.
    let answers: [Counter]
    let dropped = Counter()
    let truncated = Counter()

    static let rcodeNames = ["noerror", "formerr", "servfail", "nxdomain", "notimp", "refused", "other"]

    init() {
        answers = (0..<(2 * Self.rcodeNames.count)).map { _ in Counter() }
    }

    /// Registers the sums of `shards` in the registry.
    static func register(_ shards: [DNSMetrics], in registry: MetricsRegistry) {
        for (t, transport) in ["udp", "tcp"].enumerated() {
            for (r, rcode) in rcodeNames.enumerated() {
                registry.counter("glb_dns_responses_total", help: "DNS responses sent, by transport and response code.",
                                 labels: ["transport": transport, "rcode": rcode], summing: shards.map { $0.answers[t * rcodeNames.count + r] })
            }
        }
        registry.counter("glb_dns_dropped_total", help: "Packets dropped without an answer (not a query, too short, or the send buffer was full).",
                         summing: shards.map(\.dropped))
        registry.counter("glb_dns_truncated_total", help: "UDP responses sent with TC set because the answer did not fit.",
                         summing: shards.map(\.truncated))
    }

    /// Counts one response from its header: the RCODE is the low nibble of byte 3, TC is bit 1 of byte 2.
    @inline(__always)
    func count(response: UnsafeRawBufferPointer, tcp: Bool) {
        let rcode = Int(response[3] & 0x0F)
        answers[(tcp ? 7 : 0) + min(rcode, 6)].incrementFromOwner()   // 7 = rcodeNames.count
        if !tcp, response[2] & 0x02 != 0 { truncated.incrementFromOwner() }
    }

    /// One UDP batch's counts of the common answers, kept on the stack and added to the counters
    /// once per batch: a counter update per query cost a call and a retain of the counter
    /// (callgrind). Other answers go to the counters at once (they are rare).
    struct Tally {
        var noError: UInt64 = 0
        var nxDomain: UInt64 = 0
        var dropped: UInt64 = 0

        /// Counts one UDP response.
        @inline(__always)
        mutating func count(response: UnsafeRawBufferPointer, metrics: DNSMetrics) {
            let rcode = UInt16(response[3] & 0x0F), truncated = response[2] & 0x02 != 0
            if !truncated && rcode == DNSRCode.noError.rawValue { noError += 1; return }
            if !truncated && rcode == DNSRCode.nxDomain.rawValue { nxDomain += 1; return }
            metrics.count(response: response, tcp: false)
        }
    }

    /// Adds one UDP batch's tally.
    func add(_ tally: Tally) {
        if tally.noError > 0 { answers[Int(DNSRCode.noError.rawValue)].incrementFromOwner(by: tally.noError) }
        if tally.nxDomain > 0 { answers[Int(DNSRCode.nxDomain.rawValue)].incrementFromOwner(by: tally.nxDomain) }
        if tally.dropped > 0 { dropped.incrementFromOwner(by: tally.dropped) }
    }
}
