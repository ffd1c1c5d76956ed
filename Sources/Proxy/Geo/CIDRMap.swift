package import GLBCore

/// The operator's own client map: networks to a region (and optionally a country, continent or
/// coordinates), longest prefix wins. For private networks no database knows, and for resolvers
/// that send no EDNS Client Subnet (their address then stands for all their clients). It is
/// consulted before the MaxMind database and overrides it.
///
/// File format (`--geo-cidr-map FILE`), one network a line, `#` starts a comment:
///
///     10.1.0.0/16      eu-west                      # a bare word is the region
///     10.2.0.0/16      region=us-east country=US continent=NA
///     192.0.2.0/24     country=GB lat=51.5 long=-0.12
///
/// Lookups hash the masked address once per distinct prefix length, longest first, so they cost
/// at most 33 (IPv4) or 129 (IPv6) hash probes and allocate nothing.
package final class CIDRMap: Sendable {
    /// One network and where its clients are.
    package struct Entry: Sendable, Hashable {
        /// The network address (zero past `prefix`).
        package var network: IPAddress
        package var prefix: UInt8
        /// A cluster region its clients belong to ("" if none).
        package var region: String
        /// A country, or unknown.
        package var country: GeoCode
        /// A continent, or unknown.
        package var continent: GeoCode
        /// Coordinates, NaN if not given.
        package var latitude: Double, longitude: Double

        /// `10.1.0.0/16 eu-west`, as in the file.
        package var description: String {
            var parts = ["\(network)/\(prefix)"]
            if !region.isEmpty { parts.append("region=\(region)") }
            if country.isKnown { parts.append("country=\(country)") }
            if continent.isKnown { parts.append("continent=\(continent)") }
            if !latitude.isNaN { parts.append("lat=\(latitude) long=\(longitude)") }
            return parts.joined(separator: " ")
        }
    }

    /// A line the parser refused: which one and why.
    package struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// 1-based line number.
        package var line: Int
        /// What is wrong, worded for the operator.
        package var message: String
        package var description: String { "line \(line): \(message)" }
    }

    /// The entries, in file order.
    package let entries: [Entry]
    private let v4: [(prefix: UInt8, table: [UInt32: Int32])]
    private let v6: [(prefix: UInt8, table: [IPAddress: Int32])]

    /// The longest IPv4 / IPv6 prefix in the map: any two addresses that agree on this many
    /// leading bits match the same entries, so it is the ECS scope a decision from the map can
    /// claim (RFC 7871 §7.2.1).
    package let longestV4: UInt8, longestV6: UInt8

    /// A map of `entries`; a later duplicate network replaces an earlier one.
    package init(entries: [Entry]) {
        self.entries = entries
        var v4: [UInt8: [UInt32: Int32]] = [:], v6: [UInt8: [IPAddress: Int32]] = [:]
        for (index, entry) in entries.enumerated() {
            switch entry.network.masked(toPrefix: Int(entry.prefix)) {
            case .v4(let a): v4[entry.prefix, default: [:]][a] = Int32(index)
            case let address: v6[entry.prefix, default: [:]][address] = Int32(index)
            }
        }
        self.v4 = v4.sorted { $0.key > $1.key }.map { (prefix: $0.key, table: $0.value) }
        self.v6 = v6.sorted { $0.key > $1.key }.map { (prefix: $0.key, table: $0.value) }
        longestV4 = self.v4.first?.prefix ?? 0
        longestV6 = self.v6.first?.prefix ?? 0
    }

    /// The index in `entries` of the longest network containing `address`, or nil.
    @inline(__always)
    package func lookup(_ address: IPAddress) -> Int? {
        switch address {
        case .v4(let a):
            var k = 0
            while k < v4.count {
                let p = v4[k].prefix
                if let hit = v4[k].table[p == 0 ? 0 : a & (UInt32.max << (32 - UInt32(p)))] { return Int(hit) }
                k += 1
            }
        case .v6:
            var k = 0
            while k < v6.count {
                if let hit = v6[k].table[address.masked(toPrefix: Int(v6[k].prefix))] { return Int(hit) }
                k += 1
            }
        }
        return nil
    }

    /// Parses the file format above. Every mistake names its line; nothing is half-loaded.
    package static func parse(_ text: String) throws(ParseError) -> CIDRMap {
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = fields.first else { continue }
            let parts = first.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let address = IPAddress(String(parts[0])), let prefix = UInt8(parts[1]),
                  prefix <= (address.isIPv4 ? 32 : 128) else {
                throw ParseError(line: line, message: "expected a network such as 10.1.0.0/16 or 2001:db8::/32, got \"\(first)\"")
            }
            let network = address.masked(toPrefix: Int(prefix))
            guard network == address else {
                throw ParseError(line: line, message: "\(first) has bits set past /\(prefix): did you mean \(network)/\(prefix)?")
            }
            var entry = Entry(network: network, prefix: prefix, region: "", country: .unknown, continent: .unknown,
                              latitude: .nan, longitude: .nan)
            for field in fields.dropFirst() {
                // Empty pieces kept: "=" and "region=" are errors below, never an index past the end.
                let pair = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = pair.count == 2 ? String(pair[0]) : "region"
                let value = String(pair.count == 2 ? pair[1] : pair[0])
                guard !key.isEmpty else { throw ParseError(line: line, message: "\"\(field)\" has no key: write key=value (region, country, continent, lat, lon)") }
                switch key {
                case "region":
                    guard (1...63).contains(value.utf8.count) else { throw ParseError(line: line, message: "region \"\(value)\" must be 1-63 characters") }
                    entry.region = value
                case "country":
                    guard let code = GeoCode(value) else { throw ParseError(line: line, message: "country must be an ISO 3166-1 alpha-2 code such as GB, got \"\(value)\"") }
                    entry.country = code
                case "continent":
                    guard let code = GeoCode(value), GeoCode.continents.contains(code) else {
                        throw ParseError(line: line, message: "continent must be one of AF AN AS EU NA OC SA, got \"\(value)\"")
                    }
                    entry.continent = code
                case "lat", "latitude":
                    guard let degrees = Double(value), (-90...90).contains(degrees) else { throw ParseError(line: line, message: "lat must be -90...90, got \"\(value)\"") }
                    entry.latitude = degrees
                case "long", "longitude", "lon":
                    guard let degrees = Double(value), (-180...180).contains(degrees) else { throw ParseError(line: line, message: "long must be -180...180, got \"\(value)\"") }
                    entry.longitude = degrees
                default:
                    throw ParseError(line: line, message: "unknown key \"\(key)\" (expected region, country, continent, lat, long)")
                }
            }
            guard entry.latitude.isNaN == entry.longitude.isNaN else { throw ParseError(line: line, message: "give both lat and long, or neither") }
            guard !entry.region.isEmpty || entry.country.isKnown || entry.continent.isKnown || !entry.latitude.isNaN else {
                throw ParseError(line: line, message: "\(first) says nothing: add a region (10.1.0.0/16 eu-west) or country=, continent=, lat=/long=")
            }
            let key = "\(network)/\(prefix)"
            if let earlier = seen[key] { throw ParseError(line: line, message: "\(key) is already mapped on line \(earlier)") }
            seen[key] = line
            entries.append(entry)
        }
        return CIDRMap(entries: entries)
    }
}
