import GLBCore
import GLBTestSupport
import Proxy
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What an operator tunes and watches on the proxy: the body limit, the access log's sampling,
/// and the upstream pool's idle expiry (issue 5 items 4 and 5).
@Suite struct ProxyOperationsTests {
    static func www(_ origin: Origin) -> [ServiceInput] {
        [ServiceInput(name: "www", zone: "glb.example.", clusters: [ProxyTests.origin("eu", origin.address)])]
    }

    @Test func aBodyOverTheLimitIs413BeforeAnyByteGoesUpstream() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start(Self.www(www)) { $0.maxRequestBodyBytes = 1000 }
        let client = try await proxy.connect()
        try await client.send("POST /upload HTTP/1.1\r\nHost: www.glb.example\r\nContent-Length: 5000\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 413)
        #expect(try await client.waitForClose(), "the unread body makes the connection unusable")
        #expect(proxy.metric("glb_http_pool_new_total") ?? 0 == 0, "no upstream connection was opened")

        // At the limit is fine, and so is a chunked body that stays under it.
        let ok = try await proxy.connect()
        try await ok.send("POST /upload HTTP/1.1\r\nHost: www.glb.example\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "a", count: 1000))
        #expect(try await ok.readResponse().status == 200)
        try await ok.send("POST /c HTTP/1.1\r\nHost: www.glb.example\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
        let chunked = try await ok.readResponse()
        #expect(chunked.status == 200 && chunked.text == "0123456789abcdef")
        await proxy.stop(); await www.stop()
    }

    @Test func aChunkedBodyThatGrowsPastTheLimitIsCut() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start(Self.www(www)) { $0.maxRequestBodyBytes = 100 }
        let chunk = "40\r\n" + String(repeating: "x", count: 64) + "\r\n"
        // All at once: refused before anything goes upstream.
        let client = try await proxy.connect()
        try await client.send("POST /c HTTP/1.1\r\nHost: www.glb.example\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk)
        #expect(try await client.readResponse().status == 413)
        #expect(try await client.waitForClose())
        // Past the limit only in a later read: still 413, and the connection closes.
        let late = try await proxy.connect()
        try await late.send("POST /c HTTP/1.1\r\nHost: www.glb.example\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk)
        await proxy.settle()
        try await late.send(chunk + chunk)
        #expect(try await late.readResponse().status == 413)
        #expect(try await late.waitForClose())
        await proxy.stop(); await www.stop()
    }

    static func accessLines(_ proxy: ProxyHarness) -> [String] {
        proxy.logLines.filter { $0.contains(#""msg":"access""#) }
    }

    @Test func theAccessLogWritesEveryRequestAtRateOneAndNoneAtZero() async throws {
        let www = try await Origin.start("www")
        let full = try await ProxyHarness.start(Self.www(www)) { $0.accessLogSampleRate = 1 }
        let client = try await full.connect()
        for i in 0..<10 { #expect(try await client.get("/r\(i)").status == 200) }
        #expect(try await client.get("/status/503").status == 503)
        let lines = Self.accessLines(full)
        #expect(lines.count == 11)
        let last = try #require(lines.last.flatMap { try? JSONParser.parse(Array($0.utf8)) })
        #expect(last["status"]?.stringValue == "503")
        #expect(last["route"]?.stringValue == "www.glb.example")
        #expect(last["cluster"]?.stringValue == "eu")
        #expect(last["target"]?.stringValue == "/status/503")
        for field in ["method", "client", "bytes_in", "bytes_out", "retries", "upstream_ms", "total_ms"] {
            #expect(last[field] != nil, "field \(field)")
        }
        await full.stop()

        let none = try await ProxyHarness.start(Self.www(www)) { $0.accessLogSampleRate = 0 }
        let quiet = try await none.connect()
        for _ in 0..<10 { #expect(try await quiet.get("/").status == 200) }
        #expect(Self.accessLines(none).isEmpty)
        await none.stop(); await www.stop()
    }

    @Test func aSampledAccessLogWritesAboutThatShare() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start(Self.www(www)) { $0.accessLogSampleRate = 0.25 }
        let client = try await proxy.connect()
        for _ in 0..<400 { _ = try await client.get("/") }
        // Binomial(400, 0.25): mean 100, sd 8.7; 60...140 is beyond 4.5 sd either way.
        let count = Self.accessLines(proxy).count
        #expect((60...140).contains(count), "\(count) of 400 logged")
        await proxy.stop(); await www.stop()
    }

    /// Out of descriptors, accept4 fails with EMFILE and the connection stays queued, so the
    /// listener stays readable: retried every tick, that spun a core and logged without end.
    /// The listener pauses for 100 ms (of the loop's clock) and then serves the connection.
    @Test func runningOutOfDescriptorsPausesAcceptingInsteadOfSpinning() async throws {
        let www = try await Origin.start("www")
        let clock = ManualClock()
        let proxy = try await ProxyHarness.start(Self.www(www), clock: clock)
        let pausing = { proxy.logLines.filter { $0.contains("pausing accepts") }.count }
        // The client's socket is made first: under the lowered limit no descriptor can be.
        let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(proxy.address.port).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var saved = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &saved)
        let lowestFree = dup(0)
        close(lowestFree)
        var low = saved
        low.rlim_cur = rlim_t(lowestFree)                // every new descriptor now fails
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &low)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // The listener defers accept until the request arrives (TCP_DEFER_ACCEPT).
        let request = Array("GET /after HTTP/1.1\r\nHost: www.glb.example\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        for _ in 0..<1000 where pausing() == 0 { await proxy.settle() }
        for _ in 0..<20 { await proxy.settle() }     // a paused listener is not retried meanwhile
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &saved)
        #expect(connected == 0, "the kernel completes the handshake without the proxy's accept")
        #expect(sent == request.count)
        #expect(pausing() == 1)

        clock.advance(by: .milliseconds(100))
        proxy.group.loops[0].wakeUp()
        let client = RawClient(connected: fd)
        let response = try await client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "GET /after")
        await proxy.stop(); await www.stop()
    }

    @Test func anIdleUpstreamConnectionIsClosedAfterThePoolTimeout() async throws {
        let www = try await Origin.start("www")
        let clock = ManualClock()
        let proxy = try await ProxyHarness.start(Self.www(www), clock: clock) { $0.poolIdleTimeout = .seconds(30) }
        let client = try await proxy.connect()
        #expect(try await client.get("/one").status == 200)
        #expect(proxy.metric("glb_http_pool_idle_connections") == 1)

        clock.advance(by: .seconds(20))              // not yet: the sweep keeps it
        proxy.group.loops[0].wakeUp()
        await proxy.settle()
        #expect(proxy.metric("glb_http_pool_idle_connections") == 1)

        clock.advance(by: .seconds(11))              // 31 s idle: swept
        proxy.group.loops[0].wakeUp()
        await proxy.settle()
        #expect(proxy.metric("glb_http_pool_idle_connections") == 0)
        #expect(try await client.get("/two").status == 200)
        #expect(proxy.metric("glb_http_pool_new_total") == 2, "the next request needed a new upstream connection")
        #expect(proxy.metric("glb_http_pool_reused_total") ?? 0 == 0)
        await proxy.stop(); await www.stop()
    }
}
