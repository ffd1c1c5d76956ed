import GLBCore
import GLBTestSupport
import HealthProber
import Synchronization
import Testing

/// Real sockets on 127.0.0.1, real event-loop threads, real AES-GCM. Synchronised by bounded
/// polling of `members()` (never a fixed sleep standing in for "long enough").
@Suite(.serialized) struct UDPGossipTransportTests {
    static let loopback = SocketAddress(ip: .v4(0x7F00_0001), port: 0)

    static func alive(_ agent: GossipAgent) -> Set<String> {
        Set(agent.members().filter { $0.status == .alive }.map(\.name))
    }

    @Test func threeAgentsJoinAndAWrongKeyIsNeverAdmitted() async throws {
        let group = try EventLoopGroup(count: 2, name: "gossip-test")
        group.start()
        defer { group.shutdown() }
        let key = try Keyring(primary: [UInt8](repeating: 7, count: 32))
        let registries = (0..<4).map { _ in MetricsRegistry() }
        let lines = Mutex<[String]>([])
        let logger = Logger(component: "gossip", minimum: .warning, sink: { line in lines.withLock { $0.append(line) } })
        let agents = (0..<3).map { (i: Int) -> GossipAgent in
            let agentLogger: Logger? = i == 0 ? logger : nil
            return GossipAgent(name: "n\(i)", region: "r\(i)", metadata: [UInt8(i)], config: .fast, keyring: key,
                               loop: group.loops[i % 2], registry: registries[i], seed: UInt64(i + 1), logger: agentLogger)
        }
        let first = try await agents[0].start(bind: Self.loopback, seeds: [])
        #expect(first.port != 0)
        for agent in agents.dropFirst() { _ = try await agent.start(bind: Self.loopback, seeds: [first]) }
        let everyone: Set<String> = ["n0", "n1", "n2"]
        #expect(await eventually { agents.allSatisfy { Self.alive($0) == everyone } }, "three agents see each other")
        #expect(agents[2].members().first { $0.name == "n1" }?.metadata == [1], "metadata travels")

        let intruder = GossipAgent(name: "mallory", region: "x", config: .fast, keyring: try Keyring(primary: [UInt8](repeating: 8, count: 32)),
                                   loop: group.loops[1], registry: registries[3], seed: 9)
        _ = try await intruder.start(bind: Self.loopback, seeds: [first])
        #expect(await eventually { agents[0].metrics.droppedCount("unknown_key") >= 3 }, "its packets are dropped and counted")
        #expect(agents.allSatisfy { Self.alive($0) == everyone }, "never admitted")
        #expect(Self.alive(intruder) == ["mallory"])
        #expect(registries[0].render().contains("glb_gossip_dropped_packets_total{reason=\"unknown_key\"}"))
        let dropLines = lines.withLock { $0 }.filter { $0.contains("gossip packet dropped") }
        #expect(dropLines.count == 1, "one line per reason per 10 s, however many packets: \(dropLines)")
        #expect(dropLines.first?.contains("another") == false && dropLines.first?.contains("gossip key this node does not hold") == true)
        #expect(registries[0].render().contains("glb_gossip_members{status=\"alive\"} 3"))

        // A payload reaches the others, then a graceful leave is seen as `left`.
        agents[0].enqueueUser(key: "obs/n0/www", payload: [42])
        var received: Set<String> = []
        for (i, agent) in agents.enumerated().dropFirst() {
            for await event in agent.events {
                if case .user(let payload) = event, payload.key == "obs/n0/www" { received.insert("n\(i)"); break }
            }
        }
        #expect(received == ["n1", "n2"])
        await agents[2].leave()
        #expect(await eventually { agents[0].members().first { $0.name == "n2" }?.status == .left })
        for agent in agents.prefix(2) { await agent.stop() }
        await intruder.stop()
    }

    @Test func plaintextIsRefusedOffLoopback() async throws {
        let loop = try EventLoop(name: "plain")
        let agent = GossipAgent(name: "a", region: "r", config: .fast, keyring: nil, loop: loop, registry: MetricsRegistry(), seed: 1)
        await #expect(throws: GossipAgent.StartError.self) {
            _ = try await agent.start(bind: SocketAddress(ip: .v4(0), port: 0), seeds: [])
        }
    }
}
