package import GLBCore

/// Everything live that routing depends on, read in one transaction, with the config version it
/// reflects. The route compiler turns this into a `RoutingSnapshot`.
package struct ConfigSnapshot: Sendable, Equatable {
    /// The highest version of any replicated row, tombstones included, at the time of the read.
    package var version: HLCTimestamp
    /// The store's `revision` at the read: grows with every commit that changed live config.
    package var revision: UInt64
    /// Live zones, by name.
    package var zones: [Zone]
    /// Live services, by name.
    package var services: [Service]
    /// Live clusters of live services, by service then name.
    package var clusters: [Cluster]
    /// Live canary splits, by service.
    package var canaries: [CanarySplit]
    /// Live nodes, by name: proxy-mode answers point at them.
    package var nodes: [Node]

    /// A snapshot.
    package init(version: HLCTimestamp, revision: UInt64 = 0, zones: [Zone], services: [Service], clusters: [Cluster],
                 canaries: [CanarySplit], nodes: [Node]) {
        self.version = version
        self.revision = revision
        self.zones = zones
        self.services = services
        self.clusters = clusters
        self.canaries = canaries
        self.nodes = nodes
    }
}
