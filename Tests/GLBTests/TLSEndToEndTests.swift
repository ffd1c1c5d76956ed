import Foundation
import GLBCore
import GLBTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// TLS termination end to end, with the real binary: `glb agent --https --certs`, `curl --resolve ...
/// --cacert` through it to a healthy cluster, an expired certificate in /v1/status, /metrics and
/// `glb status`, and a SIGHUP reload. Waits on the child's log lines and exits, never on time.
@Suite struct TLSEndToEndTests {
    /// Reads the child's log until a line contains `text`; returns that line.
    static func logLine(_ child: AgentProcessTests.Child, containing text: String, within limit: Duration = .seconds(20)) async throws -> String {
        try await offPool {
            let clock = SystemClock(), deadline = clock.now + limit
            while true {
                if let line = child.log.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
                // Bounded: a line that never comes fails the test instead of hanging the suite.
                var pfd = pollfd(fd: child.stderr.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
                let remaining = deadline - clock.now
                guard remaining > .zero, poll(&pfd, 1, CInt(max(1, remaining.milliseconds))) == 1 else {
                    throw AgentProcessTests.Failure("no log line containing \(text) within \(limit):\n\(child.log)")
                }
                let chunk = child.stderr.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw AgentProcessTests.Failure("the agent exited before logging \(text):\n\(child.log)") }
                child.log += String(decoding: chunk, as: UTF8.self)
            }
        }
    }

    @Test func curlReachesAHealthyClusterOverHTTPSAndExpiryAndReloadAreReported() async throws {
        let pki = try await offPool { try TestPKI() }
        defer { pki.remove() }
        let data = try TempDirectory(), certs = try TempDirectory(prefix: "glb-certs")
        defer { data.remove(); certs.remove() }
        try await offPool {
            try pki.issue("www", dnsNames: ["www.glb.example"], into: certs.path)
            try pki.issue("old", dnsNames: ["old.glb.example"], days: -1, into: certs.path)
        }
        let origin = try TestOrigin(name: "eu-origin", ip: "127.0.0.1")
        try await origin.start()
        defer { Task { await origin.stop() } }

        let child = try AgentProcessTests.Child(["agent", "--data", data.path, "--zone", "glb.example.", "--admin", "127.0.0.1:0",
                                                 "--https", "127.0.0.1:0", "--certs", certs.path, "--node", "n1", "--loops", "1"])
        defer { kill(child.process.processIdentifier, SIGKILL) }
        let admin = try await offPool { try child.waitUntilReady() }
        let ready = try JSONParser.parse(try await Self.logLine(child, containing: "glb agent ready"))
        let https = try #require(ready["https"]?.stringValue.flatMap(SocketAddress.init(parsing:)))
        #expect(try await Self.logLine(child, containing: "certificate expired").contains(#""name":"old""#))

        #expect(try await AgentProcessTests.send("PUT", "/v1/services/www", #"{"zone":"glb.example."}"#, to: admin).status == 201)
        #expect(try await AgentProcessTests.send("PUT", "/v1/services/www/clusters/eu", origin.clusterBody(region: "eu-west"), to: admin).status == 201)

        _ = try await Self.logLine(child, containing: #""to":"up""#)      // the cluster is healthy
        let curl = try await offPool {
            try TestPKI.command("/usr/bin/curl", ["-sS", "--max-time", "20", "--resolve", "www.glb.example:\(https.port):127.0.0.1",
                                                  "https://www.glb.example:\(https.port)/", "--cacert", pki.caFile])
        }
        #expect(curl.status == 0)
        #expect(curl.output == "eu-origin\n")

        let status = try JSONParser.parse(try await AgentProcessTests.send("GET", "/v1/status", to: admin).body)
        let certificates = status["tls_certificates"]?.arrayValue ?? []
        let old = try #require(certificates.first { $0["name"]?.stringValue == "old" })
        #expect(old["state"]?.stringValue == "expired")
        #expect((old["days_to_expiry"]?.intValue ?? 0) < 0)
        #expect(certificates.first { $0["name"]?.stringValue == "www" }?["state"]?.stringValue == "ok")
        let metrics = String(decoding: try await AgentProcessTests.send("GET", "/metrics", to: admin).body, as: UTF8.self)
        #expect(metrics.contains(#"glb_tls_certificate_expiry_days{name="old"} -"#))
        #expect(metrics.contains(#"glb_tls_handshakes_total{resumed="false"} 1"#))

        let cli = try await offPool { try TestPKI.command(AgentProcessTests.binary, ["status", "--admin", "\(admin)"]) }
        #expect(cli.output.contains("CERTIFICATE"), "\(cli.output)")
        #expect(cli.output.contains("EXPIRED"), "\(cli.output)")

        // SIGHUP: a new certificate is served without a restart.
        try await offPool { try pki.issue("api", dnsNames: ["api.glb.example"], into: certs.path) }
        kill(child.process.processIdentifier, SIGHUP)
        #expect(try await Self.logLine(child, containing: "certificates loaded").contains("api,old,www"))
        let api = try await offPool { try TestPKI.handshake(port: https.port, serverName: "api.glb.example") }
        #expect(api.output.contains("subject=CN = api.glb.example"))

        kill(child.process.processIdentifier, SIGTERM)
        try await offPool { child.process.waitUntilExit() }
        #expect(child.process.terminationStatus == 0)
    }

    @Test func sighupWithoutHTTPSIsLoggedAndTheNodeKeepsServing() async throws {
        let data = try TempDirectory()
        defer { data.remove() }
        let (child, admin) = try await AgentProcessTests.start(data.path)
        defer { kill(child.process.processIdentifier, SIGKILL) }
        kill(child.process.processIdentifier, SIGHUP)       // what `systemctl reload glb` sends
        _ = try await Self.logLine(child, containing: "SIGHUP: nothing to reload")
        #expect(try await AgentProcessTests.send("GET", "/healthz", to: admin).status == 200)
        kill(child.process.processIdentifier, SIGTERM)
        try await offPool { child.process.waitUntilExit() }
        #expect(child.process.terminationStatus == 0)
    }
}
