import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// `https` clusters: the proxy verifies the origin's certificate by default, sends SNI, and a
/// certificate that fails is a failed connect (502 when there is nowhere else to go), counted.
/// The HTTPS origin is a second GLB proxy terminating TLS in front of a plain origin.
@Suite struct UpstreamTLSTests {
    @Test func aGoodCertificateIsUsedAndPooledAndABadOneIsRefusedWith502() async throws {
        let origin = try await TLSSetup.start([("origin", ["origin.glb.example"], 30)]) { $0.defaultService = "www.glb.example." }
        defer { Task { await origin.stop() } }
        // A certificate from another CA, which the proxy below does not trust, served for rogue.glb.example.
        let stranger = try await blocking { try TestPKI() }
        defer { stranger.remove() }
        let certs = origin.certs.path
        try await blocking { try stranger.issue("rogue", dnsNames: ["rogue.glb.example"], into: certs) }
        #expect(origin.store.reload().isEmpty)

        let address = origin.harness.proxy.httpsAddress!
        func https(_ service: String, serverName: String, verify: Bool = true) -> ServiceInput {
            ServiceInput(name: service, zone: "glb.example.", clusters: [
                ClusterInput(name: "tls", addresses: [address.ip], port: address.port, tls: UpstreamTLS(serverName: serverName, verify: verify)),
            ])
        }
        let proxy = try await ProxyHarness.start([
            https("good", serverName: "origin.glb.example"),
            https("wrongname", serverName: "wrong.glb.example"),        // origin's default certificate: not this name
            https("rogue", serverName: "rogue.glb.example"),            // a certificate from an unknown CA
            https("unverified", serverName: "rogue.glb.example", verify: false),
        ]) { $0.upstreamTrustRootsFile = origin.pki.caFile }
        defer { Task { await proxy.stop() } }

        let client = try await proxy.connect()
        let good = try await client.get("/a", host: "good.glb.example")
        #expect(good.status == 200)
        #expect(good.header("X-Origin") == "eu")
        #expect(good.header("X-Saw-X-Forwarded-Proto") == "https", "the origin GLB saw the request arrive over TLS")
        #expect(try await client.get("/b", host: "good.glb.example").status == 200)
        #expect(proxy.metric("glb_http_pool_reused_total") == 1, "the TLS connection to the origin was kept and reused")

        for service in ["wrongname", "rogue"] {
            let refused = try await proxy.connect().get("/", host: "\(service).glb.example")
            #expect(refused.status == 502, "\(service)")
        }
        #expect(try await proxy.connect().get("/", host: "unverified.glb.example").status == 200)
        await proxy.settle()
        let failures = proxy.metric(#"glb_tls_handshake_failures_total{reason="certificate",side="upstream"}"#) ?? 0
        #expect(failures >= 2, "each refused attempt is counted")
    }
}
