import GLBCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct IPAddressTests {
    @Test(arguments: [
        // (input, parsed, printed)
        ("192.0.2.1", IPAddress.v4(0xC000_0201), "192.0.2.1"),
        ("0.0.0.0", .v4(0), "0.0.0.0"),
        ("255.255.255.255", .v4(0xFFFF_FFFF), "255.255.255.255"),
        ("127.0.0.1", .v4(0x7F00_0001), "127.0.0.1"),
        ("::", .v6(high: 0, low: 0), "::"),
        ("::1", .v6(high: 0, low: 1), "::1"),
        ("2001:db8::1", .v6(high: 0x2001_0DB8_0000_0000, low: 1), "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", .v6(high: 0x2001_0DB8_0000_0000, low: 1), "2001:db8::1"),   // canonical form
        ("fe80::1:2:3:4", .v6(high: 0xFE80_0000_0000_0000, low: 0x0001_0002_0003_0004), "fe80::1:2:3:4"),
        ("1:2:3:4:5:6:7:8", .v6(high: 0x0001_0002_0003_0004, low: 0x0005_0006_0007_0008), "1:2:3:4:5:6:7:8"),
        ("::ffff:192.0.2.1", .v6(high: 0, low: 0x0000_FFFF_C000_0201), "::ffff:192.0.2.1"),
    ])
    func addressesParseAndPrint(text: String, parsed: IPAddress, printed: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address == parsed)
        #expect(address.description == printed)
        #expect(IPAddress(printed) == parsed, "the printed form parses back")
        #expect(IPAddress(bytes: address.bytes) == parsed, "bytes round trip")
        #expect(address.isIPv4 == !text.contains(":"))
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "1.2.3.4/24", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d",
                      "::1::", ":::", "1:2:3:4:5:6:7:8:9", "g::1", "12345::", "[::1]", "::1%eth0", "localhost", "0x7f.0.0.1"])
    func invalidAddressesAreRejected(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func bytesAreInNetworkOrder() {
        #expect(IPAddress("192.0.2.1")?.bytes == [192, 0, 2, 1])
        #expect(IPAddress("2001:db8::ff")?.bytes == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0xFF])
        #expect(IPAddress(bytes: [10, 0, 0, 1]) == IPAddress("10.0.0.1"))
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }

    @Test(arguments: [
        ("192.0.2.255", 24, "192.0.2.0"),
        ("192.0.2.255", 32, "192.0.2.255"),
        ("192.0.2.255", 33, "192.0.2.255"),          // clamped to the address length
        ("192.0.2.255", 0, "0.0.0.0"),
        ("192.0.2.255", -1, "0.0.0.0"),
        ("10.255.255.255", 9, "10.128.0.0"),
        ("255.255.255.255", 1, "128.0.0.0"),
        ("255.255.255.255", 31, "255.255.255.254"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 32, "2001:db8::"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 56, "2001:db8:ffff:ff00::"),   // a typical ECS prefix
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 63, "2001:db8:ffff:fffe::"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 64, "2001:db8:ffff:ffff::"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65, "2001:db8:ffff:ffff:8000::"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 127, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 128, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 200, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, "8000::"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "::"),
    ])
    func maskingClearsEveryBitAfterThePrefix(text: String, prefix: Int, expected: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.masked(toPrefix: prefix).description == expected)
    }
}

@Suite struct SocketAddressTests {
    @Test(arguments: [
        // (operator text, address, port, printed)
        ("127.0.0.1:9090", "127.0.0.1", 9090, "127.0.0.1:9090"),
        ("[::1]:53", "::1", 53, "[::1]:53"),
        ("[2001:db8::1]:443", "2001:db8::1", 443, "[2001:db8::1]:443"),
        (":80", "0.0.0.0", 80, "0.0.0.0:80"),              // every IPv4 interface
        ("localhost:1", "127.0.0.1", 1, "127.0.0.1:1"),
        ("0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0"),
        ("1.2.3.4:65535", "1.2.3.4", 65535, "1.2.3.4:65535"),
    ] as [(String, String, UInt16, String)])
    func hostAndPortNotationParses(text: String, ip: String, port: UInt16, printed: String) throws {
        let address = try #require(SocketAddress(parsing: text))
        #expect(address.ip == IPAddress(ip))
        #expect(address.port == port)
        #expect(address.description == printed)
        #expect(SocketAddress(parsing: printed) == address, "the printed form parses back")
    }

    @Test(arguments: [
        ("1.2.3.4", "no port"),
        ("::1:53", "bare IPv6 address"),
        ("[::1]", "brackets without a port"),
        ("[::1]53", "no colon after the bracket"),
        ("[::1:53", "unclosed bracket"),
        ("host:99999", "port out of range"),
        ("1.2.3.4:65536", "port one past the range"),
        ("1.2.3.4:-1", "negative port"),
        ("1.2.3.4:", "empty port"),
        ("1.2.3.4:http", "named port"),
        ("example.com:80", "host names are not resolved here"),
        ("", "empty"),
        (":", "only a colon"),
    ])
    func malformedHostAndPortIsRejected(text: String, why: String) {
        #expect(SocketAddress(parsing: text) == nil, "\(why)")
    }

    @Test func familyFollowsTheAddress() {
        #expect(SocketAddress(parsing: "127.0.0.1:1")?.family == AF_INET)
        #expect(SocketAddress(parsing: "[::1]:1")?.family == AF_INET6)
    }

    @Test(arguments: [
        ("127.0.0.1", true, false), ("127.255.0.9", true, false), ("128.0.0.1", false, false), ("::1", true, false),
        ("::2", false, false), ("0.0.0.0", false, true), ("::", false, true), ("10.0.0.1", false, false),
    ])
    func loopbackAndUnspecified(_ text: String, _ loopback: Bool, _ unspecified: Bool) throws {
        let ip = try #require(IPAddress(text))
        #expect(ip.isLoopback == loopback)
        #expect(ip.isUnspecified == unspecified)
    }
}
