/// `latency` routing, compiled: per (GLB node, service), the service's clusters ranked by the
/// node's RTT to them, with hysteresis on the first place. The Router walks a ranking until a
/// cluster has an eligible address, so health, state and canary apply as for every policy.
///
/// Hysteresis: a new leader replaces the previous one only if it is faster by more than
/// `switchRatio` of the previous leader's RTT *and* by more than `switchMargin`; probe noise of a
/// few percent or a millisecond or two then never flips answers (compare gdnsd's separate up and
/// down thresholds in `mon.c`). Both conditions, because a ratio alone flaps between two nearby
/// clusters at 1 ms and a margin alone never switches between two far ones at 300 ms.
package struct LatencyTable: Sendable {
    /// A node as the Router needs it.
    package struct Node: Sendable {
        package let name: String, region: String
        /// Degrees, NaN when unknown.
        package let latitude: Double, longitude: Double
    }

    /// Relative improvement a challenger needs (20 %).
    package static let switchRatio = 0.2
    /// Absolute improvement a challenger needs (5 ms).
    package static let switchMargin = Duration.milliseconds(5)

    /// Every node; empty when no latency input was given.
    package let nodes: [Node]
    /// Index of this node in `nodes`, or -1.
    package let localNode: Int
    /// Rankings, flattened: `rankings[ranges[node * serviceCount + service]]` are cluster indices
    /// (into `RoutingSnapshot.clusters`) from fastest to slowest; clusters with no RTT are absent.
    private let rankings: [Int32]
    private let ranges: [Range<Int>]
    private let serviceCount: Int
    /// RTT per ranking entry, parallel to `rankings`, for `explain`.
    private let rtts: [Duration]
    /// The leader of each (node, service) that has one, keyed `node/fqdn`: feed it back as
    /// `LatencyInput.previousLeaders`.
    package let leaders: [String: String]

    /// Compiles `input` against the snapshot's services and clusters.
    init(_ input: LatencyInput?, services: [ServiceRoute], names: [DNSName], clusters: [ClusterRoute], problems: inout [String]) {
        guard let input else {
            self.init(nodes: [], localNode: -1, rankings: [], ranges: [], serviceCount: services.count, rtts: [], leaders: [:])
            return
        }
        var nodes: [Node] = [], nodeIndex: [String: Int] = [:]
        for n in input.nodes where nodeIndex[n.name] == nil {
            nodeIndex[n.name] = nodes.count
            nodes.append(Node(name: n.name, region: n.region, latitude: n.latitude ?? .nan, longitude: n.longitude ?? .nan))
        }
        if nodeIndex[input.localNode] == nil {
            nodeIndex[input.localNode] = nodes.count
            nodes.append(Node(name: input.localNode, region: "", latitude: .nan, longitude: .nan))
        }
        // A proxy-mode service has two routes under one name (its clusters, and the GLB nodes DNS
        // answers with); samples name clusters, so each route ranks the ones it has.
        var serviceIndex: [DNSName: [Int]] = [:]
        for (i, name) in names.enumerated() { serviceIndex[name, default: []].append(i) }
        var samples: [Int: [Int32: Duration]] = [:]        // node * services + service → cluster → rtt
        for sample in input.samples {
            guard let n = nodeIndex[sample.node], let name = DNSName(sample.service), let routes = serviceIndex[name] else { continue }
            for s in routes {
                guard let c = services[s].clusters.first(where: { clusters[$0].name == sample.cluster }) else { continue }
                samples[n * services.count + s, default: [:]][Int32(c)] = sample.rtt
            }
        }
        var rankings: [Int32] = [], rtts: [Duration] = [], ranges: [Range<Int>] = [], leaders: [String: String] = [:]
        for n in 0..<nodes.count {
            for s in 0..<services.count {
                let start = rankings.count
                var ranked = (samples[n * services.count + s] ?? [:]).sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                let key = nodes[n].name + "/" + names[s].description
                if let first = ranked.first, let previousName = input.previousLeaders[key],
                   let previous = ranked.firstIndex(where: { clusters[Int($0.key)].name == previousName }), previous > 0 {
                    let incumbent = ranked[previous].value
                    if !LatencyTable.shouldSwitch(from: incumbent, to: first.value) {
                        ranked.insert(ranked.remove(at: previous), at: 0)
                    }
                }
                for (cluster, rtt) in ranked {
                    rankings.append(cluster)
                    rtts.append(rtt)
                }
                if let leader = ranked.first { leaders[key] = clusters[Int(leader.key)].name }
                ranges.append(start..<rankings.count)
            }
        }
        self.init(nodes: nodes, localNode: nodeIndex[input.localNode] ?? -1, rankings: rankings, ranges: ranges,
                  serviceCount: services.count, rtts: rtts, leaders: leaders)
    }

    private init(nodes: [Node], localNode: Int, rankings: [Int32], ranges: [Range<Int>], serviceCount: Int, rtts: [Duration],
                 leaders: [String: String]) {
        self.nodes = nodes
        self.localNode = localNode
        self.rankings = rankings
        self.ranges = ranges
        self.serviceCount = serviceCount
        self.rtts = rtts
        self.leaders = leaders
    }

    /// True if `challenger` beats `incumbent` by more than both thresholds.
    package static func shouldSwitch(from incumbent: Duration, to challenger: Duration) -> Bool {
        let gain = incumbent - challenger
        return gain > switchMargin && gain > incumbent * switchRatio
    }

    /// The ranking range of (`node`, `service`) in `cluster(at:)`; empty when nothing is known.
    @inline(__always)
    package func ranking(node: Int, service: Int) -> Range<Int> {
        let i = node * serviceCount + service
        return node >= 0 && i < ranges.count ? ranges[i] : 0..<0
    }

    /// The cluster index at ranking position `position`.
    @inline(__always)
    package func cluster(at position: Int) -> Int32 { rankings[position] }

    /// The RTT at ranking position `position`.
    package func rtt(at position: Int) -> Duration { rtts[position] }
}
