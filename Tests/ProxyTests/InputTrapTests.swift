import Foundation
import GLBCore
import GLBTestSupport
@testable import Proxy
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Inputs that once reached an operation that traps, and so could stop a whole node. Each case
/// must now get a clear answer (an error, a truncated answer) and leave the process running.
@Suite struct InputTrapTests {
    /// A service answering more A records than a UInt16 counts: the count once overflowed.
    /// 2,100 clusters of 32 addresses, policy `all`, over TCP (64 KiB): the answer is cut to TC.
    @Test func aServiceWithMoreAddressesThanAMessageHoldsIsTruncatedNotATrap() throws {
        let clusters = (0..<2100).map { c in
            ClusterInput(name: "c\(c)", addresses: (0..<32).map { IPAddress.v4(0x0A00_0000 | UInt32(c) << 5 | UInt32($0)) }, port: 80, weight: 1)
        }
        let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.", nameservers: ["ns1.glb.example."], glue: [:])
        let snapshot = RoutingSnapshot(compiling: RouteInput(generation: 1, zones: [zone],
                                                             services: [ServiceInput(name: "big", zone: "glb.example.", policy: .all, clusters: clusters)]))
        for tcp in [false, true] {
            let response = try #require(answer(QueryBuilder(name: "big.glb.example.", type: 1).bytes, tcp: tcp, snapshot: snapshot))
            #expect(response.flags & 0x0200 != 0, "TC is set (tcp: \(tcp))")
        }
    }

    @Test(arguments: ["10.0.0.0/8 =", "10.0.0.0/8 region= ", "10.0.0.0/8 =eu", "10.0.0.0/8 region = eu-west"])
    func aCIDRMapFieldWithoutAKeyIsAParseError(_ line: String) {
        #expect(throws: CIDRMap.ParseError.self) { try CIDRMap.parse(line + "\n") }
    }

    /// A certificate file stamped past 2262 (nanoseconds since 1970 overflow Int64).
    @Test func aFileStampedFarInTheFutureIsStillStamped() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = dir.path + "/far.crt"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        var times = [timespec(tv_sec: 99_999_999_999, tv_nsec: 0), timespec(tv_sec: 99_999_999_999, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { return }   // a file system that cannot store it: nothing to test
        #expect(FileStamp(path: path) != nil)
    }
}
