import GLBCore

/// The proxy's SLIs (DESIGN.md "Interfaces"): requests by service, cluster and status class,
/// latency, upstream errors, retries, ejections, pool use, open connections.
///
/// Handles that need labels known only at run time (service and cluster) are made once per
/// (loop, snapshot, cluster) by `RequestCounters` and cached there, so the request path only
/// increments an atomic.
struct ProxyMetrics: Sendable {
    let registry: MetricsRegistry
    let duration: Histogram
    let connectErrors: Counter
    let retries: Counter
    let ejections: Counter
    let poolReused: Counter
    let poolNew: Counter
    let poolIdle: Gauge
    let clientConnections: Gauge
    let rejectedConnections: Counter
    let tlsHandshakes: Counter
    let tlsResumed: Counter

    static let requestsName = "glb_http_requests_total"
    static let requestsHelp = "Requests answered by the HTTP proxy, by service, cluster and status class."

    init(registry: MetricsRegistry) {
        self.registry = registry
        duration = registry.histogram("glb_http_request_duration_seconds", help: "Time from a request's head to the end of its response.")
        connectErrors = registry.counter("glb_http_upstream_connect_errors_total", help: "Upstream connects that failed or timed out, and upstream connections lost before any response byte.")
        retries = registry.counter("glb_http_retries_total", help: "Requests retried on another upstream after a failed attempt.")
        ejections = registry.counter("glb_http_ejections_total", help: "Upstream endpoints ejected by passive health (outlier detection).")
        poolReused = registry.counter("glb_http_pool_reused_total", help: "Requests sent on a pooled keep-alive upstream connection.")
        poolNew = registry.counter("glb_http_pool_new_total", help: "Upstream connections opened.")
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

    /// The four counters (2xx, 3xx, 4xx, 5xx; 1xx counts as 2xx's neighbour below) of one label set.
    func requestCounters(service: String, cluster: String) -> [Counter] {
        (1...5).map { registry.counter(Self.requestsName, help: Self.requestsHelp,
                                       labels: ["service": service, "cluster": cluster, "code": "\($0)xx"]) }
    }
}

/// One loop's cache of request counters, keyed by cluster index in the current snapshot (and by
/// service index for answers that reached no cluster). Cleared when the snapshot changes, since
/// indices then mean other clusters; the registry hands back the same counters for the same labels.
struct RequestCounters {
    private var byCluster: [Int: [Counter]] = [:]
    private var byService: [Int: [Counter]] = [:]
    private var unrouted: [Counter]?
    private var generation: UInt64 = .max

    /// The counter for `status` on (`service`, `cluster`); -1 for none.
    mutating func counter(status: Int, service: Int, cluster: Int, snapshot: RoutingSnapshot, metrics: ProxyMetrics) -> Counter {
        if generation != snapshot.generation {
            byCluster.removeAll(keepingCapacity: true)
            byService.removeAll(keepingCapacity: true)
            generation = snapshot.generation
        }
        let index = Swift.min(Swift.max(status / 100, 1), 5) - 1
        if cluster >= 0 {
            if let counters = byCluster[cluster] { return counters[index] }
            let counters = metrics.requestCounters(service: Self.serviceName(service, snapshot), cluster: snapshot.clusters[cluster].name)
            byCluster[cluster] = counters
            return counters[index]
        }
        if service >= 0 {
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
        guard service >= 0 else { return "" }
        let name = snapshot.serviceNames[service].description
        return name.hasSuffix(".") ? String(name.dropLast()) : name
    }
}
