import GLBCore
import Proxy
import Testing

@Suite struct DNSNameTests {
    @Test(arguments: [
        ("www.glb.example.", [3, 119, 119, 119, 3, 103, 108, 98, 7, 101, 120, 97, 109, 112, 108, 101, 0] as [UInt8]),
        ("WWW.Glb.Example", [3, 119, 119, 119, 3, 103, 108, 98, 7, 101, 120, 97, 109, 112, 108, 101, 0]),
        (".", [0]),
        ("", [0]),
    ])
    func parsesAndFolds(text: String, wire: [UInt8]) {
        #expect(DNSName(text)?.wire == wire)
    }

    @Test(arguments: ["a..b", ".a", String(repeating: "x", count: 64) + ".example",
                      Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: ".")])
    func rejectsBadNames(text: String) {
        #expect(DNSName(text) == nil)
    }

    @Test func limitsAreInclusive() {
        // 63-byte label is fine; 3 x 63 + 61 + root = 4 * 64 - 2 + 1 = 255 bytes exactly.
        #expect(DNSName(String(repeating: "x", count: 63)) != nil)
        let name = [String(repeating: "a", count: 63), String(repeating: "b", count: 63), String(repeating: "c", count: 63), String(repeating: "d", count: 61)].joined(separator: ".")
        #expect(DNSName(name)?.wire.count == 255)
    }

    @Test func subdomainsAndPrepending() {
        let zone = DNSName("glb.example.")!
        #expect(zone.prepending("www")?.description == "www.glb.example.")
        #expect(zone.prepending("@") == zone)
        #expect(DNSName("a.b.glb.example")!.isSubdomain(of: zone))
        #expect(!DNSName("xglb.example")!.isSubdomain(of: zone))
        #expect(Zone.mailbox("john.doe@glb.example", in: zone)?.labels.first.map { Array($0) } == Array("john.doe".utf8))
    }

    @Test func tableLooksUpCaseInsensitively() {
        var table = NameTable<Int>()
        for i in 0..<1000 { table.insert(DNSName("host\(i).glb.example.")!, i) }
        for i in stride(from: 0, to: 1000, by: 37) {
            let wire = QueryBuilder.wire("HOST\(i).Glb.EXAMPLE")
            #expect(wire.withUnsafeBytes { table.lookup($0) } == i)
        }
        #expect(QueryBuilder.wire("host1000.glb.example").withUnsafeBytes { table.lookup($0) } == nil)
    }

    @Test func theWordFoldLowerCasesExactlyWhatTheByteFoldDoes() {
        // Every byte value in every lane, with neighbours that would expose a carry.
        for value in 0...255 {
            for lane in 0..<8 {
                for neighbour: UInt8 in [0x00, 0x40, 0x41, 0x5A, 0x5B, 0x7F, 0x80, 0xC1, 0xFF] {
                    var bytes = [UInt8](repeating: neighbour, count: 8)
                    bytes[lane] = UInt8(value)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let expected = bytes.map(DNSName.fold).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    #expect(NameTable<Int>.fold(word) == expected, "byte \(value) in lane \(lane) beside \(neighbour)")
                }
            }
        }
    }

    @Test func namesOfEveryLengthAreFoundWhateverTheirCaseAndNeverConfused() {
        var table = NameTable<Int>()
        var names: [String] = []
        // Labels of 1...63 bytes: wire lengths that end on and off every word boundary.
        for length in 1...63 {
            let label = String((0..<length).map { Character(UnicodeScalar(UInt8(0x61 + ($0 * 7 + length) % 26))) })
            names.append(label + ".example")
            names.append(label + ".b.example")
        }
        for (i, name) in names.enumerated() { #expect(table.insert(DNSName(name)!, i).inserted) }
        for (i, name) in names.enumerated() {
            #expect(QueryBuilder.wire(name.uppercased()).withUnsafeBytes { table.lookup($0) } == i, "\(name)")
            var different = QueryBuilder.wire(name)
            different[different.count - 3] ^= 0x01          // one byte off, in the last word
            #expect(different.withUnsafeBytes { table.lookup($0) } == nil, "\(name) with a byte changed")
        }
        #expect(!table.insert(DNSName(names[10].uppercased())!, -1).inserted, "a key differing only in case is the same key")
    }
}

@Suite struct DNSReaderTests {
    static func parse(_ bytes: [UInt8]) -> Result<DNSQuery, DNSParseError> {
        var name: [UInt8] = []
        return bytes.withUnsafeBytes { raw in
            var reader = DNSReader(raw)
            do throws(DNSParseError) { return .success(try reader.parseQuery(name: &name)) } catch { return .failure(error) }
        }
    }

