import GLBCore
import HealthProber
import Proxy
import Store
import Synchronization

/// The agent's long-running control-plane tasks: config changes to routing and peers, probe
/// transitions to routing and peers, and what peers say to routing and the store
/// (docs/architecture.md "Data flow").
///
///     store.changes ──▶ routing.catchUp ──▶ replicator.localChanged ──▶ metadata config=<version>
///     prober.transitions ──▶ monitor.apply ──▶ routing.healthChanged ──▶ "obs/" report ──▶ peers
///     gossip events ──▶ "obs/" reports ─▶ monitor.receive ─┐
///                   ──▶ membership ─────▶ monitor.setLive ──┼──▶ routing (health, ingress nodes)
///                   ──▶ everything else ─▶ replicator ──────┘
extension Agent {
    /// This node's gossip member and the metadata it advertises (which changes with the config
    /// version it serves).
    final class PeerLink: Sendable {
        let agent: GossipAgent
        private let metadata: Mutex<NodeMetadata>

        init(agent: GossipAgent, metadata: NodeMetadata) {
            self.agent = agent
            self.metadata = Mutex(metadata)
        }

        /// Advertises `version` as the config this node serves (`glb status` compares nodes).
        func serving(_ version: String) {
            let bytes: [UInt8]? = metadata.withLock { m in
                guard m.config != version else { return nil }
                m.config = version
                return m.bytes
            }
            if let bytes { agent.updateMetadata(bytes) }
        }

        /// Gossips this node's health view, one payload per part (`obs/<node>/<part>`).
        func broadcast(_ report: ObservationReport, node: String) {
            let budget = GossipConfig.regions.packetBudget - 300
            for (part, bytes) in report.encoded(budget: budget).enumerated() {
                agent.enqueueUser(key: ObservationReport.keyPrefix + node + "/" + String(part), payload: bytes)
            }
        }
    }

    /// Rebuilds and publishes the routing snapshot after every committed config write, so `dig`
    /// sees a REST change at once (the loops pick the new snapshot up before their next packet).
    /// Then hands the write to replication, which gossips the rows this node wrote.
    func followChanges(_ store: Store, _ routing: Routing, _ replicator: Replicator?, _ peers: PeerLink?) async {
        for await _ in store.changes {
            await routing.catchUp(with: store)
            await replicator?.localChanged()
            if let peers, let version = await routing.currentConfig?.version { peers.serving(version.readable) }
        }
    }

    /// Turns every health transition into a new snapshot first (failover time is what matters),
    /// then tells the peers, then writes a row in the store's event history.
    func followHealth(_ prober: Prober, _ routing: Routing, _ store: Store, _ peers: PeerLink?) async {
        guard let monitor = routing.monitor else { return }
        for await transition in prober.transitions {
            if monitor.apply(transition, now: clock.now) { await routing.healthChanged() }
            peers?.broadcast(monitor.ownReport(wallMilliseconds: clock.wallMilliseconds, now: clock.now), node: config.node)
            let rtt = transition.rtt.map { $0.microseconds }      // the prober has logged it already
            let event = HealthEvent(atMS: transition.wallMilliseconds, node: config.node, target: transition.targetID,
                                    from: transition.from.rawValue, to: transition.to.rawValue, reason: transition.reason, rttMicroseconds: rtt)
            do { try await store.recordHealthEvent(event) } catch {
                logger.warning("cannot record a health event", ["error": "\(error)"])
            }
        }
    }

    /// Every `observationInterval`: gossips this node's whole health view (so peers' copies stay
    /// fresh) and re-judges with time moved on (so a silent observer's reports age out).
    func sendObservations(_ peers: PeerLink, _ routing: Routing) async {
        guard let monitor = routing.monitor else { return }
        await repeatEvery(config.observationInterval, on: clock, startingNow: true) {
            peers.broadcast(monitor.ownReport(wallMilliseconds: clock.wallMilliseconds, now: clock.now), node: config.node)
            if monitor.refresh(now: clock.now) { await routing.healthChanged() }
        }
    }

    /// What peers say: health reports to the monitor, membership to the quorum's live set and the
    /// proxy-mode node list, and the rest (config rows, digests, joins) to replication.
    func followGossip(_ peers: PeerLink, _ routing: Routing, _ replicator: Replicator) async {
        let monitor = routing.monitor
        for await event in peers.agent.events {
            switch event {
            case .user(let payload) where payload.key.hasPrefix(ObservationReport.keyPrefix):
                do {
                    let report = try ObservationReport(decoding: payload.payload)
                    if monitor?.receive(report, from: payload.origin, now: clock.now) == true { await routing.healthChanged() }
                } catch {
                    logger.warning("dropping a health report that does not decode", ["from": payload.origin, "error": "\(error)"])
                }
            case .member(let change):
                // One line per change that an operator acts on; metadata updates (every config
                // write bumps one) would drown them, so they stay quiet.
                if change.kind != .updated {
                    let fields = ["member": change.member.name, "region": change.member.region, "address": "\(change.member.address)",
                                  "incarnation": "\(change.member.incarnation)"]
                    switch change.kind {
                    case .failed, .suspected: logger.warning("gossip member \(change.kind.rawValue)", fields)
                    default: logger.info("gossip member \(change.kind.rawValue)", fields)
                    }
                }
                let members = peers.agent.members()
                let live = Set(members.filter { !$0.status.isGone }.map(\.name))
                if monitor?.setLive(live, now: clock.now) == true { await routing.healthChanged() }
                await routing.ingressChanged(members.compactMap(Self.ingressNode))
                await routing.peersChanged(members.filter { $0.status == .alive && $0.name != config.node }.map { member in
                    let location = NodeMetadata(decoding: member.metadata).location
                    return LatencyInput.Node(name: member.name, region: member.region, latitude: location?.latitude, longitude: location?.longitude)
                })
                await replicator.handle(event)
            case .user:
                await replicator.handle(event)
            }
        }
    }

    /// A member proxy-mode services may answer with: alive (a suspect may be a false alarm, but
    /// clients of a dead ingress time out, so only alive counts) and advertising an address.
    static func ingressNode(_ member: GossipMember) -> RouteCompiler.IngressNode? {
        guard member.status == .alive, let text = NodeMetadata(decoding: member.metadata).ingress,
              let address = IPAddress(text) else { return nil }
        return .init(name: member.name, region: member.region, address: address)
    }
}
