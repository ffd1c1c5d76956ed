import GLBCore

/// One connection from GLB to an origin, confined to its loop. While a request uses it, its
/// events go to the `ProxyConnection` that owns it, which moves the bytes; while it sits in the
/// pool it only watches for the origin closing it, so a dead pooled connection is dropped before
/// a request picks it.
///
/// For an `https` cluster the connection stays `connecting` through the TLS handshake too: a
/// request's bytes wait in `outbound` until it completes, and a failed handshake (a certificate
/// that does not verify) is a failed connect, retried elsewhere or answered 502.
final class UpstreamConnection: Selectable {
    let descriptor: CInt
    /// The origin's address and TLS settings: the pool key.
    let key: UpstreamKey
    var address: SocketAddress { key.address }
    /// The TLS session once the TCP connect completed (https clusters only).
    private(set) var tls: TLSSession?
    /// What the TLS handshake waits for; nil while the TCP connect is still in progress.
    var handshakeWants: Interest?
    /// Strong for the reason given on `ProxyConnection.state`; the pool and the owner let go in `close()`.
    let state: ProxyLoopState
    /// The exchange using this connection; nil while pooled. Strong, not weak: a weak reference
    /// gives the client connection a side table, and every retain and release of an object with
    /// one takes the slow path (measured: ~6k instructions per request). The cycle is broken
    /// wherever the two part: `ProxyLoopState.release` and `close()` both clear it.
    var owner: ProxyConnection?
    var inbound = ByteBuffer()
    var outbound = ByteBuffer()
    var parser = HTTPParser(kind: .response)

    /// The next part of the response in `inbound`. A method of the connection: written from
    /// outside as `upstream.parser.next(from: &upstream.inbound)`, two accesses to one object,
    /// the call cost about 100 more instructions per request (callgrind, keep-alive).
    @inline(__always)
    func nextResponsePart() throws(HTTPParseError) -> HTTPPart? {
        try parser.next(from: &inbound)
    }

    /// The parser stands between two responses (the connection can be pooled). Asked with
    /// `checkMessageBoundary()`: the `isAtMessageBoundary` getter ran on a copy of the whole
    /// parser, its storage retained and released, once per response (objdump of
    /// `forwardResponse`: copy, getter, destroy).
    var isAtResponseBoundary: Bool { parser.checkMessageBoundary() }

    /// connect(2) is still in progress.
    var connecting = true
    /// The origin closed its side (or reset): no more bytes will come.
    var readClosed = false
    /// Request bytes written to the socket since the current owner attached it.
    var bytesSent = 0
    /// Requests carried before the current one: nonzero means it came from the pool.
    var uses = 0
    /// When it entered the pool.
    var idleSince = Instant.zero
    /// Its key's slot in the loop's `UpstreamPool` (checked against the key before use).
    var poolSlot: Int
    var closed = false
    var connectTimer: TimerID?
    private var interest: Interest = .write

    /// Starts a non-blocking connect to `address` and registers for its completion.
    init(key: UpstreamKey, poolSlot: Int, state: ProxyLoopState) throws(SystemError) {
        self.key = key
        self.poolSlot = poolSlot
        self.state = state
        descriptor = try Socket.connectTCP(key.address)
        Socket.setNoDelay(descriptor)
        do throws(SystemError) {
            try state.loop.register(self, interest: .write)
        } catch {
            closeDescriptor(descriptor)
            throw error
        }
    }

    func readable(now: Instant) {
        if let owner {
            owner.upstreamReadable(self, now: now)
            return
        }
        // Pooled: any event means the origin closed it or broke the protocol (bytes with no request).
        state.pool.remove(self)
        state.poolIdle.set(Double(state.pool.count))
        close()
    }

    func writable(now: Instant) {
        guard let owner else {
            setInterest(.read)
            return
        }
        owner.upstreamWritable(self, now: now)
    }

    /// Changes the epoll interest, skipping the syscall when nothing changed.
    @inline(__always)
    func setInterest(_ wanted: Interest) {
        guard wanted != interest, !closed else { return }
        interest = wanted
        state.loop.setInterest(self, wanted)
    }

    /// Reads what the socket holds, up to `limit` buffered bytes. Sets `readClosed` at EOF or on
    /// an error (a reset is the origin going away, and is handled the same way).
    func fill(limit: Int) {
        if let tls {
            fillTLS(tls, limit: limit)
            return
        }
        while !readClosed, inbound.readableBytes < limit {
            do {
                guard let count = try Socket.read(descriptor, into: &inbound) else { return }
                if count == 0 { readClosed = true }
                // Short read: drained (see `ProxyConnection.readable`); skip the EAGAIN read.
                else if inbound.writableBytes > 0 { return }
            } catch {
                readClosed = true
            }
        }
    }

    private func fillTLS(_ tls: TLSSession, limit: Int) {
        while !readClosed, inbound.readableBytes < limit {
            switch tls.receive(into: &inbound) {
            case .done:
                // Short record, nothing buffered in OpenSSL: drained (see `ProxyConnection.readClient`).
                if inbound.writableBytes > 0, !tls.hasPending { return }
            case .wantRead, .wantWrite: return
            case .endOfStream, .failed: readClosed = true
            }
        }
    }

    /// Runs the TLS handshake of an https upstream once TCP is connected: nil while it needs
    /// more events (`handshakeWants` says which), else the outcome.
    func continueHandshake(context: TLSContext?) -> Result<Void, TLSFailure>? {
        if tls == nil {
            guard let context, let tlsSettings = key.tls,
                  let session = TLSSession.client(context: context, fd: descriptor, serverName: tlsSettings.serverName,
                                                  address: address.ip, verify: tlsSettings.verify, alpnHTTP11: true) else {
                return .failure(TLSFailure(.handshake, reason: "other", "no TLS context for https upstreams"))
            }
            tls = session
        }
        switch tls!.handshake() {
        case .done: handshakeWants = nil; return .success(())
        case .wantRead: handshakeWants = .read; return nil
        case .wantWrite: handshakeWants = .write; return nil
        case .endOfStream: return .failure(TLSFailure(.handshake, reason: "eof", "origin closed during the handshake"))
        case .failed(let failure): return .failure(failure)
        }
    }

    /// Writes what `outbound` holds. False if the socket failed (the origin is gone).
    func flush() -> Bool {
        guard !connecting, !outbound.isEmpty else { return true }
        let before = outbound.readableBytes
        if let tls {
            let step = tls.send(&outbound)
            bytesSent += before - outbound.readableBytes
            if case .failed = step { return false }
            return true
        }
        do {
            _ = try Socket.flush(descriptor, &outbound)
        } catch {
            bytesSent += before - outbound.readableBytes
            return false
        }
        bytesSent += before - outbound.readableBytes
        return true
    }

    /// Readies a pooled connection for its next request.
    func reset() {
        parser.reset()
        inbound.clear()
        outbound.clear()
        bytesSent = 0
    }

    func close() {
        guard !closed else { return }
        closed = true
        owner = nil
        if let connectTimer { state.loop.cancel(connectTimer) }
        connectTimer = nil
        tls?.shutdown()
        tls = nil
        state.loop.deregister(self, closing: true)
        closeDescriptor(descriptor)
    }
}
