import GLBCore

extension ProxyConnection {
    // MARK: Response, origin → client

    /// Moves response bytes to the client buffer while it has room; handles the origin's EOF once
    /// everything it sent has been parsed. True if anything moved.
    func forwardResponse(now: Instant) -> Bool {
        guard let upstream, !upstream.connecting else { return false }
        var moved = false
        while phase == .exchange, outbound.readableBytes < highWater {
            let part: HTTPPart?
            do {
                part = try upstream.nextResponsePart()
            } catch {
                responseBroken(now: now)
                return true
            }
            guard let part else {
                if upstream.readClosed { upstreamClosed(upstream, now: now); return true }
                break
            }
            moved = true
            switch consume part {                  // the head moves out: no copy of its storage
            case .head(let head):
                responseHead(head, now: now)
            case .body(let slice):
                exchange.bytesOut += slice.count
                if exchange.responseChunked { HTTPWriter.writeChunk(slice, into: &outbound) } else { outbound.writeBytes(slice) }
            case .end:
                responseEnded(upstream, now: now)
            }
        }
        return moved
    }

    private func responseHead(_ head: HTTPHead, now: Instant) {
        if head.isInformational {
            // 100 Continue was GLB's to send (the origin never saw Expect); 102/103 pass through.
            if head.status != 100 {
                HeadRewriter.writeResponse(head, framing: .init(chunked: false, close: false, keepAlive10: false), setCookie: nil, into: &outbound)
            }
            return
        }
        exchange.responseStarted = true
        exchange.status = head.status
        exchange.responseKeepAlive = head.keepAlive
        state.record(head.status >= 500 ? .serverError : .success, endpoint: exchange.endpoint, service: exchange.service, now: now)
        let toHTTP10 = exchange.requestHTTP10
        var chunked = false
        var close = !exchange.requestKeepAlive || draining || readClosed || !exchange.requestDone
        switch head.framing {
        case .chunked, .untilClose:
            // An HTTP/1.0 client cannot take chunked: the body then runs until GLB closes.
            if toHTTP10 { close = true } else { chunked = true }
        case .none, .contentLength:
            break
        }
        if head.status == 101 { close = false }
        exchange.responseChunked = chunked
        exchange.closeAfter = close
        let framing = HeadRewriter.ResponseFraming(chunked: chunked, close: close, keepAlive10: toHTTP10 && !close)
        HeadRewriter.writeResponse(head, framing: framing, setCookie: exchange.setCookie, into: &outbound)
    }

    private func responseEnded(_ upstream: UpstreamConnection, now: Instant) {
        if exchange.status == 101 {
            // RFC 9110 §7.8: after 101 both connections carry the new protocol: tunnel the bytes.
            phase = .tunnel
            finishMetrics(status: 101, now: now)
            startTunnelDeadline(now: now)
            return
        }
        if exchange.responseChunked { HTTPWriter.writeLastChunk(into: &outbound) }
        let reusable = exchange.requestDone && exchange.responseKeepAlive && upstream.inbound.isEmpty
            && !upstream.readClosed && upstream.isAtResponseBoundary
        finish(reusable: reusable, now: now)
    }

    /// The origin closed. Before any response byte that is a failed attempt (retry or 502); for a
    /// read-until-close body it is the end; in the middle of a framed body it is a truncation,
    /// which only cutting the client connection can signal.
    private func upstreamClosed(_ upstream: UpstreamConnection, now: Instant) {
        if !exchange.responseStarted {
            upstreamFailed(upstream.bytesSent > 0 ? .closedBeforeResponse : .connectFailed, now: now)
            return
        }
        do {
            if try upstream.parser.finish() != nil {
                if exchange.responseChunked { HTTPWriter.writeLastChunk(into: &outbound) }
                exchange.closeAfter = exchange.closeAfter || !exchange.responseChunked
                finish(reusable: false, now: now)
                return
            }
        } catch {}
        responseBroken(now: now)
    }

