import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// The operator's story with real health checks, end to end: two origins, both answered; kill
/// one, only the other is answered, by DNS and by the proxy; bring it back, both again.
/// An integration test on wall-clock time: it polls for each state with a deadline and never
/// asserts how fast it came (speed is measured by scripts/bench/failover.sh, not here).
@Suite(.serialized) struct FailoverEndToEndTests {
    static let fastCheck = #"{"zone":"glb.example.","policy":"weighted","ttl":30,"check":{"type":"http","path":"/healthz","interval_ms":100,"timeout_ms":100,"fall":2,"rise":2}}"#

    /// Asks DNS until `condition` holds for the set of addresses seen over 16 queries.
    static func waitForAnswers(_ agent: RunningAgent, within deadline: Duration = .seconds(10), _ condition: (Set<String>) -> Bool) async throws -> Set<String> {
        let clock = SystemClock()
        let end = clock.now + deadline
        var seen = Set<String>()
        while clock.now < end {
            seen = []
            for _ in 0..<16 {
                let answer = try await DNSEndToEndTests.dig(agent, ["www.glb.example", "A", "+short"])
                seen.formUnion(answer.split(separator: "\n").map(String.init))
            }
            if condition(seen) { return seen }
        }
        return seen
    }

    static func curl(_ agent: RunningAgent) async throws -> HTTPResponse {
        let request = HTTPRequest(method: "GET", target: "/", headers: [("Host", "www.glb.example")])
        let address = try #require(agent.http)
        return try await offPool { try BlockingHTTPClient(timeout: .seconds(5)).send(request, to: address) }
    }

    @Test func aKilledOriginLeavesDNSAndProxyAnswersAndComesBackAfterItRises() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true, http: true)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.fastCheck).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: origins.eu.clusterBody(region: "eu-west")).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/us", body: origins.us.clusterBody(region: "us-east")).status == 201)

        let both: Set<String> = ["127.0.0.11", "127.0.0.12"]
        #expect(try await Self.waitForAnswers(agent) { $0 == both } == both, "both clusters answered")
        let proxied = try await Self.curl(agent)
        #expect(proxied.status == 200)
        #expect(["eu-origin\n", "us-origin\n"].contains(String(decoding: proxied.body, as: UTF8.self)))

        await origins.us.stop()
        #expect(try await Self.waitForAnswers(agent) { $0 == ["127.0.0.11"] } == ["127.0.0.11"], "the dead cluster left the answers")
        let status = try await agent.request("GET", "/v1/status")
        let us = status.json?["services"]?.arrayValue?.first?["clusters"]?.arrayValue?.first { $0["name"]?.stringValue == "us" }
        #expect(us?["health"]?.stringValue == "down")
        #expect(us?["last_probe"]?.stringValue == "refused")
        for _ in 0..<20 {
            let response = try await Self.curl(agent)
            #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == "eu-origin\n", "the proxy follows health too")
        }
        let events = try await agent.request("GET", "/v1/events?target=www/us")
        #expect(events.json?["events"]?.arrayValue?.first?["to"]?.stringValue == "down", "the transition is in the event history")

        try await origins.us.start()
        #expect(try await Self.waitForAnswers(agent) { $0 == both } == both, "it returns after rise successes")

        await origins.eu.stop()
        await origins.us.stop()
        #expect(try await Self.waitForAnswers(agent) { $0 == both } == both, "with every cluster down the service fails open")
        try await agent.stop()
    }

    @Test func aFailClosedServiceAnswersNothingWhenEveryClusterIsDown() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true)
        let closed = Self.fastCheck.replacingOccurrences(of: #""ttl":30"#, with: #""ttl":30,"fail_closed":true"#)
        #expect(try await agent.request("PUT", "/v1/services/www", body: closed).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: origins.eu.clusterBody(region: "eu-west")).status == 201)
        #expect(try await Self.waitForAnswers(agent) { $0 == ["127.0.0.11"] } == ["127.0.0.11"])
        await origins.stop()
        #expect(try await Self.waitForAnswers(agent) { $0.isEmpty } == [], "fail-closed: NODATA rather than a dead address")
        try await agent.stop()
    }
}
