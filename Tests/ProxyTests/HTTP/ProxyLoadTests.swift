import GLBCore
import GLBTestSupport
import Proxy
import Synchronization
import Testing

/// Counts shared by the client threads of a load test.
final class Tally: Sendable {
    let done = Atomic<Int>(0), failures = Atomic<Int>(0), servedByA = Atomic<Int>(0), servedByB = Atomic<Int>(0)
}

/// The proxy under load and with large bodies, over loopback. These move real bytes (hundreds of
/// megabytes in debug builds) but never wait on wall time.
@Suite struct ProxyLoadTests {
    @Test func killingOneOfTwoOriginsMidLoadFailsNoClientRequest() async throws {
        let a = try await Origin.start("a"), b = try await Origin.start("b")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.",
            clusters: [origin("a", a.address), origin("b", b.address)])])
        let clients = 8, perClient = 60, killAfter = 120
        let tally = Tally()
        let (halfway, reached) = AsyncStream<Void>.makeStream()
        let address = proxy.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    try await blocking {
                        var client = try RawClient(address: address)
                        for i in 0..<perClient {
                            do {
                                try client.sendNow(Array("GET /\(i) HTTP/1.1\r\nHost: www.glb.example\r\n\r\n".utf8))
                                let response = try client.readResponseNow()
                                if response.status != 200 || response.text != "GET /\(i)" {
                                    tally.failures.wrappingAdd(1, ordering: .relaxed)
                                    Issue.record("failed: \(response.status) \(response.text)")
                                }
                                if response.header("X-Origin") == "a" { tally.servedByA.wrappingAdd(1, ordering: .relaxed) } else { tally.servedByB.wrappingAdd(1, ordering: .relaxed) }
                                if response.header("Connection") == "close" { client = try RawClient(address: address) }
                            } catch {
                                Issue.record("failed: \(error)")
                                tally.failures.wrappingAdd(1, ordering: .relaxed)
                                client = try RawClient(address: address)
                            }
                            if tally.done.wrappingAdd(1, ordering: .relaxed).newValue == killAfter { reached.yield() }
                        }
                    }
                }
            }
            group.addTask {
                for await _ in halfway { break }
                await a.kill()
            }
            try await group.waitForAll()
        }
        #expect(tally.failures.load(ordering: .relaxed) == 0)
        #expect(tally.servedByA.load(ordering: .relaxed) > 0 && tally.servedByB.load(ordering: .relaxed) > killAfter / 2)
        #expect((proxy.metric("glb_http_retries_total") ?? 0) > 0, "requests caught by the kill were retried on b")
        #expect(proxy.metric(#"glb_http_requests_total{cluster="",code="5xx",service="www.glb.example"}"#) == nil)
        await proxy.stop(); await a.stop(); await b.stop()
    }

    @Test func aHundredMegabyteUploadStreamsInBoundedMemory() async throws {
        let total = 100 << 20
        let raw = try RawOrigin { connection in
            while let head = try connection.readHead() {
                var count = 0, sum: UInt64 = 0
                try connection.readBody { slice in
                    count += slice.count
                    for byte in slice { sum &+= UInt64(byte) }
                }
                _ = head
                let body = "\(count) \(sum)"
                try connection.write("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
        }
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", raw.address)])])
        let address = proxy.address
        let response = try await blocking {
            let client = try RawClient(address: address)
            try client.sendNow(Array("POST /upload HTTP/1.1\r\nHost: www.glb.example\r\nContent-Length: \(total)\r\n\r\n".utf8))
            let piece = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            for _ in 0..<(total >> 20) { try client.sendNow(piece) }
            return try client.readResponseNow()
        }
        let pieceSum = (0..<(1 << 20)).reduce(UInt64(0)) { $0 &+ UInt64(UInt8(truncatingIfNeeded: $1 &* 7)) }
        #expect(response.status == 200)
        #expect(response.text == "\(total) \(pieceSum &* 100)")
        let highWater = proxy.proxy.bufferedBytesHighWater
        #expect(highWater < 512 * 1024, "the proxy held \(highWater) bytes at once")
        await proxy.stop(); raw.stop()
    }

    @Test func aSlowReadingClientHoldsTheOriginBackInsteadOfFillingMemory() async throws {
        let www = try await Origin.start("www")
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", www.address)])])
        let address = proxy.address
        let size = 8_000_000
        let response = try await blocking {
            // Small reads, each waiting for the next poll: far slower than the origin writes, so the
            // kernel buffers fill and the proxy must hold the origin back. (Shrinking SO_RCVBUF after
            // connect would be slower still, but stalls loopback TCP's window, which tests the kernel.)
            let client = try RawClient(address: address)
            try client.sendNow(Array("GET /big/\(size) HTTP/1.1\r\nHost: www.glb.example\r\n\r\n".utf8))
            return try client.readResponseNow(chunk: 2048)
        }
        #expect(response.status == 200)
        #expect(response.body.count == size)
        #expect(response.body.prefix(300) == (0..<300).map { UInt8(truncatingIfNeeded: $0 % 251) }[...])
        let highWater = proxy.proxy.bufferedBytesHighWater
        #expect(highWater < 512 * 1024, "the proxy held \(highWater) bytes at once")
        await proxy.stop(); await www.stop()
    }
}
