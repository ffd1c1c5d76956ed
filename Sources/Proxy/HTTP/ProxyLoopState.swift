import GLBCore
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One loop's share of an `HTTPProxy`: its listener, client connections, upstream pool, RNG,
/// Router, outlier table, cached snapshot and metric handles. Loop-confined, not `Sendable`:
/// every field is touched only on `loop`'s thread, so the request path takes no lock.
///
/// Nothing refers to it weakly (the tick hook, the sweep timer and the listeners go through a
/// `ProxyLoopAnchor`): a weak reference gives an object a side table, and then every retain and
/// release of it takes the runtime's slow path. The request path reads its own copies of the
/// proxy's configuration and metrics rather than loading `proxy`, whose reference count both
/// loops would otherwise bounce between their caches.
final class ProxyLoopState {
    unowned let proxy: HTTPProxy
    let configuration: HTTPProxy.Configuration
    let metrics: ProxyMetrics
    /// This loop's shard of the per-request metrics.
    let shard: ProxyMetrics.Shard
    /// This loop's idle pooled connections, summed across loops for `glb_http_pool_idle_connections`.
    let poolIdle: Gauge
    /// This loop's buffered-bytes high-water mark for `HTTPProxy.bufferedBytesHighWater`, and
    /// its value kept locally so the check on every event reads no shared memory.
    let bufferHighWater: Gauge
    private var bufferHighWaterValue = 0
    /// The proxy's open-connection count (shared: it enforces the cap across loops).
    let openConnections: ConnectionCounter
    /// This loop's place among the loops, and what keeps their connection counts level.
    let loopIndex: Int
    let balancer: ConnectionBalancer
    /// The other loops' anchors, for handing connections to them; filled once all exist.
    private var peers: [LoopBound<ProxyLoopAnchor>] = []
    let publisher: SnapshotPublisher
    let loop: EventLoop
    let boundAddresses: (plain: SocketAddress?, https: SocketAddress?)
    var snapshot: RoutingSnapshot
    var router = Router()
    var rng: SplitMix64
    var outliers: OutlierDetector
    var pool: UpstreamPool
    var counters = RequestCounters()

    /// Scratch for Host → wire-form name lookups.
    var hostScratch: [UInt8] = []
    /// The last Host looked up, its service, and the snapshot it was looked up in.
    private var lastHost: [UInt8] = []
    private var lastHostService: Int?
    private var lastHostSnapshot: RoutingSnapshot?
    /// `configuration.defaultService` resolved in `snapshot`, or -1.
    private(set) var defaultService = -1
    private var defaultServiceGeneration: UInt64 = .max
    private var listeners: [ProxyListener] = []
    /// The certificate table new TLS connections use; refreshed at each TLS accept.
    private var certificates: CertificateTable?
    /// Handshake failure counters by side and reason, cached: the registry takes a lock.
    private var handshakeFailureCounters: [String: Counter] = [:]
    /// The open client connections; each knows its index (`ProxyConnection.stateIndex`), so
    /// adding and removing one (swapping the last into its place) hashes nothing.
    private var connections: [ProxyConnection] = []
    /// The last client address turned into text, shared by its connections (most clients open
    /// many): formatting it allocated once per connection.
    private var lastClientIP: IPAddress?
    private var lastClientText: [UInt8] = []
    /// Emptied buffers of closed connections (`takeBuffer`, `recycle`).
    private var spareBuffers: [ByteBuffer] = []
    /// Client parsers' head storage from closed connections (`takeHeadStorage`, `recycle`).
    private var spareHeadStorage: [HTTPParser.HeadStorage] = []
    /// Each endpoint's pool slot (-1: not looked up yet), for `endpointSlotsSnapshot` (endpoint
    /// indices mean other addresses in another snapshot) and the pool's epoch.
    private var endpointSlots: [Int] = []
    private var endpointSlotsSnapshot: RoutingSnapshot?
    private var endpointSlotsEpoch = -1
    private(set) var draining = false
    private var closed = false

