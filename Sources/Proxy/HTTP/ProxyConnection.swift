import GLBCore

/// One client connection of the proxy, confined to its loop, and the exchange it is running.
///
///     phase:  idle ──head──▶ exchange ──response end──▶ idle (keep-alive; next pipelined request)
///               │              │  └──101──▶ tunnel ──either side closes──▶ closed
///               └─error/EOF────┴──────────▶ closing (flush what is queued) ──▶ closed
///
/// Requests are served one at a time: the next pipelined request is parsed only after the
/// previous response is complete, so responses go out in order (RFC 9112 §9.3.2) and a client
/// cannot queue unbounded work. Bodies stream: each direction holds at most about
/// `highWaterMark` bytes, and the side producing them loses EPOLLIN until the other side drains
/// (level-triggered epoll would otherwise spin on a full buffer: TOOLCHAIN.md pitfall 10).
///
/// On the HTTPS listener the connection first runs the TLS handshake (`handshaking`, with the
/// handshake timeout as its deadline); after that every byte goes through `tls` and the phases
/// above are exactly those of plain HTTP: the same exchange, upstream and response code.
///
/// One timer per connection, armed lazily: `deadline` moves with every request, and the timer is
/// rescheduled only when it fires early or a deadline comes sooner, so most requests touch no timer.
final class ProxyConnection: Selectable {
    enum Phase { case idle, exchange, tunnel, closing, closed }
    enum DeadlineKind { case idle, header, request }

    let descriptor: CInt
    // Strong, not unowned: every unowned load is a `swift_unownedRetainStrong` and a release
    // (with a side table on the target, slow paths: ~7k instructions per request once). The
    // state holds the connection until `close()`, which ends the cycle.
    let state: ProxyLoopState
    /// Through the state, for the rare paths (logging, upstream TLS): the connection keeps no
    /// reference of its own, since retaining and releasing an object both loops share at every
    /// connection bounces its reference count between the cores. Hot paths read the state's
    /// copies of the configuration and metrics.
    var proxy: HTTPProxy { state.proxy }
    let loop: EventLoop
    let clientIP: IPAddress
    /// The client's address as text, for X-Forwarded-For.
    let clientText: [UInt8]
    let highWater: Int
    /// Both buffers come from the loop state's spares and go back at `close()` (see
    /// `ProxyLoopState.takeBuffer`). Outbound is sized for a typical response head and small
    /// body at once: grown from empty it took four allocations (64, 128, 256, 512 bytes).
    var inbound: ByteBuffer
    var outbound: ByteBuffer
    var parser: HTTPParser
    var phase = Phase.idle
    /// The client closed its sending side: no more requests will come.
    var readClosed = false
    var draining = false
    /// What the loop watches this connection for. A new connection starts in no epoll set: see
    /// `everWatched`.
    private var interest: Interest = []
    /// Whether the connection has been in the loop's epoll set yet. A new connection's first
    /// request is usually read whole right after accept (the listener defers accept until it
    /// has arrived), and then nothing needs the client's events until the response is written:
    /// a pipelined request or the client's EOF can wait for it. So the client is watched only
    /// once it must be (a partial request, a body, a response that does not fit the socket, the
    /// next request), like HAProxy's speculative I/O. A `Connection: close` exchange then never
    /// enters epoll: no EPOLL_CTL_ADD, and no removal from the set at close. A client that
    /// leaves meanwhile is found out at the write, or by the request deadline.
    private var everWatched = false

    private var deadline = Instant.zero
    private var deadlineKind = DeadlineKind.idle
    private var timerAt: Instant?
    private var timer: TimerID?

    /// The exchange in progress (phase `.exchange` or `.tunnel`).
    var exchange = Exchange()
    var upstream: UpstreamConnection?

    /// Its place in the loop state's list of connections; -1 when not in it.
    var stateIndex = -1

    /// The TLS session of an HTTPS connection; nil for plain HTTP.
    let tls: TLSSession?
    /// The certificate table `tls` was made from, kept alive for the SNI callback.
    private let certificates: CertificateTable?
    /// The TLS handshake has not completed yet.
    private var handshaking: Bool

