package import GLBCore

/// A running `glb agent`, as the store remembers it: where to gossip with it and which public
/// addresses proxy-mode answers may point at.
package struct Node: ReplicatedRecord {
    /// The node id: `eu-1`.
    package var name: String
    /// Where it runs: `eu-west`.
    package var region: String
    /// `host:port` of its gossip listener.
    package var gossipAddress: String
    /// Its public IP addresses, canonical form.
    package var addresses: [String]
    /// Wall time in ms since the epoch when it was last seen alive.
    package var lastSeenMS: Int64
    /// Set by the store on write.
    package var version: HLCTimestamp
    /// Set by the store on write.
    package var origin: String

    /// A node.
    package init(name: String, region: String, gossipAddress: String, addresses: [String] = [], lastSeenMS: Int64 = 0,
                 version: HLCTimestamp = .zero, origin: String = "") {
        self.name = name
        self.region = region
        self.gossipAddress = gossipAddress
        self.addresses = addresses
        self.lastSeenMS = lastSeenMS
        self.version = version
        self.origin = origin
    }

    enum CodingKeys: String, CodingKey {
        case name, region, gossipAddress = "gossip_address", addresses, lastSeenMS = "last_seen_ms", version, origin
    }

    /// Decodes leniently: `addresses`, `last_seen_ms`, `version` and `origin` may be missing.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decodeIfPresent(String.self, forKey: .name) ?? "",
                  region: try c.decodeIfPresent(String.self, forKey: .region) ?? "",
                  gossipAddress: try c.decodeIfPresent(String.self, forKey: .gossipAddress) ?? "",
                  addresses: try c.decodeIfPresent([String].self, forKey: .addresses) ?? [],
                  lastSeenMS: try c.decodeIfPresent(Int64.self, forKey: .lastSeenMS) ?? 0,
                  version: try c.decodeIfPresent(HLCTimestamp.self, forKey: .version) ?? .zero,
                  origin: try c.decodeIfPresent(String.self, forKey: .origin) ?? "")
    }

    /// Checks the record's own rules and normalises the addresses.
    package func validated() throws(ValidationError) -> Node {
        var result = self
        try Check.tag(name, "name")
        try Check.tag(region, "region")
        guard !gossipAddress.isEmpty, gossipAddress.utf8.count <= 300, !gossipAddress.contains(where: { $0.isWhitespace }) else {
            throw ValidationError(field: "gossip_address", message: "gossip_address must be host:port without spaces, got \"\(gossipAddress)\"")
        }
        guard addresses.count <= 32 else {
            throw ValidationError(field: "addresses", message: "addresses may list at most 32 IP addresses, got \(addresses.count)")
        }
        result.addresses = []
        for address in addresses { result.addresses.append(try Check.address(address, "addresses")) }
        guard lastSeenMS >= 0 else {
            throw ValidationError(field: "last_seen_ms", message: "last_seen_ms must not be negative, got \(lastSeenMS)")
        }
        return result
    }
}
