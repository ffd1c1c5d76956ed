import GLBCore
import GLBTestSupport
@testable import Proxy
import Testing

/// `ConnectionBalancer`: the loops' shares of client connections stay within its margin, as a
/// table of accepts and closes, and over real sockets with two loops.
@Suite struct ConnectionBalancerTests {
    /// Replays `accepts` (the loop each connection's hash picked) and returns where each went.
    static func replay(_ accepts: [Int], loops: Int, margin: Int = 2) -> (placed: [Int], balancer: ConnectionBalancer) {
        let balancer = ConnectionBalancer(loops: loops, margin: margin, registry: MetricsRegistry())
        let placed = accepts.map { loop in balancer.place(acceptedOn: loop) ?? loop }
        return (placed, balancer)
    }

    @Test func oneLoopKeepsEverything() {
        let (placed, balancer) = Self.replay(Array(repeating: 0, count: 10), loops: 1)
        #expect(placed == Array(repeating: 0, count: 10))
        #expect(balancer.load(of: 0) == 10 && balancer.handOffs.current == 0)
    }

    @Test func everyConnectionOnOneListenerIsSharedOutWithinTheMargin() {
        let (placed, balancer) = Self.replay(Array(repeating: 0, count: 9), loops: 2)
        // 1, 2 kept; then loop 0 is two ahead and hands off; and so on.
        #expect(placed == [0, 0, 1, 0, 1, 0, 1, 0, 1])
        #expect(balancer.load(of: 0) == 5 && balancer.load(of: 1) == 4)
        #expect(balancer.handOffs.current == 4)
    }

    @Test func aHandOffGoesToTheLightestOfSeveralLoops() {
        let (placed, balancer) = Self.replay([1, 1, 2, 1], loops: 3)
        // Loop 1 reaches two ahead of loop 0 (still empty), which is lighter than loop 2.
        #expect(placed == [1, 1, 2, 0])
        #expect([balancer.load(of: 0), balancer.load(of: 1), balancer.load(of: 2)] == [1, 2, 1])
    }

    @Test func closingConnectionsMovesTheBalanceBack() {
        let (_, balancer) = Self.replay([0, 1, 0, 1], loops: 2)
        #expect(balancer.handOffs.current == 0, "an even hash needs no hand-off")
        balancer.closed(on: 1)
        balancer.closed(on: 1)
        #expect(balancer.place(acceptedOn: 0) == 1, "loop 0 is now two ahead")
        #expect(balancer.place(acceptedOn: 1) == nil)
        #expect(balancer.load(of: 0) == 2 && balancer.load(of: 1) == 2)
    }

    @Test func aLargerMarginHandsOffLater() {
        let (placed, _) = Self.replay(Array(repeating: 0, count: 6), loops: 2, margin: 4)
        #expect(placed == [0, 0, 0, 0, 1, 0])
    }

    /// Over loopback with two loops: keep-alive clients connect one after another until some were
    /// handed off; every one of them is served, and the loops' counts stay within the margin
    /// whichever listener the kernel picked for each.
    @Test func handedOffConnectionsAreServedAndTheLoopsStayLevel() async throws {
        let a = try await Origin.start("a")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("a", a.address)])],
                                                 loops: 2)
        var clients: [RawClient] = []
        while clients.count < 200, (proxy.metric("glb_http_connection_handoffs_total") ?? 0) < 3 {
            let client = try await proxy.connect()
            let response = try await client.get("/\(clients.count)")
            #expect(response.status == 200 && response.text == "GET /\(clients.count)")
            clients.append(client)
        }
        #expect((proxy.metric("glb_http_connection_handoffs_total") ?? 0) >= 3)
        let loads = [proxy.proxy.balancer.load(of: 0), proxy.proxy.balancer.load(of: 1)]
        #expect(loads[0] + loads[1] == clients.count)
        #expect(abs(loads[0] - loads[1]) <= 2, "\(loads)")
        for (i, client) in clients.enumerated() {
            #expect(try await client.get("/again\(i)").status == 200, "a second request on connection \(i)")
        }
        clients.removeAll()
        await proxy.stop(); await a.stop()
    }
}
