/// The `geo` and `latency` passes of the Router (docs/geo.md): called from `Router.select` for
/// one pass (healthy or draining) with the client's location already looked up once per
/// decision. Same contract as the other policies: fill `chosen` from `pool`/`weights` and return
/// true, or return false to let the next pass (and in the end fail open) decide.
extension Router {
    /// `geo`: the first level (country, continent, default set, any) with an eligible cluster,
    /// then by weight within it; at the two broad levels, the nearest cluster when both the client
    /// and the clusters have coordinates.
    mutating func selectGeo(_ svc: ServiceRoute, _ range: Range<Int>, _ endpoints: [Endpoint], _ snapshot: RoutingSnapshot,
                                    pass: Pass, only: Int32, exclude: Int32, filter: some EndpointFilter, client: ClientKey,
                                    location: ClientLocation, rng: inout some RandomNumberGenerator, decision: inout RouteDecision,
                                    trace: inout some RouteTrace) -> Bool {
        let passName = pass == .healthy ? "healthy active" : "healthy draining"
        let region = snapshot.geo.region(of: location.location)
        var levelIndex = 0
        while levelIndex < 4 {
            let level = GeoLevel(rawValue: levelIndex)!
            levelIndex += 1
            pool.removeAll()
            weights.removeAll()
            for i in range where Router.eligible(endpoints[i], pass: pass, needsWeight: true, only: only, exclude: exclude) && !filter.skips(i)
                && level.matches(snapshot.clusters[Int(endpoints[i].cluster)], location: location.location, region: region) {
                pool.append(Int32(i))
                weights.append(endpoints[i].weight)
            }
            guard !pool.isEmpty else {
                trace.note("geo: no \(passName) cluster at level \(level)")
                continue
            }
            if level.rawValue >= GeoLevel.fallback.rawValue, location.location.hasCoordinates {
                keepNearest(latitude: location.location.latitude, longitude: location.location.longitude, snapshot, trace: &trace)
            }
            decision.geoLevel = level
            if client.fromClientSubnet { decision.geoScope = location.scope }
            trace.note("geo: level \(level): drawing \(svc.answers) of \(pool.count) \(passName) address(es) by weight")
            draw(count: svc.answers, rng: &rng)
            return true
        }
        return false
    }

    /// `latency`: the GLB node nearest the client (by coordinates, else by CIDR-map region, else
    /// this node), then the first cluster in that node's RTT ranking with an eligible address;
    /// with no RTT known, the cluster nearest the client (or the node) by coordinates; else weight.
    mutating func selectLatency(_ svc: ServiceRoute, _ service: Int, _ range: Range<Int>, _ endpoints: [Endpoint],
                                        _ snapshot: RoutingSnapshot, pass: Pass, only: Int32, exclude: Int32, filter: some EndpointFilter,
                                        client: ClientKey, location: ClientLocation, rng: inout some RandomNumberGenerator,
                                        decision: inout RouteDecision, trace: inout some RouteTrace) -> Bool {
        let passName = pass == .healthy ? "healthy active" : "healthy draining"
        let table = snapshot.latency
        let node = Router.nearestNode(table, location: location.location, region: snapshot.geo.region(of: location.location))
        if client.fromClientSubnet { decision.geoScope = location.scope }
        if node >= 0 {
            decision.latencyNode = node
            trace.note("latency: nearest GLB node \(table.nodes[node].name)\(node == table.localNode ? " (this node)" : "")")
            let ranking = table.ranking(node: node, service: service)
            for position in ranking {
                let cluster = table.cluster(at: position)
                guard only < 0 || only == cluster else { continue }          // the canary side restricts the ranking
                guard collect(range, endpoints, pass: pass, policy: .weighted, only: cluster, exclude: exclude, filter: filter) else {
                    trace.note("latency: \(snapshot.clusters[Int(cluster)].name) (\(table.rtt(at: position))) has no \(passName) address")
                    continue
                }
                trace.note("latency: \(snapshot.clusters[Int(cluster)].name) has the lowest RTT with a \(passName) address (\(table.rtt(at: position)))")
                draw(count: svc.answers, rng: &rng)
                return true
            }
            if !ranking.isEmpty { trace.note("latency: no ranked cluster has a \(passName) address") }
        }
        guard collect(range, endpoints, pass: pass, policy: .weighted, only: only, exclude: exclude, filter: filter) else { return false }
        var latitude = location.location.latitude, longitude = location.location.longitude
        if !location.location.hasCoordinates, node >= 0 { latitude = table.nodes[node].latitude; longitude = table.nodes[node].longitude }
        if !latitude.isNaN && !longitude.isNaN {
            trace.note("latency: no RTT known: nearest cluster by distance")
            keepNearest(latitude: latitude, longitude: longitude, snapshot, trace: &trace)
        } else {
            trace.note("latency: no RTT and no coordinates known: by weight")
        }
        draw(count: svc.answers, rng: &rng)
        return true
    }

