#if canImport(Glibc)
import Glibc
#endif
import GLBCore
import GLBTestSupport
@testable import Proxy
import Testing

/// A new client connection enters the loop's epoll set only once it must
/// (`ProxyConnection.everWatched`): a whole first request waiting on its origin is not watched,
/// a `Connection: close` exchange never is, and a keep-alive one is once its response is out.
@Suite struct ClientWatchTests {
    /// An origin that answers each request only when `release` is written to.
    final class HeldOrigin: Sendable {
        let origin: RawOrigin
        let heads: AsyncStream<Void>
        private let release: (read: CInt, write: CInt)

        init() throws {
            var pipe = [CInt](repeating: 0, count: 2)
            guard Glibc.pipe(&pipe) == 0 else { throw SystemError(call: "pipe", errno: errno) }
            let (heads, seen) = AsyncStream<Void>.makeStream()
            let gate = pipe[0]
            release = (pipe[0], pipe[1])
            self.heads = heads
            origin = try RawOrigin { connection in
                while try connection.readHead() != nil {
                    seen.yield()
                    var byte: UInt8 = 0
                    guard read(gate, &byte, 1) == 1 else { return }
                    try connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                }
            }
        }

        func answerOne() { var byte: UInt8 = 1; _ = write(release.write, &byte, 1) }

        func stop() {
            origin.stop()
            close(release.write)
            close(release.read)
        }
    }

    static func watched(_ proxy: ProxyHarness) async -> Int {
        let loop = proxy.group.loops[0]
        return await loop.submit { loop.watchedCount }
    }

    @Test func aClientIsWatchedOnlyWhenItMustBe() async throws {
        let held = try HeldOrigin()
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("o", held.origin.address)])])
        let baseline = await Self.watched(proxy)          // the listener

        // Connection: close. While the origin holds the answer, only the upstream is watched.
        let once = try await proxy.connect()
        try await once.send("GET /a HTTP/1.1\r\nHost: www.glb.example\r\nConnection: close\r\n\r\n")
        try await held.heads.next(within: .seconds(10), "the first request at the origin")
        #expect(await Self.watched(proxy) == baseline + 1, "the upstream, not the client")
        held.answerOne()
        let closed = try await once.readResponse()
        #expect(closed.status == 200 && closed.text == "ok")
        #expect(await Self.watched(proxy) == baseline + 1, "the pooled upstream; the client was never watched")

        // Keep-alive: watched once its first response is out, and its next request is served.
        let kept = try await proxy.connect()
        try await kept.send("GET /b HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        try await held.heads.next(within: .seconds(10), "the second request at the origin")
        #expect(await Self.watched(proxy) == baseline + 1)
        held.answerOne()
        #expect(try await kept.readResponse().status == 200)
        #expect(await Self.watched(proxy) == baseline + 2, "waiting for the next request")
        try await kept.send("GET /c HTTP/1.1\r\nHost: www.glb.example\r\n\r\n")
        try await held.heads.next(within: .seconds(10), "the third request at the origin")
        held.answerOne()
        #expect(try await kept.readResponse().status == 200)

        await proxy.stop()
        held.stop()
    }

    @Test func aPartialFirstRequestIsWatchedUntilItIsWhole() async throws {
        let held = try HeldOrigin()
        let proxy = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("o", held.origin.address)])])
        let baseline = await Self.watched(proxy)
        let client = try await proxy.connect()
        try await client.send("GET /slow HTTP/1.1\r\nHost: www.gl")
        await proxy.settle()
        #expect(await Self.watched(proxy) == baseline + 1, "the client, for the rest of its head")
        try await client.send("b.example\r\nConnection: close\r\n\r\n")
        try await held.heads.next(within: .seconds(10), "the request at the origin")
        held.answerOne()
        #expect(try await client.readResponse().text == "ok")
        await proxy.stop()
        held.stop()
    }
}
