import Foundation
import GLBCore
import Proxy
import Testing

/// The MaxMind DB reader against MaxMind's published test databases: their source JSON, the
/// spec's record layouts, and the corrupt files, which must fail cleanly.
@Suite struct GeoDatabaseTests {
    @Test(arguments: ["MaxMind-DB-test-ipv4-24.mmdb", "MaxMind-DB-test-ipv6-24.mmdb", "GeoLite2-Country-Test.mmdb",
                      "GeoIP2-Country-Test.mmdb", "GeoLite2-City-Test.mmdb", "MaxMind-DB-test-decoder.mmdb"])
    func metadataOfEveryGoodFileIsRead(_ name: String) throws {
        let db = try GeoFixtures.open(name)
        #expect(db.nodeCount > 0)
        #expect([24, 28, 32].contains(db.recordSize))
        #expect(db.metadata["binary_format_major_version"]?.integerValue == 2)
        #expect(!db.databaseType.isEmpty)
    }

    /// The ipv4-24 source: 1.1.1.1/32, 1.1.1.2/31, 1.1.1.4/30, 1.1.1.8/29, 1.1.1.16/28, 1.1.1.32/32,
    /// each record `{"ip": first address}`.
    @Test(arguments: [("1.1.1.1", "1.1.1.1", 32), ("1.1.1.3", "1.1.1.2", 31), ("1.1.1.7", "1.1.1.4", 30),
                      ("1.1.1.15", "1.1.1.8", 29), ("1.1.1.17", "1.1.1.16", 28), ("1.1.1.32", "1.1.1.32", 32)])
    func ipv4TreeFindsEachNetwork(_ address: String, _ network: String, _ prefix: Int) throws {
        let db = try GeoFixtures.open("MaxMind-DB-test-ipv4-24.mmdb")
        let (record, depth) = db.lookup(IPAddress(address)!)
        #expect(depth == UInt8(prefix))
        #expect(try db.record(at: try #require(record))["ip"]?.stringValue == network)
    }

    @Test(arguments: ["1.1.1.33", "255.254.253.123", "0.0.0.0"])
    func ipv4TreeHasNoDataOutsideItsNetworks(_ address: String) throws {
        let db = try GeoFixtures.open("MaxMind-DB-test-ipv4-24.mmdb")
        #expect(db.lookup(IPAddress(address)!).record == nil)
        #expect(db.lookup(IPAddress("::1.1.1.1")!).record == nil, "an IPv4-only tree has no IPv6 answers")
    }

    /// The ipv6-24 source: ::1:ffff:ffff/128, ::2:0:0/122, ::2:0:40/124, ::2:0:50/125, ::2:0:58/127.
    @Test(arguments: [("::1:ffff:ffff", "::1:ffff:ffff", 128), ("::2:0:1", "::2:0:0", 122), ("::2:0:41", "::2:0:40", 124),
                      ("::2:0:52", "::2:0:50", 125), ("::2:0:59", "::2:0:58", 127)])
    func ipv6TreeFindsEachNetwork(_ address: String, _ network: String, _ prefix: Int) throws {
        let db = try GeoFixtures.open("MaxMind-DB-test-ipv6-24.mmdb")
        let (record, depth) = db.lookup(IPAddress(address)!)
        #expect(depth == UInt8(prefix))
        #expect(try db.record(at: try #require(record))["ip"]?.stringValue == network)
        #expect(db.lookup(IPAddress("::2:0:60")!).record == nil)
    }

