package import GLBCore
#if canImport(Glibc)
import Glibc
#endif

/// One probe attempt against one target, as a `Selectable` on an event loop: it never blocks.
///
///     start ─▶ connecting ─(writable, SO_ERROR 0)─┬─ tcp ──────────────────────────▶ success
///                                                 ├─ https ─▶ handshaking ─┐
///                                                 └─ http ─────────────────┴▶ sending ─▶ receiving ─▶ verdict
///     any phase ── timer (spec.timeout) ──▶ failure(.timeout)
///
/// The timeout timer is armed at `start` and cuts the attempt wherever it is. Whatever ends the
/// attempt (verdict, error, timeout or `cancel`) goes through `finish`, which deregisters and
/// closes the descriptor exactly once, cancels the timer, and reports at most once. Loop-confined:
/// every method runs on the loop's thread.
package final class Probe: Selectable {
    private enum Phase { case idle, connecting, handshaking, sending, receiving, finished }

    package let target: ProbeTarget
    private let loop: EventLoop
    private let tls: TLSContext?
    private var completion: ((ProbeResult) -> Void)?
    private var phase = Phase.idle
    private var fd: CInt = -1
    private var registered = false
    private var timer: TimerID?
    private var startedAt = Instant.zero
    private var session: TLSSession?
    private var check: HTTPCheck
    private var outbound = ByteBuffer()
    private var inbound = ByteBuffer()

    package var descriptor: CInt { fd }

    /// True once the attempt has ended (reported or cancelled).
    package var isFinished: Bool { phase == .finished }

    /// - Parameters:
    ///   - tls: the shared client context; needed for https only.
    ///   - completion: called once, on the loop, with the result; never after `cancel()`.
    package init(target: ProbeTarget, loop: EventLoop, tls: TLSContext?, completion: @escaping (ProbeResult) -> Void) {
        self.target = target
        self.loop = loop
        self.tls = tls
        self.completion = completion
        check = HTTPCheck(spec: target.spec)
    }

    /// Starts the connect and arms the timeout. The result may be reported before this returns
    /// (for example a connect that fails at once).
    package func start() {
        precondition(phase == .idle, "a Probe is one attempt")
        startedAt = loop.clock.now
        phase = .connecting
        timer = loop.schedule(at: startedAt + target.spec.timeout) { [self] in   // a cycle until finish cancels it
            timer = nil
            finish(.failure(ProbeFailure(.timeout, "no verdict within \(target.spec.timeout) (\(phaseName))")))
        }
        if target.spec.kind != .tcp {
            switch HTTPCheck.request(for: target) {
            case .success(let request): outbound = request
            case .failure(let failure): return finish(.failure(failure))
            }
            if target.spec.kind == .https && tls == nil {
                return finish(.failure(ProbeFailure(.misconfigured, "https probe without a TLS context")))
            }
        }
        do throws(SystemError) {
            fd = try Socket.connectTCP(target.probeAddress)
        } catch {
            return finish(.failure(ProbeFailure.fromErrno(error.errno, during: "connect")))
        }
        do throws(SystemError) {
            try loop.register(self, interest: .write)
            registered = true
        } catch {
            finish(.failure(ProbeFailure.fromErrno(error.errno, during: "epoll registration")))
        }
    }

    /// Ends the attempt without reporting (the target was removed or the prober stopped).
    package func cancel() {
        completion = nil
        finish(nil)
    }

    package func readable(now: Instant) { advance(now: now) }
    package func writable(now: Instant) { advance(now: now) }

    /// Runs the current phase as far as the socket allows, then waits for the next event.
    private func advance(now: Instant) {
        while true {
            switch phase {
            case .idle, .finished:
                return
            case .connecting:
                let error = Socket.pendingError(fd)
                if error != 0 { return finish(.failure(ProbeFailure.fromErrno(error, during: "connect"))) }
                guard connected else { return }                // an early readable event: keep waiting
                switch target.spec.kind {
                case .tcp: return finish(.success(rtt: now - startedAt))
                case .http: phase = .sending
                case .https:
                    let probed = target.probeAddress
                    guard let tls, let session = TLSSession.client(context: tls, fd: fd, serverName: target.spec.host, address: probed.ip,
                                                            verify: target.spec.tlsVerify) else {
                        return finish(.failure(ProbeFailure(.tlsHandshake, "SSL_new: \(TLSErrors.drain() ?? "failed")")))
                    }
                    self.session = session
                    phase = .handshaking
                }
            case .handshaking:
                guard proceed(IOStep(session!.handshake(), during: "the TLS handshake")) else { return }
                phase = .sending
            case .sending:
                guard proceed(send()) else { return }
                phase = .receiving
                loop.setInterest(self, .read)
            case .receiving:
                switch receive() {
                case .done:
                    if let verdict = check.receive(&inbound) { return finish(verdict, rttEnd: now) }
                    inbound.discardReadBytes()
                case .endOfStream:
                    return finish(check.endOfStream(), rttEnd: now)
                case let step:
                    guard proceed(step) else { return }
                }
            }
        }
    }

    /// Whether a non-blocking connect has completed: the socket is writable (poll, no wait).
    private var connected: Bool {
        var pfd = pollfd(fd: fd, events: CShort(POLLOUT), revents: 0)
        return poll(&pfd, 1, 0) == 1 && pfd.revents & CShort(POLLOUT) != 0
    }

    /// True when the step is done; otherwise sets the interest it waits for, or finishes on failure.
    private func proceed(_ step: IOStep) -> Bool {
        switch step {
        case .done: return true
        case .wantRead: loop.setInterest(self, .read)
        case .wantWrite: loop.setInterest(self, .write)
        case .endOfStream: finish(.failure(ProbeFailure(.closedEarly, "connection closed while \(phaseName)")))
        case .failed(let failure): finish(.failure(failure))
        }
        return false
    }

    private func send() -> IOStep {
        if let session { return IOStep(session.send(&outbound), during: "sending the request") }
        do throws(SystemError) {
            return try Socket.flush(fd, &outbound) ? .done(0) : .wantWrite
        } catch {
            return .failed(ProbeFailure.fromErrno(error.errno, during: "sending the request"))
        }
    }

    private func receive() -> IOStep {
        if let session { return IOStep(session.receive(into: &inbound), during: "reading the response") }
        do throws(SystemError) {
            guard let count = try Socket.read(fd, into: &inbound) else { return .wantRead }
            return count == 0 ? .endOfStream : .done(count)
        } catch {
            return .failed(ProbeFailure.fromErrno(error.errno, during: "reading the response"))
        }
    }

    private func finish(_ verdict: Result<Void, ProbeFailure>, rttEnd now: Instant) {
        switch verdict {
        case .success: finish(.success(rtt: now - startedAt))
        case .failure(let failure): finish(.failure(failure))
        }
    }

    /// The single exit: releases everything once, then reports (unless cancelled).
    private func finish(_ result: ProbeResult?) {
        guard phase != .finished else { return }
        phase = .finished
        if let timer { loop.cancel(timer) }
        timer = nil
        session = nil                                  // SSL_free; the descriptor is ours to close
        if registered { loop.deregister(self) }
        registered = false
        if fd >= 0 { closeDescriptor(fd) }
        fd = -1
        let report = completion
        completion = nil
        if let result { report?(result) }
    }

    private var phaseName: String {
        switch phase {
        case .idle: "starting"
        case .connecting: "connecting"
        case .handshaking: "in the TLS handshake"
        case .sending: "sending the request"
        case .receiving: "waiting for the response"
        case .finished: "finished"
        }
    }
}
