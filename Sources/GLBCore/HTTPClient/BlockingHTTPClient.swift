import CGLBLinux
#if canImport(Glibc)
import Glibc
#endif

/// A one-request-per-connection HTTP/1.1 client that blocks its thread: for the CLI and tests,
/// never for an event loop. Every step is bounded by one deadline, so a node that accepts and
/// then says nothing cannot hang the CLI.
package struct BlockingHTTPClient: Sendable {
    package struct Failure: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// HTTPS: the context whose trust roots verify the server, and the name it must carry (also
    /// sent as SNI); nil for an IP-literal URL, whose certificate must then name the address.
    package struct TLS: Sendable {
        package var context: TLSContext
        package var serverName: String?
        package init(context: TLSContext, serverName: String?) {
            self.context = context
            self.serverName = serverName
        }
    }

    package var timeout: Duration
    package var maxResponseBytes: Int

    package init(timeout: Duration = .seconds(10), maxResponseBytes: Int = 64 << 20) {
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// Sends one request and reads the whole response, over TLS when `tls` is given.
    package func send(_ request: HTTPRequest, to address: SocketAddress, tls: TLS? = nil) throws(Failure) -> HTTPResponse {
        let clock = SystemClock()
        let deadline = clock.now + timeout
        let fd: CInt
        do {
            fd = try Socket.connectTCP(address)
        } catch {
            throw Failure(message: "cannot connect to \(address): \(error)")
        }
        defer { closeDescriptor(fd) }
        try wait(fd, for: CShort(POLLOUT), until: deadline, clock: clock, doing: "connecting to \(address)")
        let pending = Socket.pendingError(fd)
        guard pending == 0 else {
            throw Failure(message: "cannot connect to \(address): \(SystemError(call: "connect", errno: pending))")
        }
        var session: TLSSession?
        if let tls {
            guard let client = TLSSession.client(context: tls.context, fd: fd, serverName: tls.serverName, address: address.ip, verify: true) else {
                throw Failure(message: "cannot start TLS to \(address)")
            }
            session = client
            try drive(fd, until: deadline, clock: clock, doing: "in the TLS handshake with \(address)") { client.handshake() }
        }
        defer { session?.shutdown() }

        var out = ByteBuffer()
        var headers = request.headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }) { headers.insert(("Host", "\(address)"), at: 0) }
        if !request.body.isEmpty || ["PUT", "POST", "PATCH"].contains(request.method) {
            headers.append(("Content-Length", String(request.body.count)))
        }
        headers.append(("Connection", "close"))
        guard let method = HTTPMethod(request.method) else { throw Failure(message: "invalid method \(request.method)") }
        do {
            try HTTPWriter.writeRequestHead(method: method, target: request.target, headers: headers.map { ($0.name, $0.value) }, into: &out)
        } catch {
            throw Failure(message: "cannot write the request: \(error)")
        }
        out.writeBytes(request.body)
        if let session {
            try drive(fd, until: deadline, clock: clock, doing: "sending to \(address)") { session.send(&out) }
        }
        while !out.isEmpty {
            do {
                if try !Socket.flush(fd, &out) {
                    try wait(fd, for: CShort(POLLOUT), until: deadline, clock: clock, doing: "sending to \(address)")
                }
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure(message: "sending to \(address) failed: \(error)")
            }
        }

        var parser = HTTPParser(kind: .response)
        parser.expectResponse(to: method)
        var inbound = ByteBuffer(capacity: 16384)
        var response: HTTPResponse?
        var body: [UInt8] = []
        var eof = false
        while true {
            let part: HTTPPart?
            do {
                part = eof ? try parser.finish() : try parser.next(from: &inbound)
            } catch {
                throw Failure(message: "the response from \(address) is malformed: \(error)")
            }
            switch part {
            case .head(let head):
                if head.isInformational {
                    parser.expectResponse(to: method)
                    continue
                }
                response = HTTPResponse(status: head.status, headers: head.headers.map {
                    (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self))
                })
            case .body(let slice):
                body.append(contentsOf: slice)
                guard body.count <= maxResponseBytes else { throw Failure(message: "the response from \(address) is too large") }
            case .end:
                guard var response else { throw Failure(message: "the response from \(address) ended before its head") }
                response.body = body
                return response
            case nil:
                guard !eof else { throw Failure(message: "\(address) closed the connection before a response") }
                if let session {
                    var received = 0
                    try drive(fd, until: deadline, clock: clock, doing: "waiting for \(address)", endOfStream: { eof = true }) {
                        let step = session.receive(into: &inbound)
                        if case .done(let n) = step { received = n }
                        return step
                    }
                    if received == 0 { eof = true }
                    continue
                }
                try wait(fd, for: CShort(POLLIN), until: deadline, clock: clock, doing: "waiting for \(address)")
                do {
                    guard let n = try Socket.read(fd, into: &inbound) else { continue }
                    if n == 0 { eof = true }
                } catch {
                    throw Failure(message: "reading from \(address) failed: \(error)")
                }
            }
        }
    }

    /// Repeats a TLS step, waiting for the socket as it asks, until it is done.
    private func drive(_ fd: CInt, until deadline: Instant, clock: SystemClock, doing what: String,
                       endOfStream: () -> Void = {}, _ step: () -> TLSStep) throws(Failure) {
        while true {
            switch step() {
            case .done: return
            case .wantRead: try wait(fd, for: CShort(POLLIN), until: deadline, clock: clock, doing: what)
            case .wantWrite: try wait(fd, for: CShort(POLLOUT), until: deadline, clock: clock, doing: what)
            case .endOfStream: endOfStream(); return
            case .failed(let failure): throw Failure(message: "TLS failed \(what): \(failure)")
            }
        }
    }

    private func wait(_ fd: CInt, for events: CShort, until deadline: Instant, clock: SystemClock, doing what: String) throws(Failure) {
        while true {
            let remaining = deadline - clock.now
            guard remaining > .zero else { throw Failure(message: "timed out \(what) after \(timeout)") }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, CInt(clamping: max(1, remaining.milliseconds)))
            if rc > 0 { return }
            if rc < 0, cglb_errno() != EINTR { throw Failure(message: "poll failed \(what)") }
        }
    }
}
