package import GLBCore

/// A service's canary: one cluster that takes `percent` of clients, sticky per client, on top
/// of whatever the policy chooses. At most one per service.
package struct CanarySplit: ReplicatedRecord {
    /// The service; also the key.
    package var service: String
    /// The canary cluster, which must exist and be live.
    package var cluster: String
    /// Share of clients sent to the canary, 0 to 100.
    package var percent: Double
    /// Set by the store on write.
    package var version: HLCTimestamp
    /// Set by the store on write.
    package var origin: String

    /// A canary split.
    package init(service: String, cluster: String, percent: Double, version: HLCTimestamp = .zero, origin: String = "") {
        self.service = service
        self.cluster = cluster
        self.percent = percent
        self.version = version
        self.origin = origin
    }

    enum CodingKeys: String, CodingKey {
        case service, cluster, percent, version, origin
    }

    /// Decodes leniently: `service` may come from the path, `version` and `origin` from the store.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(service: try c.decodeIfPresent(String.self, forKey: .service) ?? "",
                  cluster: try c.decodeIfPresent(String.self, forKey: .cluster) ?? "",
                  percent: try c.decode(Double.self, forKey: .percent),
                  version: try c.decodeIfPresent(HLCTimestamp.self, forKey: .version) ?? .zero,
                  origin: try c.decodeIfPresent(String.self, forKey: .origin) ?? "")
    }

    /// Checks the record's own rules; whether the cluster exists is the store's check.
    package func validated() throws(ValidationError) -> CanarySplit {
        try Check.relativeName(service, "service")
        try Check.singleLabel(cluster, "cluster")
        try Check.finiteRange(percent, 0...100, "percent")
        return self
    }
}
