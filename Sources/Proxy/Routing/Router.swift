/// Which address family a decision is for (A or AAAA; the HTTP proxy may ask for either).
package enum AddressFamily: Sendable, Hashable {
    /// IPv4.
    case v4
    /// IPv6.
    case v6
}

/// How a decision was reached.
package enum RouteOutcome: Sendable, Hashable {
    /// Healthy active clusters answered.
    case healthy
    /// Only healthy draining clusters were left, so they answered.
    case draining
    /// Nothing was healthy: every active address answered (or every draining one, if none is active).
    case failOpen
    /// Nothing was healthy and the service is fail-closed: no addresses (the responder says NODATA).
    case failClosed
    /// The service has no address of this family at all (NODATA).
    case noAddresses
}

/// Which side of a canary split a client fell on.
package enum CanarySide: Sendable, Hashable {
    /// The canary cluster answered.
    case canary
    /// The client hashed to the canary, but it had nothing healthy of this family: the rest answered.
    case canaryFallback
    /// The client hashed to the baseline: the policy over every other cluster.
    case baseline
}

/// The result of one decision. The chosen endpoints are in `Router.chosen`.
package struct RouteDecision: Sendable, Hashable {
    /// How it was reached.
    package var outcome: RouteOutcome
    /// The canary side, if the service has a canary.
    package var canarySide: CanarySide?
    /// True if the client key came from ECS and changed the answer's set: ECS scope must be non-zero.
    package var usedClientSubnet: Bool
    /// The failover tier (priority value) answered from, for `failover`.
    package var tier: Int?
    /// The level `geo` answered from.
    package var geoLevel: GeoLevel? = nil
    /// The ECS scope the client's location supports when the answer depended on it (geo and
    /// latency with ECS), else 0.
    package var geoScope: UInt8 = 0
    /// The GLB node whose RTTs `latency` ranked by (index into `RoutingSnapshot.latency.nodes`).
    package var latencyNode: Int? = nil

    /// The SCOPE PREFIX-LENGTH to echo (RFC 7871 §7.2.1): the longest prefix the answer depended
    /// on, the canary hash's or the location's; 0 when it did not depend on the client subnet.
    @inline(__always)
    package func ecsScope(for key: ClientKey) -> UInt8 {
        Swift.max(usedClientSubnet ? key.prefix : 0, geoScope)
    }
}

/// Receives the steps of a decision. The data path passes `SilentTrace`, whose methods are empty
/// and whose autoclosures are never called, so after specialisation tracing costs nothing.
package protocol RouteTrace {
    /// Records one step.
    mutating func note(_ step: @autoclosure () -> String)
}

/// The data path's trace: records nothing.
package struct SilentTrace: RouteTrace {
    /// Nothing to hold.
    package init() {}
    /// Ignores the step without evaluating it.
    @inline(__always) package mutating func note(_ step: @autoclosure () -> String) {}
}

