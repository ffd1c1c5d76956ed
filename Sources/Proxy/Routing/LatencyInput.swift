/// What `latency` routing is compiled from: where the GLB nodes are and the RTT each measured to
/// each cluster. The agent fills it from its own probes today; gossiped observations from other
/// nodes add rows for their nodes without changing this shape.
package struct LatencyInput: Sendable {
    /// A GLB node and where it is.
    package struct Node: Sendable, Hashable {
        /// Its name (`--node`).
        package var name: String
        /// Its region (`--region`); a CIDR-map region naming it maps clients to it.
        package var region: String
        /// Degrees north and east (`--location`); nil when unknown.
        package var latitude: Double?, longitude: Double?

        /// Memberwise.
        package init(name: String, region: String, latitude: Double? = nil, longitude: Double? = nil) {
            self.name = name
            self.region = region
            self.latitude = latitude
            self.longitude = longitude
        }
    }

    /// One node's smoothed RTT to one cluster (an EWMA of probe round trips).
    package struct Sample: Sendable, Hashable {
        /// The measuring node.
        package var node: String
        /// The service's FQDN (`www.glb.example.`).
        package var service: String
        /// The cluster's name.
        package var cluster: String
        package var rtt: Duration

        /// Memberwise.
        package init(node: String, service: String, cluster: String, rtt: Duration) {
            self.node = node
            self.service = service
            self.cluster = cluster
            self.rtt = rtt
        }
    }

    /// This node's name: its RTTs answer clients that cannot be placed nearer another node.
    package var localNode: String
    /// Every node known, this one included.
    package var nodes: [Node]
    /// Every RTT known.
    package var samples: [Sample]
    /// The cluster each (node, service) answered with last time, keyed `node/fqdn`: the
    /// hysteresis state. The control plane feeds `LatencyTable.leaders` of one snapshot into the
    /// next, so the data plane stays stateless.
    package var previousLeaders: [String: String]

    /// Memberwise.
    package init(localNode: String, nodes: [Node], samples: [Sample], previousLeaders: [String: String] = [:]) {
        self.localNode = localNode
        self.nodes = nodes
        self.samples = samples
        self.previousLeaders = previousLeaders
    }
}
