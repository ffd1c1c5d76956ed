import CGLBAllocCounter
import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// `geo` and `latency` keep the query path allocation-free: the MaxMind lookup, the in-place
/// record read, the CIDR map and the level walk all run on preallocated scratch.
@Suite struct GeoAllocationTests {
    @Test func geoAndLatencyAnswersAllocateNothingOnceWarm() throws {
        let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.",
                             nameservers: ["ns1.glb.example."], glue: [:])
        let clusters = [
            ClusterInput(name: "eu", region: "eu-west", addresses: [ip("10.0.0.1"), ip("2001:db8::1")], continents: ["EU"]),
            ClusterInput(name: "ap", region: "ap-northeast", addresses: [ip("10.0.0.2")], healthy: false, continents: ["AS"],
                         latitude: 35.6, longitude: 139.6),
            ClusterInput(name: "any", region: "us-east", addresses: [ip("10.0.0.3")], latitude: 40.7, longitude: -74),
        ]
        let latency = LatencyInput(localNode: "n1", nodes: [.init(name: "n1", region: "eu-west", latitude: 51.5, longitude: 0)],
                                   samples: [.init(node: "n1", service: "near.glb.example.", cluster: "ap", rtt: .milliseconds(5)),
                                             .init(node: "n1", service: "near.glb.example.", cluster: "eu", rtt: .milliseconds(9))])
        let snapshot = RoutingSnapshot(compiling: RouteInput(
            generation: 1, zones: [zone],
            services: [ServiceInput(name: "geo", zone: "glb.example.", policy: .geo, clusters: clusters),
                       ServiceInput(name: "near", zone: "glb.example.", policy: .latency, clusters: clusters)],
            geo: GeoSources(database: try GeoFixtures.open("GeoLite2-City-Test.mmdb"),
                            cidrMap: try CIDRMap.parse("10.7.0.0/16 lat=35.7 long=139.7\n10.1.0.0/16 eu-west\n")),
            latency: latency))
        let queries: [[UInt8]] = [
            QueryBuilder(name: "geo.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 32, address: [81, 2, 69, 160])])).bytes,
            QueryBuilder(name: "geo.glb.example.", type: 28, edns: (1232, 0, false, [QueryBuilder.ecs(family: 2, source: 32, address: [0x20, 0x01, 0x02, 0x18])])).bytes,
            QueryBuilder(name: "geo.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 16, address: [10, 7])])).bytes,
            QueryBuilder(name: "geo.glb.example.").bytes,
            QueryBuilder(name: "near.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 24, address: [89, 160, 20])])).bytes,
            QueryBuilder(name: "near.glb.example.").bytes,
        ]
        var responder = DNSResponder()
        var rng = SplitMix64(seed: 5)
        var out: [UInt8] = []
        var total = 0
        func run(_ rounds: Int) {
            for _ in 0..<rounds {
                for i in 0..<queries.count {
                    total &+= queries[i].withUnsafeBytes { responder.respond(to: $0, client: .v4(0x0A01_0203), overTCP: false, snapshot: snapshot, rng: &rng, into: &out) } ?? 0
                }
            }
        }
        run(1)
        let allocations = withoutThrowHooks { () -> UInt64 in
            let before = cglb_thread_allocations()
            run(500)
            return cglb_thread_allocations() - before
        }
        #expect(allocations == 0, "\(allocations) allocations in \(500 * queries.count) geo/latency queries")
        #expect(total > 0)
    }
}
