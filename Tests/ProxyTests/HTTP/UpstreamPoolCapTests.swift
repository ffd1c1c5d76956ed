import Foundation
import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// The pool keeps up to `maxIdlePerUpstream` idle connections per origin and loop: a burst of
/// responses beyond it closes the excess, and the next burst of requests reconnects (what made
/// `wrk -c256` open a new upstream connection for 3.6% of requests at the old cap of 64).
@Suite struct UpstreamPoolCapTests {
    /// Holds every request until `width` of them are at the origin, so that many upstream
    /// connections are in flight at once. Bounded: a proxy that never sends them fails the test.
    final class Barrier: @unchecked Sendable {
        private let condition = NSCondition()
        private var arrived = 0
        private var generation = 0
        let width: Int

        init(width: Int) { self.width = width }

        func arriveAndWait() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let mine = generation
            arrived += 1
            if arrived == width {
                arrived = 0
                generation += 1
                condition.broadcast()
                return true
            }
            let deadline = Date(timeIntervalSinceNow: 10)
            while generation == mine {
                if !condition.wait(until: deadline) { return false }
            }
            return true
        }
    }

    /// Sends one request on each of `clients` at once and checks every answer.
    static func burst(_ clients: [RawClient]) async throws {
        for client in clients { try await client.send("GET / HTTP/1.1\r\nHost: www.glb.example\r\n\r\n") }
        for client in clients { #expect(try await client.readResponse().status == 200) }
    }

    static func run(cap: Int?) async throws -> (afterFirst: (idle: Double?, new: Double?), afterSecond: (idle: Double?, new: Double?, reused: Double?)) {
        let barrier = Barrier(width: 4)
        let origin = try RawOrigin { connection in
            while try connection.readHead() != nil {
                guard barrier.arriveAndWait() else { return }
                try connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [ProxyTests.origin("eu", origin.address)])]) {
            if let cap { $0.maxIdlePerUpstream = cap }
        }
        var clients: [RawClient] = []
        for _ in 0..<4 { clients.append(try await proxy.connect()) }
        try await burst(clients)
        await proxy.settle()
        let first = (proxy.metric("glb_http_pool_idle_connections"), proxy.metric("glb_http_pool_new_total"))
        try await burst(clients)
        await proxy.settle()
        let second = (proxy.metric("glb_http_pool_idle_connections"), proxy.metric("glb_http_pool_new_total"), proxy.metric("glb_http_pool_reused_total"))
        await proxy.stop()
        origin.stop()
        return (first, second)
    }

    @Test func aBurstBeyondTheCapClosesTheExcessAndTheNextReconnects() async throws {
        let result = try await Self.run(cap: 2)
        #expect(result.afterFirst.new == 4, "four requests in flight at once need four connections")
        #expect(result.afterFirst.idle == 2, "two kept, two closed")
        #expect(result.afterSecond.new == 6, "the second burst reconnected twice")
        #expect(result.afterSecond.reused == 2)
    }

    @Test func theDefaultCapKeepsEveryConnectionABurstNeeded() async throws {
        #expect(HTTPProxy.Configuration(address: nil).maxIdlePerUpstream == 256)
        let result = try await Self.run(cap: nil)
        #expect(result.afterFirst.idle == 4)
        #expect(result.afterSecond.new == 4, "nothing reconnected")
        #expect(result.afterSecond.reused == 4)
        #expect(result.afterSecond.idle == 4)
    }
}
