import GLBCore

/// The proxy's SLIs (docs/architecture.md "Interfaces"): requests by service, cluster and status class,
/// latency, upstream errors, retries, ejections, pool use, open connections.
///
/// What every request touches (request counters, latency, pool use) is kept in one `Shard` per
/// loop, written with plain stores and summed by the registry when it renders: shared atomics
/// made the two loops bounce the same cache lines several times per request. Handles that need
/// labels known only at run time (service and cluster) are made once per (loop, snapshot,
/// cluster) by `RequestCounters` and cached there. The rest (errors, retries, ejections, TLS)
/// is rare and shared.
///
/// A class, not a struct: copying a struct of a dozen handles out of the proxy retained and
/// released each of them on every request.
final class ProxyMetrics: Sendable {
    let registry: MetricsRegistry
    let connectErrors: Counter
    let retries: Counter
    let ejections: Counter
    let poolIdle: Gauge
    let clientConnections: Gauge
    let rejectedConnections: Counter
    let tlsHandshakes: Counter
    let tlsResumed: Counter

    static let requestsName = "glb_http_requests_total"
    static let requestsHelp = "Requests answered by the HTTP proxy, by service, cluster and status class."

    init(registry: MetricsRegistry) {
        self.registry = registry
        connectErrors = registry.counter("glb_http_upstream_connect_errors_total", help: "Upstream connects that failed or timed out, and upstream connections lost before any response byte.")
        retries = registry.counter("glb_http_retries_total", help: "Requests retried on another upstream after a failed attempt.")
        ejections = registry.counter("glb_http_ejections_total", help: "Upstream endpoints ejected by passive health (outlier detection).")
        poolIdle = registry.gauge("glb_http_pool_idle_connections", help: "Idle keep-alive upstream connections in the pools.")
        clientConnections = registry.gauge("glb_http_client_connections", help: "Open client connections to the HTTP proxy.")
        rejectedConnections = registry.counter("glb_http_rejected_connections_total", help: "Client connections closed at accept because of the connection cap.")
        tlsHandshakes = registry.counter("glb_tls_handshakes_total", help: Self.handshakesHelp, labels: ["resumed": "false"])
        tlsResumed = registry.counter("glb_tls_handshakes_total", help: Self.handshakesHelp, labels: ["resumed": "true"])
    }

    static let handshakesHelp = "Completed TLS handshakes with clients; resumed ones used a session ticket."

    /// The failure counter for a TLS handshake `reason` (`TLSSession.reason(for:)`, or
    /// `timeout`) on one `side`: `client` (termination) or `upstream` (https clusters).
    func handshakeFailures(side: String, reason: String) -> Counter {
        registry.counter("glb_tls_handshake_failures_total", help: "TLS handshakes that failed, by side and reason.",
                         labels: ["side": side, "reason": reason])
    }

    /// One loop's shard of the per-request metrics: loop `index` of `count`.
    func shard(index: Int, of count: Int) -> Shard {
        Shard(registry: registry, index: index, of: count)
    }

    /// The metrics one loop writes on every request, each the loop's own shard of its series.
    final class Shard {
        let registry: MetricsRegistry
        let index: Int
        let count: Int
        let duration: Histogram
        let poolReused: Counter
        let poolNew: Counter

        init(registry: MetricsRegistry, index: Int, of count: Int) {
            self.registry = registry
            self.index = index
            self.count = count
            duration = registry.histogramShard("glb_http_request_duration_seconds", help: "Time from a request's head to the end of its response.",
                                               index: index, of: count)
            poolReused = registry.counterShard("glb_http_pool_reused_total", help: "Requests sent on a pooled keep-alive upstream connection.",
                                               index: index, of: count)
            poolNew = registry.counterShard("glb_http_pool_new_total", help: "Upstream connections opened.", index: index, of: count)
        }

        /// This loop's four counters (2xx, 3xx, 4xx, 5xx; 1xx counts as 2xx's neighbour below) of one label set.
        func requestCounters(service: String, cluster: String) -> [Counter] {
            (1...5).map { registry.counterShard(ProxyMetrics.requestsName, help: ProxyMetrics.requestsHelp,
                                                labels: ["service": service, "cluster": cluster, "code": "\($0)xx"], index: index, of: count) }
        }
    }
}

/// One loop's cache of request counters, keyed by cluster index in the current snapshot (and by
/// service index for answers that reached no cluster). Cleared when the snapshot changes, since
/// indices then mean other clusters; the registry hands back the same counters for the same labels.
///
/// Arrays indexed by cluster and service, not dictionaries: a hash per request cost ~300
/// instructions.
struct RequestCounters {
    private var byCluster: [[Counter]?] = []
    private var byService: [[Counter]?] = []
    private var unrouted: [Counter]?
    private var generation: UInt64 = .max

    /// The counter for `status` on (`service`, `cluster`); -1 for none.
    mutating func counter(status: Int, service: Int, cluster: Int, snapshot: RoutingSnapshot, metrics: ProxyMetrics.Shard) -> Counter {
        if generation != snapshot.generation {
            byCluster = [[Counter]?](repeating: nil, count: snapshot.clusters.count)
            byService = [[Counter]?](repeating: nil, count: snapshot.services.count)
            generation = snapshot.generation
        }
        let index = Swift.min(Swift.max(status / 100, 1), 5) - 1
        // An index past the arrays came from an exchange that began under an older snapshot.
        if cluster >= 0, cluster < byCluster.count {
            if let counters = byCluster[cluster] { return counters[index] }
            let counters = metrics.requestCounters(service: Self.serviceName(service, snapshot), cluster: snapshot.clusters[cluster].name)
            byCluster[cluster] = counters
            return counters[index]
        }
        if service >= 0, service < byService.count {
            if let counters = byService[service] { return counters[index] }
            let counters = metrics.requestCounters(service: Self.serviceName(service, snapshot), cluster: "")
            byService[service] = counters
            return counters[index]
        }
        if let unrouted { return unrouted[index] }
        let counters = metrics.requestCounters(service: "", cluster: "")
        unrouted = counters
        return counters[index]
    }

    static func serviceName(_ service: Int, _ snapshot: RoutingSnapshot) -> String {
        guard service >= 0, service < snapshot.serviceNames.count else { return "" }
        let name = snapshot.serviceNames[service].description
        return name.hasSuffix(".") ? String(name.dropLast()) : name
    }
}
