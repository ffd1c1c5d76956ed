import GLBCore

/// Everything one request/response exchange carries; reset between requests.
struct Exchange {
    var active = false
    var head: HTTPHead?
    /// What the response side needs of the request head, kept apart so that reading them does
    /// not copy the head (each copy retains and releases its two arrays).
    var requestHTTP10 = false
    var requestKeepAlive = true
    var requestChunked = false
    var started = Instant.zero
    /// The routing snapshot `service`, `cluster` and `endpoint` index into. A retry or the
    /// metrics after a new snapshot must not use them on it: indices move when config changes.
    var generation: UInt64 = 0
    var service = -1
    var cluster = -1
    var endpoint = -1
    var canary = CanaryChoice.byClient
    /// The canary side to pin with a cookie on the response, if one is due.
    var setCookie: Bool?
    var requestID: (UInt64, UInt64) = (0, 0)
    /// The client's request has been read to its end.
    var requestDone = false
    /// Body bytes kept for a retry (≤ `replayLimit`); `replayable` false once more went by.
    var replay = ByteBuffer()
    var replayable = true
    var retries = 0
    /// One retry more than configured, granted once for a pooled connection found dead.
    var bonusRetries = 0
    /// A final response head arrived: from here on nothing is retried.
    var responseStarted = false
    var status = 0
    var responseChunked = false
    /// The origin will keep its connection open after this response: HTTP/1.1 without
    /// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive` (RFC 9112 §9.3). A response
    /// that says otherwise is followed by the origin's close, so its connection is never pooled.
    var responseKeepAlive = false
    var closeAfter = false
    var bytesIn = 0
    var bytesOut = 0
    var upstreamStarted = Instant.zero

    /// Request bodies up to this size are kept so the request can be retried.
    static let replayLimit = 64 * 1024
}

extension ProxyConnection {
    // MARK: Starting

    func startExchange(_ head: HTTPHead, now: Instant) {
        phase = .exchange
        // In place: a local Exchange assigned at the end was copied in whole (its head's storage
        // retained and the local's released) on every request.
        exchange = Exchange()
        exchange.active = true
        exchange.started = now
        exchange.requestDone = head.framing == .none
        exchange.requestHTTP10 = head.version == .http1_0
        exchange.requestKeepAlive = head.keepAlive
        exchange.requestChunked = head.framing == .chunked
        exchange.head = head
        setDeadline(.request, now + state.configuration.requestTimeout, now: now)
        guard head.method != .CONNECT else {
            // A reverse proxy has no business opening tunnels to arbitrary hosts (RFC 9110 §9.3.6).
            answer(status: 405, close: true, now: now)
            return
        }
        guard let service = state.service(host: head.headers.first("host")) else {
            answer(status: 404, close: !exchange.requestDone, now: now)
            return
        }
        exchange.service = service
        exchange.generation = state.snapshot.generation
        let svc = state.snapshot.services[service]
        if let requested = CanaryCookie.requested(in: head.headers) {
            exchange.canary = requested.choice
        } else if svc.canaryCluster >= 0 {
            // A new client: draw its side at the service's percentage, then pin it with a cookie.
            let toCanary = Canary.isCanary(hash: state.rng.next(), threshold: svc.canaryThreshold)
            exchange.canary = toCanary ? .canary : .baseline
            exchange.setCookie = toCanary
        }
        exchange.requestID = (state.rng.next(), state.rng.next())
        guard attachUpstream(avoidCluster: -1, now: now) else { return }
        if head.expectsContinue {
            // RFC 9110 §10.1.1: GLB has an upstream, so it asks for the body itself; Expect is not forwarded.
            HeadRewriter.writeContinue(into: &outbound)
        }
    }

