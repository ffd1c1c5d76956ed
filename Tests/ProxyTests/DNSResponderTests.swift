import GLBCore
import GLBTestSupport
import Proxy
import Testing

@Suite struct DNSResponderTests {
    /// (label, query, rcode, AA, answer count, authority count, additional count)
    static let table: [(String, QueryBuilder, Int, Bool, Int, Int, Int)] = [
        ("A for a service", QueryBuilder(name: "www.glb.example.", type: 1), 0, true, 1, 0, 0),
        ("AAAA for a v4-only service is NODATA", QueryBuilder(name: "www.glb.example.", type: 28), 0, true, 0, 1, 0),
        ("AAAA for a v6 service", QueryBuilder(name: "v6only.glb.example.", type: 28), 0, true, 1, 0, 0),
        ("A for a v6-only service is NODATA", QueryBuilder(name: "v6only.glb.example.", type: 1), 0, true, 0, 1, 0),
        ("policy all", QueryBuilder(name: "api.v2.glb.example.", type: 1), 0, true, 2, 0, 0),
        ("empty non-terminal is NODATA", QueryBuilder(name: "v2.glb.example.", type: 1), 0, true, 0, 1, 0),
        ("SOA at apex", QueryBuilder(name: "glb.example.", type: 6), 0, true, 1, 0, 0),
        ("NS at apex with glue", QueryBuilder(name: "glb.example.", type: 2), 0, true, 3, 0, 3),
        ("A for a glue host", QueryBuilder(name: "ns1.glb.example.", type: 1), 0, true, 1, 0, 0),
        ("A at apex is NODATA", QueryBuilder(name: "glb.example.", type: 1), 0, true, 0, 1, 0),
        ("MX for a service is NODATA", QueryBuilder(name: "www.glb.example.", type: 15), 0, true, 0, 1, 0),
        ("unknown name is NXDOMAIN", QueryBuilder(name: "nope.glb.example.", type: 1), 3, true, 0, 1, 0),
        ("below a service is NXDOMAIN", QueryBuilder(name: "x.www.glb.example.", type: 1), 3, true, 0, 1, 0),
        ("outside every zone is REFUSED", QueryBuilder(name: "www.example.com.", type: 1), 5, false, 0, 0, 0),
        ("parent of the zone is REFUSED", QueryBuilder(name: "example.", type: 6), 5, false, 0, 0, 0),
        ("CH class is REFUSED", QueryBuilder(name: "version.bind.", type: 16, qclass: 3), 5, false, 0, 0, 0),
        ("AXFR is REFUSED", QueryBuilder(name: "glb.example.", type: 252), 5, false, 0, 0, 0),
        ("ANY at a service gives one A set", QueryBuilder(name: "www.glb.example.", type: 255), 0, true, 1, 0, 0),
        ("ANY at the apex gives the SOA", QueryBuilder(name: "glb.example.", type: 255), 0, true, 1, 0, 0),
        ("fail-closed is NODATA", QueryBuilder(name: "closed.glb.example.", type: 1), 0, true, 0, 1, 0),
        ("EDNS query gets OPT", QueryBuilder(name: "www.glb.example.", edns: (1232, 0, false, [])), 0, true, 1, 0, 1),
        ("unknown option ignored", QueryBuilder(name: "www.glb.example.", edns: (1232, 0, false, [(65001, [1, 2, 3])])), 0, true, 1, 0, 1),
        ("EDNS version 1 is BADVERS", QueryBuilder(name: "www.glb.example.", edns: (1232, 1, false, [])), 16, false, 0, 0, 1),
        ("NOTIFY opcode is NOTIMP", QueryBuilder(flags: 0x2000), 4, false, 0, 0, 0),
        ("UPDATE opcode is NOTIMP", QueryBuilder(flags: 0x2800), 4, false, 0, 0, 0),
    ]

    @Test(arguments: table)
    func answers(label: String, query: QueryBuilder, rcode: Int, aa: Bool, an: Int, ns: Int, ar: Int) throws {
        let r = try #require(answer(query.bytes), "\(label)")
        #expect(r.rcode == rcode, "\(label)")
        #expect(r.aa == aa, "\(label)")
        #expect(r.counts[1...] == [an, ns, ar], "\(label)")
        #expect(r.id == query.id)
        #expect(r.flags & 0x8000 != 0, "QR")
        #expect(r.flags & 0x0080 == 0, "RA is never set")
        #expect(r.flags & 0x0100 == query.flags & 0x0100, "RD copied")
        #expect(r.opt == nil || query.edns != nil, "OPT only if the query had one")
    }

    @Test func soaFieldsAndNegativeTTL() throws {
        let r = try #require(answer(QueryBuilder(name: "nope.glb.example.").bytes))
        let soa = try #require(r.authority.first)
        #expect(soa.name == "glb.example." && soa.type == 6)
        #expect(soa.ttl == 60, "min(SOA TTL 300, MINIMUM 60)")
        let serial = soa.rdata[(soa.rdata.count - 20)...].prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
        #expect(serial == 2026112601)
        let positive = try #require(answer(QueryBuilder(name: "glb.example.", type: 6).bytes))
        #expect(positive.answers.first?.ttl == 300)
        #expect(Array(positive.answers[0].rdata.prefix(17)) == QueryBuilder.wire("ns1.glb.example"))
        #expect(Array(positive.answers[0].rdata[17...].prefix(24)) == QueryBuilder.wire("hostmaster.glb.example"))
    }

