import GLBCore
import GLBTestSupport
import Proxy

/// Builds query packets byte by byte, so tests can also build broken ones.
struct QueryBuilder {
    var id: UInt16 = 0x1234
    var flags: UInt16 = 0x0100          // RD
    var name = "www.glb.example."
    var type: UInt16 = 1
    var qclass: UInt16 = 1
    var counts: (qd: UInt16, an: UInt16, ns: UInt16)? = nil
    /// OPT: payload size, version, DO, options as (code, data).
    var edns: (udp: UInt16, version: UInt8, dnssecOK: Bool, options: [(UInt16, [UInt8])])? = nil
    var trailing: [UInt8] = []

    static func wire(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in text.split(separator: ".", omittingEmptySubsequences: true) {
            out.append(UInt8(label.utf8.count))
            out += Array(label.utf8)
        }
        return out + [0]
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        u16(id); u16(flags)
        u16(counts?.qd ?? 1); u16(counts?.an ?? 0); u16(counts?.ns ?? 0); u16(edns == nil ? 0 : 1)
        out += QueryBuilder.wire(name)
        u16(type); u16(qclass)
        if let edns {
            out.append(0)
            u16(41); u16(edns.udp)
            out += [0, edns.version]
            u16(edns.dnssecOK ? 0x8000 : 0)
            let data = edns.options.flatMap { code, body in [UInt8(code >> 8), UInt8(code & 0xFF), UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body }
            u16(UInt16(data.count))
            out += data
        }
        return out + trailing
    }

    static func ecs(family: UInt16 = 1, source: UInt8, scope: UInt8 = 0, address: [UInt8]) -> (UInt16, [UInt8]) {
        (8, [UInt8(family >> 8), UInt8(family & 0xFF), source, scope] + address)
    }
}

/// A decoded response (test-side parser, independent of the code under test).
struct Response {
    struct Record { var name: String; var type: UInt16; var rclass: UInt16; var ttl: UInt32; var rdata: [UInt8] }
    var id: UInt16, flags: UInt16
    var counts: [Int]
    var question: String?
    var answers: [Record] = [], authority: [Record] = [], additional: [Record] = []
    var rcode: Int { Int(flags & 0xF) | Int(opt.map { UInt16($0.ttl >> 24) << 4 } ?? 0) }
    var opt: Record? { additional.first { $0.type == 41 } }
    var aa: Bool { flags & 0x0400 != 0 }
    var tc: Bool { flags & 0x0200 != 0 }
    var addresses: [IPAddress] { answers.filter { $0.type == 1 || $0.type == 28 }.compactMap { IPAddress(bytes: $0.rdata) } }

    init(_ b: [UInt8]) {
        func u16(_ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
        id = u16(0); flags = u16(2)
        counts = [Int(u16(4)), Int(u16(6)), Int(u16(8)), Int(u16(10))]
        var i = 12
        func name() -> String {
            var labels: [String] = [], at = i, jumped = false
            while b[at] != 0 {
                if b[at] & 0xC0 == 0xC0 {
                    if !jumped { i = at + 2 }
                    jumped = true
                    at = Int(b[at] & 0x3F) << 8 | Int(b[at + 1])
                    continue
                }
                labels.append(String(decoding: b[(at + 1)...(at + Int(b[at]))], as: UTF8.self))
                at += 1 + Int(b[at])
            }
            if !jumped { i = at + 1 }
            return labels.joined(separator: ".") + "."
        }
        if counts[0] == 1 { question = name(); i += 4 }
        func record() -> Record {
            let n = name()
            let type = u16(i), ttl = UInt32(u16(i + 4)) << 16 | UInt32(u16(i + 6)), length = Int(u16(i + 8))
            i += 10
            defer { i += length }
            return Record(name: n, type: type, rclass: u16(i - 8), ttl: ttl, rdata: Array(b[i..<(i + length)]))
        }
        for _ in 0..<counts[1] { answers.append(record()) }
        for _ in 0..<counts[2] { authority.append(record()) }
        for _ in 0..<counts[3] { additional.append(record()) }
        precondition(i == b.count, "response has \(b.count - i) unparsed bytes")
    }
}

func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// The fixed snapshot the responder tests use.
func testInput(generation: UInt64 = 1) -> RouteInput {
    RouteInput(
        generation: generation,
        zones: [ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 2026112601, hostmaster: "hostmaster@glb.example",
                          nameservers: ["ns1.glb.example.", "ns2.glb.example.", "ns.other.example."],
                          glue: ["ns1.glb.example.": [ip("192.0.2.53"), ip("2001:db8::53")], "ns2.glb.example.": [ip("192.0.2.54")]])],
        services: [
            ServiceInput(name: "www", zone: "glb.example.", ttl: 30, clusters: [
                ClusterInput(name: "eu", region: "eu-west", addresses: [ip("127.0.0.11")], weight: 100),
                ClusterInput(name: "us", region: "us-east", addresses: [ip("127.0.0.12")], weight: 100),
            ]),
            ServiceInput(name: "v6only", zone: "glb.example.", ttl: 20, clusters: [
                ClusterInput(name: "a", addresses: [ip("2001:db8::1")]),
            ]),
            ServiceInput(name: "api.v2", zone: "glb.example", policy: .all, ttl: 10, clusters: [
                ClusterInput(name: "a", addresses: [ip("198.51.100.1"), ip("2001:db8::a")]),
                ClusterInput(name: "b", addresses: [ip("198.51.100.2")]),
            ]),
            ServiceInput(name: "big", zone: "glb.example.", policy: .all, ttl: 10, clusters: [
                ClusterInput(name: "many", addresses: (1...100).map { IPAddress.v4(0x0A00_0000 + UInt32($0)) }),
            ]),
            ServiceInput(name: "canary", zone: "glb.example.", ttl: 30, clusters: [
                ClusterInput(name: "stable", addresses: [ip("203.0.113.1")]),
                ClusterInput(name: "next", addresses: [ip("203.0.113.2")]),
            ], canary: CanaryInput(cluster: "next", percent: 50)),
            ServiceInput(name: "closed", zone: "glb.example.", failClosed: true, clusters: [
                ClusterInput(name: "down", addresses: [ip("203.0.113.9")], healthy: false),
            ]),
        ])
}

let testSnapshot = RoutingSnapshot(compiling: testInput())

/// Runs one query through a fresh responder; nil if dropped.
func answer(_ query: [UInt8], client: IPAddress = ip("192.0.2.1"), tcp: Bool = false,
            snapshot: RoutingSnapshot = testSnapshot, seed: UInt64 = 1) -> Response? {
    var responder = DNSResponder()
    var rng = SplitMix64(seed: seed)
    var out: [UInt8] = []
    let n = query.withUnsafeBytes { responder.respond(to: $0, client: client, overTCP: tcp, snapshot: snapshot, rng: &rng, into: &out) }
    guard let n else { return nil }
    precondition(n == out.count)
    return Response(out)
}
