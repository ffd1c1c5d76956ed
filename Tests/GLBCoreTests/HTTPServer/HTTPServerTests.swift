import GLBCore
import GLBTestSupport
import Testing

/// End to end over real loopback sockets: an `HTTPServer` on its own event loop thread, and
/// clients that block on their own threads. These need the kernel but never wall time: every
/// wait is for a byte, a close, or a loop turn, and timeouts run on a `ManualClock`.
@Suite struct HTTPServerTests {
    @Test(arguments: [
        ("GET", "/", ""),
        ("POST", "/v1/services?zone=glb.example.", #"{"name":"www"}"#),
        ("PUT", "/a%20b", "x"),
        ("DELETE", "/v1/services/www", ""),
    ])
    func theBlockingClientRoundTripsThroughTheEchoHandler(method: String, target: String, body: String) async throws {
        try await TestServer.with { server in
            let address = server.address
            let request = HTTPRequest(method: method, target: target, body: Array(body.utf8))
            let response = try await blocking { try BlockingHTTPClient(timeout: .seconds(5)).send(request, to: address) }
            #expect(response.status == 200)
            #expect(response.header("X-Echo-Method") == method)
            #expect(response.header("X-Echo-Target") == target)
            #expect(response.body == Array((body.isEmpty ? "\(method) \(target)" : body).utf8))
            #expect(server.metric(#"glb_http_server_requests_total{code="2xx",server="test"}"#)?.hasSuffix(" 1") == true)
        }
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() async throws {
        try await TestServer.with { server in
            let connection = try await server.connect()
            try await connection.send("GET /one HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try await connection.readResponse()
            #expect(first.body == Array("GET /one".utf8))
            #expect(first.header("Connection") == nil, "HTTP/1.1 stays open by default")
            #expect(first.header("Content-Length") == "8")

            try await connection.send("GET /two HTTP/1.1\r\nHost: t\r\n\r\n")
            let second = try await connection.readResponse()
            #expect(second.body == Array("GET /two".utf8))
            #expect(server.metric(#"glb_http_server_connections{server="test"}"#) == #"glb_http_server_connections{server="test"} 1"#)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await TestServer.with { server in
            let connection = try await server.connect()
            try await connection.send(
                "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
            var targets: [String?] = []
            var bodies: [String] = []
            for _ in 0..<3 {
                let response = try await connection.readResponse()
                targets.append(response.header("X-Echo-Target"))
                bodies.append(String(decoding: response.body, as: UTF8.self))
            }
            #expect(targets == ["/1", "/2", "/3"])
            #expect(bodies == ["GET /1", "hello", "GET /3"])
            #expect(try await connection.isQuietAndOpen)
        }
    }

    @Test func headGetsTheHeadersButNoBody() async throws {
        try await TestServer.with { server in
            let connection = try await server.connect()
            try await connection.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try await connection.readResponse(to: .HEAD)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "7", "the length GET would have sent: \"HEAD /h\"")
            #expect(head.body.isEmpty)
            // Had any body byte been sent, it would be parsed as the start of this response.
            try await connection.send("GET /g HTTP/1.1\r\nHost: t\r\n\r\n")
            let get = try await connection.readResponse()
            #expect(get.status == 200)
            #expect(get.body == Array("GET /g".utf8))
        }
    }

    @Test(arguments: [
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n" + String(repeating: "x", count: 17) + "\r\n0\r\n\r\n",
    ])
    func aBodyAboveMaxBodyBytesGets413AndTheConnectionCloses(request: String) async throws {
        try await TestServer.with(configure: { $0.maxBodyBytes = 16 }) { server in
            let connection = try await server.connect()
            try await connection.send(request)
            let response = try await connection.readResponse(to: .POST)
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            #expect(try await connection.readUntilClosed().isEmpty)
            #expect(server.metric(#"glb_http_server_requests_total{code="4xx",server="test"}"#)?.hasSuffix(" 1") == true)
        }
    }

    @Test func aBodyOfExactlyMaxBodyBytesIsAccepted() async throws {
        try await TestServer.with(configure: { $0.maxBodyBytes = 16 }) { server in
            let connection = try await server.connect()
            try await connection.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n" + String(repeating: "y", count: 16))
            let response = try await connection.readResponse(to: .POST)
            #expect(response.status == 200)
            #expect(response.body.count == 16)
        }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", "header line without a colon"),
        ("GET / HTTP/1.1\r\n\r\n", "no Host"),
        ("GET / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", "two Hosts"),
        ("GET / HTTP/1.1\r\nHost : t\r\n\r\n", "space before the colon"),
        ("GET / HTTP/1.1\nHost: t\n\n", "bare LF"),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting Content-Length"),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", "non-numeric Content-Length"),
        ("GARBAGE\r\n\r\n", "no request line"),
    ])
    func aMalformedRequestGets400JSONAndTheConnectionCloses(request: String, why: String) async throws {
        try await TestServer.with { server in
            let connection = try await server.connect()
            try await connection.send(request)
            let response = try await connection.readResponse()
            #expect(response.status == 400, "\(why)")
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.header("Connection") == "close")
            let error = try JSONParser.parse(response.body)["error"]?.stringValue
            #expect(error?.isEmpty == false, "the body names the problem")
            #expect(try await connection.readUntilClosed().isEmpty)
        }
    }