    /// Every type of the format, as the decoder test database's source writes them.
    @Test func everyDataTypeDecodes() throws {
        let db = try GeoFixtures.open("MaxMind-DB-test-decoder.mmdb")
        for address in ["1.1.1.0", "::1.1.1.0", "::ffff:1.1.1.0"] {
            let record = try db.record(at: try #require(db.lookup(IPAddress(address)!).record, "\(address)"))
            #expect(record["array"] == .array([.uint32(1), .uint32(2), .uint32(3)]))
            #expect(record["boolean"] == .bool(true))
            #expect(record["bytes"] == .bytes([0, 0, 0, 42]))
            #expect(record["double"] == .double(42.123456))
            #expect(record["float"] == .float(1.1))
            #expect(record["int32"] == .int32(-268_435_456))
            #expect(record["uint16"] == .uint16(100))
            #expect(record["uint32"] == .uint32(268_435_456))
            #expect(record["uint64"] == .uint64(1 << 60))
            #expect(record["uint128"] == .uint128(high: 1 << 56, low: 0))
            #expect(record["utf8_string"] == .string("unicode! ☯ - ♫"))
            #expect(record["map"]?["mapX"]?["arrayX"] == .array([.uint32(7), .uint32(8), .uint32(9)]))
            #expect(record["map"]?["mapX"]?["utf8_stringX"] == .string("hello"))
        }
        // The zero record: every type at its zero value.
        let zeros = try db.record(at: try #require(db.lookup(IPAddress("::")!).record))
        #expect(zeros["boolean"] == .bool(false))
        #expect(zeros["uint128"] == .uint128(high: 0, low: 0))
        #expect(zeros["utf8_string"] == .string(""))
    }

    /// Every network in GeoLite2-Country-Test.json: the lookup lands on a record whose country and
    /// continent (read in place, as the data path does) and whole value (decoded) match the source.
    @Test func everyPublishedCountryNetworkMatchesItsSource() throws {
        let db = try GeoFixtures.open("GeoLite2-Country-Test.mmdb")
        let source = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: GeoFixtures.path("GeoLite2-Country-Test.json")))))
        var checked = 0
        for entry in try #require(source.arrayValue) {
            let (network, expected) = try #require(entry.objectValue?.first)
            let parts = network.split(separator: "/")
            let address = try #require(IPAddress(String(parts[0])))
            let prefix = try #require(Int(parts[1]))
            let (record, depth) = db.lookup(address)
            let offset = try #require(record, "\(network)")
            // An IPv4 network's prefix is counted in IPv4 bits; written as ::a.b.c.d it is IPv6.
            #expect(Int(depth) <= prefix, "\(network): matched at /\(depth)")
            let decoded = try db.record(at: offset)
            #expect(decoded.json == expected, "\(network)")
            let location = try db.location(at: offset)
            let country = expected["country"]?["iso_code"]?.stringValue ?? expected["registered_country"]?["iso_code"]?.stringValue
            #expect(location.country.description == (country ?? "-"), "\(network)")
            #expect(location.continent.description == (expected["continent"]?["code"]?.stringValue ?? "-"), "\(network)")
            checked += 1
        }
        #expect(checked > 100)
    }

    /// The done-when addresses and the README's examples, in both country databases.
    @Test(arguments: ["GeoIP2-Country-Test.mmdb", "GeoLite2-Country-Test.mmdb", "GeoLite2-City-Test.mmdb"])
    func knownAnswers(_ name: String) throws {
        let db = try GeoFixtures.open(name)
        for (address, country, continent) in [("81.2.69.160", "GB", "EU"), ("2001:218::", "JP", "AS"), ("89.160.20.112", "SE", "EU"),
                                              ("::ffff:81.2.69.160", "GB", "EU")] {
            let (record, _) = db.lookup(IPAddress(address)!)
            let location = try db.location(at: try #require(record, "\(address) in \(name)"))
            #expect(location.country.description == country, "\(address) in \(name)")
            #expect(location.continent.description == continent, "\(address) in \(name)")
        }
    }

    @Test func cityRecordsCarryCoordinates() throws {
        let db = try GeoFixtures.open("GeoLite2-City-Test.mmdb")
        let offset = try #require(db.lookup(IPAddress("81.2.69.160")!).record)
        let location = try db.location(at: offset)
        let decoded = try db.record(at: offset)
        #expect(location.hasCoordinates)
        #expect(location.latitude == decoded["location"]?["latitude"]?.doubleValue)
        #expect(location.longitude == decoded["location"]?["longitude"]?.doubleValue)
    }

    /// Corrupt files are refused at open with a reason, never a crash or a hang.
    @Test(arguments: ["MaxMind-DB-test-broken-search-tree-24.mmdb", "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
                      "MaxMind-DB-test-broken-pointers-24.mmdb"])
    func corruptFilesAreRefused(_ name: String) throws {
        #expect(throws: MMDBError.self, "\(name)") { _ = try GeoFixtures.open(name) }
    }

    @Test func notADatabaseAndMissingFilesAreErrors() throws {
        #expect(throws: MMDBError.noMetadata) { _ = try GeoDatabase(image: Array("hello, world".utf8)) }
        #expect(throws: MMDBError.noMetadata) { _ = try GeoDatabase(image: []) }
        #expect(throws: MMDBError.self) { _ = try GeoDatabase(path: "/nonexistent/glb.mmdb") }
    }

    /// Every truncation of a good file fails cleanly (or, cut inside the data section only,
    /// opens and then fails per record), and every single-byte corruption never crashes.
    @Test func truncatedAndFlippedImagesNeverCrash() throws {
        let image = try GeoFixtures.bytes("MaxMind-DB-test-decoder.mmdb")
        for cut in stride(from: 0, to: image.count, by: 7) {
            exercise(Array(image[..<cut]))
        }
        for position in stride(from: 0, to: image.count, by: 3) {
            var flipped = image
            flipped[position] ^= 0xFF
            exercise(flipped)
        }
    }

    private func exercise(_ image: [UInt8]) {
        guard let db = try? GeoDatabase(image: image) else { return }
        for address in ["1.1.1.0", "::", "::1:ffff:ffff", "255.255.255.255"] {
            guard let offset = db.lookup(IPAddress(address)!).record else { continue }
            _ = try? db.record(at: offset)
            _ = try? db.location(at: offset)
        }
    }
}

