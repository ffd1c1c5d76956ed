import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// DNS over real UDP and TCP sockets, asked by `dig` (bind9-dnsutils; `scripts/bootstrap.sh`
/// installs it) and by raw datagrams for what dig will not send.
@Suite(.serialized) struct DNSEndToEndTests {
    /// Runs dig against the agent and returns its stdout.
    static func dig(_ agent: RunningAgent, _ arguments: [String]) async throws -> String {
        guard let dns = agent.dns else { throw AgentError("the agent has no DNS listener") }
        let path = ["/usr/bin/dig", "/bin/dig"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { throw AgentError("dig is not installed: run scripts/bootstrap.sh (apt-get install bind9-dnsutils)") }
        return try await offPool {
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["@\(dns.ip)", "-p", "\(dns.port)", "+tries=1", "+time=2"] + arguments
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Sends one raw datagram and returns the reply, or nil after `timeout`.
    static func exchange(_ packet: [UInt8], with server: SocketAddress, timeout: Duration = .seconds(2)) async throws -> [UInt8]? {
        try await offPool {
            let fd = try Socket.bindUDP(SocketAddress(ip: .v4(0x7F00_0001), port: 0), reusePort: false)
            defer { closeDescriptor(fd) }
            _ = try packet.withUnsafeBytes { try Socket.send(fd, $0, to: server) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, CInt(timeout.milliseconds)) == 1 else { return nil }
            var reply = [UInt8](repeating: 0, count: 65535)
            let received = try reply.withUnsafeMutableBytes { try Socket.receive(fd, into: $0) }
            return received.map { Array(reply[0..<$0.count]) }
        }
    }

    static func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234, flags: UInt16 = 0x0100, additional: [UInt8] = [], arcount: UInt16 = 0) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1, 0, 0, 0, 0, UInt8(arcount >> 8), UInt8(arcount & 0xFF)]
        for label in name.split(separator: ".") { bytes.append(UInt8(label.utf8.count)); bytes += Array(label.utf8) }
        bytes += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return bytes + additional
    }

