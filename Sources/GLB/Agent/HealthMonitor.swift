import GLBCore
import HealthProber
import Store
import Synchronization

/// Connects the prober and the other nodes' observations to routing (docs/architecture.md
/// "Health"): turns config rows into probe targets, and probe transitions plus gossiped
/// reports into the health view the route compiler reads.
///
///     ConfigSnapshot ──targets(for:)──▶ Prober (its loop) ──transitions──▶ apply() ─┐
///     gossip "obs/<node>/<part>" ──────────────────────────────────────▶ receive() ─┼─▶ view
///     gossip membership (who is alive) ─────────────────────────────▶ setLive() ────┘
///
/// The view has two answers per cluster: `answerable`, the quorum verdict DNS answers by (a
/// cluster is down only when a majority of fresh observers from live nodes sees it down), and
/// `local`, this node's own probes, which its HTTP proxy uses to avoid a cluster it cannot reach
/// even while the world still answers it. With `--health-quorum local`, or without gossip, the
/// two are the same.
///
/// A cluster is one target, `service/cluster`, probed at the check's address override or the
/// cluster's first address, and the check's port override or the cluster's port. Disabled
/// clusters are not probed: they are never answered anyway.
final class HealthMonitor: Sendable {
    /// How the answerable verdict is reached.
    enum Quorum: String, Sendable, CaseIterable {
        /// A strict majority of fresh observers from live nodes must see a cluster down.
        case majority
        /// This node's own probes decide alone (the single-node behaviour).
        case local
    }

    /// One cluster's health for routing.
    struct ClusterHealth: Hashable, Sendable {
        /// May DNS (and the GLB as a whole) answer it.
        var answerable: Bool
        /// Do this node's own probes let it send traffic there.
        var local: Bool
    }

    let prober: Prober
    let node: String
    let quorum: Quorum
    private let state: Mutex<State>

    private struct State: Sendable {
        var consensus: HealthConsensus
        var live: Set<String>
        var targets: Set<String> = []
        var view: [String: ClusterHealth] = [:]
        var lastSequence: UInt64 = 0
    }

    init(prober: Prober, node: String, quorum: Quorum = .majority, freshness: Duration = .seconds(10)) {
        self.prober = prober
        self.node = node
        self.quorum = quorum
        state = Mutex(State(consensus: HealthConsensus(localObserver: node, freshness: freshness), live: [node]))
    }

    /// What the route compiler needs: target id → health. Missing means not judged yet.
    var view: [String: ClusterHealth] { state.withLock { $0.view } }

    /// The votes behind each target's verdict, for `glb status`.
    func verdicts(now: Instant) -> [String: HealthConsensus.Verdict] {
        state.withLock { s in
            Dictionary(uniqueKeysWithValues: s.targets.map { ($0, s.consensus.verdict(target: $0, live: s.live, now: now)) })
        }
    }

    /// Fresh RTTs per target and observer (this node's probes and live peers' gossiped reports),
    /// for `latency` routing: target id → observer → RTT.
    func rtts(now: Instant) -> [String: [String: Duration]] {
        state.withLock { s in
            Dictionary(uniqueKeysWithValues: s.targets.map { ($0, s.consensus.rtts(target: $0, live: s.live, now: now)) })
        }
    }

    /// Makes the prober probe exactly what `config` describes.
    func update(_ config: ConfigSnapshot, now: Instant) {
        let targets = Self.targets(for: config, node: node)
        let ids = Set(targets.map(\.id))
        state.withLock { s in
            s.targets = ids
            s.consensus.retain(targets: ids)
            _ = recompute(&s, now: now)
        }
        prober.setTargets(targets)
    }

    /// Records this node's own transition; returns true when the view changed.
    func apply(_ transition: HealthTransition, now: Instant) -> Bool {
        state.withLock { s in
            if transition.to == .unknown {
                s.consensus.forget(observer: node, target: transition.targetID)
            } else {
                s.lastSequence = Self.nextSequence(after: s.lastSequence, wall: transition.wallMilliseconds)
                s.consensus.record(observer: node, target: transition.targetID,
                                   .init(up: transition.to == .up, rtt: transition.rtt, sequence: s.lastSequence, receivedAt: now))
            }
            return recompute(&s, now: now)
        }
    }

