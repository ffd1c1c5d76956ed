import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// TLS termination over loopback, with `openssl s_client` and `curl` as clients and certificates
/// made at test time by `TestPKI`. Integration tests: real sockets and real handshakes, but no
/// sleeps; every wait is a child process exiting or a bounded read.
@Suite struct TLSTerminationTests {
    @Test func twoNamesGetTwoCertificatesAndNoSNIGetsTheDefault() async throws {
        let setup = try await TLSSetup.start([("default", ["fallback.glb.example"], 30), ("www", ["www.glb.example"], 30),
                                              ("api", ["api.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        #expect(try await setup.subject(for: "www.glb.example") == "CN = www.glb.example")
        #expect(try await setup.subject(for: "api.glb.example") == "CN = api.glb.example")
        #expect(try await setup.subject(for: "API.GLB.Example") == "CN = api.glb.example", "SNI is matched without case (RFC 6066 §3)")
        #expect(try await setup.subject(for: nil) == "CN = fallback.glb.example", "no SNI: the certificate named default")
        #expect(try await setup.subject(for: "unknown.glb.example") == "CN = fallback.glb.example")
        #expect(setup.store.certificates.filter(\.isDefault).map(\.name) == ["default"])
    }

    @Test func aWildcardCoversExactlyOneLabelAndAnExactNameBeatsIt() async throws {
        let setup = try await TLSSetup.start([("a-fallback", ["fallback.glb.example"], 30), ("wild", ["*.api.glb.example"], 30),
                                              ("exact", ["exact.api.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        #expect(try await setup.subject(for: "x.api.glb.example") == "CN = *.api.glb.example")
        #expect(try await setup.subject(for: "exact.api.glb.example") == "CN = exact.api.glb.example")
        // RFC 6125 §6.4.3: `*` stands for one whole label, so neither the parent nor a deeper name.
        #expect(try await setup.subject(for: "a.b.api.glb.example") == "CN = fallback.glb.example")
        #expect(try await setup.subject(for: "api.glb.example") == "CN = fallback.glb.example", "the first file is the default without default.*")
    }

    @Test func anHTTPSRequestTakesTheProxyPathWithHTTP11AndForwardedProtoHTTPS() async throws {
        let setup = try await TLSSetup.start([("www", ["www.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        let result = try await setup.curl("/hello", ["-w", "\nversion=%{http_version}"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("HTTP/1.1 200"), "\(result.output)")
        #expect(result.output.contains("X-Origin: eu"))
        #expect(result.output.contains("X-Saw-X-Forwarded-Proto: https"))
        #expect(result.output.contains("GET /hello"))
        #expect(result.output.hasSuffix("version=1.1"), "ALPN picked http/1.1 from curl's h2,http/1.1")
        await setup.harness.settle()
        #expect(setup.harness.metric(#"glb_tls_handshakes_total{resumed="false"}"#) == 1)
        #expect(setup.harness.metric(#"glb_http_requests_total{cluster="eu",code="2xx",service="www.glb.example"}"#) == 1)
    }

    @Test func tls10And11AreRefusedAndCountedWhile12And13Work() async throws {
        let setup = try await TLSSetup.start([("www", ["www.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        // SECLEVEL=0 lets the client offer the old versions at all (OpenSSL 3 refuses them by
        // default), so the refusal seen here is the server's (RFC 8996).
        for old in ["-tls1", "-tls1_1"] {
            let result = try await setup.handshake("www.glb.example", [old, "-cipher", "DEFAULT@SECLEVEL=0"])
            #expect(result.status != 0, "\(old) was accepted: \(result.output)")
        }
        for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
            let result = try await setup.handshake("www.glb.example", [flag])
            #expect(result.status == 0)
            #expect(result.output.contains("New, \(version), Cipher is"), "\(result.output)")
        }
        // RFC 7301 §3.2: offering only protocols GLB does not speak ends in no_application_protocol.
        let h2 = try await setup.handshake("www.glb.example", ["-alpn", "h2"])
        #expect(h2.status != 0)
        let port = setup.httpsPort
        let plain = try await blocking { try TestPKI.command("/usr/bin/curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/"]) }
        #expect(plain.status != 0, "plain HTTP to the TLS port gets no HTTP answer")
        await setup.harness.settle()
        #expect(setup.harness.metric(#"glb_tls_handshake_failures_total{reason="protocol_version",side="client"}"#) == 2)
        #expect(setup.harness.metric(#"glb_tls_handshake_failures_total{reason="alpn",side="client"}"#) == 1)
        #expect(setup.harness.metric(#"glb_tls_handshake_failures_total{reason="plaintext_http",side="client"}"#) == 1)
        #expect(setup.harness.metric(#"glb_tls_handshakes_total{resumed="false"}"#) == 2)
    }

    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func sessionTicketsResumeAcrossOneKeyRotationButNotTwo(_ version: String) async throws {
        let setup = try await TLSSetup.start([("www", ["www.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        let ticket = setup.certs.file("session\(version).pem")
        let request = "GET / HTTP/1.0\r\nHost: www.glb.example\r\n\r\n"     // 1.0: the proxy closes after the answer
        let first = try await setup.handshake("www.glb.example", [version, "-sess_out", ticket], request: request)
        #expect(first.output.contains(" 200 OK"), "\(first.output)")
        let resumed = try await setup.handshake("www.glb.example", [version, "-sess_in", ticket])
        #expect(resumed.output.contains("Reused, "), "\(resumed.output)")
        setup.store.rotateTicketKeys()                 // the ticket's key is now the previous one: still good
        let afterOne = try await setup.handshake("www.glb.example", [version, "-sess_in", ticket])
        #expect(afterOne.output.contains("Reused, "), "\(afterOne.output)")
        setup.store.rotateTicketKeys()                 // and now it is gone: a full handshake
        let afterTwo = try await setup.handshake("www.glb.example", [version, "-sess_in", ticket])
        #expect(afterTwo.output.contains("New, "), "\(afterTwo.output)")
        await setup.harness.settle()
        #expect(setup.harness.metric(#"glb_tls_handshakes_total{resumed="true"}"#) == 2)
    }

    /// The "silent" client sends the first bytes of a TLS record header and then nothing: the
    /// listener defers accept until a connection has data (TCP_DEFER_ACCEPT), so a client that
    /// never sends a byte is the kernel's to time out, not the handshake timer's.
    @Test func aSilentClientIsCutAtTheHandshakeTimeoutAndGarbageIsClosed() async throws {
        let clock = ManualClock(wallMilliseconds: SystemClock().wallMilliseconds)
        let setup = try await TLSSetup.start([("www", ["www.glb.example"], 30)], clock: clock) { $0.handshakeTimeout = .seconds(10) }
        defer { Task { await setup.stop() } }
        let address = setup.harness.proxy.httpsAddress!
        let silent = try await RawClient.connect(to: address)
        try await blocking { try silent.sendNow([0x16, 0x03]) }      // half a record header
        let noisy = try await RawClient.connect(to: address)
        var garbage = SplitMix64(seed: 6)
        try await noisy.send(String(decoding: (0..<512).map { _ in UInt8(truncatingIfNeeded: garbage.next() % 95 + 32) }, as: UTF8.self))
        #expect(try await noisy.waitForClose(), "bytes that are no ClientHello end the connection")
        await setup.harness.settle()
        clock.advance(by: .seconds(11))
        setup.harness.group.loops[0].wakeUp()
        #expect(try await silent.waitForClose())
        await setup.harness.settle()
        #expect(setup.harness.metric(#"glb_tls_handshake_failures_total{reason="timeout",side="client"}"#) == 1)
        #expect(setup.harness.metric("glb_http_client_connections") == 0)
    }
}
