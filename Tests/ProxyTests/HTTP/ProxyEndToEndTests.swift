import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// End to end over loopback: real origins (GLBCore's `HTTPServer`, or raw sockets where a test
/// needs control), a real `HTTPProxy` on its own loop thread, and raw clients whose every wait is
/// a bounded poll. No test sleeps; timeouts run on a `ManualClock`.
@Suite struct ProxyEndToEndTests {
    @Test func routesByHostAndFallsBackToTheDefaultService() async throws {
        let www = try await Origin.start("www"), api = try await Origin.start("api")
        let proxy = try await ProxyHarness.start([
            ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)]),
            ServiceInput(name: "api", zone: "glb.example.", clusters: [origin("us", api.address)]),
        ]) { $0.defaultService = "www.glb.example." }
        let client = try await proxy.connect()
        #expect(try await client.get("/a", host: "WWW.GLB.example:8080").header("X-Origin") == "www")
        #expect(try await client.get("/b", host: "api.glb.example.").header("X-Origin") == "api")
        let fallback = try await client.get("/c", host: "127.0.0.1:8080")
        #expect(fallback.header("X-Origin") == "www", "Host names no service: the default service answers")
        #expect(fallback.text == "GET /c")
        #expect(proxy.metric(#"glb_http_requests_total{cluster="us",code="2xx",service="api.glb.example"}"#) == 1)
        #expect(proxy.metric(#"glb_http_requests_total{cluster="eu",code="2xx",service="www.glb.example"}"#) == 2)
        await proxy.stop(); await www.stop(); await api.stop()
    }

    @Test func unknownHostWithoutADefaultIs404() async throws {
        let proxy = try await ProxyHarness.start([])
        let client = try await proxy.connect()
        let response = try await client.get("/", host: "nowhere.example")
        #expect(response.status == 404)
        #expect(response.text == "404 Not Found\n")
        #expect(try await client.get("/", host: "nowhere.example").status == 404, "the connection stays open")
        // RFC 9112 §9.6: unless the client asked to close it.
        let closing = try await client.get("/", host: "nowhere.example", headers: "Connection: close\r\n")
        #expect(closing.status == 404)
        #expect(closing.header("Connection") == "close")
        #expect(try await client.waitForClose())
        await proxy.stop()
    }

    @Test func keepAliveReusesOneUpstreamConnection() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)])])
        let client = try await proxy.connect()
        for i in 0..<20 {
            let response = try await client.get("/\(i)")
            #expect(response.status == 200)
            #expect(response.text == "GET /\(i)")
        }
        #expect(proxy.metric("glb_http_pool_new_total") == 1)
        #expect(proxy.metric("glb_http_pool_reused_total") == 19)
        #expect(proxy.metric("glb_http_pool_idle_connections") == 1)
        await proxy.stop(); await www.stop()
    }

    @Test func forwardedHeadersAreRewritten() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)])])
        let client = try await proxy.connect()
        let response = try await client.get("/", headers: "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nConnection: X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n")
        #expect(response.status == 200, "\(response.status) \(response.text)")
        #expect(response.header("X-Saw-X-Forwarded-For") == "203.0.113.9, 127.0.0.1")
        #expect(response.header("X-Saw-X-Forwarded-Proto") == "http")
        #expect(response.header("X-Saw-X-Forwarded-Host") == "www.glb.example")
        #expect(response.header("X-Saw-traceparent") == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(response.header("X-Saw-X-Secret") == nil, "a field named in Connection is hop-by-hop")
        #expect(response.header("X-Saw-Keep-Alive") == nil)
        #expect(response.header("X-Saw-X-Request-Id")?.utf8.count == 32)
        let kept = try await client.get("/", headers: "X-Request-Id: abc\r\n")
        #expect(kept.header("X-Saw-X-Request-Id") == "abc")
        await proxy.stop(); await www.stop()
    }

    @Test func chunkedRequestAndResponseBodiesStream() async throws {
        let raw = try RawOrigin { connection in
            while let head = try connection.readHead() {
                var body: [UInt8] = []
                try connection.readBody { body.append(contentsOf: $0) }
                #expect(head.headers.firstString("transfer-encoding") == "chunked")
                // Echo the body back in three chunks.
                var out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                let third = max(1, body.count / 3)
                var rest = body[...]
                while !rest.isEmpty {
                    let piece = rest.prefix(third)
                    rest = rest.dropFirst(piece.count)
                    out += String(piece.count, radix: 16) + "\r\n" + String(decoding: piece, as: UTF8.self) + "\r\n"
                }
                try connection.write(out + "0\r\n\r\n")
            }
        }
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", raw.address)])])
        let client = try await proxy.connect()
        try await client.send("POST /up HTTP/1.1\r\nHost: www.glb.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 200)
        #expect(response.header("Transfer-Encoding") == "chunked")
        #expect(response.text == "hello, world")
        // And the connection is still good for the next request.
        try await client.send("POST /up HTTP/1.1\r\nHost: www.glb.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(try await client.readResponse().text == "abc")
        await proxy.stop(); raw.stop()
    }

    @Test func malformedRequestsGetTheirStatusAndAClose() async throws {
        let proxy = try await ProxyHarness.start([])
        for (request, status) in [("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
                                  ("GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
                                  ("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
                                  ("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\n\r\n", 414)] {
            let client = try await proxy.connect()
            try await client.send(request)
            let response = try await client.readResponse()
            #expect(response.status == status)
            #expect(response.header("Connection") == "close")
            #expect(try await client.waitForClose())
        }
        await proxy.stop()
    }

    @Test func noHealthyClusterIs503AndARefusedConnectIs502() async throws {
        let dead = try RawOrigin { _ in }
        let deadAddress = dead.address
        dead.stop()
        let proxy = try await ProxyHarness.start([
            ServiceInput(name: "empty", zone: "glb.example.", clusters: []),
            ServiceInput(name: "down", zone: "glb.example.", clusters: [origin("a", deadAddress)]),
        ])
        // The origin's listener closes within one poll interval; a refused connect then proves it.
        let client = try await proxy.connect()
        #expect(try await client.get("/", host: "empty.glb.example").status == 503)
        var status = 0
        for _ in 0..<100 {
            status = try await client.get("/", host: "down.glb.example").status
            if status == 502 { break }
        }
        #expect(status == 502)
        #expect((proxy.metric("glb_http_upstream_connect_errors_total") ?? 0) >= 1)
        #expect((proxy.metric("glb_http_retries_total") ?? 0) >= 1, "one retry before giving up")
        await proxy.stop()
    }

    @Test func aSilentOriginIs504AtTheDeadline() async throws {
        let www = try await Origin.start("www")
        let clock = ManualClock()
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)])],
                                                 clock: clock) { $0.requestTimeout = .seconds(30) }
        let client = try await proxy.connect()
        try await client.send("GET /slow HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        _ = try await www.handler.arrivals.next(within: .seconds(10), "the request at the origin")
        clock.advance(by: .seconds(31))
        proxy.group.loops[0].wakeUp()
        let response = try await client.readResponse()
        #expect(response.status == 504)
        #expect(response.text == "504 Gateway Timeout\n")
        await proxy.stop(); await www.stop()
    }

    /// RFC 9112 §9.6: a client may close its sending side and still wait for the response. The
    /// FIN sits unread while the origin thinks; the proxy must neither drop the request nor spin
    /// on the FIN (EventLoopTests covers the spin), and closes once the response is out.
    @Test func aHalfClosedClientStillGetsItsResponse() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)])])
        let client = try await proxy.connect()
        try await client.send("GET /slow HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        client.halfClose()
        _ = try await www.handler.arrivals.next(within: .seconds(10), "the request at the origin")
        www.handler.opener.yield(())
        let response = try await client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "GET /slow")
        #expect(try await client.waitForClose())
        await proxy.stop(); await www.stop()
    }

    /// A tunnel both sides left silent ends at the idle timeout; traffic moves the deadline.
    /// (The timer used to fire and do nothing once a connection was a tunnel.)
    @Test func aSilentTunnelIsClosedAtTheIdleTimeout() async throws {
        let raw = try RawOrigin { connection in
            guard try connection.readHead() != nil else { return }
            try connection.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            while let bytes = try connection.readRaw() { try connection.write(bytes) }
        }
        let clock = ManualClock()
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", raw.address)])],
                                                 clock: clock) { $0.idleTimeout = .seconds(60) }
        let client = try await proxy.connect()
        try await client.send("GET /ws HTTP/1.1\r\nHost: www.glb.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(try await client.readResponse().status == 101)
        clock.advance(by: .seconds(40))
        try await client.send("ping")                // activity: the deadline moves to 100 s
        #expect(try await client.readRaw(count: 4) == Array("ping".utf8))
        clock.advance(by: .seconds(40))              // 80 s: 40 s since the last byte
        proxy.group.loops[0].wakeUp()
        await proxy.settle()
        #expect(proxy.metric("glb_http_client_connections") == 1, "still open: it was active 40 s ago")
        clock.advance(by: .seconds(21))              // 101 s: 61 s of silence
        proxy.group.loops[0].wakeUp()
        #expect(try await client.waitForClose())
        await proxy.settle()
        #expect(proxy.metric("glb_http_client_connections") == 0)
        await proxy.stop(); raw.stop()
    }

    @Test func slowlorisGets408() async throws {
        let clock = ManualClock()
        let proxy = try await ProxyHarness.start([], clock: clock) { $0.headerTimeout = .seconds(10) }
        let client = try await proxy.connect()
        try await client.send("GET / HTTP/1.1\r\nHost: a\r\n")
        await proxy.settle()
        clock.advance(by: .seconds(11))
        proxy.group.loops[0].wakeUp()
        #expect(try await client.readResponse().status == 408)
        #expect(try await client.waitForClose())
        await proxy.stop()
    }

    @Test func canaryCookieIsSetOnceAndKeepsTheClientOnItsSide() async throws {
        let base = try await Origin.start("base"), canary = try await Origin.start("canary")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.",
            clusters: [origin("base", base.address), origin("canary", canary.address)], canary: CanaryInput(cluster: "canary", percent: 50))])
        let client = try await proxy.connect()
        let first = try await client.get("/")
        let cookie = try #require(first.header("Set-Cookie"))
        #expect(cookie.hasSuffix("; Path=/; HttpOnly; Max-Age=86400"))
        let side = cookie.hasPrefix("glb_canary=1") ? "canary" : "base"
        #expect(first.header("X-Origin") == side)
        for _ in 0..<10 {
            let next = try await client.get("/", headers: "Cookie: a=b; \(cookie.prefix(12))\r\n")
            #expect(next.header("X-Origin") == side)
            #expect(next.header("Set-Cookie") == nil)
        }
        #expect(try await client.get("/", headers: "X-GLB-Canary: canary\r\n").header("X-Origin") == "canary")
        #expect(try await client.get("/", headers: "X-GLB-Canary: baseline\r\nCookie: glb_canary=1\r\n").header("X-Origin") == "base")
        // Over many new clients the split follows the percentage.
        var canaries = 0
        for _ in 0..<200 where try await client.get("/").header("Set-Cookie")?.hasPrefix("glb_canary=1") == true { canaries += 1 }
        #expect(canaries > 60 && canaries < 140, "\(canaries) of 200 drew the canary at 50%")
        await proxy.stop(); await base.stop(); await canary.stop()
    }

    @Test func upgradeTunnelsBytesBothWays() async throws {
        let raw = try RawOrigin { connection in
            guard let head = try connection.readHead() else { return }
            #expect(head.isUpgrade)
            try connection.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            while let bytes = try connection.readRaw() { try connection.write(bytes) }
        }
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", raw.address)])])
        let client = try await proxy.connect()
        try await client.send("GET /ws HTTP/1.1\r\nHost: www.glb.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        let switching = try await client.readResponse()
        #expect(switching.status == 101)
        #expect(switching.header("Upgrade") == "websocket")
        for message in ["ping", String(repeating: "x", count: 100_000)] {
            try await client.send(message)
            #expect(try await client.readRaw(count: message.utf8.count) == Array(message.utf8))
        }
        await proxy.stop(); raw.stop()
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)])])
        let busy = try await proxy.connect()
        let idle = try await proxy.connect()
        #expect(try await idle.get("/").status == 200)
        try await busy.send("GET /slow HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        _ = try await www.handler.arrivals.next(within: .seconds(10), "the request at the origin")
        let shutdown = Task { await proxy.proxy.shutdown(grace: .seconds(30)) }
        #expect(try await idle.waitForClose(), "an idle connection closes at once")
        www.handler.opener.yield()
        let response = try await busy.readResponse()
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        await shutdown.value
        await proxy.stop(); await www.stop()
    }
}
