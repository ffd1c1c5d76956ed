import GLBCore
import GLBTestSupport
import Proxy
import Testing

@Suite struct SnapshotTests {
    @Test func publisherGenerationSemantics() {
        let publisher = SnapshotPublisher(RoutingSnapshot(compiling: testInput(generation: 1)))
        var cached = publisher.snapshot
        #expect(!publisher.refresh(&cached), "unchanged generation: nothing to do")
        let second = RoutingSnapshot(compiling: testInput(generation: 2))
        #expect(publisher.publish(second))
        #expect(publisher.generation == 2)
        #expect(publisher.refresh(&cached) && cached === second)
        #expect(!publisher.refresh(&cached))
        // A late, older compile never rolls loops back.
        #expect(!publisher.publish(RoutingSnapshot(compiling: testInput(generation: 1))))
        #expect(publisher.generation == 2 && publisher.snapshot === second)
    }

    @Test func compileReportsProblemsAndKeepsTheRest() {
        var input = testInput()
        input.services.append(ServiceInput(name: "orphan", zone: "other.example.", clusters: []))
        input.services.append(ServiceInput(name: "www", zone: "glb.example.", clusters: []))
        input.services.append(ServiceInput(name: "bad..name", zone: "glb.example.", clusters: []))
        input.services[0].canary = CanaryInput(cluster: "missing", percent: 5)
        let snapshot = RoutingSnapshot(compiling: input)
        #expect(snapshot.problems.count == 4, "\(snapshot.problems)")
        #expect(snapshot.service(named: "www.glb.example") == 0)
        #expect(snapshot.services[0].canaryCluster == -1)
    }

    @Test func aProxyModeServiceAnswersDNSWithItsIngressNodesAndProxiesByItsClusters() {
        var input = testInput()
        input.services = [ServiceInput(name: "www", zone: "glb.example.", policy: .all, clusters: [
            ClusterInput(name: "eu", addresses: [ip("192.0.2.1")]), ClusterInput(name: "us", addresses: [ip("192.0.2.2")]),
        ], canary: CanaryInput(cluster: "us", percent: 10), ingress: [
            ClusterInput(name: "node-a", addresses: [ip("198.51.100.1")]), ClusterInput(name: "node-b", addresses: [ip("198.51.100.2")]),
        ])]
        let snapshot = RoutingSnapshot(compiling: input)
        #expect(snapshot.problems.isEmpty, "\(snapshot.problems)")
        let dns = snapshot.service(named: "www.glb.example")!
        let proxy = snapshot.service(named: "www.glb.example", forProxy: true)!
        #expect(dns != proxy)
        #expect(snapshot.endpoints[snapshot.services[dns].v4].map(\.address) == [ip("198.51.100.1"), ip("198.51.100.2")])
        #expect(snapshot.endpoints[snapshot.services[proxy].v4].map(\.address) == [ip("192.0.2.1"), ip("192.0.2.2")])
        #expect(snapshot.services[proxy].canaryCluster >= 0 && snapshot.services[dns].canaryCluster == -1, "the canary splits proxied requests")
        var scratch: [UInt8] = []
        #expect(snapshot.service(host: Array("WWW.glb.example:8080".utf8), scratch: &scratch) == proxy, "Host routing takes the cluster route")
    }

    @Test func aClusterOnlyThisNodeCannotReachKeepsItsQuorumHealthForDNS() {
        var input = testInput()
        input.services = [ServiceInput(name: "www", zone: "glb.example.", clusters: [
            ClusterInput(name: "eu", addresses: [ip("192.0.2.1")], healthy: true, locallyHealthy: false),
        ])]
        let snapshot = RoutingSnapshot(compiling: input)
        #expect(snapshot.clusters[0].healthy && !snapshot.clusters[0].locallyHealthy)
        #expect(snapshot.endpoints[0].healthy && !snapshot.endpoints[0].locallyHealthy)
    }

    @Test func compilesTenThousandServicesOfTenClusters() throws {
        let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.", nameservers: ["ns1.glb.example."], glue: [:])
        var services: [ServiceInput] = []
        services.reserveCapacity(10_000)
        for s in 0..<10_000 {
            let clusters = (0..<10).map { c in
                ClusterInput(name: "c\(c)", addresses: [.v4(0x0A00_0000 | UInt32(s) << 8 | UInt32(c))], weight: 10,
                             priority: c % 3, healthy: c != 0)
            }
            services.append(ServiceInput(name: "svc\(s).team\(s % 50)", zone: "glb.example.", policy: s % 2 == 0 ? .weighted : .failover, clusters: clusters))
        }
        let snapshot = RoutingSnapshot(compiling: RouteInput(generation: 7, zones: [zone], services: services))
        #expect(snapshot.problems.isEmpty)
        #expect(snapshot.services.count == 10_000 && snapshot.clusters.count == 100_000 && snapshot.endpoints.count == 100_000)
        // 10,000 services + 50 empty non-terminals + the apex.
        #expect(snapshot.names.count == 10_051)
        var responder = DNSResponder()
        var rng = SplitMix64(seed: 5)
        var out: [UInt8] = []
        for s in stride(from: 0, to: 10_000, by: 997) {
            let query = QueryBuilder(name: "SVC\(s).team\(s % 50).glb.example.").bytes
            _ = query.withUnsafeBytes { responder.respond(to: $0, client: ip("192.0.2.1"), overTCP: false, snapshot: snapshot, rng: &rng, into: &out) }
            let r = Response(out)
            #expect(r.rcode == 0 && r.addresses.count == 1)
            let address = try #require(r.addresses.first)
            guard case .v4(let a) = address else { Issue.record("not v4"); continue }
            #expect(a >> 8 == 0x0A0000 | UInt32(s), "answer belongs to service \(s)")
            #expect(a & 0xFF != 0, "cluster 0 is down")
            if s % 2 == 1 { #expect(a & 0xFF == 3 || a & 0xFF == 6 || a & 0xFF == 9, "failover: tier 0 without the down cluster") }
        }
        let ent = QueryBuilder(name: "team7.glb.example.").bytes
        #expect(answer(ent, snapshot: snapshot)?.rcode == 0)
        #expect(answer(QueryBuilder(name: "svc10000.team0.glb.example.").bytes, snapshot: snapshot)?.rcode == 3)
    }
}
