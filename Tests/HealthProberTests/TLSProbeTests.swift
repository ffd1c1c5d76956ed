import GLBCore
import GLBTestSupport
import HealthProber
import Testing

/// HTTPS probes against `openssl s_server` with a self-signed certificate: the handshake runs on
/// a non-blocking socket driven by the loop, and verification decides the verdict.
@Suite(.serialized) struct TLSProbeTests {
    @Test func aSelfSignedCertificateFailsVerificationAgainstTheSystemStore() throws {
        let origin = try TLSOrigin()
        defer { origin.stop() }
        let harness = try ManualLoop()
        let result = harness.probe(.loopback(.https, port: origin.port) { $0.path = "/" }, tls: try TLSContext())
        #expect(result?.failure?.reason == .certificate)
        #expect(result?.failure?.detail.contains("self-signed") == true, "\(String(describing: result))")
        #expect(harness.loop.registeredCount == 0)
    }

    @Test func tlsVerifyFalseAcceptsTheSameServer() throws {
        let origin = try TLSOrigin()
        defer { origin.stop() }
        let harness = try ManualLoop()
        let result = harness.probe(.loopback(.https, port: origin.port) { $0.path = "/"; $0.tlsVerify = false }, tls: try TLSContext())
        #expect(result?.isSuccess == true, "\(String(describing: result))")
    }

    @Test(arguments: [(nil, true), ("localhost", true), ("wrong.example", false)] as [(String?, Bool)])
    func withTheCertificateTrustedTheNameMustMatch(host: String?, passes: Bool) throws {
        let origin = try TLSOrigin()
        defer { origin.stop() }
        let harness = try ManualLoop()
        let tls = try TLSContext(trustRootsFile: origin.certificateFile)
        // nil: no SNI, and the certificate must carry the probed IP (it has SAN IP 127.0.0.1).
        let result = harness.probe(.loopback(.https, port: origin.port) { $0.path = "/"; $0.host = host }, tls: tls)
        if passes {
            #expect(result?.isSuccess == true, "\(String(describing: result))")
        } else {
            #expect(result?.failure?.reason == .certificate)
            #expect(result?.failure?.detail.contains("hostname mismatch") == true, "\(String(describing: result))")
        }
    }

    @Test func aPlainHTTPServerFailsTheHandshake() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 200, body: ""))
        defer { origin.close() }
        let result = harness.probe(.loopback(.https, port: origin.address.port), tls: try TLSContext())
        #expect(result?.failure?.reason == .tlsHandshake, "\(String(describing: result))")
    }
}
