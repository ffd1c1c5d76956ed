package import GLBCore
import Synchronization

/// The HTTP/1.1 reverse proxy: the L7 data plane (docs/architecture.md "Data flow").
///
///     client ──▶ ProxyListener (one SO_REUSEPORT socket per loop)
///                  └─▶ ProxyConnection ── parse head ── Host → service (snapshot) ── Router ─┐
///                        ▲   │ request body, streamed (≤ 64 KiB in flight)                    ▼
///                        │   └──────────────────────────────────────────▶ UpstreamConnection
///                        └──── response head + body, streamed ◀─────────── (pooled per loop,
///                                                                            keyed by address)
///     per loop: routing snapshot (refreshed in a tick hook), Router, SplitMix64, outlier table,
///               upstream pool, metric handles; nothing shared, no lock on the request path.
///
/// Like `DNSServer`, every loop owns its listener and all of its state (`ProxyLoopState`), so a
/// request never leaves the loop that accepted it. Shutdown is graceful: listeners close, idle
/// connections close, requests in flight finish with `Connection: close`, and whatever is left
/// after `grace` is cut.
package final class HTTPProxy: Sendable {
    /// Listener, limits, timeouts, pool, passive health, logging.
    package struct Configuration: Sendable {
        /// Where to listen for plain HTTP; nil: HTTPS only.
        package var address: SocketAddress?
        /// Where to listen for HTTPS (TLS terminated on the loops with `certificates`); nil: none.
        package var httpsAddress: SocketAddress?
        /// The certificates for `httpsAddress`.
        package var certificates: CertificateStore?
        /// A PEM bundle that `https` upstreams' certificates must chain to, instead of the
        /// system's trust store (a private CA).
        package var upstreamTrustRootsFile: String?
        /// The longest a client's TLS handshake may take.
        package var handshakeTimeout: Duration = .seconds(10)
        /// The service (an FQDN, `www.glb.example.`) for requests whose Host names no service,
        /// such as `Host: 127.0.0.1:8080` from a benchmark tool; nil answers those with 404.
        package var defaultService: String?
        /// Open client connections across all loops; more are closed at accept.
        package var maxConnections = 10_000
        /// From a request's first byte to the end of its head (slowloris defence): 408.
        package var headerTimeout: Duration = .seconds(10)
        /// A keep-alive client connection with no request for this long is closed.
        package var idleTimeout: Duration = .seconds(60)
        /// From a request's head to the end of its response: 504 if no response has started,
        /// else the connection is cut.
        package var requestTimeout: Duration = .seconds(30)
        /// The longest an upstream connect may take before it counts as failed.
        package var upstreamConnectTimeout: Duration = .seconds(2)
        /// Request bodies larger than this get 413; `Int.max` streams any size.
        package var maxRequestBodyBytes = Int.max
        /// Idle keep-alive connections kept per upstream address per loop. Above the connections
        /// a loop has in flight to one origin, so a pooled connection is closed only when load
        /// falls for good: at 64, `wrk -c256` over two loops and two origins (about 64 in flight
        /// each) overflowed the pool on every burst of responses and opened a new upstream
        /// connection for 3.6% of requests. nginx's bench config keeps 256 per worker; HAProxy
        /// keeps every one.
        package var maxIdlePerUpstream = 256
        /// An idle pooled connection unused for this long is closed.
        package var poolIdleTimeout: Duration = .seconds(30)
        /// Passive health thresholds and back-off.
        package var outlier = OutlierDetector.Configuration()
        /// Proxies whose `X-Forwarded-For` is believed when locating clients for `geo` and
        /// `latency` (see `ForwardedFor`); empty: the peer address is the client.
        package var trustedProxies: [ForwardedFor.Network] = []
        /// The share (0...1) of requests written to the access log; 0 logs none.
        package var accessLogSampleRate: Double = 0
        /// Retries after a failed attempt (see `RetryPolicy`).
        package var retryAttempts = 1
        /// Bytes in flight per direction before GLB stops reading the side that produces them.
        package var highWaterMark = 64 * 1024
        /// Parser limits for request heads.
        package var limits = HTTPLimits()
        /// accept(2) on a listener; tests substitute one that fails, as lowering the process's
        /// descriptor limit would also fail every other test running beside them.
        package var accept: @Sendable (CInt) throws(SystemError) -> (fd: CInt, peer: SocketAddress?)? = Socket.accept

        /// The defaults, listening on `address`.
        package init(address: SocketAddress?, defaultService: String? = nil) {
            self.address = address
            self.defaultService = defaultService
        }
    }

    package let configuration: Configuration
    let publisher: SnapshotPublisher
    let loops: [EventLoop]
    let logger: Logger
    let metrics: ProxyMetrics
    let registry: MetricsRegistry
    let connections = ConnectionCounter()
    /// Each loop's share of the client connections, kept level (see `ConnectionBalancer`).
    let balancer: ConnectionBalancer
    /// Each loop's count of idle pooled connections (a loop writes only its own).
    let poolIdleShards: [Gauge]
    /// Each loop's buffered-bytes high-water mark (a loop writes only its own).
    let bufferHighWaterShards: [Gauge]
    private let states = Mutex<[LoopBound<ProxyLoopAnchor>]>([])
    private let boundAddress = Mutex<(plain: SocketAddress?, https: SocketAddress?)>((nil, nil))
    /// The client context for `https` upstreams, made on the first one: OpenSSL's start-up and
    /// the trust roots cost about 3 MB of resident memory that a proxy without `https` clusters
    /// never needs (as in `ProberCore`). Nil if it could not be set up (logged once; those
    /// upstreams then fail as connect failures). Asked once per new upstream TLS connection.
    var upstreamTLS: TLSContext? {
        upstreamTLSState.withLock { state -> TLSContext? in
            if state.context == nil, !state.failed {
                do {
                    state.context = try TLSContext(trustRootsFile: configuration.upstreamTrustRootsFile)
                } catch {
                    state.failed = true
                    logger.error("cannot set up TLS for https upstreams; they will fail", ["error": "\(error)"])
                }
            }
            return state.context
        }
    }
    private let upstreamTLSState = Mutex<(context: TLSContext?, failed: Bool)>((nil, false))

    /// A proxy that will serve `loops` once started.
    package init(configuration: Configuration, loops: [EventLoop], publisher: SnapshotPublisher, logger: Logger, registry: MetricsRegistry) {
        self.configuration = configuration
        self.loops = loops
        self.publisher = publisher
        self.logger = logger
        self.registry = registry
        metrics = ProxyMetrics(registry: registry)
        balancer = ConnectionBalancer(loops: loops.count, registry: registry)
        poolIdleShards = loops.map { _ in Gauge() }
        bufferHighWaterShards = loops.map { _ in Gauge() }
        // Captures the handles, not the proxy: a weak reference to the proxy would give it a side
        // table, and the loops retain and release it (see `ProxyLoopState`).
        registry.onCollect { [connections, poolIdleShards, clientGauge = metrics.clientConnections, idleGauge = metrics.poolIdle] in
            clientGauge.set(Double(connections.count))
            idleGauge.set(poolIdleShards.reduce(0) { $0 + $1.current })
        }
    }

    /// Every loop's anchor, in `loops` order, once `start()` has made them all (fewer before).
    func anchors() -> [LoopBound<ProxyLoopAnchor>] { states.withLock { $0 } }

    /// Where the proxy listens for HTTP (the real port when configured with port 0).
    package var address: SocketAddress? { boundAddress.withLock { $0.plain } }

    /// Where the proxy listens for HTTPS.
    package var httpsAddress: SocketAddress? { boundAddress.withLock { $0.https } }

    /// The most bytes one connection has held buffered at once (its client's and its upstream's
    /// buffers together) since start: tests use it to show bodies stream in bounded memory.
    package var bufferedBytesHighWater: Int { Int(bufferHighWaterShards.reduce(0) { max($0, $1.current) }) }

    /// Binds one listener per loop (two with HTTPS) and starts serving.
    package func start() async throws(SystemError) {
        precondition(configuration.httpsAddress == nil || configuration.certificates != nil, "HTTPS needs certificates")
        var addresses = (plain: configuration.address, https: configuration.httpsAddress)
        for (index, loop) in loops.enumerated() {
            let bindTo = addresses
            addresses = try await loop.submit { () throws(SystemError) -> (plain: SocketAddress?, https: SocketAddress?) in
                let seed = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: loop.clock.wallMilliseconds)
                let anchor = ProxyLoopAnchor()
                let state = try ProxyLoopState(proxy: self, index: index, anchor: anchor, loop: loop, plain: bindTo.plain,
                                               https: bindTo.https, seed: seed)
                self.states.withLock { $0.append(LoopBound(anchor, loop: loop)) }   // the anchor keeps the state
                return state.boundAddresses      // later loops share the ports the first one got
            }
        }
        boundAddress.withLock { $0 = addresses }
    }

    /// Stops accepting and closes idle connections; requests in flight finish (their responses
    /// carry `Connection: close`) for up to `grace`; then everything left is closed.
    package func shutdown(grace: Duration, clock: any GLBClock = SystemClock()) async {
        // The states stay referenced until the proxy goes. Connections on the loops hold their
        // state and this proxy strongly until they close; the states hold the proxy unowned.
        let states = self.states.withLock { $0 }
        for state in states { await state.run { $0.state?.beginDrain() } }
        await connections.drained(within: grace, clock: clock)
        for state in states { await state.run { $0.state?.closeAll() } }
    }

}
