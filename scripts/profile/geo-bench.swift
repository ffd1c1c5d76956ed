// Time per DNS answer, geo against weighted, in one optimised process: the responder, the Router
// and the MaxMind lookup with nothing else (no sockets). Built and run by scripts/profile/geo.sh.
// Medians of 9 rounds of 200k queries each; compare the two lines, not the absolute numbers.
#if canImport(Glibc)
import Glibc
#endif
import GLBCore

@inline(never) @_optimize(none) func sink(_ value: Int) {}

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

struct Rng: RandomNumberGenerator {
    var state: UInt64 = 1
    mutating func next() -> UInt64 { state &+= 0x9E37_79B9_7F4A_7C15; var z = state; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; return z ^ (z >> 31) }
}

func query(_ name: [String], ecs: [UInt8]?) -> [UInt8] {
    var q: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, ecs == nil ? 0 : 1]
    for label in name { q.append(UInt8(label.utf8.count)); q += Array(label.utf8) }
    q += [0, 0, 1, 0, 1]
    if let ecs {
        let option: [UInt8] = [0, 1, 32, 0] + ecs
        q += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, UInt8(option.count + 4), 0, 8, 0, UInt8(option.count)] + option
    }
    return q
}

@main struct GeoBench {
    static func main() throws {
        let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Tests/Fixtures/geo/GeoLite2-City-Test.mmdb"
        let clusters = [ClusterInput(name: "eu", addresses: [.v4(0x0A00_0001)], continents: ["EU"]),
                        ClusterInput(name: "ap", addresses: [.v4(0x0A00_0002)], continents: ["AS"]),
                        ClusterInput(name: "any", addresses: [.v4(0x0A00_0003)])]
        let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.", nameservers: ["ns1.glb.example."], glue: [:])
        let snapshot = RoutingSnapshot(compiling: RouteInput(generation: 1, zones: [zone], services: [
            ServiceInput(name: "geo", zone: "glb.example.", policy: .geo, clusters: clusters),
            ServiceInput(name: "w", zone: "glb.example.", policy: .weighted, clusters: clusters),
        ], geo: GeoSources(database: try GeoDatabase(path: path), cidrMap: nil)))
        let cases: [(String, [UInt8])] = [
            ("weighted, ECS        ", query(["w", "glb", "example"], ecs: [81, 2, 69, 160])),
            ("geo, ECS (GB, city)  ", query(["geo", "glb", "example"], ecs: [81, 2, 69, 160])),
            ("geo, ECS (not found) ", query(["geo", "glb", "example"], ecs: [192, 0, 2, 1])),
        ]
        var responder = DNSResponder()
        var out: [UInt8] = []
        var rng = Rng()
        for (label, bytes) in cases {
            var rounds: [Double] = []
            for _ in 0..<9 {
                let start = now()
                var total = 0
                for _ in 0..<200_000 {
                    total &+= bytes.withUnsafeBytes { responder.respond(to: $0, client: .v4(0xC000_0201), overTCP: false, snapshot: snapshot, rng: &rng, into: &out) } ?? 0
                }
                sink(total)
                rounds.append(Double(now() - start) / 200_000)
            }
            rounds.sort()
            print("\(label) \(Int(rounds[4])) ns/query")
        }
    }
}
