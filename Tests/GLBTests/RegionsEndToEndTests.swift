import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// Three agents on loopback behaving as one GLB: a write anywhere is served
/// everywhere within a second, a killed agent is noticed by all, a cluster fails over only by
/// quorum, and proxy-mode services answer with the live GLB nodes. Gossip runs on real time here,
/// so every wait is a bounded poll; speed is measured by the gossip benchmark, not asserted.
@Suite(.serialized) struct RegionsEndToEndTests {
    /// Probes every 300 ms with as long to answer: three agents and two origins share two cores
    /// in this process, and probe round trips of 30-60 ms were seen; a 100 ms timeout flapped.
    static let allPolicy = #"{"zone":"glb.example.","policy":"all","ttl":5,"check":{"type":"http","path":"/healthz","interval_ms":300,"timeout_ms":300,"fall":2,"rise":2}}"#

    /// `count` agents n0, n1, ... with DNS, the proxy (on 127.0.0.3x, so proxy-mode answers tell
    /// them apart) and fast gossip; each joins through n0, and the call returns once all see all.
    static func regions(_ count: Int, in dir: TempDirectory, tune: @escaping @Sendable (inout AgentConfig) -> Void = { _ in }) async throws -> [RunningAgent] {
        var agents: [RunningAgent] = []
        for i in 0..<count {
            let seeds = agents.first?.gossip.map { [$0] } ?? []
            agents.append(try await RunningAgent.start(dataDirectory: dir.file("n\(i)"), dns: true, http: true, node: "n\(i)", region: "r\(i)",
                                                       gossip: true, join: seeds) { config in
                config.http = SocketAddress(ip: IPAddress("127.0.0.\(31 + i)")!, port: 0)
                config.observationInterval = .milliseconds(100)
                // Generous: on a loaded two-core machine gossip can lag by a good fraction of a
                // second, and a report that ages out would change the votes under the test.
                config.observationFreshness = .seconds(5)
                config.replicationDigestInterval = .milliseconds(500)
                tune(&config)
            })
        }
        for agent in agents {
            #expect(try await eventually { try await GossipEndToEndTests.members(agent).values.filter { $0 == "alive" }.count == count })
        }
        return agents
    }

    /// The addresses `agent` answers for www (policy `all`: one query shows every answered address).
    static func answers(_ agent: RunningAgent) async throws -> Set<String> {
        let text = try await DNSEndToEndTests.dig(agent, ["www.glb.example", "A", "+short"])
        return Set(text.split(separator: "\n").map(String.init))
    }

