// libFuzzer entry for the DNS query path: arbitrary bytes go to `DNSResponder.respond` over UDP and
// over TCP against a small fixed snapshot. Built by scripts/fuzz-dns.sh, not by SwiftPM (the file is
// compiled into one module together with the Proxy sources, so it sees their `package` symbols).
// Besides crashes and ASan reports, it checks the invariants every response must keep.
import GLBCore

private let fuzzSnapshot = RoutingSnapshot(compiling: RouteInput(
    generation: 1,
    zones: [ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "hostmaster@glb.example",
                      nameservers: ["ns1.glb.example.", "ns.other.example."],
                      glue: ["ns1.glb.example.": [.v4(0xC000_0235), .v6(high: 0x2001_0db8_0000_0000, low: 0x53)]])],
    services: [
        ServiceInput(name: "www", zone: "glb.example.", answers: 2, clusters: [
            ClusterInput(name: "eu", addresses: [.v4(0x7F00_000B), .v6(high: 0x2001_0db8_0000_0000, low: 0xB)], weight: 90),
            ClusterInput(name: "us", addresses: [.v4(0x7F00_000C)], weight: 10, state: .draining),
            ClusterInput(name: "ca", addresses: [.v4(0x7F00_000D)], weight: 10, healthy: false),
        ], canary: CanaryInput(cluster: "us", percent: 30)),
        ServiceInput(name: "a.b", zone: "glb.example.", policy: .failover, clusters: [
            ClusterInput(name: "p0", addresses: [.v4(0x0A00_0001)], priority: 0, healthy: false),
            ClusterInput(name: "p1", addresses: [.v4(0x0A00_0002)], priority: 1),
        ]),
        ServiceInput(name: "big", zone: "glb.example.", policy: .all, clusters: [
            ClusterInput(name: "many", addresses: (1...120).map { IPAddress.v4(0x0B00_0000 + UInt32($0)) }),
        ]),
        ServiceInput(name: "closed", zone: "glb.example.", failClosed: true, clusters: [
            ClusterInput(name: "down", addresses: [.v4(0x0C00_0001)], healthy: false),
        ]),
        // geo over MaxMind's test database (run from the repository root, as the script does)
        // and a CIDR map, so ECS of every shape reaches the lookup and the scope computation.
        ServiceInput(name: "geo", zone: "glb.example.", policy: .geo, clusters: [
            ClusterInput(name: "eu", addresses: [.v4(0x0D00_0001)], continents: ["EU"]),
            ClusterInput(name: "ap", addresses: [.v4(0x0D00_0002), .v6(high: 0x2001_0db8_0000_0000, low: 2)], continents: ["AS"]),
            ClusterInput(name: "gb", addresses: [.v4(0x0D00_0003)], healthy: false, countries: ["GB"], latitude: 51.5, longitude: 0),
        ]),
    ], geo: GeoSources(database: try? GeoDatabase(path: "Tests/Fixtures/geo/GeoLite2-City-Test.mmdb"),
                       cidrMap: try? CIDRMap.parse("10.0.0.0/8 eu-west\n198.51.100.0/24 country=JP continent=AS\n"))))

/// Deterministic per input, cheap, good enough to exercise every draw.
private struct FuzzRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        return z ^ (z >> 31)
    }
}

nonisolated(unsafe) private var responder = DNSResponder()
nonisolated(unsafe) private var output: [UInt8] = []

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let query = UnsafeRawBufferPointer(start: data, count: size)
    var rng = FuzzRNG(state: UInt64(size))
    for overTCP in [false, true] {
        let client: IPAddress = overTCP ? .v6(high: 0x2001_0db8_0001_0000, low: 1) : .v4(0xC633_6407)
        guard let n = responder.respond(to: query, client: client, overTCP: overTCP, snapshot: fuzzSnapshot, rng: &rng, into: &output) else {
            precondition(size < 12 || data[2] & 0x80 != 0, "dropped a query that deserved an answer")
            continue
        }
        precondition(n == output.count && n >= 12, "bad length")
        precondition(overTCP || n <= 1232, "UDP response over 1232 bytes")
        precondition(output[0] == data[0] && output[1] == data[1], "ID not echoed")
        precondition(output[2] & 0x80 != 0 && output[3] & 0x80 == 0, "QR clear or RA set")
        precondition(output[2] & 0x01 == data[2] & 0x01, "RD not copied")
        precondition(output[2] & 0x78 == data[2] & 0x78, "opcode not copied")
    }
    return 0
}
