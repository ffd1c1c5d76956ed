import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// Several agents in this process, gossiping on loopback (integration tests: gossip runs on
/// real time, so each wait is a bounded poll).
@Suite(.serialized) struct GossipEndToEndTests {
    /// Starts `count` agents named n0, n1, ... in regions r0, r1, ...; each joins through n0.
    static func cluster(_ count: Int, in dir: TempDirectory, tune: @escaping @Sendable (inout AgentConfig) -> Void = { _ in }) async throws -> [RunningAgent] {
        var agents: [RunningAgent] = []
        for i in 0..<count {
            let seeds = agents.first?.gossip.map { [$0] } ?? []
            agents.append(try await RunningAgent.start(dataDirectory: dir.file("n\(i)"), node: "n\(i)", region: "r\(i)",
                                                       gossip: true, join: seeds, tune: tune))
        }
        return agents
    }

    static func members(_ agent: RunningAgent) async throws -> [String: String] {
        let answer = try await agent.request("GET", "/v1/members")
        var statuses: [String: String] = [:]
        for member in answer.json?["members"]?.arrayValue ?? [] {
            statuses[member["name"]?.stringValue ?? "?"] = member["status"]?.stringValue
        }
        return statuses
    }

    @Test func threeAgentsSeeEachOtherAndALeavingOneIsLeftNotDead() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agents = try await Self.cluster(3, in: dir)
        let all = ["n0": "alive", "n1": "alive", "n2": "alive"]
        for agent in agents {
            #expect(try await eventually { try await Self.members(agent) == all }, "every agent lists all three alive")
        }
        let answer = try await agents[1].request("GET", "/v1/members")
        #expect(answer.json?["gossip"] == .bool(true))
        let first = try #require(answer.json?["members"]?.arrayValue?.first)
        #expect(first["name"]?.stringValue == "n1", "itself first")
        #expect(first["region"]?.stringValue == "r1")
        #expect(first["address"]?.stringValue == agents[1].gossip.map { "\($0)" })
        let status = try await agents[0].request("GET", "/v1/status")
        #expect(status.json?["members"]?.intValue == 3)

        try await agents[2].stop()               // SIGTERM's path: leave, then drain
        for agent in agents.prefix(2) {
            #expect(try await eventually { try await Self.members(agent)["n2"] == "left" }, "a graceful stop is a leave")
        }
        for agent in agents.prefix(2) { try await agent.stop() }
    }

    @Test func withoutGossipTheMemberListIsEmptyAndSaysSo() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        let answer = try await agent.request("GET", "/v1/members")
        #expect(answer.json?["gossip"] == .bool(false))
        #expect(answer.json?["members"] == .array([]))
        try await agent.stop()
    }
}
