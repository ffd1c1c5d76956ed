import GLBCore
import HealthProber
import Store
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

    static let service = #"{"zone":"glb.example.","policy":"weighted","ttl":30,"check":{"type":"tcp","interval_ms":1000}}"#
    static let cluster = #"{"region":"eu-west","address":"127.0.0.11","port":18081,"weight":100}"#

    static func status(_ agent: RunningAgent, _ path: String) async throws -> Int {
        try await agent.request("GET", path).status
    }

    @Test func aWriteOnAnyNodeIsServedByAllAndALateNodeCatchesUp() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let tune: @Sendable (inout AgentConfig) -> Void = { $0.replicationDigestInterval = .milliseconds(500) }
        let agents = try await Self.cluster(3, in: dir, tune: tune)
        for agent in agents {
            #expect(try await eventually { try await Self.members(agent).count == 3 })
        }
        // A PUT on n0 is answered by GET on the others.
        #expect(try await agents[0].request("PUT", "/v1/services/www", body: Self.service).status == 201)
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/eu", body: Self.cluster).status == 201)
        for agent in agents.dropFirst() {
            #expect(try await eventually(within: .seconds(5)) { try await Self.status(agent, "/v1/services/www/clusters/eu") == 200 },
                    "the cluster reached \(agent.address)")
        }
        let copy = try await agents[2].request("GET", "/v1/services/www/clusters/eu")
        #expect(copy.json?["origin"]?.stringValue == "n0", "the row keeps its writer")
        let audit = try await agents[2].request("GET", "/v1/audit?entity=cluster&key=www/eu")
        #expect(audit.json?["entries"]?.arrayValue?.first?["actor"]?.stringValue == "node:n0", "audited as the origin, not as a local write")

        // A write on n1 about the same row wins everywhere; a DELETE on n2 spreads as a tombstone.
        let heavier = #"{"region":"eu-west","address":"127.0.0.11","port":18081,"weight":7}"#
        #expect(try await agents[1].request("PUT", "/v1/services/www/clusters/eu", body: heavier).status == 200)
        for agent in agents {
            #expect(try await eventually { try await agent.request("GET", "/v1/services/www/clusters/eu").json?["weight"]?.intValue == 7 })
        }
        #expect(try await agents[2].request("DELETE", "/v1/services/www/clusters/eu").status == 200)
        for agent in agents {
            #expect(try await eventually { try await Self.status(agent, "/v1/services/www/clusters/eu") == 404 }, "the delete reached \(agent.address)")
        }
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/us", body: Self.cluster).status == 201)

        // n3 starts later with an empty store and catches up through the digests.
        let late = try await RunningAgent.start(dataDirectory: dir.file("n3"), node: "n3", region: "r3", gossip: true,
                                                join: [try #require(agents[1].gossip)], tune: tune)
        #expect(try await eventually { try await Self.status(late, "/v1/services/www/clusters/us") == 200 }, "the late node has the live row")
        #expect(try await Self.status(late, "/v1/services/www/clusters/eu") == 404, "and not the deleted one")
        // Every node ends with the same rows (n3's own zone row, written at its start, is the newest).
        let everyone = agents + [late]
        #expect(try await eventually {
            var versions: Set<String> = []
            for agent in everyone { versions.insert(try await agent.request("GET", "/v1/status").json?["config_version"]?.stringValue ?? "?") }
            return versions.count == 1
        }, "config versions agree")
        try await late.stop()
        for agent in agents { try await agent.stop() }
    }

    @Test func aRowTooLargeForAPacketAndALateNodeCatchUpByTCPPushPull() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        // Digests are off (an hour): only push-pull can carry what UDP gossip cannot.
        let tune: @Sendable (inout AgentConfig) -> Void = {
            $0.replicationDigestInterval = .seconds(3600)
            $0.pushPullInterval = .milliseconds(300)
        }
        let agents = try await Self.cluster(2, in: dir, tune: tune)
        for agent in agents { #expect(try await eventually { try await Self.members(agent).count == 2 }) }
        #expect(try await agents[0].request("PUT", "/v1/services/www", body: Self.service).status == 201)
        // 32 full IPv6 addresses: about 1.4 KB of JSON, more than one gossip packet holds.
        let addresses = (0..<32).map { "\"2001:db8:aaaa:bbbb:cccc:dddd:eeee:\(String($0, radix: 16))\"" }.joined(separator: ",")
        let big = #"{"region":"eu-west","port":443,"addresses":["# + addresses + "]}"
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/big", body: big).status == 201)
        #expect(try await eventually { try await Self.status(agents[1], "/v1/services/www/clusters/big") == 200 }, "the large row arrived")
        let copy = try await agents[1].request("GET", "/v1/services/www/clusters/big")
        #expect(copy.json?["addresses"]?.arrayValue?.count == 32)

        // A node that joins later gets everything by the push-pull its join starts.
        let late = try await RunningAgent.start(dataDirectory: dir.file("n2"), node: "n2", region: "r2", gossip: true,
                                                join: [try #require(agents[1].gossip)], tune: tune)
        #expect(try await eventually { try await Self.status(late, "/v1/services/www/clusters/big") == 200 }, "the late node caught up")
        // It took part in a push-pull: its own (ok) or the one a member ran with it on its join (served).
        #expect(try await eventually {
            let metrics = String(decoding: try await late.request("GET", "/metrics").response.body, as: UTF8.self)
            return metrics.split(separator: "\n").contains { line in
                (line.hasPrefix(#"glb_replication_push_pulls_total{result="ok"}"#) || line.hasPrefix(#"glb_replication_push_pulls_total{result="served"}"#))
                    && !line.hasSuffix(" 0")
            }
        })
        try await late.stop()
        for agent in agents { try await agent.stop() }
    }

    @Test func aPushPullUnderAnotherKeyIsRefusedAndChangesNothing() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path, node: "n0", gossip: true) {
            $0.gossipKeyring = try! Keyring(primary: [UInt8](repeating: 1, count: 32))
        }
        let stranger = ConfigSync(keyring: try Keyring(primary: [UInt8](repeating: 2, count: 32)))
        let rows: [ReplicatedRow] = [.zone(Zone(name: "evil.example.", version: HLCTimestamp(wallMilliseconds: Int64.max >> 20, logical: 0),
                                                origin: "mallory"), deleted: false)]
        await #expect(throws: ConfigSync.Failure.self) {
            _ = try await stranger.send(ConfigSync.Message(node: "mallory", versions: [:], rows: rows), to: try #require(agent.gossip))
        }
        #expect(try await Self.status(agent, "/v1/zones/evil.example.") == 404, "nothing was stored")
        // The right key works (an empty exchange answers with this node's versions).
        let friend = ConfigSync(keyring: try Keyring(primary: [UInt8](repeating: 1, count: 32)))
        let answer = try await friend.send(ConfigSync.Message(node: "friend", versions: [:], rows: []), to: try #require(agent.gossip))
        #expect(answer.node == "n0" && answer.versions["n0"] != nil)
        try await agent.stop()
    }

    /// Two nodes under different gossip keys never meet, and both say why: the one joined drops
    /// the joiner's packets and logs the reason (once, however many arrive), and the joiner,
    /// answered by no one, says so with the likely causes.
    @Test func nodesWithDifferentKeysLogWhyTheyCannotMeet() async throws {
        let dirA = try TempDirectory(), dirB = try TempDirectory()
        defer { dirA.remove(); dirB.remove() }
        let logA = CapturedLog(), logB = CapturedLog()
        let a = try await RunningAgent.start(dataDirectory: dirA.path, node: "a", gossip: true,
                                             log: logA) {
            $0.gossipKeyring = try! Keyring(primary: [UInt8](repeating: 1, count: 32))
        }
        let seed = try #require(a.gossip)
        let b = try await RunningAgent.start(dataDirectory: dirB.path, node: "b", gossip: true, join: [seed],
                                             log: logB) {
            $0.gossipKeyring = try! Keyring(primary: [UInt8](repeating: 2, count: 32))
            $0.joinReportDelay = .milliseconds(300)
        }
        #expect(await eventually { logA.all.contains { $0.contains("gossip packet dropped") && $0.contains("gossip key this node does not hold") } })
        #expect(await eventually { logB.all.contains { $0.contains("no member answered the join") && $0.contains("\(seed)") } })
        #expect(logA.all.filter { $0.contains("gossip packet dropped") }.count == 1, "rate-limited")
        try await b.stop()
        try await a.stop()
    }

    /// Two nodes write one row at the same moment, rounds on end, with push-pull and digests
    /// out of the way: gossip alone must bring every node to the write with the higher
    /// (version, origin). Under one gossip key per row, the newer write could be dropped as a
    /// stale duplicate on a node that had seen the other one first.
    @Test func concurrentWritesOfOneRowConvergeByGossipAlone() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agents = try await Self.cluster(3, in: dir) {
            $0.replicationDigestInterval = .seconds(3600)
            $0.pushPullInterval = .seconds(3600)
        }
        for agent in agents {
            #expect(try await eventually { try await Self.members(agent).values.filter { $0 == "alive" }.count == 3 })
        }
        #expect(try await agents[0].request("PUT", "/v1/services/www", body: AdminAPIEndToEndTests.service).status == 201)
        #expect(try await agents[0].request("PUT", "/v1/services/www/clusters/eu", body: AdminAPIEndToEndTests.eu).status == 201)
        for agent in agents {
            #expect(try await eventually { try await agent.request("GET", "/v1/services/www/clusters/eu").status == 200 })
        }
        for round in 0..<5 {
            async let a = agents[1].request("PATCH", "/v1/services/www/clusters/eu", body: #"{"weight":\#(100 + round)}"#)
            async let b = agents[2].request("PATCH", "/v1/services/www/clusters/eu", body: #"{"weight":\#(200 + round)}"#)
            _ = try await (a, b)
            let converged = try await eventually(within: .seconds(5)) {
                var weights: Set<Int> = []
                for agent in agents { weights.insert(try await agent.request("GET", "/v1/services/www/clusters/eu").json?["weight"]?.intValue ?? -1) }
                return weights.count == 1 && !weights.contains(-1)
            }
            #expect(converged, "round \(round): every node holds the same write, by gossip alone")
        }
        for agent in agents { try await agent.stop() }
    }
}
