import GLBCore

/// Choosing an upstream endpoint for a request, and passive health: the Router over the loop's
/// snapshot, skipping ejected endpoints, and the outlier table that ejects them.
extension ProxyLoopState {
    /// Ends the passive ejection of every endpoint whose cluster the health checks saw come back
    /// up between `previous` and the current snapshot. Runs only when a new snapshot arrives while
    /// something is ejected, so it is off the request path.
    func pardonRecovered(since previous: RoutingSnapshot) {
        var wasDown = Set<SocketAddress>()
        for endpoint in previous.endpoints where !previous.clusters[Int(endpoint.cluster)].locallyHealthy {
            wasDown.insert(SocketAddress(ip: endpoint.address, port: previous.clusters[Int(endpoint.cluster)].port))
        }
        guard !wasDown.isEmpty else { return }
        for index in snapshot.endpoints.indices where snapshot.clusters[Int(snapshot.endpoints[index].cluster)].locallyHealthy {
            let address = address(ofEndpoint: index)
            if wasDown.contains(address) { outliers.pardon(address) }
        }
    }

    /// The pool key of endpoint `index` of the current snapshot.
    func key(ofEndpoint index: Int) -> UpstreamKey {
        UpstreamKey(address: address(ofEndpoint: index), tls: snapshot.clusters[Int(snapshot.endpoints[index].cluster)].tls)
    }

    /// The address to connect to for endpoint `index` of the current snapshot.
    @inline(__always)
    func address(ofEndpoint index: Int) -> SocketAddress {
        let endpoint = snapshot.endpoints[index]
        return SocketAddress(ip: endpoint.address, port: snapshot.clusters[Int(endpoint.cluster)].port)
    }

    /// Chooses an endpoint of `service` for one attempt: the Router with the canary side, skipping
    /// ejected endpoints and `avoidCluster` (the cluster a retry is leaving). IPv4 first, then
    /// IPv6 (each family is its own priority-sorted range in the snapshot). If everything left is
    /// ejected or avoided, the Router runs again without skipping, so a skipped endpoint is still
    /// better than failing open to an unhealthy one. Returns (endpoint, canary side) or nil.
    func choose(service: Int, canary: CanaryChoice, client: ClientKey, avoidCluster: Int32, now: Instant) -> (endpoint: Int, side: CanarySide?)? {
        let filter = SkipFilter(state: self, avoidCluster: avoidCluster, now: now)
        // Index loops: an array literal of families would allocate on every request.
        for f in 0..<2 {
            let family: AddressFamily = f == 0 ? .v4 : .v6
            let decision = router.route(service: service, family: family, client: client, snapshot: snapshot, rng: &rng,
                                        canary: canary, skipping: filter)
            if decision.outcome == .healthy || decision.outcome == .draining, let first = router.chosen.first {
                return (Int(first), decision.canarySide)
            }
        }
        for f in 0..<2 {
            let family: AddressFamily = f == 0 ? .v4 : .v6
            let decision = router.route(service: service, family: family, client: client, snapshot: snapshot, rng: &rng,
                                        canary: canary, skipping: NoEndpointFilter())
            guard let first = pick(decision) else { continue }
            return (first, decision.canarySide)
        }
        return nil
    }

    /// One address of a decision: fail open chooses every address, so draw one of them.
    private func pick(_ decision: RouteDecision) -> Int? {
        let chosen = router.chosen
        guard !chosen.isEmpty else { return nil }
        if chosen.count == 1 || decision.outcome != .failOpen { return Int(chosen[0]) }
        return Int(chosen[Int(rng.next() % UInt64(chosen.count))])
    }

    /// Records an exchange's outcome for passive health; counts an ejection.
    func record(_ outcome: OutlierDetector.Outcome, endpoint: Int, service: Int, now: Instant) {
        guard endpoint < snapshot.endpoints.count, service < snapshot.services.count else { return }
        let key = address(ofEndpoint: endpoint)
        if outcome == .success, outliers.ejectedCount == 0 {
            outliers.record(.success, for: key, now: now, serviceSize: 1, ejectedPeers: 0)
            return
        }
        let svc = snapshot.services[service]
        var size = 0, ejected = 0
        for range in [svc.v4, svc.v6] {
            for i in range {
                size += 1
                let peer = address(ofEndpoint: i)
                if peer != key, outliers.isEjected(peer, now: now) { ejected += 1 }
            }
        }
        if outliers.record(outcome, for: key, now: now, serviceSize: size, ejectedPeers: ejected) {
            metrics.ejections.increment()
            proxy.logger.warning("upstream ejected", ["endpoint": "\(key)", "outcome": "\(outcome)"])
        }
    }
}

/// Skips ejected endpoints and the cluster a retry is leaving.
struct SkipFilter: EndpointFilter {
    let state: ProxyLoopState
    let avoidCluster: Int32
    let now: Instant

    @inline(__always)
    func skips(_ endpoint: Int) -> Bool {
        let e = state.snapshot.endpoints[endpoint]
        if e.cluster == avoidCluster || !e.locallyHealthy { return true }
        guard state.outliers.ejectedCount > 0 else { return false }
        return state.outliers.isEjected(state.address(ofEndpoint: endpoint), now: now)
    }
}