    /// Chooses an endpoint, takes or opens a connection to it and queues the request head (and
    /// any body kept for replay). False if it answered instead (503, or 502 after retries).
    @discardableResult
    func attachUpstream(avoidCluster: Int32, now: Instant) -> Bool {
        guard let head = exchange.head else { preconditionFailure("an exchange without a request head") }
        var avoidCluster = avoidCluster
        while true {
            if exchange.generation != state.snapshot.generation {
                // The config changed since this request was routed (a retry after a write or a
                // health change): route its Host again on the snapshot the loop serves now.
                guard let service = state.service(host: head.headers.first("host")) else {
                    answer(status: 404, close: !exchange.requestDone, now: now)
                    return false
                }
                exchange.service = service
                exchange.generation = state.snapshot.generation
                avoidCluster = -1
            }
            // The client for geo routing: the peer, or a trusted proxy's X-Forwarded-For hop.
            let trusted = state.configuration.trustedProxies
            let client = trusted.isEmpty ? clientIP : ForwardedFor.client(peer: clientIP, headers: head.headers, trusted: trusted)
            let key = ClientKey(client: client, subnet: nil)
            guard let choice = state.choose(service: exchange.service, canary: exchange.canary, client: key,
                                            avoidCluster: avoidCluster, now: now) else {
                answer(status: 503, close: !exchange.requestDone, now: now)
                return false
            }
            exchange.endpoint = choice.endpoint
            exchange.cluster = Int(state.snapshot.endpoints[choice.endpoint].cluster)
            switch state.upstream(endpoint: choice.endpoint) {
            case .success(let connection):
                connection.owner = self
                upstream = connection
                exchange.upstreamStarted = now
                if connection.connecting {
                    // Unowned: the upstream's `close()` cancels this timer, and the client connection
                    // closes its upstream when it closes.
                    connection.connectTimer = loop.schedule(after: state.configuration.upstreamConnectTimeout) { [unowned self, unowned connection] in
                        guard connection === self.upstream, connection.connecting else { return }
                        self.upstreamFailed(.connectTimeout, now: self.loop.clock.now)
                        self.pump(now: self.loop.clock.now)
                    }
                }
                connection.parser.expectResponse(to: head.method)
                let context = HeadRewriter.RequestContext(clientAddress: clientText, requestID: exchange.requestID, https: tls != nil)
                HeadRewriter.writeRequest(head, context: context, into: &connection.outbound)
                if !exchange.replay.isEmpty { connection.outbound.writeBytes(exchange.replay.readableView) }
                return true
            case .failure:
                // connect(2) failed at once (no route, out of descriptors): a connect failure.
                state.metrics.connectErrors.increment()
                state.record(.connectFailure, endpoint: choice.endpoint, service: exchange.service, now: now)
                let decision = RetryPolicy.decide(.connectFailed, attempt(now: now))
                guard decision == .retry else {
                    answer(status: 502, close: !exchange.requestDone, now: now)
                    return false
                }
                exchange.retries += 1
                state.metrics.retries.increment()
            }
        }
    }

    private func attempt(now: Instant) -> RetryPolicy.Attempt {
        RetryPolicy.Attempt(retriesMade: exchange.retries, maxRetries: state.configuration.retryAttempts + exchange.bonusRetries,
                            sentUpstream: (upstream?.bytesSent ?? 0) > 0, idempotent: exchange.head?.method.isIdempotent ?? false,
                            replayable: exchange.replayable, deadlinePassed: now >= exchange.started + state.configuration.requestTimeout)
    }

    // MARK: Failures

    /// The attempt failed before any response byte: retry elsewhere or answer 502/504.
    func upstreamFailed(_ failure: RetryPolicy.Failure, now: Instant) {
        guard phase == .exchange, let failed = upstream else { return }
        let stalePooled = failed.uses > 0 && failure != .connectTimeout && exchange.bonusRetries == 0
        if stalePooled {
            // A pooled connection the origin closed as we picked it: not proof the endpoint is
            // down, and one extra try is what every keep-alive client allows itself.
            exchange.bonusRetries = 1
        } else {
            state.metrics.connectErrors.increment()
            state.record(.connectFailure, endpoint: exchange.endpoint, service: exchange.service, now: now)
        }
        let attempt = attempt(now: now)
        upstream = nil
        state.release(failed, reusable: false, now: now)
        switch RetryPolicy.decide(failure, attempt) {
        case .retry:
            exchange.retries += 1
            state.metrics.retries.increment()
            attachUpstream(avoidCluster: Int32(exchange.cluster), now: now)
        case .fail(let status):
            answer(status: status, close: !exchange.requestDone, now: now)
        }
    }

    func requestDeadlinePassed(now: Instant) {
        guard phase == .exchange else { return }
        if exchange.responseStarted {
            close()                               // half a response is out: only a cut is honest
        } else {
            answer(status: 504, close: true, now: now)
        }
    }

    // MARK: Request body, client → origin

    /// Moves request body bytes to the upstream buffer while it has room. True if anything moved.
    func forwardRequestBody(now: Instant) -> Bool {
        guard !exchange.requestDone, let upstream else { return false }
        var moved = false
        while upstream.outbound.readableBytes < highWater {
            let part: HTTPPart?
            do {
                part = try parser.next(from: &inbound)
                if part == nil, readClosed { _ = try parser.finish() }
            } catch {
                if exchange.responseStarted { close() } else { answer(status: error.status, close: true, now: now) }
                return false
            }
            guard let part else { break }
            moved = true
            let chunked = exchange.requestChunked
            switch part {
            case .body(let slice):
                exchange.bytesIn += slice.count
                if chunked { HTTPWriter.writeChunk(slice, into: &upstream.outbound) } else { upstream.outbound.writeBytes(slice) }
                keepForReplay(slice, chunked: chunked)
            case .end:
                if chunked {
                    HTTPWriter.writeLastChunk(into: &upstream.outbound)
                    if exchange.replayable { HTTPWriter.writeLastChunk(into: &exchange.replay) }
                }
                exchange.requestDone = true
                return true
            case .head:
                break                              // not reached: `.end` comes first
            }
        }
        return moved
    }

    private func keepForReplay(_ slice: ArraySlice<UInt8>, chunked: Bool) {
        guard exchange.replayable else { return }
        guard exchange.replay.readableBytes + slice.count + 32 <= Exchange.replayLimit else {
            exchange.replayable = false
            exchange.replay = ByteBuffer()
            return
        }
        if chunked { HTTPWriter.writeChunk(slice, into: &exchange.replay) } else { exchange.replay.writeBytes(slice) }
    }
}
