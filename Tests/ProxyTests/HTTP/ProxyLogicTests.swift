import GLBCore
import GLBTestSupport
import Proxy
import Testing

func parseRequest(_ text: String) throws -> HTTPHead {
    var parser = HTTPParser(kind: .request)
    var buffer = ByteBuffer(string: text)
    guard case .head(let head)? = try parser.next(from: &buffer) else { throw ProxyTestFailure(description: "no head") }
    return head
}

func rewritten(_ request: String, client: String = "192.0.2.7") throws -> String {
    var out = ByteBuffer()
    let context = HeadRewriter.RequestContext(clientAddress: Array(client.utf8), requestID: (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210))
    HeadRewriter.writeRequest(try parseRequest(request), context: context, into: &out)
    return String(decoding: out.readableView, as: UTF8.self)
}

/// Sans-IO tables for the proxy's pure parts: head rewriting, retries, passive health, the
/// canary cookie and Host lookup.
@Suite struct ProxyLogicTests {
    @Test func aPlainRequestGainsForwardedFieldsAndARequestID() throws {
        #expect(try rewritten("GET /a?b HTTP/1.1\r\nHost: www.glb.example\r\nAccept: */*\r\n\r\n") ==
            "GET /a?b HTTP/1.1\r\nHost: www.glb.example\r\nAccept: */*\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n"
            + "X-Forwarded-Host: www.glb.example\r\nX-Request-Id: 0123456789abcdeffedcba9876543210\r\n\r\n")
    }

    @Test(arguments: [
        // (request fields, must contain, must not contain)
        ("Connection: close, X-Private\r\nX-Private: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\nProxy-Connection: x\r\n", "Host: h\r\n", ["X-Private", "Keep-Alive", "TE:", "Proxy-Connection", "Connection"]),
        ("X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\n", "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.7\r\n", []),
        ("X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n", "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n", ["https", "evil"]),
        ("X-Request-Id: mine\r\ntraceparent: 00-ab-cd-01\r\n", "X-Request-Id: mine\r\ntraceparent: 00-ab-cd-01\r\n", ["0123456789abcdef"]),
        ("Expect: 100-continue\r\nContent-Length: 3\r\n", "Content-Length: 3\r\n", ["Expect"]),
        ("Transfer-Encoding: chunked\r\n", "Transfer-Encoding: chunked\r\n", []),
        ("Connection: Upgrade\r\nUpgrade: websocket\r\n", "Connection: upgrade\r\nUpgrade: websocket\r\n", []),
    ])
    func headRewritingTable(fields: String, contains: String, excludes: [String]) throws {
        let out = try rewritten("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n")
        #expect(out.contains(contains), "\(out)")
        for word in excludes { #expect(!out.contains(word), "\(word) in \(out)") }
        #expect(out.hasPrefix("GET / HTTP/1.1\r\n") && out.hasSuffix("\r\n\r\n"))
    }

    @Test(arguments: [
        (UInt32(0x7F00_0001), "127.0.0.1"), (0, "0.0.0.0"), (0xFFFF_FFFF, "255.255.255.255"),
        (0x0A09_6364, "10.9.99.100"), (0xC000_0201, "192.0.2.1"),
    ])
    func anIPv4ClientAddressIsWrittenAsADottedQuad(address: UInt32, text: String) {
        #expect(String(decoding: HeadRewriter.addressText(.v4(address)), as: UTF8.self) == text)
        #expect(HeadRewriter.addressText(.v4(address)) == Array(IPAddress.v4(address).description.utf8))
    }

    @Test func anHTTP10RequestIsForwardedAsHTTP11() throws {
        #expect(try rewritten("GET / HTTP/1.0\r\nHost: h\r\n\r\n").hasPrefix("GET / HTTP/1.1\r\n"))
    }

    @Test func errorAnswersAreShortAndFramed() {
        var out = ByteBuffer()
        HeadRewriter.writeError(status: 502, close: true, into: &out)
        #expect(String(decoding: out.readableView, as: UTF8.self) ==
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: close\r\n\r\n502 Bad Gateway\n")
    }

    @Test(arguments: [
        // failure, retries made, sent upstream, idempotent, replayable, deadline passed → decision
        (RetryPolicy.Failure.connectFailed, 0, false, false, true, false, RetryPolicy.Decision.retry),
        (.connectFailed, 1, false, true, true, false, .fail(status: 502)),
        (.connectTimeout, 0, false, false, true, false, .retry),
        (.connectTimeout, 1, false, false, true, false, .fail(status: 504)),
        (.closedBeforeResponse, 0, true, true, true, false, .retry),
        (.closedBeforeResponse, 0, true, false, true, false, .fail(status: 502)),   // POST already sent
        (.closedBeforeResponse, 0, false, false, true, false, .retry),              // nothing reached the origin
        (.closedBeforeResponse, 0, true, true, false, false, .fail(status: 502)),   // body too large to replay
        (.connectFailed, 0, false, true, true, true, .fail(status: 504)),           // out of time
    ])
    func retryDecisions(failure: RetryPolicy.Failure, made: Int, sent: Bool, idempotent: Bool, replayable: Bool, late: Bool,
                        expected: RetryPolicy.Decision) {
        let attempt = RetryPolicy.Attempt(retriesMade: made, maxRetries: 1, sentUpstream: sent, idempotent: idempotent,
                                          replayable: replayable, deadlinePassed: late)
        #expect(RetryPolicy.decide(failure, attempt) == expected)
    }

    @Test func outlierEjectionBacksOffAndReturns() {
        let a = SocketAddress(ip: .v4(0x0A00_0001), port: 80)
        var detector = OutlierDetector()
        let t0 = Instant.zero
        // Two connect failures are a streak, not yet an ejection; the third ejects for 10 s.
        let e1 = detector.record(.connectFailure, for: a, now: t0, serviceSize: 4, ejectedPeers: 0)
        #expect(!e1)
        let e2 = detector.record(.connectFailure, for: a, now: t0, serviceSize: 4, ejectedPeers: 0)
        #expect(!e2)
        let e3 = detector.record(.connectFailure, for: a, now: t0, serviceSize: 4, ejectedPeers: 0)
        #expect(e3)
        #expect(detector.isEjected(a, now: t0 + .seconds(9)))
        #expect(!detector.isEjected(a, now: t0 + .seconds(10)), "back after base × 2^0 = 10 s")
        // Ejected again at 10 s: 10 × 2^1 = 20 s, then 40 s.
        let t1 = t0 + .seconds(10)
        for _ in 0..<3 { detector.record(.connectFailure, for: a, now: t1, serviceSize: 4, ejectedPeers: 0) }
        #expect(detector.isEjected(a, now: t1 + .seconds(19)))
        #expect(!detector.isEjected(a, now: t1 + .seconds(20)))
        let t2 = t1 + .seconds(20)
        for _ in 0..<3 { detector.record(.connectFailure, for: a, now: t2, serviceSize: 4, ejectedPeers: 0) }
        #expect(detector.isEjected(a, now: t2 + .seconds(39)))
        #expect(!detector.isEjected(a, now: t2 + .seconds(40)))
        // A success in between resets the streak.
        let t3 = t2 + .seconds(40)
        detector.record(.connectFailure, for: a, now: t3, serviceSize: 4, ejectedPeers: 0)
        detector.record(.connectFailure, for: a, now: t3, serviceSize: 4, ejectedPeers: 0)
        detector.record(.success, for: a, now: t3, serviceSize: 4, ejectedPeers: 0)
        let e4 = detector.record(.connectFailure, for: a, now: t3, serviceSize: 4, ejectedPeers: 0)
        #expect(!e4)
    }

    @Test func anActiveCheckThatSeesTheEndpointUpEndsItsEjectionButNotItsHistory() {
        let a = SocketAddress(ip: .v4(0x0A00_0001), port: 80)
        var detector = OutlierDetector()
        for _ in 0..<3 { detector.record(.connectFailure, for: a, now: .zero, serviceSize: 4, ejectedPeers: 0) }
        #expect(detector.isEjected(a, now: .zero + .seconds(1)))
        detector.pardon(a)
        #expect(!detector.isEjected(a, now: .zero + .seconds(1)), "the probe's evidence beats the 10 s back-off")
        #expect(detector.ejectedCount == 0)
        // A relapse is still the second ejection: 10 × 2^1 = 20 s.
        for _ in 0..<3 { detector.record(.connectFailure, for: a, now: .zero + .seconds(2), serviceSize: 4, ejectedPeers: 0) }
        #expect(detector.isEjected(a, now: .zero + .seconds(21)))
        #expect(!detector.isEjected(a, now: .zero + .seconds(22)))
        detector.pardon(SocketAddress(ip: .v4(0x0A00_0009), port: 80))      // unknown: nothing happens
        #expect(detector.ejectedCount == 1)
    }

    @Test(arguments: [(0, Duration.seconds(10)), (1, .seconds(20)), (2, .seconds(40)), (4, .seconds(160)), (5, .seconds(300)), (30, .seconds(300))])
    func ejectionTimeDoublesUpToTheCap(ejections: Int, expected: Duration) {
        #expect(OutlierDetector.ejectionTime(ejections: ejections, configuration: .init()) == expected)
    }

    @Test func fiveServerErrorsEjectButTheShareCapHolds() {
        let a = SocketAddress(ip: .v4(0x0A00_0001), port: 80), b = SocketAddress(ip: .v4(0x0A00_0002), port: 80)
        var detector = OutlierDetector()
        for i in 0..<5 {
            let ejected = detector.record(.serverError, for: a, now: .zero, serviceSize: 2, ejectedPeers: 0)
            #expect(ejected == (i == 4))
        }
        // b is the second of two: ejecting it would put 100% out, over the 50% cap.
        for _ in 0..<10 {
            let ejected = detector.record(.serverError, for: b, now: .zero, serviceSize: 2, ejectedPeers: 1)
            #expect(!ejected)
        }
        #expect(!detector.isEjected(b, now: .zero))
        #expect(detector.isEjected(a, now: .zero))
    }

    @Test(arguments: [
        ("glb_canary=1", CanaryChoice?.some(.canary)),
        ("a=b; glb_canary=0; c=d", .baseline),
        ("glb_canary=2", nil),
        ("xglb_canary=1", nil),
        ("glb_canary = 1", nil),
        ("  glb_canary=1  ", .canary),
        ("", nil),
    ])
    func canaryCookieParsing(cookie: String, expected: CanaryChoice?) {
        #expect(CanaryCookie.cookieValue(in: Array(cookie.utf8)[...]) == expected)
    }

    @Test func theForceHeaderWinsOverTheCookie() throws {
        let head = try parseRequest("GET / HTTP/1.1\r\nHost: h\r\nCookie: glb_canary=1\r\nX-GLB-Canary: Baseline\r\n\r\n")
        #expect(CanaryCookie.requested(in: head.headers)?.choice == .baseline)
        #expect(CanaryCookie.requested(in: head.headers)?.source == .header)
        let cookieOnly = try parseRequest("GET / HTTP/1.1\r\nHost: h\r\nCookie: x=1\r\nCookie: glb_canary=1\r\n\r\n")
        #expect(CanaryCookie.requested(in: cookieOnly.headers)?.choice == .canary)
    }

    @Test(arguments: [
        ("www.glb.example", 0), ("WWW.GLB.EXAMPLE", 0), ("www.glb.example.", 0), ("www.glb.example:8080", 0),
        ("api.glb.example", 1), ("glb.example", nil), ("127.0.0.1:8080", nil), ("[::1]:80", nil), ("", nil), ("www..glb.example", nil),
    ] as [(String, Int?)])
    func hostLookup(host: String, expected: Int?) {
        let snapshot = services([
            ServiceInput(name: "www", zone: "glb.example.", clusters: []),
            ServiceInput(name: "api", zone: "glb.example.", clusters: []),
        ])
        var scratch: [UInt8] = []
        #expect(snapshot.service(host: Array(host.utf8), scratch: &scratch) == expected)
    }
}
