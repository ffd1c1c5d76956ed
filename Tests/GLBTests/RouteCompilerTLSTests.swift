import GLBCore
import Proxy
import Store
import Testing
@testable import GLB

/// How a cluster's TLS settings reach the routing snapshot the proxy reads.
@Suite struct RouteCompilerTLSTests {
    @Test func anHTTPSClusterGetsTheServiceNameAsSNIUnlessOneIsConfigured() {
        let clusters = [
            Cluster(service: "www", name: "plain", region: "eu-west", addresses: ["10.0.0.1"], port: 80),
            Cluster(service: "www", name: "secure", region: "eu-west", addresses: ["10.0.0.2"], port: 443, tls: true),
            Cluster(service: "www", name: "named", region: "eu-west", addresses: ["10.0.0.3"], port: 443, tls: true,
                    tlsServerName: "origin.example.com", tlsVerify: false),
        ]
        let config = ConfigSnapshot(version: .zero, zones: [Zone(name: "glb.example.")], services: [Service(name: "www", zone: "glb.example.")],
                                    clusters: clusters, canaries: [], nodes: [])
        var compiler = RouteCompiler()
        let input = compiler.compile(config)
        let tls = Dictionary(uniqueKeysWithValues: input.services[0].clusters.map { ($0.name, $0.tls) })
        #expect(tls["plain"]! == nil)
        #expect(tls["secure"]! == UpstreamTLS(serverName: "www.glb.example", verify: true), "the FQDN without the root's dot (RFC 6066 §3)")
        #expect(tls["named"]! == UpstreamTLS(serverName: "origin.example.com", verify: false))
        let snapshot = RoutingSnapshot(compiling: input)
        #expect(snapshot.clusters.map(\.tls) == [nil, UpstreamTLS(serverName: "www.glb.example"), UpstreamTLS(serverName: "origin.example.com", verify: false)])
    }
}