    init(fd: CInt, peer: SocketAddress?, state: ProxyLoopState, tls: TLSSession? = nil, certificates: CertificateTable? = nil, now: Instant) {
        descriptor = fd
        self.state = state
        loop = state.loop
        clientIP = peer?.ip ?? .v4(0)
        clientText = state.clientText(clientIP)
        // Fields read one by one: a local copy of the configuration retains each of its arrays
        // and strings, and `state.proxy` is an unowned load of an object both loops share.
        highWater = state.configuration.highWaterMark
        inbound = state.takeBuffer(minimumCapacity: 0)
        outbound = state.takeBuffer(minimumCapacity: 1024)
        var limits = state.configuration.limits
        limits.maxBodyBytes = state.configuration.maxRequestBodyBytes
        parser = HTTPParser(kind: .request, limits: limits)
        parser.adoptHeadStorage(state.takeHeadStorage())
        self.tls = tls
        self.certificates = certificates
        handshaking = tls != nil
        // No TCP_NODELAY here: the socket inherited it from the listener.
        if tls != nil {
            setDeadline(.header, now + state.configuration.handshakeTimeout, now: now)
        } else {
            // The timer goes off at the header timeout if that is sooner, though the deadline is
            // the idle one: a request usually follows at once, and its header deadline then needs
            // no new timer (one that fires early re-arms for the deadline). Cancelling and
            // rescheduling cost ~1.5k instructions per connection.
            let idle = state.configuration.idleTimeout
            setDeadline(.idle, now + idle, now: now, armAt: now + min(idle, state.configuration.headerTimeout))
        }
    }

    // MARK: Events

    func readable(now: Instant) {
        guard phase != .closed else { return }
        if handshaking, let tls {
            continueHandshake(tls, now: now)
            return
        }
        let wasEmpty = inbound.isEmpty
        guard readClient() else { return }
        if wasEmpty, !inbound.isEmpty, phase == .idle, deadlineKind == .idle {
            setDeadline(.header, now + state.configuration.headerTimeout, now: now)
        }
        pump(now: now)
    }

    func writable(now: Instant) {
        if handshaking, let tls {
            continueHandshake(tls, now: now)
            return
        }
        // The client is taking its last response: the flush's deadline moves with it.
        if phase == .closing { setDeadline(.idle, now + state.configuration.idleTimeout, now: now) }
        pump(now: now)
    }

    /// Reads what the client sent, up to the high-water mark. False if it closed the connection.
    private func readClient() -> Bool {
        while !readClosed, inbound.readableBytes < highWater {
            // Between requests only a head is expected: offer 4 KiB, not 16, so a connection
            // that carries one small request (Connection: close) does not allocate and zero
            // 16 KiB for it. A longer head just takes another read; bodies get the full chunk.
            let chunk = phase == .idle ? 4096 : 16384
            if let tls {
                switch tls.receive(into: &inbound, chunk: chunk) {
                case .done:
                    // SSL_read returns one record at a time. A short one with nothing left in
                    // OpenSSL's buffers drained what had arrived; more would still be in the
                    // socket, where level-triggered epoll sees it, so skip the EAGAIN read
                    // (the same rule as the plain path below).
                    if inbound.writableBytes > 0, !tls.hasPending { return true }
                case .wantRead, .wantWrite: return true
                case .endOfStream: readClosed = true
                case .failed:
                    close()
                    return false
                }
                continue
            }
            do {
                guard let count = try Socket.read(descriptor, into: &inbound, chunk: chunk) else { break }
                if count == 0 { readClosed = true }
                // A read that did not fill the space offered drained the socket: asking again
                // would only return EAGAIN, and level-triggered epoll reports what arrives later
                // (nginx clears `rev->ready` on a short recv for the same reason).
                else if inbound.writableBytes > 0 { break }
            } catch {
                close()                           // reset by the client: nothing to answer
                return false
            }
        }
        return true
    }

    /// Drives the server handshake (RFC 8446 §2); once done, the connection is an ordinary
    /// keep-alive connection waiting for its first request.
    private func continueHandshake(_ tls: TLSSession, now: Instant) {
        switch tls.handshake() {
        case .done:
            handshaking = false
            (tls.resumed ? state.metrics.tlsResumed : state.metrics.tlsHandshakes).increment()
            setDeadline(.idle, now + state.configuration.idleTimeout, now: now)
            readable(now: now)                   // the request may have come with the Finished
        case .wantRead:
            setInterest(.read)
        case .wantWrite:
            setInterest(.write)
        case .endOfStream:
            state.handshakeFailed(side: "client", reason: "eof")
            close()
        case .failed(let failure):
            state.handshakeFailed(side: "client", reason: failure.reason)
            close()
        }
    }

    func upstreamReadable(_ upstream: UpstreamConnection, now: Instant) {
        guard upstream === self.upstream else { return }
        if upstream.connecting {
            upstreamConnectProgressed(upstream, now: now)     // an https upstream's handshake
            return
        }
        upstream.fill(limit: highWater)
        pump(now: now)
    }

    func upstreamWritable(_ upstream: UpstreamConnection, now: Instant) {
        guard upstream === self.upstream else { return }
        if upstream.connecting {
            upstreamConnectProgressed(upstream, now: now)
            return
        }
        pump(now: now)
    }