/// Chooses the addresses one client gets for one service: the policy, then the canary split on
/// top, then fail open (STYLE 9.6, gdnsd `multifo`, Envoy panic mode). One Router per event loop:
/// it owns scratch arrays sized to the largest service, so a decision allocates nothing.
///
/// Passes, each over the canary side's clusters first and then, if that found nothing, over all:
/// 1. healthy active clusters with weight > 0 (`all` ignores weight);
/// 2. healthy draining clusters ("no new answers unless nothing else is healthy");
/// 3. fail open: every active address regardless of health (every draining one if none is
///    active), or nothing when the service is fail-closed. Disabled clusters are never answered.
package struct Router {
    /// Endpoint indices (into `RoutingSnapshot.endpoints`) chosen by the last `route` call: a view
    /// of the Router's scratch, valid until the next call.
    package private(set) var chosen = ScratchList<Int32>(base: nil, capacity: 0)
    // Internal, not private: Router+Geo.swift's passes fill them too.
    var pool = ScratchList<Int32>(base: nil, capacity: 0)
    var weights = ScratchList<UInt64>(base: nil, capacity: 0)
    /// The memory behind the three lists. A copy of a Router shares it: make one per user.
    private let memory = ScratchMemory()
    /// Decoded client locations by database record, for `geo` and `latency`.
    private var geoCache = GeoCache()

    /// A router with empty scratch; the first decisions grow it to the snapshot's largest service.
    package init() {}

    enum Pass { case healthy, draining }

    /// Decides for `service` (an index into `snapshot.services`) and fills `chosen`.
    @inline(__always)
    package mutating func route(service: Int, family: AddressFamily, client: ClientKey, snapshot: RoutingSnapshot,
                                rng: inout some RandomNumberGenerator) -> RouteDecision {
        var trace = SilentTrace()
        return route(service: service, family: family, client: client, snapshot: snapshot, rng: &rng, trace: &trace)
    }

    /// `route`, reporting every step to `trace` (used by `explain`).
    package mutating func route(service: Int, family: AddressFamily, client: ClientKey, snapshot: RoutingSnapshot,
                                rng: inout some RandomNumberGenerator, trace: inout some RouteTrace) -> RouteDecision {
        route(service: service, family: family, client: client, snapshot: snapshot, rng: &rng, trace: &trace,
              canary: .byClient, skipping: NoEndpointFilter())
    }

    /// The HTTP proxy's entry point: `canary` may force a side (a cookie or the operator's test
    /// header), and `skipping` hides endpoints from the healthy and draining passes (ejected by
    /// passive health, or already tried by this request). Fail open ignores `skipping`: it only
    /// runs when nothing healthy is left, and then a skipped address beats none (Envoy panic mode).
    @inline(__always)
    package mutating func route(service: Int, family: AddressFamily, client: ClientKey, snapshot: RoutingSnapshot,
                                rng: inout some RandomNumberGenerator, canary: CanaryChoice,
                                skipping filter: some EndpointFilter) -> RouteDecision {
        var trace = SilentTrace()
        return route(service: service, family: family, client: client, snapshot: snapshot, rng: &rng, trace: &trace,
                     canary: canary, skipping: filter)
    }

    /// The full decision: policy, canary split (by client hash or forced), filter, fail open.
    package mutating func route(service: Int, family: AddressFamily, client: ClientKey, snapshot: RoutingSnapshot,
                                rng: inout some RandomNumberGenerator, trace: inout some RouteTrace,
                                canary choice: CanaryChoice, skipping filter: some EndpointFilter) -> RouteDecision {
        let svc = snapshot.services[service]
        let range = family == .v4 ? svc.v4 : svc.v6
        chosen.removeAll()
        if chosen.capacity < snapshot.maxEndpoints {   // once per larger snapshot, never per query
            memory.reserve(snapshot.maxEndpoints)
            chosen = ScratchList(base: memory.chosen, capacity: memory.capacity)
            pool = ScratchList(base: memory.pool, capacity: memory.capacity)
            weights = ScratchList(base: memory.weights, capacity: memory.capacity)
        }
        var decision = RouteDecision(outcome: .noAddresses, canarySide: nil, usedClientSubnet: false, tier: nil)
        guard !range.isEmpty else {
            trace.note("no \(family == .v4 ? "IPv4" : "IPv6") addresses: NODATA")
            return decision
        }
        let endpoints = snapshot.endpoints
        // Located once per decision, and only for the policies that use it.
        var location = ClientLocation()
        if svc.policy == .geo || svc.policy == .latency {
            location = snapshot.geo.locate(client, cache: &geoCache)
            trace.note("client location: \(Router.describe(location, client: client, sources: snapshot.geo))")
        }
        // The canary split restricts the first round of passes to one side.
        var only: Int32 = -1, exclude: Int32 = -1
        if svc.canaryCluster >= 0 {
            let hash = client.hash
            let toCanary: Bool
            switch choice {
            case .byClient: toCanary = Canary.isCanary(hash: hash, threshold: svc.canaryThreshold)
            case .canary: toCanary = true
            case .baseline: toCanary = false
            }
            decision.usedClientSubnet = client.fromClientSubnet && choice == .byClient
            let canaryName = snapshot.clusters[Int(svc.canaryCluster)].name
            trace.note("canary \(canaryName) at \(svc.canaryPercent)%: client \(client.address)/\(client.prefix) hash \(hex(hash)), bucket \(hash >> 32) vs threshold \(svc.canaryThreshold): \(toCanary ? "canary" : "baseline") side")
            if toCanary && collect(range, endpoints, pass: .healthy, policy: .all, only: svc.canaryCluster, exclude: -1, filter: filter) {
                only = svc.canaryCluster
                decision.canarySide = .canary
            } else {
                exclude = svc.canaryCluster
                decision.canarySide = toCanary ? .canaryFallback : .baseline
                if toCanary { trace.note("canary \(canaryName) has no healthy address of this family: using the other clusters") }
            }
        }
        let restricted = only >= 0 || exclude >= 0
        for round in 0..<(restricted ? 2 : 1) {
            if round == 1 {
                trace.note("nothing healthy on this side of the canary split: trying every cluster")
                only = -1
                exclude = -1
            }
            // Two passes spelled out as a range: an array literal here could allocate per query.
            for passIndex in 0..<2 {
                let pass: Pass = passIndex == 0 ? .healthy : .draining
                if select(svc, service, range, endpoints, snapshot, pass: pass, only: only, exclude: exclude, filter: filter, client: client,
                          location: location, rng: &rng, decision: &decision, trace: &trace) {
                    decision.outcome = pass == .healthy ? .healthy : .draining
                    if round == 1 { decision.usedClientSubnet = false }
                    return decision
                }
            }
        }
        decision.usedClientSubnet = false
        decision.geoScope = 0
        decision.geoLevel = nil
        decision.latencyNode = nil
        guard !svc.failClosed else {
            trace.note("no healthy cluster and the service is fail-closed: NODATA")
            decision.outcome = .failClosed
            return decision
        }
        decision.outcome = .failOpen
        for stateIndex in 0..<2 {
            let state: ClusterState = stateIndex == 0 ? .active : .draining
            for i in range where endpoints[i].state == state { chosen.append(Int32(i)) }
            if !chosen.isEmpty {
                trace.note("no healthy cluster: failing open with every \(state) address (\(chosen.count))")
                return decision
            }
        }
        return decision
    }

    /// One pass of the policy. True if it chose anything.
    private mutating func select(_ svc: ServiceRoute, _ service: Int, _ range: Range<Int>, _ endpoints: [Endpoint], _ snapshot: RoutingSnapshot,
                                 pass: Pass, only: Int32, exclude: Int32, filter: some EndpointFilter, client: ClientKey,
                                 location: ClientLocation, rng: inout some RandomNumberGenerator, decision: inout RouteDecision,
                                 trace: inout some RouteTrace) -> Bool {
        let passName = pass == .healthy ? "healthy active" : "healthy draining"
        switch svc.policy {
        case .all:
            guard collect(range, endpoints, pass: pass, policy: .all, only: only, exclude: exclude, filter: filter) else { return false }
            chosen.append(contentsOf: pool)
            trace.note("all: every \(passName) address (\(chosen.count))")
            return true
        case .failover:
            // Endpoints are sorted by priority: the first eligible one opens the tier to use.
            var tierRange: Range<Int>? = nil
            for i in range where Router.eligible(endpoints[i], pass: pass, needsWeight: true, only: only, exclude: exclude) && !filter.skips(i) {
                let priority = endpoints[i].priority
                var end = i
                while end < range.upperBound, endpoints[end].priority == priority { end += 1 }
                tierRange = i..<end
                break
            }
            guard let tierRange, collect(tierRange, endpoints, pass: pass, policy: .failover, only: only, exclude: exclude, filter: filter) else { return false }
            decision.tier = endpoints[tierRange.lowerBound].priority
            trace.note("failover: tier \(endpoints[tierRange.lowerBound].priority) is the first with a \(passName) cluster")
        case .geo:
            return selectGeo(svc, range, endpoints, snapshot, pass: pass, only: only, exclude: exclude, filter: filter, client: client,
                             location: location, rng: &rng, decision: &decision, trace: &trace)
        case .latency:
            return selectLatency(svc, service, range, endpoints, snapshot, pass: pass, only: only, exclude: exclude, filter: filter,
                                 client: client, location: location, rng: &rng, decision: &decision, trace: &trace)
        case .weighted:
            guard collect(range, endpoints, pass: pass, policy: .weighted, only: only, exclude: exclude, filter: filter) else { return false }
        }
        trace.note("\(svc.policy == .failover ? "failover" : "weighted"): drawing \(svc.answers) of \(pool.count) \(passName) address(es) by weight")
        draw(count: svc.answers, rng: &rng)
        return true
    }

    /// Fills `pool`/`weights` with the eligible endpoints of `range`; true if any.
    mutating func collect(_ range: Range<Int>, _ endpoints: [Endpoint], pass: Pass, policy: RoutePolicy,
                                  only: Int32, exclude: Int32, filter: some EndpointFilter) -> Bool {
        pool.removeAll()
        weights.removeAll()
        for i in range where Router.eligible(endpoints[i], pass: pass, needsWeight: policy != .all, only: only, exclude: exclude) && !filter.skips(i) {
            pool.append(Int32(i))
            weights.append(endpoints[i].weight)
        }
        return !pool.isEmpty
    }

    @inline(__always)
    static func eligible(_ e: Endpoint, pass: Pass, needsWeight: Bool, only: Int32, exclude: Int32) -> Bool {
        guard e.healthy, e.state == (pass == .healthy ? .active : .draining), !needsWeight || e.weight > 0 else { return false }
        return (only < 0 || e.cluster == only) && e.cluster != exclude
    }

    /// Draws `count` distinct endpoints from `pool` by weight, without replacement.
    mutating func draw(count: Int, rng: inout some RandomNumberGenerator) {
        // Index loops, not `for w in weights`: an iterator keeps a second reference to the buffer
        // alive to the end of the scope in debug builds, and the swaps below would then copy it.
        var total: UInt64 = 0
        var j = 0
        while j < weights.count { total += weights[j]; j += 1 }
        for _ in 0..<Swift.min(count, pool.count) {
            var ticket = UInt64.random(in: 0..<total, using: &rng)
            var k = 0
            while ticket >= weights[k] { ticket -= weights[k]; k += 1 }
            chosen.append(pool[k])
            total -= weights[k]
            // Move the last entry into the hole. Not `swapAt`: unspecialised (debug) it goes through
            // the generic MutableCollection path, which allocated here (caught by AllocationTests).
            let last = pool.count - 1
            pool[k] = pool[last]
            weights[k] = weights[last]
            pool.removeLast()
            weights.removeLast()
        }
    }
}

/// How the canary side is chosen.
package enum CanaryChoice: Sendable, Hashable {
    /// By the client key's hash, as DNS does.
    case byClient
    /// Forced to the canary cluster (a sticky cookie or the `X-GLB-Canary` test header).
    case canary
    /// Forced to the baseline.
    case baseline
}

/// Hides endpoints from a decision: the HTTP proxy skips ejected endpoints and the cluster a
/// request already failed on. Generic rather than a closure, so the data path specialises it and
/// `NoEndpointFilter` costs nothing.
package protocol EndpointFilter {
    /// True to leave out `endpoint` (an index into `RoutingSnapshot.endpoints`).
    func skips(_ endpoint: Int) -> Bool
}

/// Skips nothing: DNS and `explain`.
package struct NoEndpointFilter: EndpointFilter {
    /// Nothing to hold.
    package init() {}
    /// Always false.
    @inline(__always) package func skips(_ endpoint: Int) -> Bool { false }
}

/// Sixteen hex digits, for traces.
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