    static let header: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]

    static let malformed: [(String, [UInt8], DNSParseError)] = [
        ("qdcount 0", [0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0], .badCounts),
        ("qdcount 2", QueryBuilder(counts: (2, 0, 0)).bytes, .badCounts),
        ("ancount 1", QueryBuilder(counts: (1, 1, 0)).bytes, .badCounts),
        ("nscount 1", QueryBuilder(counts: (1, 0, 1)).bytes, .badCounts),
        ("label 64", header + [64] + Array(repeating: 0x61, count: 64) + [0, 0, 1, 0, 1], .badLabel),
        ("0x40 label type", header + [0x41, 0, 0, 1, 0, 1], .badLabel),
        ("0x80 label type", header + [0x81, 0, 0, 1, 0, 1], .badLabel),
        ("name over 255", header + Array(repeating: [63] + Array(repeating: UInt8(0x61), count: 63), count: 4).flatMap { $0 } + [0, 0, 1, 0, 1], .nameTooLong),
        ("pointer to itself", header + [0xC0, 12, 0, 1, 0, 1], .badPointer),
        ("pointer forward beyond packet", header + [0xC0, 200, 0, 1, 0, 1], .badPointer),
        ("pointer into header", header + [0xC0, 2, 0, 1, 0, 1], .badPointer),
        ("pointer loop", header + [1, 0x61, 0xC0, 12, 0, 1, 0, 1], .badPointer),
        ("truncated name", header + [3, 0x77, 0x77], .truncated),
        ("truncated pointer", header + [0xC0], .truncated),
        ("no qtype", header + [0], .truncated),
        ("qtype OPT", QueryBuilder(type: 41).bytes, .badQuestion),
        ("trailing garbage", QueryBuilder(trailing: [0]).bytes, .trailingBytes),
        ("two OPT", QueryBuilder(edns: (1232, 0, false, [])).bytes.withAdditional(2) + [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0], .badOPT),
        ("OPT not at root", QueryBuilder().bytes.withAdditional(1) + [1, 0x61, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0], .badOPT),
        ("option past rdata", QueryBuilder().bytes.withAdditional(1) + [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 4, 0, 8, 0, 9], .badOption),
        ("ECS family 3", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(family: 3, source: 0, address: [])])).bytes, .badClientSubnet),
        ("ECS v4 prefix 33", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 33, address: [1, 2, 3, 4, 5])])).bytes, .badClientSubnet),
        ("ECS v6 prefix 129", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(family: 2, source: 129, address: Array(repeating: 0, count: 17))])).bytes, .badClientSubnet),
        ("ECS too many bytes", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 24, address: [1, 2, 3, 0])])).bytes, .badClientSubnet),
        ("ECS too few bytes", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 24, address: [1, 2])])).bytes, .badClientSubnet),
        ("ECS bits past prefix", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 20, address: [1, 2, 0x3F])])).bytes, .badClientSubnet),
        ("ECS scope in query", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 24, scope: 24, address: [1, 2, 3])])).bytes, .badClientSubnet),
        ("ECS short", QueryBuilder(edns: (1232, 0, false, [(8, [0, 1, 24])])).bytes, .badClientSubnet),
        ("two ECS", QueryBuilder(edns: (1232, 0, false, [QueryBuilder.ecs(source: 8, address: [10]), QueryBuilder.ecs(source: 8, address: [10])])).bytes, .badClientSubnet),
    ]

    @Test(arguments: malformed)
    func rejectsMalformed(label: String, bytes: [UInt8], error: DNSParseError) {
        guard case .failure(let got) = DNSReaderTests.parse(bytes) else { Issue.record("\(label) parsed"); return }
        #expect(got == error, "\(label)")
    }

    @Test(arguments: malformed)
    func responderAnswersMalformedWithFormErr(label: String, bytes: [UInt8], error: DNSParseError) {
        let response = answer(bytes)
        #expect(response?.rcode == 1, "\(label)")
        #expect(response?.id == 0x1234)
        #expect(response?.counts == [0, 0, 0, 0])
    }

    @Test func parsesCompressedQuestionAndEDNS() throws {
        let bytes = Array(QueryBuilder().bytes[0..<12]) + QueryBuilder.wire("glb.example") + [0, 1, 0, 1]
        let parsed = try DNSReaderTests.parse(bytes).get()
        #expect(parsed.type == .a && parsed.qclass == .in && parsed.edns == nil)
        let withECS = QueryBuilder(edns: (4096, 0, true, [(10, [1, 2, 3, 4, 5, 6, 7, 8]), QueryBuilder.ecs(source: 22, address: [198, 51, 100])])).bytes
        let edns = try #require(try DNSReaderTests.parse(withECS).get().edns)
        #expect(edns.udpPayloadSize == 4096 && edns.dnssecOK && edns.version == 0)
        #expect(edns.clientSubnet == ClientSubnet(address: IPAddress("198.51.100.0")!, sourcePrefix: 22))
    }

    @Test func questionNameIsCopiedAcrossAPointerRunByRun() throws {
        // A legal if odd question: label "\u{1}b\u{0}", then a pointer back into that label's
        // bytes, which read as the label "b" and the root. The copy is two runs, one per side of
        // the pointer, and the type and class follow the pointer.
        let bytes = DNSReaderTests.header + [3, 1, 0x62, 0, 0xC0, 13, 0, 16, 0, 1]
        var name: [UInt8] = []
        let query = try bytes.withUnsafeBytes { raw throws(DNSParseError) -> DNSQuery in
            var reader = DNSReader(raw)
            return try reader.parseQuery(name: &name)
        }
        #expect(name == [3, 1, 0x62, 0, 1, 0x62, 0])
        #expect(query.type == DNSType(rawValue: 16) && query.qclass == .in)   // TXT
    }

    @Test func compressedNameInAdditionalIsFollowed() throws {
        // An additional record whose owner is a pointer to the question name is skipped, not rejected.
        let bytes = QueryBuilder().bytes.withAdditional(1) + [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 1, 0]
        #expect(try DNSReaderTests.parse(bytes).get().type == .a)
    }

    @Test func everyTruncationIsFormErrOrDropNeverACrash() {
        let full = QueryBuilder(edns: (1232, 0, true, [QueryBuilder.ecs(source: 24, address: [192, 0, 2])])).bytes
        for length in 0..<full.count {
            let response = answer(Array(full[0..<length]))
            if length < 12 { #expect(response == nil) } else { #expect(response?.rcode == 1, "cut at \(length)") }
        }
        #expect(answer(full)?.rcode == 0)
    }
}

extension Array where Element == UInt8 {
    /// Overwrites ARCOUNT.
    func withAdditional(_ count: UInt16) -> [UInt8] {
        var copy = self
        copy[10] = UInt8(count >> 8)
        copy[11] = UInt8(count & 0xFF)
        return copy
    }
}