    /// The connect (and for an https cluster, the TLS handshake after it) moved on.
    private func upstreamConnectProgressed(_ upstream: UpstreamConnection, now: Instant) {
        if upstream.handshakeWants == nil, upstream.tls == nil {
            let error = Socket.pendingError(upstream.descriptor)
            guard error == 0 else {
                upstreamFailed(.connectFailed, now: now)
                pump(now: now)
                return
            }
        }
        if upstream.key.tls != nil {
            switch upstream.continueHandshake(context: proxy.upstreamTLS) {
            case nil:
                flushAndWatch()                  // wait for what the handshake wants
                return
            case .failure(let failure)?:
                state.handshakeFailed(side: "upstream", reason: failure.reason)
                proxy.logger.warning("upstream TLS handshake failed", ["upstream": "\(upstream.address)", "error": failure.message])
                upstreamFailed(.connectFailed, now: now)
                pump(now: now)
                return
            case .success?:
                break
            }
        }
        upstream.connecting = false
        if let timer = upstream.connectTimer { loop.cancel(timer) }
        upstream.connectTimer = nil
        pump(now: now)
    }

    // MARK: The pump

    /// Moves every byte that can move, in both directions, then flushes and sets interests.
    /// Every event ends here, so the rules for what may be read live in one place.
    func pump(now: Instant) {
        while true {
            var progress = false
            // Bytes OpenSSL buffered while there was no room: epoll will never announce them,
            // so take them now that there is. (Only progress if bytes moved: an incomplete
            // record also counts as pending, and waits for the socket.)
            if let tls, tls.hasPending, !readClosed, inbound.readableBytes < highWater {
                guard readClient() else { return }
            }
            if let upstream, !upstream.connecting, let upstreamTLS = upstream.tls, upstreamTLS.hasPending, !upstream.readClosed,
               upstream.inbound.readableBytes < highWater {
                let before = upstream.inbound.readableBytes
                upstream.fill(limit: highWater)
                if upstream.inbound.readableBytes != before || upstream.readClosed { progress = true }
            }
            switch phase {
            case .idle:
                progress = readHead(now: now)
            case .exchange:
                if forwardRequestBody(now: now) { progress = true }
                if forwardResponse(now: now) { progress = true }
            case .tunnel:
                progress = tunnel(now: now)
            case .closing, .closed:
                break
            }
            if phase == .closed { return }
            // Flush inside the loop: a flush that drains a buffer makes room for bytes already
            // read from the other side, and no epoll event would come for those.
            guard flush() else { return }
            if !progress { break }
        }
        flushAndWatch()
    }

    /// Writes both sockets' pending bytes. False if the client connection was closed.
    private func flush() -> Bool {
        if let upstream, !upstream.flush() {
            // The origin stopped taking bytes; whatever it still sends is read before the EOF is acted on.
            upstream.readClosed = true
            upstream.outbound.clear()
        }
        if !outbound.isEmpty {
            if let tls {
                if case .failed = tls.send(&outbound) {
                    close()
                    return false
                }
                return true
            }
            do {
                _ = try Socket.flush(descriptor, &outbound)
            } catch {
                close()
                return false
            }
        }
        return true
    }

    private func flushAndWatch() {
        guard flush() else { return }
        let buffered = inbound.readableBytes + outbound.readableBytes
            + (upstream.map { $0.inbound.readableBytes + $0.outbound.readableBytes } ?? 0)
        state.noteBuffered(buffered)
        if phase == .closing {
            if outbound.isEmpty { close() } else { setInterest(.write) }
            return
        }
        if phase == .tunnel, let upstream,
           (readClosed && inbound.isEmpty && upstream.outbound.isEmpty) || (upstream.readClosed && upstream.inbound.isEmpty && outbound.isEmpty) {
            close()
            return
        }
        if phase == .idle, readClosed, inbound.isEmpty, outbound.isEmpty {
            close()
            return
        }
        if phase == .idle, draining, inbound.isEmpty, outbound.isEmpty {
            close()
            return
        }
        var wanted: Interest = []
        let upstreamFull = upstream.map { $0.outbound.readableBytes >= highWater } ?? false
        if !readClosed, inbound.readableBytes < highWater, !upstreamFull,
           everWatched || phase != .exchange || !exchange.requestDone { wanted.insert(.read) }
        if !outbound.isEmpty { wanted.insert(.write) }
        setInterest(wanted)
        if let upstream {
            var up: Interest = []
            if upstream.connecting {
                up = upstream.handshakeWants ?? .write
            } else if !upstream.outbound.isEmpty {
                up.insert(.write)
            }
            if !upstream.connecting, !upstream.readClosed, outbound.readableBytes < highWater,
               upstream.inbound.readableBytes < highWater { up.insert(.read) }
            upstream.setInterest(up)
        }
    }

    @inline(__always)
    private func setInterest(_ wanted: Interest) {
        guard wanted != interest, phase != .closed else { return }
        interest = wanted
        everWatched = everWatched || !wanted.isEmpty
        if !loop.setInterest(self, wanted) { close() }       // epoll could not take it back
    }