    /// An agent with DNS and the operator story's service, whose two clusters are live origins
    /// (so health checks pass and answers are decided by policy, not by fail-open).
    static func start(_ dir: TempDirectory, http: Bool = false) async throws -> (RunningAgent, TwoOrigins) {
        let origins = try await TwoOrigins.start()
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true, http: http)
        #expect(try await agent.request("PUT", "/v1/services/www", body: AdminAPIEndToEndTests.service).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: origins.eu.clusterBody(region: "eu-west")).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/us", body: origins.us.clusterBody(region: "us-east")).status == 201)
        return (agent, origins)
    }

    @Test func theOperatorStoryDigSeesBothClustersThenOnlyTheOneLeftAfterADelete() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await Self.start(dir)
        var seen = Set<String>()
        for _ in 0..<40 {
            let answer = try await Self.dig(agent, ["www.glb.example", "A", "+short"]).split(separator: "\n").map(String.init)
            #expect(answer.count == 1, "weighted answers carry one address by default")
            seen.formUnion(answer)
        }
        #expect(seen == ["127.0.0.11", "127.0.0.12"], "equal weights: both clusters answered over 40 queries (miss chance 2^-39)")

        #expect(try await agent.request("DELETE", "/v1/services/www/clusters/us").status == 200)
        for _ in 0..<10 {
            #expect(try await Self.dig(agent, ["www.glb.example", "A", "+short"]) == "127.0.0.11\n", "a REST change is served at once")
        }
        let full = try await Self.dig(agent, ["www.glb.example", "A"])
        #expect(full.contains("flags: qr aa rd;"), "authoritative, no recursion available")
        #expect(full.contains("www.glb.example.\t30\tIN\tA\t127.0.0.11"), "the service's TTL")
        try await agent.stop()
        await origins.stop()
    }

    @Test func negativeAndApexAnswers() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await Self.start(dir)
        let nx = try await Self.dig(agent, ["nope.glb.example", "A"])
        #expect(nx.contains("status: NXDOMAIN"))
        #expect(nx.contains("AUTHORITY: 1"), "NXDOMAIN carries the SOA")
        let nodata = try await Self.dig(agent, ["www.glb.example", "AAAA"])
        #expect(nodata.contains("status: NOERROR") && nodata.contains("ANSWER: 0") && nodata.contains("SOA"))
        let outside = try await Self.dig(agent, ["example.com", "A"])
        #expect(outside.contains("status: REFUSED"), "never an open resolver")
        let ns = try await Self.dig(agent, ["glb.example", "NS", "+noall", "+answer", "+additional"])
        #expect(ns.contains("glb.example.\t\t300\tIN\tNS\tns1.glb.example."))
        let soa = try await Self.dig(agent, ["glb.example", "SOA", "+short"])
        #expect(soa.hasPrefix("ns1.glb.example. hostmaster.glb.example. "))
        let badvers = try await Self.dig(agent, ["www.glb.example", "A", "+edns=1", "+noednsnegotiation"])
        #expect(badvers.contains("status: BADVERS"))
        let tcp = try await Self.dig(agent, ["www.glb.example", "A", "+tcp", "+short"])
        #expect(tcp.hasPrefix("127.0.0."), "TCP answers too")
        try await agent.stop()
        await origins.stop()
    }

    @Test func anAnswerTooBigForUDPIsTruncatedAndCompleteOverTCP() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true)
        _ = try await agent.request("PUT", "/v1/services/big", body: #"{"zone":"glb.example.","policy":"all"}"#)
        for half in 0..<2 {   // a cluster lists at most 32 addresses: two of 30
            let addresses = (1...30).map { "\"2001:db8::\(half):\(String($0, radix: 16))\"" }.joined(separator: ",")
            #expect(try await agent.request("PUT", "/v1/services/big/clusters/c\(half)", body: #"{"region":"r","port":80,"addresses":[\#(addresses)]}"#).status == 201)
        }
        let udp = try await Self.dig(agent, ["big.glb.example", "AAAA", "+noedns", "+ignore"])
        #expect(udp.contains(" tc"), "60 AAAA records do not fit in 512 bytes: TC is set")
        let tcp = try await Self.dig(agent, ["big.glb.example", "AAAA", "+tcp", "+short"])
        #expect(tcp.split(separator: "\n").count == 60, "TCP carries the whole answer")
        try await agent.stop()
    }

    @Test func malformedPacketsGetFormErrAndRandomBytesNeverStopTheServer() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await Self.start(dir)
        let server = try #require(agent.dns)
        var twoQuestions = Self.query("www.glb.example")
        twoQuestions[5] = 2
        let reply = try #require(try await Self.exchange(twoQuestions, with: server))
        #expect(reply[3] & 0x0F == 1, "QDCOUNT 2 is FORMERR")
        let notimp = try #require(try await Self.exchange(Self.query("www.glb.example", flags: 0x2100), with: server))
        #expect(notimp[3] & 0x0F == 4, "opcode UPDATE is NOTIMP")

        try await offPool {
            var rng = SplitMix64(seed: 42)
            let fd = try Socket.bindUDP(SocketAddress(ip: .v4(0x7F00_0001), port: 0), reusePort: false)
            defer { closeDescriptor(fd) }
            for _ in 0..<3000 {
                let junk = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                _ = try junk.withUnsafeBytes { try Socket.send(fd, $0, to: server) }
            }
        }
        let after = try #require(try await Self.exchange(Self.query("www.glb.example", id: 0xBEEF), with: server))
        #expect(after[0] == 0xBE && after[1] == 0xEF && after[3] & 0x0F == 0, "still answering after a burst of junk")
        try await agent.stop()
        await origins.stop()
    }

    @Test func clientSubnetIsEchoedWithAScope() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await Self.start(dir)
        let answer = try await Self.dig(agent, ["www.glb.example", "A", "+subnet=198.51.100.0/24"])
        #expect(answer.contains("CLIENT-SUBNET: 198.51.100.0/24/"), "the ECS option is echoed")
        try await agent.stop()
        await origins.stop()
    }
}
