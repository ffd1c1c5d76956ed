#if canImport(Glibc)
import Glibc
#endif
@testable import GLBCore
import Testing

/// Socket options the servers rely on, read back from the kernel.
@Suite struct SocketOptionTests {
    static func option(_ fd: CInt, _ level: CInt, _ name: CInt) -> CInt {
        var value: CInt = -1
        var length = socklen_t(MemoryLayout<CInt>.size)
        _ = getsockopt(fd, level, name, &value, &length)
        return value
    }

    @Test(arguments: [SocketAddress(ip: .v4(0x7F00_0001), port: 0), SocketAddress(ip: IPAddress("::1")!, port: 0)])
    func dnsSocketsSetDontFragmentAndIgnorePathMTU(address: SocketAddress) throws {
        let fd = try Socket.bindUDP(address, reusePort: true, blocking: true)
        defer { closeDescriptor(fd) }
        let v6 = address.family == AF_INET6
        let (level, name) = v6 ? (CInt(IPPROTO_IPV6), IPV6_MTU_DISCOVER) : (CInt(IPPROTO_IP), IP_MTU_DISCOVER)
        #expect(Self.option(fd, level, name) == (v6 ? IPV6_PMTUDISC_WANT : IP_PMTUDISC_WANT), "the kernel's default")
        try Socket.setDontFragment(fd, family: address.family)
        #expect(Self.option(fd, level, name) == (v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE))
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK == 0, "blocking, for a thread that waits in recvmmsg")
    }
}
