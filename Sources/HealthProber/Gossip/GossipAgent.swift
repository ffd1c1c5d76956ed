package import GLBCore
import Synchronization

/// The thread-safe owner of one gossip member, for the agent to wire.
///
///     any thread ──start/leave/stop/enqueueUser/updateMetadata──execute──▶ UDPGossipTransport (loop)
///     any thread ◀──members() (Mutex copy)────────────────────────────────┤
///     events (AsyncStream) ◀── membership changes and user payloads ───────┘
///
/// All protocol state lives on the loop; other threads read a copy of the member view and
/// consume `events` (unbounded: membership changes are few, and user payloads are bounded by
/// what peers send; the agent must keep reading).
package final class GossipAgent: Sendable {
    package let events: AsyncStream<GossipEvent>
    package let metrics: GossipMetrics
    package let loop: EventLoop
    private let continuation: AsyncStream<GossipEvent>.Continuation
    private let view = Mutex<[GossipMember]>([])
    private let transport = Mutex<LoopBound<UDPGossipTransport>?>(nil)
    private let identity: Identity
    /// Where dropped packets are reported, rate-limited (a peer under another key, for one).
    private let logger: Logger?

    private struct Identity: Sendable {
        let name: String
        let region: String
        let metadata: [UInt8]
        let config: GossipConfig
        let seed: UInt64
        let keyring: Keyring?
    }

    /// Errors from `start`.
    package enum StartError: Error, Sendable {
        case socket(SystemError)
        case alreadyStarted
        /// Without a keyring only loopback addresses may gossip.
        case plaintextOffLoopback
    }

    package init(name: String, region: String, metadata: [UInt8] = [], config: GossipConfig, keyring: Keyring?,
                 loop: EventLoop, registry: MetricsRegistry, seed: UInt64, logger: Logger? = nil) {
        self.logger = logger
        identity = Identity(name: name, region: region, metadata: metadata, config: config, seed: seed, keyring: keyring)
        self.loop = loop
        metrics = GossipMetrics(registry: registry)
        (events, continuation) = AsyncStream<GossipEvent>.makeStream(bufferingPolicy: .unbounded)
    }

    /// Binds `address` (port 0 picks one), joins through `seeds`, and returns the bound address.
    /// `advertise`, when set, is the IP other members are told to reach this one at (with the
    /// bound port): needed when `address` is a wildcard such as 0.0.0.0.
    package func start(bind address: SocketAddress, advertise: IPAddress? = nil, seeds: [SocketAddress]) async throws(StartError) -> SocketAddress {
        if identity.keyring == nil {
            guard address.ip.isLoopback, seeds.allSatisfy(\.ip.isLoopback) else { throw .plaintextOffLoopback }
        }
        let result: Result<SocketAddress, StartError> = await withCheckedContinuation { done in
            loop.execute { [self] in done.resume(returning: startOnLoop(address, advertise: advertise, seeds: seeds)) }
        }
        return try result.get()
    }

    /// Every member this node knows, itself first; a copy, from any thread.
    package func members() -> [GossipMember] { view.withLock { $0 } }

    /// Contacts `seeds` to join them (after `start`, once whatever peers will call back on, such
    /// as the config push-pull listener, is up).
    package func join(_ seeds: [SocketAddress]) {
        // Without a key, plaintext stays on loopback, as `start` enforces.
        let allowed = identity.keyring != nil ? seeds : seeds.filter(\.ip.isLoopback)
        withTransport { $0.join(allowed) }
    }


    /// Queues a payload for every member (see `GossipNode.enqueueUser`); on the loop, soon.
    package func enqueueUser(key: String, payload: [UInt8]) {
        withTransport { _ = $0.enqueueUser(key: key, payload: payload) }
    }

    package func updateMetadata(_ metadata: [UInt8]) {
        withTransport { $0.updateMetadata(metadata) }
    }

    /// Replaces the keyring (rotation: see `Keyring`).
    package func setKeyring(_ keyring: Keyring) {
        withTransport { $0.setKeyring(keyring) }
    }

    /// Tells every member goodbye, closes the socket and finishes `events`.
    package func leave() async { await finish { $0.leave() } }

    /// Closes without a goodbye and finishes `events`.
    package func stop() async { await finish { $0.close() } }

    // MARK: Internals

    private func startOnLoop(_ address: SocketAddress, advertise: IPAddress?, seeds: [SocketAddress]) -> Result<SocketAddress, StartError> {
        guard transport.withLock({ $0 }) == nil else { return .failure(.alreadyStarted) }
        let identity = identity
        let continuation = continuation, metrics = metrics
        do {
            let udp = try UDPGossipTransport(loop: loop, bind: address, keyring: identity.keyring, metrics: metrics, logger: logger, makeNode: { bound in
                GossipNode(name: identity.name, region: identity.region,
                           address: advertise.map { SocketAddress(ip: $0, port: bound.port) } ?? bound, metadata: identity.metadata,
                           config: identity.config, seed: identity.seed)
            }, publish: { [weak self] node, events in
                let members = [node.localMember] + node.members
                self?.view.withLock { $0 = members }
                metrics.setMembers(members)
                for event in events { continuation.yield(event) }
            })
            try udp.start(seeds: seeds)
            transport.withLock { $0 = LoopBound(udp, loop: loop) }
            return .success(udp.localAddress)
        } catch {
            return .failure(.socket(error))
        }
    }

    private func withTransport(_ body: @escaping @Sendable (UDPGossipTransport) -> Void) {
        transport.withLock { $0 }?.withValue(body)
    }

    private func finish(_ body: @escaping @Sendable (UDPGossipTransport) -> Void) async {
        let bound = transport.withLock { current in
            defer { current = nil }
            return current
        }
        if let bound {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                bound.withValue { udp in
                    body(udp)
                    done.resume()
                }
            }
        }
        continuation.finish()
    }
}
