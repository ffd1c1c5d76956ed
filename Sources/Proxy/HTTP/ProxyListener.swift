import GLBCore

/// What holds a loop's `ProxyLoopState` for the proxy, and what the loop's tick hook, sweep
/// timer and listeners refer to weakly, so that the state itself never gets a side table (see
/// `ProxyLoopState`). The proxy owns the anchors: when it goes, they go, and the hook and timer
/// find nothing to run.
final class ProxyLoopAnchor {
    var state: ProxyLoopState?
}

/// One loop's listening socket (SO_REUSEPORT: the kernel spreads connections across loops),
/// plain HTTP or HTTPS.
final class ProxyListener: Selectable {
    let descriptor: CInt
    let tls: Bool
    weak var anchor: ProxyLoopAnchor?

    init(address: SocketAddress, tls: Bool) throws(SystemError) {
        // Accepted sockets inherit TCP_NODELAY; accept waits for the request (see `Socket.listenTCP`).
        descriptor = try Socket.listenTCP(address, reusePort: true, noDelay: true, deferAccept: true)
        self.tls = tls
    }

    func readable(now: Instant) {
        guard let state = anchor?.state else { return }
        // One connection per wake-up, as nginx does by default (`multi_accept off`): accepting
        // until EAGAIN cost a failed accept4(2) on almost every wake-up under connection churn
        // (1.5 accept calls per connection in close64, about a tenth of the proxy's CPU per
        // request between the runs with and without). Level-triggered epoll reports the listener
        // again at once while connections wait, and that tick serves them beside the other
        // ready sockets, so a burst is neither lost nor able to starve open connections.
        let accepted: (fd: CInt, peer: SocketAddress?)?
        do {
            accepted = try state.proxy.configuration.accept(descriptor)
        } catch {
            // A failure that concerns one connection: the next wake-up tries the next one.
            guard error.isResourceShortage else { return }
            state.proxy.logger.warning("accept failed; pausing accepts for 100 ms", ["error": "\(error)"])
            state.loop.pauseAccepting(self)
            return
        }
        guard let accepted else { return }
        state.accepted(fd: accepted.fd, peer: accepted.peer, tls: tls, now: now)
    }

    func writable(now: Instant) {}
}