    static func cluster(_ agent: RunningAgent, _ name: String) async throws -> JSONValue? {
        let status = try await agent.request("GET", "/v1/status")
        return status.json?["services"]?.arrayValue?.first?["clusters"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    @Test func aClusterLeavesTheAnswersOnlyWhenAMajorityOfObserversSeesItDown() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let agents = try await Self.regions(3, in: dir)
        #expect(try await agents[0].request("PUT", "/v1/services/www", body: Self.allPolicy).status == 201)
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/eu", body: origins.eu.clusterBody(region: "eu-west")).status == 201)
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/us", body: origins.us.clusterBody(region: "us-east")).status == 201)
        let both: Set<String> = ["127.0.0.11", "127.0.0.12"]
        for agent in agents {
            #expect(try await eventually { try await Self.answers(agent) == both }, "\(agent.address) answers both")
            #expect(try await eventually { try await Self.cluster(agent, "eu")?["quorum"]?["up_votes"]?.intValue == 3 }, "every node hears all three observers")
        }

        // Only n2 loses eu: it is one voice of three, so eu stays in every node's answers, n2's too.
        origins.eu.refuseProbes(from: ["n2"])
        #expect(try await eventually { try await Self.cluster(agents[2], "eu")?["health"]?.stringValue == "down" }, "n2's own probes see eu down")
        for agent in agents {
            #expect(try await eventually { try await Self.cluster(agent, "eu")?["quorum"]?["down_votes"]?.intValue == 1 })
            #expect(try await Self.answers(agent) == both, "a minority cannot fail eu over for the world")
        }
        // n2's own proxy still steers clear of what it cannot reach (once its snapshot has the
        // transition: the status above reads the prober, which runs a step ahead of routing).
        #expect(try await eventually { try await String(decoding: FailoverEndToEndTests.curl(agents[2]).body, as: UTF8.self) == "us-origin\n" })
        for _ in 0..<10 {
            let response = try await FailoverEndToEndTests.curl(agents[2])
            #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == "us-origin\n")
        }

        // n1 loses it too: two of three is a quorum, and every node stops answering eu.
        origins.eu.refuseProbes(from: ["n1", "n2"])
        for agent in agents {
            #expect(try await eventually { try await Self.answers(agent) == ["127.0.0.12"] }, "\(agent.address) fails eu over")
        }
        // Everyone reaches it again: it comes back everywhere.
        origins.eu.refuseProbes(from: [])
        for agent in agents {
            #expect(try await eventually { try await Self.answers(agent) == both }, "\(agent.address) answers eu again")
        }
        for agent in agents { try await agent.stop() }
        await origins.stop()
    }

    @Test func aWriteIsServedEverywhereWithinASecondAndAKilledAgentIsMarkedFailedByAll() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agents = try await Self.regions(3, in: dir) { $0.gracefulLeave = false }
        #expect(try await agents[1].request("PUT", "/v1/services/www", body: GossipEndToEndTests.service).status == 201)
        #expect(try await agents[1].request("PUT", "/v1/services/www/clusters/eu", body: GossipEndToEndTests.cluster).status == 201)
        for agent in agents {
            #expect(try await eventually(within: .seconds(1)) { try await Self.answers(agent) == ["127.0.0.11"] },
                    "\(agent.address) answers the new cluster within a second of the write")
        }
        // Each node advertises the config version it serves; once all agree, `members` shows one.
        #expect(try await eventually {
            let members = try await agents[0].request("GET", "/v1/members").json?["members"]?.arrayValue ?? []
            let versions = Set(members.compactMap { $0["config_version"]?.stringValue })
            return members.count == 3 && versions.count == 1
        }, "every member reports the same config version")

        // n2 dies without a goodbye: the others find out by probing.
        try await agents[2].stop()
        for agent in agents.prefix(2) {
            #expect(try await eventually { try await GossipEndToEndTests.members(agent)["n2"] == "dead" }, "\(agent.address) marks n2 failed")
        }
        for agent in agents.prefix(2) { try await agent.stop() }
    }

    @Test func aProxyModeServiceAnswersWithTheLiveGLBNodesWhichProxyToTheClusters() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let agents = try await Self.regions(3, in: dir) { $0.gracefulLeave = false }
        let proxied = #"{"zone":"glb.example.","policy":"all","mode":"proxy","ttl":5,"check":{"type":"http","path":"/healthz","interval_ms":300,"timeout_ms":300}}"#
        #expect(try await agents[0].request("PUT", "/v1/services/www", body: proxied).status == 201)
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/eu", body: origins.eu.clusterBody(region: "eu-west")).status == 201)
        let nodes: Set<String> = ["127.0.0.31", "127.0.0.32", "127.0.0.33"]
        for agent in agents {
            #expect(try await eventually { try await Self.answers(agent) == nodes }, "\(agent.address) answers with the three GLB nodes")
        }
        // A node's proxy serves the name by the clusters, not by the nodes (no loop back to itself).
        for agent in agents {
            let response = try await FailoverEndToEndTests.curl(agent)
            #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == "eu-origin\n")
        }
        // A dead node leaves the answers.
        try await agents[2].stop()
        for agent in agents.prefix(2) {
            #expect(try await eventually { try await Self.answers(agent) == ["127.0.0.31", "127.0.0.32"] }, "\(agent.address) drops the dead node")
        }
        for agent in agents.prefix(2) { try await agent.stop() }
        await origins.stop()
    }
}
