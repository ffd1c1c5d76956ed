import GLBCore
import HealthProber
import Store
import Synchronization

/// Connects the prober to routing: turns config rows into probe targets, and probe transitions
/// into the health view the route compiler reads (DESIGN.md "Health").
///
///     ConfigSnapshot ──targets(for:)──▶ Prober (its loop) ──transitions──▶ apply() ──▶ view
///                                                                                     │
///                                                  RouteCompiler.compile(config, view)◀┘
///
/// A cluster is one target, `service/cluster`, probed at the check's address override or the
/// cluster's first address, and the check's port override or the cluster's port. Disabled
/// clusters are not probed: they are never answered anyway.
final class HealthMonitor: Sendable {
    let prober: Prober
    private let routable = Mutex<[String: Bool]>([:])

    init(prober: Prober) {
        self.prober = prober
    }

    /// What the route compiler needs: target id → may be answered. Missing means not judged yet.
    var view: [String: Bool] { routable.withLock { $0 } }

    /// Makes the prober probe exactly what `config` describes.
    func update(_ config: ConfigSnapshot) {
        let targets = Self.targets(for: config)
        let ids = Set(targets.map(\.id))
        routable.withLock { view in view = view.filter { ids.contains($0.key) } }
        prober.setTargets(targets)
    }

    /// Records a transition; returns true when it changed whether the target may be answered.
    func apply(_ transition: HealthTransition) -> Bool {
        let now = transition.to.isRoutable
        return routable.withLock { view in
            let before = view[transition.targetID] ?? true
            view[transition.targetID] = now
            return before != now
        }
    }

    static func targets(for config: ConfigSnapshot) -> [ProbeTarget] {
        let services = Dictionary(config.services.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var targets: [ProbeTarget] = []
        for cluster in config.clusters where cluster.state != .disabled {
            guard let service = services[cluster.service] else { continue }
            let check = service.check
            let override = check.address.flatMap(IPAddress.init)
            guard let address = override ?? cluster.addresses.first.flatMap(IPAddress.init) else { continue }
            let spec = ProbeSpec(
                kind: ProbeSpec.Kind(rawValue: check.type.rawValue) ?? .http, path: check.path, host: check.host,
                port: check.port.map { UInt16(clamping: $0) }, address: override,
                expectedStatus: check.expectedStatuses ?? 200...399, bodyContains: check.bodyContains,
                interval: .milliseconds(check.intervalMS), timeout: .milliseconds(check.timeoutMS),
                rise: check.rise, fall: check.fall, tlsVerify: check.tlsVerify)
            targets.append(ProbeTarget(id: cluster.key, address: address, port: UInt16(clamping: cluster.port), spec: spec))
        }
        return targets
    }
}
