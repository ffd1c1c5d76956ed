import GLBCore
import HealthProber
import Testing

/// The wire format: every message round-trips, and no input, however broken, traps.
@Suite struct GossipCodecTests {
    static let v4 = SocketAddress(ip: .v4(0x0A00_0001), port: 7946)
    static let v6 = SocketAddress(ip: IPAddress("2001:db8::7")!, port: 17946)
    static let facts = MemberFacts(name: "eu-1", region: "eu-west", address: v6, incarnation: 42, metadata: [1, 2, 3])

    static let every: [GossipMessage] = [
        .ping(seq: 1, target: "eu-1"),
        .ack(seq: .max),
        .pingRequest(seq: 7, target: "us-1", address: v4),
        .nack(seq: 9),
        .alive(facts),
        .suspect(node: "eu-1", incarnation: 3, from: "us-1"),
        .dead(node: "eu-1", incarnation: 4, from: "ap-1"),
        .leave(node: "ap-1", incarnation: 5),
        .user(UserPayload(key: "health/eu/www", origin: "eu-1", version: 1 << 40, payload: Array(0..<200))),
        .sync(reply: true, entries: [SyncEntry(facts: facts, status: .suspect),
                                     SyncEntry(facts: MemberFacts(name: "ñ-日本", region: "", address: v4, incarnation: 0, metadata: []), status: .left)]),
    ]

    @Test func everyMessageRoundTripsAloneAndTogether() throws {
        for message in Self.every {
            #expect(try GossipCodec.decode(GossipCodec.packet([message])) == [message])
        }
        #expect(try GossipCodec.decode(GossipCodec.packet(Self.every)) == Self.every)
        #expect(try GossipCodec.decode(GossipCodec.packet([])) == [])
    }

    @Test func everyTypeHasAFrame() {
        #expect(Set(Self.every.map(\.type)) == Set(GossipMessageType.allCases))
    }

    @Test func aPacketCutAtAnyByteIsRejected() {
        let packet = GossipCodec.packet(Self.every)
        for length in 0..<packet.count {
            #expect(throws: GossipDecodeError.self) { try GossipCodec.decode(Array(packet.prefix(length))) }
        }
    }

    @Test func trailingBytesAreRejected() {
        #expect(throws: GossipDecodeError.self) { try GossipCodec.decode(GossipCodec.packet([.ack(seq: 1)]) + [0]) }
        var frame = GossipCodec.frame(.ack(seq: 1))
        frame[2] += 1
        frame.append(0)
        #expect(throws: GossipDecodeError.badField("1 bytes after ack")) { try GossipCodec.decode([GossipCodec.version, 1] + frame) }
    }

    @Test func wrongVersionAndOversizeAreRejected() {
        var packet = GossipCodec.packet([.ack(seq: 1)])
        packet[0] = 2
        #expect(throws: GossipDecodeError.unsupportedVersion(2)) { try GossipCodec.decode(packet) }
        let huge = [GossipCodec.version, 0] + [UInt8](repeating: 0, count: GossipCodec.maxPacketBytes)
        #expect(throws: GossipDecodeError.oversize(huge.count)) { try GossipCodec.decode(huge) }
    }

    @Test func badFieldsAreRejected() {
        // An alive whose address family is 5.
        var alive = GossipCodec.frame(.alive(MemberFacts(name: "a", region: "b", address: Self.v4, incarnation: 1, metadata: [])))
        alive[3 + 2 + 2] = 5
        #expect(throws: GossipDecodeError.badField("address family 5")) { try GossipCodec.decode([GossipCodec.version, 1] + alive) }
        // A sync entry with status 9.
        var sync = GossipCodec.frame(.sync(reply: false, entries: [SyncEntry(facts: Self.facts, status: .alive)]))
        sync[3 + 2] = 9
        #expect(throws: GossipDecodeError.badField("member status 9")) { try GossipCodec.decode([GossipCodec.version, 1] + sync) }
    }

    /// Senders only write valid UTF-8. Repairing bad bytes instead would turn 128 bytes of 0xFF into
    /// 384 bytes of U+FFFD, which a relay truncates to 255: another member's name.
    @Test func stringsThatAreNotUTF8AreRejected() throws {
        let name = [UInt8](repeating: 0xFF, count: 128)
        let body = [0, 0, 0, 7, UInt8(name.count)] + name
        let ping = [GossipCodec.version, 1, GossipMessageType.ping.rawValue, 0, UInt8(body.count)] + body
        #expect(throws: GossipDecodeError.badField("string is not UTF-8")) { try GossipCodec.decode(ping) }
        // A sequence cut inside a character, and an overlong encoding of "/".
        for bad: [UInt8] in [[0x65, 0xC3], [0xC0, 0xAF]] {
            let leave = GossipCodec.frame(.leave(node: "eu-1", incarnation: 1))
            let forged = [leave[0], 0, UInt8(1 + bad.count + 4), UInt8(bad.count)] + bad + leave.suffix(4)
            #expect(throws: GossipDecodeError.badField("string is not UTF-8")) { try GossipCodec.decode([GossipCodec.version, 1] + forged) }
        }
        #expect(try GossipCodec.decode(GossipCodec.packet([.leave(node: "ñ-日本", incarnation: 1)])) == [.leave(node: "ñ-日本", incarnation: 1)])
    }

    /// Rolling upgrades: a frame of a type this version does not know is skipped by its length.
    @Test func unknownMessageTypesAreSkipped() throws {
        let unknown: [UInt8] = [200, 0, 3, 9, 9, 9]
        let packet = [GossipCodec.version, 3] + GossipCodec.frame(.ack(seq: 1)) + unknown + GossipCodec.frame(.nack(seq: 2))
        #expect(try GossipCodec.decode(packet) == [.ack(seq: 1), .nack(seq: 2)])
    }

    @Test func randomGarbageNeverTraps() {
        var rng = SplitMix64(seed: 42)
        let valid = GossipCodec.packet(Self.every)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if !bytes.isEmpty { bytes[0] = GossipCodec.version }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &rng) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            }
            _ = try? GossipCodec.decode(bytes)
        }
    }

    /// A node fed garbage counts it and carries on.
    @Test func aNodeCountsMalformedPackets() {
        var node = GossipNode(name: "a", region: "r", address: Self.v4, config: .fast, seed: 1)
        #expect(node.receive([1, 2, 3], from: Self.v6, now: .zero).isEmpty)
        #expect(node.stats.malformedPackets == 1)
    }

    @Test func piggyBackedBroadcastsStayWithinTheBudget() {
        var node = GossipNode(name: "a", region: "r", address: Self.v4, config: .fast, seed: 1)
        for i in 0..<100 { _ = node.enqueueUser(key: "k\(i)", payload: [UInt8](repeating: 7, count: 300)) }
        var sizes: [Int] = []
        let peer = GossipCodec.packet([.alive(MemberFacts(name: "b", region: "r", address: Self.v6, incarnation: 1, metadata: []))])
        sizes += node.receive(peer, from: Self.v6, now: .zero).map(\.bytes.count)
        for ms in stride(from: 0, to: 2000, by: 10) { sizes += node.tick(now: Instant.zero + .milliseconds(Int64(ms))).map(\.bytes.count) }
        #expect(!sizes.isEmpty && sizes.allSatisfy { $0 <= GossipConfig.fast.packetBudget })
        #expect(sizes.max()! > GossipConfig.fast.packetBudget - 350, "packets are filled")
        let accepted = node.enqueueUser(key: "too-big", payload: [UInt8](repeating: 0, count: 1400))
        #expect(!accepted, "a payload that cannot fit one packet is refused")
    }
}
