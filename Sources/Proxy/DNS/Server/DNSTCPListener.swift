import GLBCore
import Synchronization

/// DNS over TCP (RFC 7766): accepts connections under a cap, each handled by a `DNSTCPConnection`.
final class DNSTCPListener: Selectable {
    let descriptor: CInt
    weak var state: DNSLoopState?
    private var connections: [ObjectIdentifier: DNSTCPConnection] = [:]

    init(address: SocketAddress) throws(SystemError) {
        descriptor = try Socket.listenTCP(address, reusePort: true)
    }

    func readable(now: Instant) {
        guard let state else { return }
        let server = state.server
        while true {
            let accepted: (fd: CInt, peer: SocketAddress?)
            do {
                guard let next = try Socket.accept(descriptor) else { return }
                accepted = next
            } catch {
                guard error.isResourceShortage else { continue }     // that connection only
                server.logger.warning("DNS TCP accept failed; pausing accepts for 100 ms", ["error": "\(error)"])
                state.loop.pauseAccepting(self)
                return
            }
            let open = server.openTCP.wrappingAdd(1, ordering: .relaxed).newValue
            guard open <= server.configuration.maxTCPConnections else {
                server.openTCP.wrappingSubtract(1, ordering: .relaxed)
                server.tcpRejected.increment()
                closeDescriptor(accepted.fd)
                continue
            }
            let connection = DNSTCPConnection(fd: accepted.fd, client: accepted.peer?.ip ?? .v4(0), listener: self, state: state)
            do {
                try state.loop.register(connection, interest: .read)
                connections[ObjectIdentifier(connection)] = connection
            } catch {
                closeDescriptor(accepted.fd)
                server.openTCP.wrappingSubtract(1, ordering: .relaxed)
            }
        }
    }

    func writable(now: Instant) {}

    func removed(_ connection: DNSTCPConnection) {
        if connections.removeValue(forKey: ObjectIdentifier(connection)) != nil {
            state?.server.openTCP.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    func close() {
        state?.loop.deregister(self)
        closeDescriptor(descriptor)
        for connection in Array(connections.values) { connection.close() }
    }
}

/// One DNS-over-TCP connection: two-byte length-prefixed messages, several per connection,
/// answered in order (RFC 1035 §4.2.2, RFC 7766 §6.2.1). Reading pauses while answers are
/// waiting to be written, so a client that never reads cannot make us buffer without bound.
final class DNSTCPConnection: Selectable {
    let descriptor: CInt
    private let client: IPAddress
    private unowned let listener: DNSTCPListener
    private unowned let state: DNSLoopState
    private var inbound = ByteBuffer(capacity: 1024)
    private var outbound = ByteBuffer()
    private var idleTimer: TimerID?
    private var closed = false
    private var peerClosed = false

    init(fd: CInt, client: IPAddress, listener: DNSTCPListener, state: DNSLoopState) {
        descriptor = fd
        self.client = client
        self.listener = listener
        self.state = state
        armIdleTimer()
    }

    func readable(now: Instant) {
        guard !closed else { return }
        while outbound.readableBytes < 64 * 1024 {
            let count: Int?
            do { count = try Socket.read(descriptor, into: &inbound, chunk: 4096) } catch { close(); return }
            guard let count else { break }
            if count == 0 { peerClosed = true; break }
            answerComplete()
        }
        answerComplete()
        flush()
        if peerClosed, outbound.isEmpty { close() }
    }

    func writable(now: Instant) {
        flush()
        if !closed, outbound.readableBytes < 64 * 1024 { readable(now: now) }
    }

    /// Answers every complete message in the buffer.
    private func answerComplete() {
        var answered = false
        while let length = inbound.getInteger(at: inbound.readerIndex, as: UInt16.self), inbound.readableBytes >= 2 + Int(length) {
            inbound.moveReaderIndex(forwardBy: 2)
            let reply = inbound.withUnsafeReadableBytes { raw in
                state.answer(UnsafeRawBufferPointer(rebasing: raw[0..<Int(length)]), from: client, overTCP: true,
                             snapshot: state.snapshot, into: state.tcpScratch)
            }
            inbound.moveReaderIndex(forwardBy: Int(length))
            answered = true
            guard let reply else {
                // Not a query we can answer: there is no way to resynchronise a stream we
                // do not understand, so close it (RFC 7766 §6.2.2 lets a server close).
                state.metrics.dropped.incrementFromOwner()
                peerClosed = true
                inbound.clear()
                return
            }
            outbound.writeInteger(UInt16(reply))
            let answer = UnsafeRawBufferPointer(rebasing: state.tcpScratch[0..<reply])
            state.metrics.count(response: answer, tcp: true)
            outbound.writeBytes(answer)
        }
        if answered { armIdleTimer() }
        inbound.discardReadBytes()
    }

    private func flush() {
        guard !closed else { return }
        do {
            let done = try Socket.flush(descriptor, &outbound)
            state.loop.setInterest(self, done ? .read : [.read, .write])
            if done, peerClosed { close() }
        } catch {
            close()
        }
    }

    private func armIdleTimer() {
        if let idleTimer { state.loop.cancel(idleTimer) }
        idleTimer = state.loop.schedule(after: state.server.configuration.tcpIdleTimeout) { [weak self] in
            self?.idleTimer = nil
            self?.close()
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        if let idleTimer { state.loop.cancel(idleTimer) }
        state.loop.deregister(self)
        closeDescriptor(descriptor)
        listener.removed(self)
    }
}