    init(proxy: HTTPProxy, index: Int, anchor: ProxyLoopAnchor, loop: EventLoop, plain: SocketAddress?, https: SocketAddress?,
         seed: UInt64) throws(SystemError) {
        self.proxy = proxy
        configuration = proxy.configuration
        metrics = proxy.metrics
        shard = proxy.metrics.shard(index: index, of: proxy.loops.count)
        poolIdle = proxy.poolIdleShards[index]
        bufferHighWater = proxy.bufferHighWaterShards[index]
        openConnections = proxy.connections
        loopIndex = index
        balancer = proxy.balancer
        publisher = proxy.publisher
        self.loop = loop
        rng = SplitMix64(seed: seed)
        outliers = OutlierDetector(configuration: proxy.configuration.outlier)
        pool = UpstreamPool(maxPerAddress: proxy.configuration.maxIdlePerUpstream, idleTimeout: proxy.configuration.poolIdleTimeout)
        snapshot = publisher.snapshot
        var bound: (plain: SocketAddress?, https: SocketAddress?) = (nil, nil)
        var opened: [ProxyListener] = []
        for (address, tls) in [(plain, false), (https, true)] {
            guard let address else { continue }
            do throws(SystemError) {
                let listener = try ProxyListener(address: address, tls: tls)
                opened.append(listener)
                try loop.register(listener, interest: .read)
                let local = Socket.localAddress(listener.descriptor) ?? address
                if tls { bound.https = local } else { bound.plain = local }
            } catch {
                for listener in opened {
                    loop.deregister(listener)
                    closeDescriptor(listener.descriptor)
                }
                throw error
            }
        }
        boundAddresses = bound
        listeners = opened
        anchor.state = self
        for listener in opened { listener.anchor = anchor }
        loop.addTickHook { [weak anchor] in
            guard let self = anchor?.state else { return }
            let previous = self.snapshot
            if self.publisher.refresh(&self.snapshot), self.outliers.ejectedCount > 0 {
                self.pardonRecovered(since: previous)
            }
        }
        scheduleSweep(anchor)
    }