    /// Another node's report. Returns true when the view changed.
    func receive(_ report: ObservationReport, from observer: String, now: Instant) -> Bool {
        guard observer != node else { return false }     // our own report, echoed back by gossip
        return state.withLock { s in
            for entry in report.entries where s.targets.contains(entry.target) {
                s.consensus.record(observer: observer, target: entry.target,
                                   .init(up: entry.up, rtt: entry.rtt, sequence: report.sequence, receivedAt: now))
            }
            return recompute(&s, now: now)
        }
    }

    /// The live members changed (this node is always live). Returns true when the view changed.
    func setLive(_ members: Set<String>, now: Instant) -> Bool {
        state.withLock { s in
            s.live = members.union([node])
            return recompute(&s, now: now)
        }
    }

    /// Re-judges with the time moved on (reports age out). Returns true when the view changed.
    func refresh(now: Instant) -> Bool {
        state.withLock { recompute(&$0, now: now) }
    }

    /// This node's current view for gossip, refreshing its own reports' age as it goes: the
    /// report is what peers will count, so this node counts it as just sent, too.
    func ownReport(wallMilliseconds: Int64, now: Instant) -> ObservationReport {
        let health = prober.snapshot()
        return state.withLock { s in
            s.lastSequence = Self.nextSequence(after: s.lastSequence, wall: wallMilliseconds)
            var entries: [ObservationReport.Entry] = []
            for id in s.targets.sorted() {
                guard let target = health[id], target.status != .unknown else { continue }
                let entry = ObservationReport.Entry(target: id, up: target.status == .up, rtt: target.rtt)
                entries.append(entry)
                s.consensus.record(observer: node, target: id,
                                   .init(up: entry.up, rtt: entry.rtt, sequence: s.lastSequence, receivedAt: now))
            }
            return ObservationReport(sequence: s.lastSequence, entries: entries)
        }
    }

    private static func nextSequence(after last: UInt64, wall: Int64) -> UInt64 {
        max(last + 1, UInt64(max(0, wall)))
    }

    private func recompute(_ s: inout State, now: Instant) -> Bool {
        var view: [String: ClusterHealth] = [:]
        for target in s.targets {
            let own = s.consensus.report(observer: node, target: target)
            let local = own?.up ?? true
            let answerable = switch quorum {
            case .local: local
            case .majority: s.consensus.verdict(target: target, live: s.live, now: now).up
            }
            if own != nil || !answerable { view[target] = ClusterHealth(answerable: answerable, local: local) }
        }
        defer { s.view = view }
        return view != s.view
    }

    static func targets(for config: ConfigSnapshot, node: String) -> [ProbeTarget] {
        let services = Dictionary(config.services.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var targets: [ProbeTarget] = []
        for cluster in config.clusters where cluster.state != .disabled {
            guard let service = services[cluster.service] else { continue }
            let check = service.check
            let override = check.address.flatMap(IPAddress.init)
            guard let address = override ?? cluster.addresses.first.flatMap(IPAddress.init) else { continue }
            var spec = ProbeSpec(
                kind: ProbeSpec.Kind(rawValue: check.type.rawValue) ?? .http, path: check.path, host: check.host,
                port: check.port.map { UInt16(clamping: $0) }, address: override,
                expectedStatus: check.expectedStatuses ?? 200...399, bodyContains: check.bodyContains,
                interval: .milliseconds(check.intervalMS), timeout: .milliseconds(check.timeoutMS),
                rise: check.rise, fall: check.fall, tlsVerify: check.tlsVerify)
            spec.userAgent = "glb-health/1 (node=\(node))"
            targets.append(ProbeTarget(id: cluster.key, address: address, port: UInt16(clamping: cluster.port), spec: spec))
        }
        return targets
    }
}