    @Test func nsGlueOwnersAndAddresses() throws {
        let r = try #require(answer(QueryBuilder(name: "glb.example.", type: 2).bytes))
        #expect(r.answers.map(\.rdata) == ["ns1.glb.example", "ns2.glb.example", "ns.other.example"].map(QueryBuilder.wire))
        #expect(r.additional.map(\.name) == ["ns1.glb.example.", "ns1.glb.example.", "ns2.glb.example."])
        #expect(r.additional.compactMap { IPAddress(bytes: $0.rdata) } == [ip("192.0.2.53"), ip("2001:db8::53"), ip("192.0.2.54")])
    }

    @Test func questionCaseIsPreservedAndAnswerTTLIsTheServices() throws {
        let r = try #require(answer(QueryBuilder(name: "WwW.GLB.example.").bytes))
        #expect(r.question == "WwW.GLB.example.")
        #expect(r.answers.first?.name == "WwW.GLB.example.")
        #expect(r.answers.first?.ttl == 30)
        #expect(r.addresses.allSatisfy { [ip("127.0.0.11"), ip("127.0.0.12")].contains($0) })
        let nx = try #require(answer(QueryBuilder(name: "NoPe.Glb.Example.").bytes))
        #expect(nx.question == "NoPe.Glb.Example." && nx.authority.first?.name == "Glb.Example.")
    }

    @Test func badversCarriesExtendedRcodeInOPT() throws {
        let r = try #require(answer(QueryBuilder(edns: (1232, 1, false, [])).bytes))
        let opt = try #require(r.opt)
        #expect(r.flags & 0xF == 0 && opt.ttl >> 24 == 1 && (opt.ttl >> 16) & 0xFF == 0)
        #expect(r.rcode == 16)
    }

    @Test func optAdvertises1232AndCopiesDO() throws {
        let r = try #require(answer(QueryBuilder(edns: (4096, 0, true, [])).bytes))
        let opt = try #require(r.opt)
        #expect(opt.name == "." && opt.ttl & 0x8000 != 0)
        #expect(opt.rclass == 1232)
    }

    @Test(arguments: [
        (false, nil as UInt16?, true),     // 100 A records: over 512
        (false, 512, true),
        (false, 4096, false),               // 1232 cap: 100 x 16 + header > 1232? see below
        (true, nil, false),                 // TCP: no limit
    ])
    func truncation(tcp: Bool, udp: UInt16?, truncated: Bool) throws {
        var q = QueryBuilder(name: "big.glb.example.")
        if let udp { q.edns = (udp, 0, false, []) }
        let r = try #require(answer(q.bytes, tcp: tcp))
        // 100 A records with pointer owners are 100 x 16 = 1600 bytes: over 1232 too, so 4096 truncates.
        let expectTC = truncated || (!tcp && udp == 4096)
        #expect(r.tc == expectTC)
        if expectTC {
            #expect(r.counts[1...2] == [0, 0] && r.question == "big.glb.example.")
            #expect(r.counts[3] == (udp == nil ? 0 : 1))
        } else {
            #expect(r.addresses.count == 100)
        }
    }

    @Test func ecsIsEchoedWithScope() throws {
        func ecsOption(_ r: Response) -> [UInt8]? {
            guard let rdata = r.opt?.rdata, rdata.count >= 4 else { return nil }
            return Array(rdata[4...])
        }
        // No canary: scope 0, family, source and address as sent.
        let plain = try #require(answer(QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 22, address: [198, 51, 100])])).bytes))
        #expect(ecsOption(plain) == [0, 1, 22, 0, 198, 51, 100])
        // Canary decided by ECS: scope is the hashed prefix (/24 at most).
        let canary = try #require(answer(QueryBuilder(name: "canary.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 32, address: [198, 51, 100, 7])])).bytes))
        #expect(ecsOption(canary) == [0, 1, 32, 24, 198, 51, 100, 7])
        let short = try #require(answer(QueryBuilder(name: "canary.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 16, address: [198, 51])])).bytes))
        #expect(ecsOption(short) == [0, 1, 16, 16, 198, 51])
        // Source prefix 0: the resolver opted out, so the source address decides and scope is 0.
        let optOut = try #require(answer(QueryBuilder(name: "canary.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 0, address: [])])).bytes))
        #expect(ecsOption(optOut) == [0, 1, 0, 0])
        // IPv6 ECS.
        let v6 = try #require(answer(QueryBuilder(name: "canary.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(family: 2, source: 64, address: [0x20, 1, 0xd, 0xb8, 0, 0, 0, 1])])).bytes))
        #expect(ecsOption(v6) == [0, 2, 64, 56, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1])
    }

    @Test func dropsResponsesAndRunts() {
        #expect(answer([0, 1, 2]) == nil)
        #expect(answer(QueryBuilder(flags: 0x8000).bytes) == nil)
    }

    @Test func emptySnapshotRefuses() throws {
        let r = try #require(answer(QueryBuilder().bytes, snapshot: .empty))
        #expect(r.rcode == 5)
    }

    @Test func reusedResponderGivesIdenticalAnswers() {
        var responder = DNSResponder()
        var rng = SplitMix64(seed: 9)
        var out: [UInt8] = []
        var results: Set<[UInt8]> = []
        for _ in 0..<3 {
            for query in [QueryBuilder(name: "glb.example.", type: 2), QueryBuilder(name: "nope.glb.example.")] {
                _ = query.bytes.withUnsafeBytes { responder.respond(to: $0, client: ip("192.0.2.1"), overTCP: false, snapshot: testSnapshot, rng: &rng, into: &out) }
                results.insert(out)
            }
        }
        #expect(results.count == 2)
    }
}