    /// Parses the next request head, if one is buffered, and starts its exchange.
    private func readHead(now: Instant) -> Bool {
        guard !inbound.isEmpty || readClosed else { return false }
        var part: HTTPPart?
        do {
            part = try parser.next(from: &inbound)
            // A bodiless request's `.end` is still due when its exchange started without reading
            // it (the body path never ran): consume it here.
            if case .end? = part { part = try parser.next(from: &inbound) }
            if part == nil, readClosed { _ = try parser.finish() }
        } catch {
            // RFC 9112 §11.2: after a framing error the stream cannot be trusted: answer, close.
            answer(status: error.status, close: true, now: now)
            return false
        }
        guard case .head(let head)? = consume part else {      // moved out, not copied
            if inbound.isEmpty { inbound.discardReadBytes() }
            return false
        }
        startExchange(head, now: now)
        return true
    }

    // MARK: Answers GLB makes itself

    /// Answers `status` with a short plain-text body. Keeps the connection only when the request
    /// (if any) was read completely and the client wants keep-alive.
    func answer(status: Int, close: Bool, now: Instant) {
        // RFC 9112 §9.6: a client that sent `Connection: close` (or HTTP/1.0 without keep-alive)
        // gets its connection closed after this answer, as proxied responses already do.
        let closing = close || draining || readClosed || (exchange.head != nil && !exchange.requestKeepAlive)
        if let upstream {
            self.upstream = nil
            state.release(upstream, reusable: false, now: now)
        }
        HeadRewriter.writeError(status: status, close: closing, into: &outbound)
        if exchange.active {
            finishMetrics(status: status, now: now)
        } else {
            state.countResponse(status: status, service: -1, cluster: -1, duration: nil)
        }
        exchange = Exchange()
        if closing {
            enterClosing(now: now)
        } else {
            phase = .idle
            setDeadline(.idle, now + state.configuration.idleTimeout, now: now)
        }
    }

    /// After the last response: flush what is queued, then close. The idle timeout bounds the
    /// flush, so a client that stops reading cannot hold the connection (and its buffers) open.
    func enterClosing(now: Instant) {
        phase = .closing
        setDeadline(.idle, now + state.configuration.idleTimeout, now: now)
    }

    // MARK: Timers

    /// Moves the connection's deadline; schedules a timer (for `armAt`, if given and no later)
    /// only if none is due by then.
    func setDeadline(_ kind: DeadlineKind, _ at: Instant, now: Instant, armAt: Instant? = nil) {
        deadlineKind = kind
        deadline = at
        if let timerAt, timerAt <= at { return }
        if let timer { loop.cancel(timer) }
        let fireAt = min(armAt ?? at, at)
        timerAt = fireAt
        // Unowned, not weak (no side table: see `UpstreamConnection.owner`): `close()` cancels the
        // timer, and the loop state keeps the connection until then.
        timer = loop.schedule(at: fireAt) { [unowned self] in self.timerFired() }
    }

    private func cancelTimer() {
        if let timer { loop.cancel(timer) }
        timer = nil
        timerAt = nil
    }

    private func timerFired() {
        timer = nil
        timerAt = nil
        guard phase != .closed else { return }
        let now = loop.clock.now
        guard now >= deadline else {
            timerAt = deadline
            timer = loop.schedule(at: deadline) { [unowned self] in self.timerFired() }
            return
        }
        if handshaking {
            state.handshakeFailed(side: "client", reason: "timeout")
            close()
            return
        }
        if phase == .closing {                   // the client stopped reading its last response
            close()
            return
        }
        switch deadlineKind {
        case .idle:
            // A tunnel's deadline moves with every byte it carries (`tunnel(now:)`): past it,
            // neither side has sent anything for the idle timeout.
            if phase == .tunnel || (phase == .idle && inbound.isEmpty) { close() }
        case .header:
            if phase == .idle { answer(status: 408, close: true, now: now) }
        case .request:
            requestDeadlinePassed(now: now)
        }
        flushAndWatch()
    }

    // MARK: Closing

    /// Finish the current exchange, then close; close at once if idle.
    func drain() {
        draining = true
        if phase == .idle, inbound.isEmpty, outbound.isEmpty { close() }
    }

    func close() {
        guard phase != .closed else { return }
        phase = .closed
        cancelTimer()
        if let upstream {
            self.upstream = nil
            upstream.close()
        }
        tls?.shutdown()                          // close_notify if the socket takes it now
        loop.deregister(self, closing: true)
        closeDescriptor(descriptor)
        state.recycle(&inbound)
        state.recycle(&outbound)
        state.recycle(parser.takeHeadStorage())
        state.removed(self)
    }
}
