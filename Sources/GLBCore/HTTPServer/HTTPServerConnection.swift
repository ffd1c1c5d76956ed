/// One accepted connection of an `HTTPServer`, confined to its loop.
///
/// Requests are handled one at a time in arrival order: while a request is with the handler the
/// connection stops reading (no EPOLLIN interest), so pipelined requests wait in the buffer and
/// a client cannot queue unbounded work. Responses always carry Content-Length.
final class HTTPServerConnection: Selectable {
    private enum Phase { case reading, handling, closed }

    let descriptor: CInt
    private let peer: SocketAddress?
    private unowned let state: ServerLoopState
    private var server: HTTPServer { state.server }
    private var loop: EventLoop { state.loop }
    private var inbound = ByteBuffer(capacity: 4096)
    private var outbound = ByteBuffer()
    private var parser: HTTPParser
    private var phase = Phase.reading
    private var head: HTTPHead?
    private var body: [UInt8] = []
    private var closeAfterFlush = false
    private var draining = false
    private var timer: TimerID?
    private var requestStarted: Instant

    init(fd: CInt, peer: SocketAddress?, state: ServerLoopState, now: Instant) {
        descriptor = fd
        self.peer = peer
        self.state = state
        var limits = state.server.configuration.limits
        limits.maxBodyBytes = state.server.configuration.maxBodyBytes
        parser = HTTPParser(kind: .request, limits: limits)
        requestStarted = now
        Socket.setNoDelay(fd)
        armTimer(idle: true)
    }

    func readable(now: Instant) {
        guard phase == .reading else { return }
        let wasIdle = inbound.isEmpty && head == nil
        while true {
            let count: Int?
            do {
                count = try Socket.read(descriptor, into: &inbound)
            } catch {
                close()
                return
            }
            guard let count else { break }
            if count == 0 {
                // EOF: between requests that is a normal close; mid-request the client gave up.
                close()
                return
            }
            if inbound.readableBytes >= 64 * 1024 { break }   // parse before reading more
        }
        if wasIdle, !inbound.isEmpty {
            requestStarted = now
            armTimer(idle: false)
        }
        processInput(now: now)
    }

    func writable(now: Instant) { flush() }

    private func processInput(now: Instant) {
        while phase == .reading {
            let part: HTTPPart?
            do {
                part = try parser.next(from: &inbound)
            } catch {
                fail(status: error.status, message: error.reason)
                return
            }
            guard let part else { break }
            switch part {
            case .head(let parsed):
                if case .contentLength(let length) = parsed.framing, length > server.configuration.maxBodyBytes {
                    fail(status: 413, message: "the request body is larger than \(server.configuration.maxBodyBytes) bytes")
                    return
                }
                if parsed.expectsContinue {
                    try? HTTPWriter.writeResponseHead(status: 100, headers: HTTPHeaders(), into: &outbound)
                }
                head = parsed
                body.removeAll(keepingCapacity: true)
            case .body(let slice):
                body.append(contentsOf: slice)
                if body.count > server.configuration.maxBodyBytes {
                    fail(status: 413, message: "the request body is larger than \(server.configuration.maxBodyBytes) bytes")
                    return
                }
            case .end:
                dispatch(now: now)
            }
        }
        if !outbound.isEmpty { flush() }
        inbound.discardReadBytes()
    }

    private func dispatch(now: Instant) {
        guard let head else { return }
        phase = .handling
        cancelTimer()
        loop.setInterest(self, .none)
        let request = HTTPRequest(
            method: head.method.description, target: head.targetString,
            headers: head.headers.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) },
            body: body, remote: peer)
        let keepAlive = head.keepAlive
        let isHead = head.method == .HEAD
        let handler = server.handler
        let bound = LoopBound(self, loop: loop)
        let started = requestStarted
        let clock = loop.clock
        Task {
            let response = await handler.handle(request)
            bound.withValue { connection in
                connection.server.metrics.duration.observe(clock.now - started)
                connection.respond(response, keepAlive: keepAlive, omitBody: isHead)
            }
        }
    }

    private func respond(_ response: HTTPResponse, keepAlive: Bool, omitBody: Bool) {
        guard phase == .handling else { return }
        let close = !keepAlive || draining
        write(response, close: close, omitBody: omitBody)
        head = nil
        body.removeAll(keepingCapacity: true)
        if close {
            closeAfterFlush = true
            flush()
            return
        }
        phase = .reading
        requestStarted = loop.clock.now
        armTimer(idle: inbound.isEmpty)
        loop.setInterest(self, .read)
        flush()
        processInput(now: loop.clock.now)        // a pipelined request may already be buffered
    }

    private func write(_ response: HTTPResponse, close: Bool, omitBody: Bool) {
        var headers = response.headers.filter { name, _ in
            let lower = name.lowercased()
            return lower != "content-length" && lower != "connection" && lower != "transfer-encoding"
        }
        headers.append(("Content-Length", String(response.body.count)))
        if close { headers.append(("Connection", "close")) }
        do {
            try HTTPWriter.writeResponseHead(status: response.status, headers: headers, into: &outbound)
        } catch {
            server.logger.error("handler produced an invalid response head", ["server": server.configuration.name, "error": "\(error)"])
            try? HTTPWriter.writeResponseHead(status: 500, headers: [("Content-Length", "0"), ("Connection", "close")], into: &outbound)
            closeAfterFlush = true
            server.countResponse(status: 500)
            return
        }
        if !omitBody { outbound.writeBytes(response.body) }
        server.countResponse(status: response.status)
    }

    /// Answers a request the parser or a limit refused, then closes: after a framing error the
    /// rest of the stream cannot be trusted (RFC 9112 §11.2).
    private func fail(status: Int, message: String) {
        phase = .handling
        cancelTimer()
        loop.setInterest(self, .none)
        let json = "{\"error\":\(JSONText.quote(message))}\n"
        write(HTTPResponse(status: status, contentType: "application/json", body: json), close: true, omitBody: false)
        closeAfterFlush = true
        flush()
    }

    private func flush() {
        guard phase != .closed else { return }
        do {
            if try Socket.flush(descriptor, &outbound) {
                if closeAfterFlush { close() } else if phase == .reading { loop.setInterest(self, .read) }
            } else {
                loop.setInterest(self, phase == .reading ? [.read, .write] : .write)
            }
        } catch {
            close()
        }
    }

    /// Finish the current request, if any, then close; close now if idle.
    func drain() {
        draining = true
        if phase == .reading, head == nil, inbound.isEmpty, outbound.isEmpty { close() }
    }

    func close() {
        guard phase != .closed else { return }
        phase = .closed
        cancelTimer()
        loop.deregister(self)
        closeDescriptor(descriptor)
        state.removed(self)
    }

    private func armTimer(idle: Bool) {
        cancelTimer()
        let config = server.configuration
        timer = loop.schedule(after: idle ? config.idleTimeout : config.headerTimeout) { [weak self] in
            guard let self, self.phase == .reading else { return }
            self.timer = nil
            if self.inbound.isEmpty && self.head == nil {
                self.close()                       // idle keep-alive: close quietly
            } else {
                self.fail(status: 408, message: "the request was not received in time")
            }
        }
    }

    private func cancelTimer() {
        if let timer { loop.cancel(timer) }
        timer = nil
    }
}
