import GLBCore
import Synchronization

/// The published side of a prober: the per-target table other threads read, the transition
/// stream, and the metrics. Written only from the prober's loop; read from anywhere.
///
/// Metrics (Prometheus names):
/// - `glb_probe_results_total{target,result}`: result is `ok` or a `ProbeFailure.Reason.label`.
/// - `glb_health_transitions_total{target,to}`: to is `up`, `down` (or `unknown`, never today).
/// - `glb_probe_duration_seconds`: every attempt, from connect to verdict or cut.
/// - `glb_health_time_in_state_seconds{target}` and `glb_health_up{target}` (1 routable, 0 down),
///   computed on collect from the table, so they cost nothing between scrapes.
final class HealthBoard: Sendable {
    private let table = Mutex<[String: TargetHealth]>([:])
    private let continuation: AsyncStream<HealthTransition>.Continuation
    private let registry: MetricsRegistry
    private let clock: any GLBClock
    private let duration: Histogram

    init(registry: MetricsRegistry, clock: any GLBClock, continuation: AsyncStream<HealthTransition>.Continuation) {
        self.registry = registry
        self.clock = clock
        self.continuation = continuation
        duration = registry.histogram("glb_probe_duration_seconds", help: "Probe attempts from connect to verdict or timeout.")
        registry.onCollect { [weak self] in self?.collect() }
    }

    func snapshot() -> [String: TargetHealth] { table.withLock { $0 } }

    func update(_ health: TargetHealth) {
        table.withLock { $0[health.target.id] = health }
    }

    func remove(_ id: String) {
        _ = table.withLock { $0.removeValue(forKey: id) }
    }

    func recordResult(target id: String, _ result: ProbeResult, took: Duration) {
        registry.counter("glb_probe_results_total", help: "Probe results by target and outcome (ok or the failure reason).",
                         labels: ["target": id, "result": result.label]).increment()
        duration.observe(took)
    }

    func recordTransition(_ transition: HealthTransition) {
        registry.counter("glb_health_transitions_total", help: "Health status changes by target and new status.",
                         labels: ["target": transition.targetID, "to": transition.to.rawValue]).increment()
        continuation.yield(transition)
    }

    /// Ends the transition stream: the agent's consumer loop then returns.
    func finish() { continuation.finish() }

    private func collect() {
        let now = clock.now
        for health in snapshot().values {
            let labels = ["target": health.target.id]
            registry.gauge("glb_health_time_in_state_seconds", help: "Seconds since the target's health status last changed.",
                           labels: labels).set(max(.zero, now - health.since).seconds)
            registry.gauge("glb_health_up", help: "1 if the target may be routed to (up or not yet known), 0 if down.",
                           labels: labels).set(health.status.isRoutable ? 1 : 0)
        }
    }
}