    /// The node for a client: nearest by coordinates when both sides have them, else the node
    /// whose region the CIDR map named, else this node; -1 when there is no latency table.
    @inline(__always)
    static func nearestNode(_ table: LatencyTable, location: GeoLocation, region: String?) -> Int {
        var best = table.localNode, bestDistance = Double.infinity
        if location.hasCoordinates {
            var n = 0
            while n < table.nodes.count {
                let d = GeoLocation.distance(latitude: location.latitude, longitude: location.longitude,
                                             latitude: table.nodes[n].latitude, longitude: table.nodes[n].longitude)
                if d < bestDistance { best = n; bestDistance = d }
                n += 1
            }
        }
        if bestDistance == .infinity, let region {
            var n = 0
            while n < table.nodes.count { if table.nodes[n].region == region { return n }; n += 1 }
        }
        return best
    }

    /// Keeps in `pool` only the endpoints of the cluster nearest (`latitude`, `longitude`) among
    /// those with coordinates; unchanged if none has any. In place: no allocation.
    private mutating func keepNearest(latitude: Double, longitude: Double, _ snapshot: RoutingSnapshot, trace: inout some RouteTrace) {
        var nearest: Int32 = -1, best = Double.infinity
        var k = 0
        while k < pool.count {
            let c = snapshot.endpoints[Int(pool[k])].cluster
            let cluster = snapshot.clusters[Int(c)]
            let d = GeoLocation.distance(latitude: latitude, longitude: longitude, latitude: cluster.latitude, longitude: cluster.longitude)
            if d < best { best = d; nearest = c }
            k += 1
        }
        guard nearest >= 0 else { return }
        var kept = 0
        k = 0
        while k < pool.count {
            if snapshot.endpoints[Int(pool[k])].cluster == nearest {
                pool[kept] = pool[k]
                weights[kept] = weights[k]
                kept += 1
            }
            k += 1
        }
        pool.keepFirst(kept)
        weights.keepFirst(kept)
        trace.note("nearest cluster: \(snapshot.clusters[Int(nearest)].name), \(Int(best.rounded())) km away")
    }

    /// The location line of a trace (control plane only: it is an autoclosure's body).
    static func describe(_ location: ClientLocation, client: ClientKey, sources: GeoSources) -> String {
        let origin = client.fromClientSubnet ? "EDNS Client Subnet \(client.origin)" : "source address \(client.origin)"
        let l = location.location
        var facts: [String] = []
        if let region = sources.region(of: l) { facts.append("region \(region)") }
        if l.country.isKnown { facts.append("country \(l.country)") }
        if l.continent.isKnown { facts.append("continent \(l.continent)") }
        if l.hasCoordinates { facts.append("at \(l.latitude),\(l.longitude)") }
        let found = facts.isEmpty ? "nothing" : facts.joined(separator: ", ")
        switch location.source {
        case .cidrMap:
            return "\(origin) matched the CIDR map entry \(sources.cidrMap!.entries[Int(location.entry)].description): \(found)"
        case .database:
            return "\(origin) found in \(sources.database?.databaseType ?? "the database") (network /\(location.scope)): \(found)"
        case .corruptRecord:
            return "\(origin): the database record is corrupt; location unknown"
        case .unknown:
            let consulted = [sources.cidrMap == nil ? nil : "the CIDR map", sources.database == nil ? nil : "the database"].compactMap { $0 }
            return consulted.isEmpty ? "\(origin): no geo database or CIDR map loaded; location unknown"
                : "\(origin) is in neither \(consulted.joined(separator: " nor ")); location unknown"
        }
    }
}
