/// How specific a `geo` match was, most specific first: the Router tries each level in turn and
/// answers from the first with an eligible cluster (after gdnsd's `geoip` plugin, which maps a
/// client to an ordered datacenter list and fails over down it).
package enum GeoLevel: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The client's country is in the cluster's `countries`, or the CIDR map put the client in the
    /// cluster's region.
    case country
    /// The client's continent is in the cluster's `continents`.
    case continent
    /// The cluster has no `countries` and no `continents`: a catch-all, the service's default set.
    case fallback
    /// Any cluster, nearest first when both ends have coordinates: a far healthy cluster beats
    /// failing open.
    case any

    package var description: String {
        switch self {
        case .country: "country"
        case .continent: "continent"
        case .fallback: "default set"
        case .any: "any cluster"
        }
    }

    /// True if `cluster` belongs to this level for a client at `location` (`region`: its CIDR-map
    /// region, if any). Allocation-free: integer compares and one string compare.
    @inline(__always)
    package func matches(_ cluster: ClusterRoute, location: GeoLocation, region: String?) -> Bool {
        switch self {
        case .country:
            if let region, !cluster.region.isEmpty, cluster.region == region { return true }
            guard location.country.isKnown else { return false }
            var k = 0
            while k < cluster.countries.count { if cluster.countries[k] == location.country { return true }; k += 1 }
            return false
        case .continent:
            guard location.continent.isKnown else { return false }
            var k = 0
            while k < cluster.continents.count { if cluster.continents[k] == location.continent { return true }; k += 1 }
            return false
        case .fallback:
            return cluster.countries.isEmpty && cluster.continents.isEmpty
        case .any:
            return true
        }
    }
}
