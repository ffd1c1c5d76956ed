import GLBCore
import HealthProber

/// What a node tells the others about itself in its gossip metadata (at most
/// `GossipCodec.maxMetadataBytes`): where it serves DNS and HTTP, so proxy-mode answers and
/// `glb members` can name them. The region travels in the member record itself.
///
/// Encoded as `key=value` lines (`dns=192.0.2.1:53`): small, and a newer node may add keys that
/// an older one skips.
struct NodeMetadata: Equatable, Sendable {
    var dns: String?
    var http: String?
    /// The address proxy-mode services answer with for this node (`--advertise`); set only
    /// when the node runs the HTTP proxy.
    var ingress: String?
    /// The newest config version this node serves (HLC, as in `/v1/status`): `glb status`
    /// compares nodes by it.
    var config: String?
    /// Where the node is (`--location`, `lat,long` in degrees): latency routing maps a client to
    /// the nearest node and ranks clusters by that node's RTTs.
    var location: (latitude: Double, longitude: Double)?

    static func == (a: NodeMetadata, b: NodeMetadata) -> Bool {
        a.dns == b.dns && a.http == b.http && a.ingress == b.ingress && a.config == b.config
            && a.location?.latitude == b.location?.latitude && a.location?.longitude == b.location?.longitude
    }

    var bytes: [UInt8] {
        var lines: [String] = []
        if let dns { lines.append("dns=" + dns) }
        if let http { lines.append("http=" + http) }
        if let ingress { lines.append("ingress=" + ingress) }
        if let config { lines.append("config=" + config) }
        if let location { lines.append("loc=\(location.latitude),\(location.longitude)") }
        return Array(lines.joined(separator: "\n").utf8.prefix(GossipCodec.maxMetadataBytes))
    }

    init(dns: String? = nil, http: String? = nil, ingress: String? = nil, config: String? = nil,
         location: (latitude: Double, longitude: Double)? = nil) {
        self.dns = dns
        self.http = http
        self.ingress = ingress
        self.config = config
        self.location = location
    }

    init(decoding bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "dns": dns = parts[1]
            case "http": http = parts[1]
            case "ingress": ingress = parts[1]
            case "config": config = parts[1]
            case "loc":
                let degrees = parts[1].split(separator: ",").compactMap { Double($0) }
                if degrees.count == 2, (-90...90).contains(degrees[0]), (-180...180).contains(degrees[1]) {
                    location = (degrees[0], degrees[1])
                }
            default: continue
            }
        }
    }
}

extension GossipMember {
    /// The member as `GET /v1/members` shows it.
    var json: JSONValue {
        let metadata = NodeMetadata(decoding: self.metadata)
        return .object([
            ("name", .string(name)), ("region", .string(region)), ("address", .string("\(address)")),
            ("status", .string(status.description)), ("incarnation", .number(String(incarnation))),
            ("rtt_ms", rtt.map { .number(String(Double($0.microseconds / 10) / 100)) } ?? .null),
            ("dns", metadata.dns.map { .string($0) } ?? .null), ("http", metadata.http.map { .string($0) } ?? .null),
            ("ingress", metadata.ingress.map { .string($0) } ?? .null),
            ("config_version", metadata.config.map { .string($0) } ?? .null),
        ])
    }
}