    @Test func expect100ContinueGetsAnInterimResponseBeforeTheBodyIsSent() async throws {
        try await TestServer.with { server in
            let connection = try await server.connect()
            try await connection.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = try await connection.readResponse(to: .POST)
            #expect(interim.status == 100)
            try await connection.send("hello")
            let final = try await connection.readResponse(to: .POST)
            #expect(final.status == 200)
            #expect(final.body == Array("hello".utf8))
        }
    }

    @Test func aConnectionBeyondMaxConnectionsIsClosedAtOnceAndCounted() async throws {
        try await TestServer.with(configure: { $0.maxConnections = 1 }) { server in
            let first = try await server.connect()
            try await first.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await first.readResponse().status == 200)     // now surely accepted and counted

            let second = try await server.connect()                    // the kernel completes the handshake
            #expect(try await second.readUntilClosed().isEmpty, "closed without a response")
            #expect(server.metric(#"glb_http_server_rejected_connections_total{server="test"}"#)?.hasSuffix(" 1") == true)

            try await first.send("GET /b HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await first.readResponse().body == Array("GET /b".utf8), "the admitted connection is unaffected")
        }
    }

    @Test func gracefulShutdownFinishesTheRequestInFlightAndClosesIdleConnections() async throws {
        let handler = GatedEcho()
        defer { handler.opener.finish() }            // never leave a handler parked if the test fails
        try await TestServer.with(handler: handler) { server in
            let idle = try await server.connect()
            try await idle.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await idle.readResponse().status == 200)

            let busy = try await server.connect()
            try await busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            // The handler is now running, and parked.
            #expect(try await handler.arrivals.next(within: .seconds(10), "the request at the handler") == "/slow")

            async let shutdown: Void = server.server.shutdown(grace: .seconds(60))
            // Draining closes the idle connection at once; seeing that close also tells us the
            // drain has begun, so the parked request is now marked to close after its response.
            #expect(try await idle.readUntilClosed().isEmpty)
            await #expect(throws: (any Error).self, "the listener is closed") { _ = try await server.connect() }

            handler.opener.yield()
            let response = try await busy.readResponse()
            #expect(response.status == 200)
            #expect(response.body == Array("GET /slow".utf8))
            #expect(response.header("Connection") == "close")
            #expect(try await busy.readUntilClosed().isEmpty)

            await shutdown      // returns when the last connection closed, long before the grace ends
            #expect(server.metric(#"glb_http_server_connections{server="test"}"#) == #"glb_http_server_connections{server="test"} 0"#)
        }
    }

    @Test func aHeadThatIsNotFinishedWithinHeaderTimeoutGets408() async throws {
        let clock = ManualClock()
        try await TestServer.with(clock: clock, configure: { $0.headerTimeout = .seconds(5); $0.idleTimeout = .seconds(60) }) { server in
            let connection = try await server.connect()
            try await connection.send("GET /slowloris HTTP/1.1\r\nHost: t\r\n")    // no blank line: the head never ends
            await server.settle()          // accepted, partial head read, header timer armed at 0 + 5 s

            clock.advance(by: .seconds(4))
            server.loop.wakeUp()
            await server.settle()
            #expect(try await connection.isQuietAndOpen, "4 s < headerTimeout: nothing yet")

            clock.advance(by: .seconds(2))  // 6 s > 5 s
            server.loop.wakeUp()            // epoll_wait was sleeping toward a deadline on the real clock
            let response = try await connection.readResponse()
            #expect(response.status == 408)
            #expect(response.header("Connection") == "close")
            #expect(try await connection.readUntilClosed().isEmpty)
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedQuietlyAfterIdleTimeout() async throws {
        let clock = ManualClock()
        try await TestServer.with(clock: clock, configure: { $0.idleTimeout = .seconds(60) }) { server in
            let connection = try await server.connect()
            try await connection.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await connection.readResponse().status == 200)    // idle timer re-armed at 0 + 60 s

            clock.advance(by: .seconds(59))
            server.loop.wakeUp()
            await server.settle()
            #expect(try await connection.isQuietAndOpen)

            clock.advance(by: .seconds(2))
            server.loop.wakeUp()
            #expect(try await connection.readUntilClosed().isEmpty, "closed without a 408: no request was under way")
        }
    }
}