    /// The origin sent something unparseable or stopped mid-body.
    private func responseBroken(now: Instant) {
        if exchange.responseStarted {
            state.record(.serverError, endpoint: exchange.endpoint, service: exchange.service, now: now)
            finishMetrics(status: 502, now: now)
            exchange = Exchange()
            enterClosing(now: now)                 // flush what the client already has, then close
            if let upstream {
                self.upstream = nil
                upstream.close()
            }
        } else {
            state.metrics.connectErrors.increment()
            state.record(.serverError, endpoint: exchange.endpoint, service: exchange.service, now: now)
            answer(status: 502, close: !exchange.requestDone, now: now)
        }
    }

    /// The exchange is complete: count it, pool or close the upstream, and go back to idle (or
    /// close after the flush).
    private func finish(reusable: Bool, now: Instant) {
        finishMetrics(status: exchange.status, now: now)
        if let upstream {
            self.upstream = nil
            state.release(upstream, reusable: reusable, now: now)
        }
        let close = exchange.closeAfter || draining
        exchange = Exchange()
        if close {
            enterClosing(now: now)
        } else {
            phase = .idle
            setDeadline(.idle, now + state.configuration.idleTimeout, now: now)
        }
    }

    /// Counts a finished exchange and, sampled, writes its access log line.
    func finishMetrics(status: Int, now: Instant) {
        let total = now - exchange.started
        // Indices from an older snapshot (a config or health change while the request was in
        // flight) name nothing now: the service is found again by Host, the cluster is left out.
        var service = exchange.service, cluster = exchange.cluster
        if exchange.generation != state.snapshot.generation, service >= 0 {
            service = exchange.head.flatMap { state.service(host: $0.headers.first("host")) } ?? -1
            cluster = -1
        }
        state.countResponse(status: status, service: service, cluster: cluster, duration: total)
        let rate = state.configuration.accessLogSampleRate
        guard rate > 0, rate >= 1 || Double(state.rng.next() >> 11) * 0x1p-53 < rate else { return }
        let snapshot = state.snapshot
        let head = exchange.head
        proxy.logger.info("access", [
            "route": RequestCounters.serviceName(service, snapshot),
            "cluster": cluster >= 0 ? snapshot.clusters[cluster].name : "",
            "status": "\(status)",
            "method": head.map { "\($0.method)" } ?? "",
            "target": head?.targetString ?? "",
            "client": "\(clientIP)",
            "bytes_in": "\(exchange.bytesIn)",
            "bytes_out": "\(exchange.bytesOut)",
            "retries": "\(exchange.retries)",
            "upstream_ms": "\(Double((now - exchange.upstreamStarted) / .microseconds(1)) / 1000)",
            "total_ms": "\(Double(total / .microseconds(1)) / 1000)",
        ])
    }

    // MARK: Tunnel

    private func startTunnelDeadline(now: Instant) {
        // A tunnel lives as long as both sides want it; the idle timeout still ends a dead one.
        setDeadline(.idle, now + state.configuration.idleTimeout, now: now)
    }

    /// Copies bytes both ways, each bounded by the high-water mark. `flushAndWatch` closes the
    /// tunnel once either side has closed and what it sent has been delivered; the idle
    /// deadline, moved with every byte carried, closes one that both sides left silent.
    func tunnel(now: Instant) -> Bool {
        guard let upstream else { close(); return false }
        var moved = false
        if !inbound.isEmpty, upstream.outbound.readableBytes < highWater {
            upstream.outbound.writeBytes(inbound.readableView)
            inbound.clear()
            moved = true
        }
        if !upstream.inbound.isEmpty, outbound.readableBytes < highWater {
            outbound.writeBytes(upstream.inbound.readableView)
            upstream.inbound.clear()
            moved = true
        }
        if moved { setDeadline(.idle, now + state.configuration.idleTimeout, now: now) }
        return moved
    }
}
