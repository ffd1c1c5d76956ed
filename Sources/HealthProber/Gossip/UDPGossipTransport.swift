package import GLBCore

/// Runs one `GossipNode` on an event loop over a UDP socket (loop-confined, like every
/// `Selectable`: no locks, every method on the loop's thread).
///
///     datagram ──recvfrom──▶ open (AES-GCM) ──decode──▶ node.receive ──▶ [Outbound] ──seal──▶ sendto
///     loop timer at node.nextDeadline ──────────────▶ node.tick ────┘
///                                                          └──▶ events, member view ──▶ `publish`
///
/// With a keyring every packet is sealed and only sealed packets are accepted; without one,
/// packets are plaintext (`GossipAgent` allows that on loopback only). Packets
/// that fail are dropped and counted by reason.
package final class UDPGossipTransport: Selectable {
    package let descriptor: CInt
    package let localAddress: SocketAddress
    package private(set) var node: GossipNode
    private let loop: EventLoop
    private var keyring: Keyring?
    private let cipher = PacketCipher()
    private let metrics: GossipMetrics
    /// Where dropped packets are reported (rate-limited by `drops`); nil in tests that don't care.
    private let logger: Logger?
    private var drops = DropReport()
    private let publish: (GossipNode, [GossipEvent]) -> Void
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private var timer: TimerID?
    private var timerDeadline: Instant?
    private var closed = false
    /// TCP fallback connects in flight, by descriptor.
    private var reachability: [CInt: ReachabilityConnect] = [:]
    /// Ticks at least this often even when the node has nothing due.
    private let maxTickInterval: Duration = .milliseconds(200)

    /// Binds the socket; `makeNode` gets the bound address (port 0 becomes a real port).
    package init(loop: EventLoop, bind address: SocketAddress, keyring: Keyring?, metrics: GossipMetrics, logger: Logger? = nil,
                 makeNode: (SocketAddress) -> GossipNode, publish: @escaping (GossipNode, [GossipEvent]) -> Void) throws(SystemError) {
        let fd = try Socket.bindUDP(address, reusePort: false)
        guard let bound = Socket.localAddress(fd) else {
            closeDescriptor(fd)
            throw SystemError(call: "getsockname", errno: 0)
        }
        descriptor = fd
        localAddress = bound
        self.loop = loop
        self.keyring = keyring
        self.metrics = metrics
        self.logger = logger
        self.publish = publish
        node = makeNode(bound)
    }

    /// Registers with the loop and contacts `seeds`. Loop thread only.
    package func start(seeds: [SocketAddress]) throws(SystemError) {
        try loop.register(self, interest: .read)
        join(seeds)
    }

    /// Contacts `seeds` (again). Loop thread only.
    package func join(_ seeds: [SocketAddress]) {
        guard !seeds.isEmpty else { return }
        let now = loop.clock.now
        send(node.join(seeds, now: now))
        afterWork(now: now)
    }

    package func readable(now: Instant) {
        while !closed {
            let result: (count: Int, peer: SocketAddress)?
            do {
                result = try buffer.withUnsafeMutableBytes { raw throws(SystemError) in try Socket.receive(descriptor, into: raw) }
            } catch {
                return
            }
            guard let (count, peer) = result else { break }
            metrics.received.increment()
            let plaintext: [UInt8]
            switch unseal(Array(buffer[0..<count])) {
            case .success(let opened): plaintext = opened
            case .failure(let drop): dropped(drop.reason, from: peer, now: now); continue
            }
            let messages: [GossipMessage]
            do {
                messages = try GossipCodec.decode(plaintext)
            } catch {
                dropped("malformed", from: peer, now: now)
                continue
            }
            send(node.receive(messages, from: peer, now: now))
        }
        afterWork(now: now)
    }

    package func writable(now: Instant) {}

    package func enqueueUser(key: String, payload: [UInt8]) -> Bool {
        guard !closed else { return false }
        let queued = node.enqueueUser(key: key, payload: payload)
        afterWork(now: loop.clock.now)
        return queued
    }

    package func updateMetadata(_ metadata: [UInt8]) {
        guard !closed else { return }
        node.updateMetadata(metadata)
        afterWork(now: loop.clock.now)
    }

    package func setKeyring(_ keyring: Keyring?) { self.keyring = keyring }

    /// Says goodbye to every member, then closes.
    package func leave() {
        guard !closed else { return }
        let now = loop.clock.now
        send(node.leave(now: now))
        publish(node, node.takeEvents())
        close()
    }

    /// Stops without a goodbye (members will detect it as failed). Idempotent.
    package func close() {
        guard !closed else { return }
        closed = true
        if let timer { loop.cancel(timer) }
        loop.deregister(self)
        closeDescriptor(descriptor)
        for fd in Array(reachability.keys) { finishReachability(fd, reached: false) }
    }

    // MARK: Internals

    /// A dropped packet in words.
    private struct Dropped: Error {
        let reason: String
    }

    private func dropped(_ reason: String, from peer: SocketAddress, now: Instant) {
        metrics.dropped(reason)
        if let logger, let line = drops.dropped(reason, from: peer, now: now) { logger.warning(line.message, line.fields) }
    }

    private func unseal(_ datagram: [UInt8]) -> Result<[UInt8], Dropped> {
        guard let keyring else {
            if datagram.first == PacketCipher.version { return .failure(Dropped(reason: "plaintext")) }
            return .success(datagram)
        }
        guard datagram.first == PacketCipher.version else {
            return .failure(Dropped(reason: datagram.first == GossipCodec.version ? "plaintext" : "version"))
        }
        do {
            return .success(try cipher.open(datagram, with: keyring))
        } catch {
            return .failure(Dropped(reason: error.reason))
        }
    }

    private func send(_ outbound: [Outbound]) {
        for packet in outbound {
            let bytes = keyring.map { cipher.seal(packet.bytes, with: $0) } ?? packet.bytes
            let delivered = (try? bytes.withUnsafeBytes { raw throws(SystemError) in try Socket.send(descriptor, raw, to: packet.to) }) ?? false
            if delivered { metrics.sent.increment() } else { metrics.dropped("send_failed") }
        }
    }

    /// Publishes what changed and arms the timer for the node's next deadline.
    private func afterWork(now: Instant) {
        guard !closed else { return }
        for check in node.takeReachabilityChecks() { startReachability(check) }
        let events = node.takeEvents()
        for case .member(let change) in events where change.kind == .suspected { metrics.suspicions.increment() }
        publish(node, events)
        let deadline = max(now + .milliseconds(1), min(node.nextDeadline ?? now + maxTickInterval, now + maxTickInterval))
        if let armed = timerDeadline, armed <= deadline, timer != nil { return }
        if let timer { loop.cancel(timer) }
        timerDeadline = deadline
        timer = loop.schedule(at: deadline) { [weak self] in self?.fire() }
    }

    private func fire() {
        timer = nil
        timerDeadline = nil
        guard !closed else { return }
        let now = loop.clock.now
        send(node.tick(now: now))
        afterWork(now: now)
    }

    // MARK: TCP fallback

    /// Starts a non-blocking connect to the member's gossip port (the push-pull listener holds it
    /// open over TCP); the connect completing in time is the member's answer.
    private func startReachability(_ check: GossipNode.ReachabilityCheck) {
        guard let fd = try? Socket.connectTCP(check.address) else { return }
        let connect = ReachabilityConnect(descriptor: fd, seq: check.seq) { [weak self] fd, reached in
            self?.finishReachability(fd, reached: reached)
        }
        do throws(SystemError) {
            try loop.register(connect, interest: .write)
        } catch {
            closeDescriptor(fd)
            return
        }
        connect.timer = loop.schedule(at: check.deadline) { [weak self] in self?.finishReachability(fd, reached: false) }
        reachability[fd] = connect
    }

    private func finishReachability(_ fd: CInt, reached: Bool) {
        guard let connect = reachability.removeValue(forKey: fd) else { return }
        if let timer = connect.timer { loop.cancel(timer) }
        loop.deregister(connect)
        closeDescriptor(fd)
        guard reached, !closed else { return }
        node.reached(seq: connect.seq)
        metrics.tcpRescues.increment()
        afterWork(now: loop.clock.now)
    }
}

/// One TCP fallback connect: writable with no pending error means the member accepted it.
final class ReachabilityConnect: Selectable {
    let descriptor: CInt
    let seq: UInt32
    var timer: TimerID?
    private let done: (CInt, Bool) -> Void

    init(descriptor: CInt, seq: UInt32, done: @escaping (CInt, Bool) -> Void) {
        self.descriptor = descriptor
        self.seq = seq
        self.done = done
    }

    /// Errors and hang-ups arrive here: refused or reset, so not reached.
    func readable(now: Instant) { done(descriptor, false) }

    func writable(now: Instant) { done(descriptor, Socket.pendingError(descriptor) == 0) }
}
