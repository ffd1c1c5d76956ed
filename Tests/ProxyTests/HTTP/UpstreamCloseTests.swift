import Foundation
import GLBCore
import GLBTestSupport
import Proxy
import Synchronization
import Testing

/// Origins that end their connections: HTTP/1.0 servers (`python3 -m http.server` closes after
/// every response), `Connection: close`, and idle timeouts shorter than the pool's. A response
/// that announces the end of its connection must never put that connection in the pool
/// (RFC 9112 §9.3, §9.6), and a pooled connection the origin closes must cost no request.
@Suite struct UpstreamCloseTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let response: String
        let pooled: Bool
        var testDescription: String {
            response.split(separator: "\r\n").dropLast().joined(separator: "; ") + (pooled ? " (pooled)" : " (not pooled)")
        }
    }

    static let cases = [
        Case(response: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", pooled: false),
        Case(response: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", pooled: true),
        Case(response: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", pooled: false),
        Case(response: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 2\r\n\r\nok", pooled: false),
        Case(response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", pooled: true),
    ]

    /// The origin here keeps reading after every response, whatever it announced: the worst case,
    /// since a proxy that pooled the connection would then really send the next request on it.
    @Test(arguments: cases)
    func aResponseThatAnnouncesTheEndOfItsConnectionIsNeverPooled(_ c: Case) async throws {
        let origin = try RawOrigin { connection in
            while try connection.readHead() != nil { try connection.write(c.response) }
        }
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [ProxyTests.origin("eu", origin.address)])])
        let client = try await proxy.connect()
        for _ in 0..<3 {
            let response = try await client.get("/")
            #expect(response.status == 200 && response.text == "ok")
            await proxy.settle()
        }
        #expect(origin.accepted.load(ordering: .relaxed) == (c.pooled ? 1 : 3))
        #expect((proxy.metric("glb_http_pool_reused_total") ?? 0) == (c.pooled ? 2 : 0))
        await proxy.stop()
        origin.stop()
    }

    /// An HTTP/1.0 origin closing after every response, as `python3 -m http.server` does.
    static func closingOrigin(_ name: String) throws -> RawOrigin {
        try RawOrigin { connection in
            guard let head = try connection.readHead() else { return }
            let body = "\(name) \(head.targetString)"
            try connection.write("HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
    }

    /// An HTTP/1.1 origin that keeps connections alive but closes each one as soon as it goes
    /// idle: an idle timeout far shorter than the pool's 30 s, so the proxy keeps picking pooled
    /// connections that are closing under it.
    static func impatientOrigin(_ name: String) throws -> RawOrigin {
        try RawOrigin { connection in
            guard let head = try connection.readHead() else { return }
            let body = "\(name) \(head.targetString)"
            try connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
    }

    /// `clients` keep-alive clients send `perClient` requests each; `during` runs once `trigger`
    /// requests are done. Every request must get its own answer from some origin.
    static func load(_ proxy: ProxyHarness, clients: Int, perClient: Int, trigger: Int = 0,
                     during: @escaping @Sendable () async -> Void = {}) async throws -> Tally {
        let tally = Tally()
        let (reachedTrigger, reached) = AsyncStream<Void>.makeStream()
        let address = proxy.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask {
                    try await blocking {
                        var client = try RawClient(address: address)
                        for i in 0..<perClient {
                            do {
                                try client.sendNow(Array("GET /\(c)/\(i) HTTP/1.1\r\nHost: www.glb.example\r\n\r\n".utf8))
                                let response = try client.readResponseNow()
                                if response.status != 200 || !response.text.hasSuffix(" /\(c)/\(i)") {
                                    tally.failures.wrappingAdd(1, ordering: .relaxed)
                                    Issue.record("request \(c)/\(i): \(response.status) \(response.text)")
                                }
                                if response.text.hasPrefix("a ") { tally.servedByA.wrappingAdd(1, ordering: .relaxed) } else { tally.servedByB.wrappingAdd(1, ordering: .relaxed) }
                                if response.header("Connection") == "close" { client = try RawClient(address: address) }
                            } catch {
                                Issue.record("request \(c)/\(i): \(error)")
                                tally.failures.wrappingAdd(1, ordering: .relaxed)
                                client = try RawClient(address: address)
                            }
                            if tally.done.wrappingAdd(1, ordering: .relaxed).newValue == trigger { reached.yield() }
                        }
                    }
                }
            }
            group.addTask {
                for await _ in reachedTrigger { break }
                await during()
            }
            if trigger == 0 { reached.yield() }
            try await group.waitForAll()
        }
        return tally
    }

    @Test(arguments: ["http/1.0", "impatient"])
    func originsThatCloseTheirConnectionsFailNoRequest(_ kind: String) async throws {
        let make = kind == "http/1.0" ? Self.closingOrigin : Self.impatientOrigin
        let a = try make("a"), b = try make("b")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.",
            clusters: [ProxyTests.origin("a", a.address), ProxyTests.origin("b", b.address)])], loops: 2)
        let tally = try await Self.load(proxy, clients: 4, perClient: 150)
        #expect(tally.failures.load(ordering: .relaxed) == 0)
        #expect(tally.done.load(ordering: .relaxed) == 600)
        #expect(proxy.metric(#"glb_http_requests_total{cluster="",code="5xx",service="www.glb.example"}"#) == nil)
        await proxy.stop()
        a.stop(); b.stop()
    }

    @Test func killingOneOfTwoHTTP10OriginsMidLoadFailsNoRequest() async throws {
        let a = try Self.closingOrigin("a"), b = try Self.closingOrigin("b")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.",
            clusters: [ProxyTests.origin("a", a.address), ProxyTests.origin("b", b.address)])], loops: 2)
        let tally = try await Self.load(proxy, clients: 4, perClient: 100, trigger: 100) { a.kill() }
        #expect(tally.failures.load(ordering: .relaxed) == 0)
        #expect(tally.servedByA.load(ordering: .relaxed) > 0 && tally.servedByB.load(ordering: .relaxed) > 150)
        #expect(proxy.metric(#"glb_http_requests_total{cluster="",code="5xx",service="www.glb.example"}"#) == nil)
        await proxy.stop()
        b.stop()
    }

    /// A retry after the routing snapshot changed: the request's service index belonged to the
    /// old snapshot (it once indexed past the end of the new one and stopped the node). The
    /// retry now routes the Host again on the snapshot the loop serves.
    @Test func aRetryAfterTheConfigChangedIsRoutedOnTheNewSnapshot() async throws {
        let arrived = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let a = try RawOrigin { connection in
            guard try connection.readHead() != nil else { return }
            arrived.signal()
            _ = release.wait(timeout: .now() + 10)      // then close with no answer: a retry
        }
        let b = try Self.impatientOrigin("b")
        let zone = "glb.example."
        let proxy = try await ProxyHarness.start([
            ServiceInput(name: "api", zone: zone, clusters: [ProxyTests.origin("b", b.address)]),
            ServiceInput(name: "www", zone: zone, clusters: [ProxyTests.origin("a", a.address)]),
        ])
        let client = try await proxy.connect()
        try await client.send("GET /x HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        #expect(try await blocking { arrived.wait(timeout: .now() + 10) } == .success)
        // www is now the only service, at index 0, and served by b.
        #expect(proxy.publisher.publish(services([ServiceInput(name: "www", zone: zone, clusters: [ProxyTests.origin("b", b.address)])], generation: 2)))
        await proxy.settle()
        release.signal()
        let response = try await client.readResponse()
        #expect(response.status == 200 && response.text == "b /x")
        await proxy.stop()
        a.stop(); b.stop()
    }
}
