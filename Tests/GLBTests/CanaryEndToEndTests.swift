import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// Canary splits through the REST API, the CLI and DNS answers.
@Suite(.serialized) struct CanaryEndToEndTests {
    /// An A query for www.glb.example. carrying EDNS Client Subnet `a.b.c.0/24` (RFC 7871 §6).
    static func ecsQuery(_ a: UInt8, _ b: UInt8, _ c: UInt8, id: UInt16) -> [UInt8] {
        let option: [UInt8] = [0, 8, 0, 7, 0, 1, 24, 0, a, b, c]
        let opt: [UInt8] = [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, UInt8(option.count)] + option
        return DNSEndToEndTests.query("www.glb.example", id: id, additional: opt, arcount: 1)
    }

    /// The first A record's address in a response to `ecsQuery`.
    static func firstAddress(_ reply: [UInt8]) -> String? {
        let answer = 12 + 17 + 4          // header, QNAME www.glb.example. (17 bytes), QTYPE + QCLASS
        guard reply.count >= answer + 16, reply[7] >= 1 else { return nil }
        return reply[(answer + 12)..<(answer + 16)].map(String.init).joined(separator: ".")
    }

    @Test func tenPercentOfSubnetsGetTheCanaryAndEachSubnetKeepsItsSide() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await DNSEndToEndTests.start(dir)
        let server = try #require(agent.dns)
        let set = try await agent.request("PUT", "/v1/services/www/canary", body: #"{"cluster":"us","percent":10}"#)
        #expect(set.status == 201)

        var canary = 0
        let subnets = 400
        for i in 0..<subnets {
            let (b, c) = (UInt8(i / 200), UInt8(i % 200))
            let first = try #require(try await DNSEndToEndTests.exchange(Self.ecsQuery(10, b, c, id: UInt16(i)), with: server))
            let again = try #require(try await DNSEndToEndTests.exchange(Self.ecsQuery(10, b, c, id: UInt16(i)), with: server))
            let side = try #require(Self.firstAddress(first))
            #expect(Self.firstAddress(again) == side, "subnet 10.\(b).\(c).0/24 keeps its side")
            #expect(side == "127.0.0.11" || side == "127.0.0.12")
            if side == "127.0.0.12" { canary += 1 }
        }
        // Binomial(400, 0.1): mean 40, sd 6; ±24 is four standard deviations.
        #expect((16...64).contains(canary), "\(canary) of \(subnets) subnets on the canary")
        try await agent.stop()
        await origins.stop()
    }

    @Test func setStatusPromoteAndAbortAreAuditedAndShowInStatus() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await DNSEndToEndTests.start(dir)
        let console = BufferConsole()
        let cli = CLI(console: console, environment: ["GLB_ADMIN": "\(agent.address)"])
        let executor = CLICommandTests.BlockingWorkExecutor()
        func run(_ argv: [String]) async -> ExitCode {
            await withTaskExecutorPreference(executor) { await cli.run(argv) }
        }

        #expect(await run(["canary", "set", "www", "--cluster", "us", "--percent", "10"]) == .success)
        #expect(console.stdout.contains("canary of www: us gets 10% of clients"))
        #expect(await run(["canary", "status", "www"]) == .success)
        #expect(console.stdout.contains("us gets 10% of clients"))
        #expect(await run(["status"]) == .success)
        #expect(console.stdout.contains("10%"), "glb status shows the canary share")
        #expect(await run(["canary", "set", "www", "--cluster", "nope", "--percent", "10"]) == .notFound)
        #expect(await run(["canary", "set", "www", "--cluster", "us", "--percent", "101"]) == .usage)

        #expect(await run(["canary", "set", "www", "--cluster", "us", "--percent", "25"]) == .success)
        let audit = try await agent.request("GET", "/v1/audit?entity=canary")
        let latest = try #require(audit.json?["entries"]?.arrayValue?.first)
        #expect(latest["old_value"]?.stringValue?.contains("\"percent\":10") == true, "the audit keeps the old share")
        #expect(latest["new_value"]?.stringValue?.contains("\"percent\":25") == true, "and the new one")

        #expect(await run(["canary", "promote", "www"]) == .success)
        #expect(console.stdout.contains("draining: eu"))
        let eu = try await agent.request("GET", "/v1/services/www/clusters/eu")
        #expect(eu.json?["state"]?.stringValue == "draining", "promotion drains the other clusters")
        #expect(try await agent.request("GET", "/v1/services/www/canary").status == 404)
        #expect(await run(["canary", "status", "www"]) == .success)
        #expect(console.stdout.contains("service www has no canary"))

        #expect(await run(["canary", "set", "www", "--cluster", "eu", "--percent", "5"]) == .success)
        #expect(await run(["canary", "abort", "www"]) == .success)
        #expect(await run(["canary", "abort", "www"]) == .notFound, "nothing left to abort")
        try await agent.stop()
        await origins.stop()
    }
}
