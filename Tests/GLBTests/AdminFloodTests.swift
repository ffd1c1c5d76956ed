import Foundation
import GLBCore
import GLBTestSupport
import Synchronization
import Testing
@testable import GLB
#if canImport(Glibc)
import Glibc
#endif

/// Admin work cannot starve the data plane: with the admin port flooded (a thousand idle
/// connections, a client trickling a body, bodies over the limit, a burst of writes), every DNS
/// query and every proxied request is still answered, and the admin API still refuses what it
/// must (413) and serves what it can. Speed under this load is measured by
/// scripts/bench-admin-flood.sh, not here; this test is about answers never stopping.
@Suite(.serialized) struct AdminFloodTests {
    /// Open TCP connections to `address` that send nothing (or `prefix`), kept until closed.
    static func openConnections(_ count: Int, to address: SocketAddress, sending prefix: String = "") throws -> [CInt] {
        var fds: [CInt] = []
        for _ in 0..<count {
            let fd = try Socket.connectTCP(address)
            fds.append(fd)
            if !prefix.isEmpty {
                var pfd = pollfd(fd: fd, events: CShort(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 2000)
                var out = ByteBuffer(bytes: Array(prefix.utf8))
                _ = try? Socket.flush(fd, &out)
            }
        }
        return fds
    }

    @Test func aFloodedAdminPortLeavesDNSAndTheProxyAnswering() async throws {
        var limit = rlimit()
        getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4096 {
            limit.rlim_cur = min(4096, limit.rlim_max)
            setrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
        }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (agent, origins) = try await DNSEndToEndTests.start(dir, http: true)
        let dns = try #require(agent.dns)

        // Whatever fails below, the agent and origins stop: a node left running would break the
        // next suites (its threads and ports outlive the test).
        do {
            // The flood: idle connections up to the admin server's cap, a body trickled in, and one
            // client announcing a body over the 1 MiB limit.
            let idle = try Self.openConnections(1000, to: agent.address)
            let trickle = try Self.openConnections(20, to: agent.address,
                sending: "PUT /v1/services/www HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{\"zone\":")
            defer { for fd in idle + trickle { closeDescriptor(fd) } }
            // Refused at its head (Content-Length over 1 MiB): a 413, or, when the server closes
            // while the client is still sending, a reset. Either way nothing of it is read.
            let big = try? await agent.request("PUT", "/v1/services/www", body: String(repeating: " ", count: 2 << 20))
            #expect(big == nil || big?.status == 413)

            // Writes keep coming on the admin API while the data plane is asked.
            let writes = Task {
                for i in 0..<100 {
                    _ = try? await agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"weight":\#(50 + i % 50)}"#)
                }
            }
            var dnsAnswered = 0, proxied = 0
            for i in 0..<200 {
                let reply = try await DNSEndToEndTests.exchange(DNSEndToEndTests.query("www.glb.example", id: UInt16(i)), with: dns)
                if let reply, reply.count > 12, reply[3] & 0x0F == 0 { dnsAnswered += 1 }
                if i % 2 == 0, (try? await FailoverEndToEndTests.curl(agent))?.status == 200 { proxied += 1 }
            }
            await writes.value
            #expect(dnsAnswered == 200, "every DNS query answered NOERROR while the admin port is flooded")
            #expect(proxied == 100, "every proxied request answered while the admin port is flooded")
            #expect(try await agent.request("GET", "/healthz").status == 200, "and the admin API still serves")
        } catch {
            try await agent.stop()
            await origins.stop()
            throw error
        }
        try await agent.stop()
        await origins.stop()
    }
}