/// The decoder on hand-made bytes: pointer rules, size encodings and the cycle guard.
@Suite struct MMDBDecoderTests {
    /// A database image around `data`: one node whose both records point at data offset 0.
    static func image(data: [UInt8]) -> [UInt8] {
        // node_count 1, record_size 24: records = 1 + 16 + 0 = 17 → data offset 0.
        var bytes: [UInt8] = [0, 0, 17, 0, 0, 17] + [UInt8](repeating: 0, count: 16) + data
        bytes += [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)
        // {binary_format_major_version: 2, node_count: 1, record_size: 24, ip_version: 4, database_type: "t"}
        bytes += [0xE5]
        for (key, value) in [("binary_format_major_version", [0xA1, 2]), ("node_count", [0xC1, 1]), ("record_size", [0xA1, 24]),
                             ("ip_version", [0xA1, 4]), ("database_type", [0x41, 0x74])] as [(String, [UInt8])] {
            bytes += [0x40 | UInt8(key.utf8.count)] + Array(key.utf8) + value
        }
        return bytes
    }

    static func decode(_ data: [UInt8]) throws -> MMDBValue {
        let db = try GeoDatabase(image: image(data: data))
        return try db.record(at: try #require(db.lookup(IPAddress("1.2.3.4")!).record))
    }

    @Test func sizesOf29To31UseTheNextBytes() throws {
        // 0x5D = string, size 29 + next byte (51) = 80 bytes (the spec's own example).
        let text = [UInt8](repeating: 0x61, count: 80)
        #expect(try Self.decode([0x5D, 51] + text) == .string(String(repeating: "a", count: 80)))
        let long = [UInt8](repeating: 0x62, count: 300)           // 285 + 15
        #expect(try Self.decode([0x5E, 0, 15] + long) == .string(String(repeating: "b", count: 300)))
    }

    @Test func aPointerToAPointerIsAnError() throws {
        // data: [0] pointer → 2, [2] pointer → 0.
        #expect(throws: MMDBError.pointerToPointer(offset: 22)) { try Self.decode([0x20, 2, 0x20, 0]) }
    }

    @Test func aMapThatPointsAtItselfStopsAtTheDepthLimit() throws {
        // data: [0] map of 1 pair: "a" → pointer to 0.
        #expect(throws: MMDBError.self) { try Self.decode([0xE1, 0x41, 0x61, 0x20, 0]) }
    }

    @Test func aPointerPastTheSectionIsAnError() throws {
        #expect(throws: MMDBError.self) { try Self.decode([0x28, 0x00, 0xFF]) }
    }

    @Test func fixedWidthTypesRejectImpossibleSizes() throws {
        #expect(throws: MMDBError.self) { try Self.decode([0x64] + [UInt8](repeating: 0, count: 4)) }   // double of 4 bytes
        #expect(throws: MMDBError.self) { try Self.decode([0xA3, 1, 2, 3]) }                             // uint16 of 3 bytes
    }

    @Test func integersUseOnlyTheBytesWritten() throws {
        #expect(try Self.decode([0xA0]) == .uint16(0))
        #expect(try Self.decode([0xC2, 0x01, 0x00]) == .uint32(256))
        #expect(try Self.decode([0x01, 0x01, 0xFF]) == .int32(255))
        #expect(try Self.decode([0x04, 0x01, 0xFF, 0xFF, 0xFF, 0xFF]) == .int32(-1))
    }
}
