import CGLBLinux
#if canImport(Glibc)
import Glibc
#endif
import GLBCore
import Synchronization

/// One of the DNS server's UDP sockets (SO_REUSEPORT, one per event loop) and the thread that
/// serves it, which does nothing else: it sleeps in recvmmsg(2) until datagrams arrive, answers
/// the batch, sends the answers with one sendmmsg(2), and goes back to sleep (RFC 1035 §4.2.1).
///
/// This is gdnsd's model (dnsio_udp.c), not the event loop's, for a measured reason: a socket in
/// an epoll set keeps epoll's waiter on its wait queue, so every datagram received and every
/// answer's buffer freed makes a locked wake-up call into epoll, and every batch costs an
/// epoll_wait on top of its two calls. A thread blocked in recvmmsg is on the queue only while it
/// sleeps. Back to back at a fixed 100k queries/s (scripts/profile/dns-perfstat.sh): system calls
/// per query 0.75 → 0.55 (gdnsd's), CPU per query −8%. TCP stays on the event loops
/// (`DNSTCPListener`): its connections need timers and partial reads, which is what a loop is for.
///
/// The listener owns the socket and the thread: `stop()` wakes the thread by shutting the socket
/// down for reading, joins it, then closes the socket, so neither outlives the server.
final class DNSUDPListener: Sendable {
    let descriptor: CInt
    let boundAddress: SocketAddress
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<SystemThread?>(nil)
    private let closed = Atomic<Bool>(false)

    /// Binds a blocking UDP socket; the port is shared with the other loops' sockets.
    init(address: SocketAddress) throws(SystemError) {
        descriptor = try Socket.bindUDP(address, reusePort: true, blocking: true)
        do throws(SystemError) {
            try Socket.setDontFragment(descriptor, family: address.family)
        } catch {
            closeDescriptor(descriptor)
            throw error
        }
        boundAddress = Socket.localAddress(descriptor) ?? address
    }

    /// Starts the thread that answers on this socket.
    func start(name: String, publisher: SnapshotPublisher, metrics: DNSMetrics, seed: UInt64) throws(SystemError) {
        guard let batch = cglb_udp_batch_create(Self.batchSize, Self.querySize, Self.answerSize) else {
            throw SystemError(call: "malloc (UDP batch)", errno: ENOMEM)
        }
        // The worker is made here and handed over whole: from now on only the new thread uses it.
        let worker = Worker(listener: self, name: name, batch: batch, publisher: publisher, metrics: metrics, seed: seed)
        let handle = try SystemThread { worker.run() }
        thread.withLock { $0 = handle }
    }

    /// Stops the thread and closes the socket. Idempotent; returns once the thread has ended.
    func stop() {
        stopping.store(true, ordering: .releasing)
        Socket.shutdownReading(descriptor)
        thread.withLock { t in defer { t = nil }; return t }?.join()
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { closeDescriptor(descriptor) }
    }

    fileprivate var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Datagrams per batch; and the largest query and answer a batch slot holds. Answers over UDP
    /// never exceed the advertised 1232 bytes (larger ones are truncated with TC).
    static let batchSize: CInt = 64
    static let querySize: CInt = 4096
    static let answerSize: CInt = 1536
}

extension DNSUDPListener {
    /// What the listener's thread owns: the batch buffers, a responder with its scratch, an RNG,
    /// the routing snapshot it last picked up, and its metric shard (written by it alone).
    private final class Worker {
        let listener: DNSUDPListener
        let name: String
        let batch: UnsafeMutablePointer<cglb_udp_batch>
        let publisher: SnapshotPublisher
        let metrics: DNSMetrics
        var responder = DNSResponder()
        var rng: SplitMix64
        var snapshot: RoutingSnapshot

        init(listener: DNSUDPListener, name: String, batch: UnsafeMutablePointer<cglb_udp_batch>, publisher: SnapshotPublisher,
             metrics: DNSMetrics, seed: UInt64) {
            self.listener = listener
            self.name = name
            self.batch = batch
            self.publisher = publisher
            self.metrics = metrics
            rng = SplitMix64(seed: seed)
            snapshot = publisher.snapshot
        }

        deinit { cglb_udp_batch_destroy(batch) }

        /// Until `stop()`: wait for datagrams, answer them, send the answers.
        func run() {
            EventLoop.nameThread(name)
            let descriptor = listener.descriptor
            while true {
                let received = cglb_udp_batch_receive(descriptor, batch, 1)
                if listener.isStopping { return }
                guard received > 0 else {
                    // 0: nothing after all. Below 0: ENOMEM and the like pass; an error that
                    // persists must not spin a core, so wait a millisecond before the next try.
                    if received < 0 { usleep(1000) }
                    continue
                }
                // One atomic load per batch picks up a new snapshot (docs/architecture.md "Data flow").
                publisher.refresh(&snapshot)
                answer(received, on: descriptor)
            }
        }

        /// Answers the `received` datagrams of the batch and sends the answers.
        @inline(__always)
        private func answer(_ received: CInt, on descriptor: CInt) {
            let snapshot = self.snapshot
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
                let slot = UnsafeMutableRawBufferPointer(start: cglb_udp_batch_out(batch, queued), count: Int(DNSUDPListener.answerSize))
                guard let answer = responder.respond(to: UnsafeRawBufferPointer(start: bytes, count: Int(length)), client: client,
                                                     overTCP: false, snapshot: snapshot, rng: &rng, into: slot) else {
                    tally.dropped += 1
                    continue
                }
                tally.count(response: UnsafeRawBufferPointer(rebasing: slot[0..<answer]), metrics: metrics)
                cglb_udp_batch_queue(batch, queued, i, CInt(answer))
                queued += 1
            }
            // Counted before the send, so a client holding its answer finds it in /metrics.
            metrics.add(tally)
            let sent = cglb_udp_batch_send(descriptor, batch, queued)
            if sent < queued {
                var unsent = DNSMetrics.Tally()
                unsent.dropped = UInt64(queued - sent)
                metrics.add(unsent)
            }
        }
    }
}