    /// The service for a request's Host value: a service with that name, else the default.
    ///
    /// The last answer is kept with its Host bytes and snapshot: clients send the same Host again
    /// and again, and the lookup (wire form, name table) cost ~650 instructions per request.
    func service(host: ArraySlice<UInt8>?) -> Int? {
        guard let host else { return resolveService(host: nil) }
        if lastHostSnapshot === snapshot, lastHost.count == host.count,
           host.isEmpty || lastHost.withUnsafeBytes({ a in host.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, b.count) == 0 } }) {
            return lastHostService
        }
        let service = resolveService(host: host)
        lastHost.removeAll(keepingCapacity: true)
        lastHost.append(contentsOf: host)
        lastHostService = service
        lastHostSnapshot = snapshot
        return service
    }

    private func resolveService(host: ArraySlice<UInt8>?) -> Int? {
        if let host, let index = snapshot.service(host: host, scratch: &hostScratch) { return index }
        if defaultServiceGeneration != snapshot.generation {
            defaultServiceGeneration = snapshot.generation
            defaultService = configuration.defaultService.flatMap { snapshot.service(named: $0, forProxy: true) } ?? -1
        }
        return defaultService >= 0 ? defaultService : nil
    }

    // MARK: Connections

    /// A connection this loop's listener accepted: served here, or handed to a loop with fewer
    /// connections (`ConnectionBalancer`).
    func accepted(fd: CInt, peer: SocketAddress?, tls: Bool, now: Instant) {
        let loops = balancer.loops
        if peers.count < loops { peers = proxy.anchors() }
        let target = peers.count == loops ? balancer.place(acceptedOn: loopIndex) : nil
        guard let target else {
            if peers.count < loops { balancer.count(on: loopIndex) }
            serve(fd: fd, peer: peer, tls: tls, now: now)
            return
        }
        peers[target].withValue { [balancer] anchor in
            guard let state = anchor.state else {        // that loop has shut down
                closeDescriptor(fd)
                balancer.closed(on: target)
                return
            }
            state.serve(fd: fd, peer: peer, tls: tls, now: state.loop.clock.now)
        }
    }

    /// Serves a new client connection on this loop, already counted here by the balancer.
    private func serve(fd: CInt, peer: SocketAddress?, tls: Bool, now: Instant) {
        guard !draining, openConnections.admit(limit: configuration.maxConnections) else {
            metrics.rejectedConnections.increment()
            closeDescriptor(fd)
            balancer.closed(on: loopIndex)
            return
        }
        var session: TLSSession?
        if tls, let store = configuration.certificates {
            store.refresh(&certificates)
            guard let table = certificates, let ssl = table.makeSSL() else {
                handshakeFailed(side: "client", reason: "other")
                closeDescriptor(fd)
                openConnections.closed()
                balancer.closed(on: loopIndex)
                return
            }
            session = TLSSession(ssl: ssl, fd: fd, server: true)
        }
        let connection = ProxyConnection(fd: fd, peer: peer, state: self, tls: session, certificates: tls ? certificates : nil, now: now)
        do {
            try loop.register(connection, interest: [])     // watched once it must be (`ProxyConnection.everWatched`)
        } catch {
            connection.close()                   // its timer, descriptor and buffers
            openConnections.closed()
            balancer.closed(on: loopIndex)
            return
        }
        connection.stateIndex = connections.count
        connections.append(connection)
        // The listener defers accept until the request (or ClientHello) has arrived, so read it
        // now: waiting for epoll to report it again cost a wake-up, and about half the proxy's
        // context switches under connection churn (close64: 0.95-1.2 per request before, 0.5 after).
        connection.readable(now: now)
    }

    /// A buffer for a new client connection: a closed connection's, or a new one with
    /// `minimumCapacity`. Each new connection used to allocate (and zero) a 1 KiB outbound
    /// buffer and a 4 KiB read buffer and free both at close: ~3k instructions per connection
    /// with the runtime's generic array paths.
    func takeBuffer(minimumCapacity: Int) -> ByteBuffer {
        spareBuffers.popLast() ?? ByteBuffer(capacity: minimumCapacity)
    }

    /// Keeps a closed connection's buffer for the next one (emptied), up to 32 of at most
    /// 16 KiB each per loop; leaves `buffer` empty either way.
    func recycle(_ buffer: inout ByteBuffer) {
        var kept = ByteBuffer()
        swap(&kept, &buffer)
        guard spareBuffers.count < 32, kept.capacity >= 1024, kept.capacity <= 16 * 1024 else { return }
        kept.clear()
        spareBuffers.append(kept)
    }

    /// Head storage for a new client connection's parser: a closed connection's, if any.
    func takeHeadStorage() -> HTTPParser.HeadStorage {
        spareHeadStorage.popLast() ?? HTTPParser.HeadStorage()
    }

    /// Keeps a closed connection's head storage for the next one, up to 32 per loop (the parser
    /// already drops storage grown past a typical head).
    func recycle(_ storage: HTTPParser.HeadStorage) {
        guard spareHeadStorage.count < 32 else { return }
        spareHeadStorage.append(storage)
    }

    /// Counts one answered request and its latency. Here rather than in the connection: the
    /// snapshot and the metrics shard are passed from the state's own properties, with no
    /// retain of either per request.
    @inline(__always)
    func countResponse(status: Int, service: Int, cluster: Int, duration: Duration?) {
        counters.counter(status: status, service: service, cluster: cluster, snapshot: snapshot, metrics: shard).incrementFromOwner()
        if let duration { shard.duration.observeFromOwner(duration) }
    }

    /// Raises the buffered-bytes high-water mark if `bytes` (one connection's buffers) is above it.
    @inline(__always)
    func noteBuffered(_ bytes: Int) {
        guard bytes > bufferHighWaterValue else { return }
        bufferHighWaterValue = bytes
        bufferHighWater.set(Double(bytes))
    }

    /// `ip` as text for X-Forwarded-For.
    func clientText(_ ip: IPAddress) -> [UInt8] {
        if ip != lastClientIP {
            lastClientIP = ip
            lastClientText = HeadRewriter.addressText(ip)
        }
        return lastClientText
    }

    func removed(_ connection: ProxyConnection) {
        let index = connection.stateIndex
        guard index >= 0, index < connections.count, connections[index] === connection else { return }
        let last = connections.removeLast()
        if index < connections.count {
            connections[index] = last
            last.stateIndex = index
        }
        connection.stateIndex = -1
        openConnections.closed()
        balancer.closed(on: loopIndex)
    }

    /// Pools `upstream` after a complete keep-alive exchange, or closes it.
    func release(_ upstream: UpstreamConnection, reusable: Bool, now: Instant) {
        upstream.owner = nil
        guard reusable, !draining, !upstream.closed else {
            upstream.close()
            return
        }
        upstream.reset()
        upstream.uses += 1
        if pool.put(upstream, now: now) {
            upstream.setInterest(.read)
            poolIdle.set(Double(pool.count))
        } else {
            upstream.close()
        }
    }

    /// Counts a failed TLS handshake.
    func handshakeFailed(side: String, reason: String) {
        let key = side + "/" + reason
        if let counter = handshakeFailureCounters[key] { counter.increment(); return }
        let counter = metrics.handshakeFailures(side: side, reason: reason)
        handshakeFailureCounters[key] = counter
        counter.increment()
    }

    /// A pooled connection to endpoint `index` of the current snapshot (its address, with its
    /// cluster's TLS settings), or a new one. The error if connect(2) failed at once.
    func upstream(endpoint index: Int) -> Result<UpstreamConnection, SystemError> {
        if endpointSlotsSnapshot !== snapshot || endpointSlotsEpoch != pool.epoch {
            endpointSlots = [Int](repeating: -1, count: snapshot.endpoints.count)
            endpointSlotsSnapshot = snapshot
            endpointSlotsEpoch = pool.epoch
        }
        var slot = endpointSlots[index]
        if slot < 0 {
            slot = pool.slot(for: key(ofEndpoint: index))
            endpointSlots[index] = slot
        }
        if let pooled = pool.take(slot: slot) {
            poolIdle.set(Double(pool.count))
            shard.poolReused.incrementFromOwner()
            return .success(pooled)
        }
        do throws(SystemError) {
            let fresh = try UpstreamConnection(key: key(ofEndpoint: index), poolSlot: slot, state: self)
            shard.poolNew.incrementFromOwner()
            return .success(fresh)
        } catch {
            return .failure(error)
        }
    }

    private func scheduleSweep(_ anchor: ProxyLoopAnchor) {
        let every = min(configuration.poolIdleTimeout, .seconds(1))
        loop.schedule(after: every) { [weak anchor] in
            guard let anchor, let self = anchor.state, !self.closed else { return }
            let now = self.loop.clock.now
            let expired = self.pool.expire(now: now)
            if !expired.isEmpty {
                self.poolIdle.set(Double(self.pool.count))
                for connection in expired { connection.close() }
            }
            self.outliers.sweep(now: now)
            self.scheduleSweep(anchor)
        }
    }

    /// Stops accepting, closes idle client connections and the pool, and marks the rest to close
    /// after their current response.
    func beginDrain() {
        draining = true
        for listener in listeners {
            loop.deregister(listener)
            closeDescriptor(listener.descriptor)
        }
        listeners.removeAll()
        let pooled = pool.removeAll()
        poolIdle.set(Double(pool.count))
        for connection in pooled { connection.close() }
        for connection in connections { connection.drain() }
    }

    func closeAll() {
        beginDrain()
        for connection in connections { connection.close() }
        closed = true
    }
}
