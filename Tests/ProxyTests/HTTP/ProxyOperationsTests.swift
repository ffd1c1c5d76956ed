import GLBCore
import GLBTestSupport
import Proxy
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What an operator tunes and watches on the proxy: the body limit, the access log's sampling,
/// and the upstream pool's idle expiry.
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
    /// accept(2) fails by substitution: lowering RLIMIT_NOFILE would fail the other tests that
    /// run beside this one in the process.
    @Test func runningOutOfDescriptorsPausesAcceptingInsteadOfSpinning() async throws {
        let www = try await Origin.start("www")
        let clock = ManualClock()
        let failing = Atomic<Bool>(true)
        let attempts = Atomic<Int>(0)
        let proxy = try await ProxyHarness.start(Self.www(www), clock: clock) {
            $0.accept = { (listener: CInt) throws(SystemError) -> (fd: CInt, peer: SocketAddress?)? in
                attempts.add(1, ordering: .relaxed)
                if failing.load(ordering: .relaxed) { throw SystemError(call: "accept4", errno: EMFILE) }
                return try Socket.accept(listener)
            }
        }
        let pausing = { proxy.logLines.filter { $0.contains("pausing accepts") }.count }
        // The listener defers accept until the request arrives (TCP_DEFER_ACCEPT).
        let client = try await proxy.connect()
        try await client.send("GET /after HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        for _ in 0..<1000 where pausing() == 0 { await proxy.settle() }
        let triedWhileShort = attempts.load(ordering: .relaxed)
        for _ in 0..<20 { await proxy.settle() }     // a paused listener is not retried meanwhile
        #expect(pausing() == 1)
        #expect(attempts.load(ordering: .relaxed) == triedWhileShort)

        failing.store(false, ordering: .relaxed)
        clock.advance(by: .milliseconds(100))
        proxy.group.loops[0].wakeUp()
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
