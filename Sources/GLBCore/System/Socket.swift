import CGLBLinux
#if canImport(Glibc)
import Glibc
#endif

/// Creating and using non-blocking sockets. Thin wrappers: each names the C call it makes, and
/// every failure is a `SystemError` carrying that call and errno.
package enum Socket {
    /// A non-blocking TCP listening socket. `reusePort` sets SO_REUSEPORT so that every event loop
    /// can bind its own socket to the same port and the kernel spreads connections between them.
    /// `noDelay` sets TCP_NODELAY on the listener: Linux copies it to every accepted socket, which
    /// then needs no setsockopt(2) of its own (one syscall per connection). `deferAccept` sets
    /// TCP_DEFER_ACCEPT (nginx's `deferred`, HAProxy's `defer-accept`): a connection is handed to
    /// accept only once its first bytes are in, so the server reads them at once, with no wake-up
    /// of its own between the accept and the request. A client that never sends is kept by the
    /// kernel for about a second and a SYN-ACK retransmit before it is accepted after all.
    package static func listenTCP(_ address: SocketAddress, reusePort: Bool, noDelay: Bool = false, deferAccept: Bool = false,
                                  backlog: CInt = 1024) throws(SystemError) -> CInt {
        let fd = try open(family: address.family, type: CInt(SOCK_STREAM.rawValue))
        do throws(SystemError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if noDelay { try setOption(fd, CInt(IPPROTO_TCP), TCP_NODELAY, 1) }
            if deferAccept { try setOption(fd, CInt(IPPROTO_TCP), TCP_DEFER_ACCEPT, 1) }
            try bind(fd, address)
            _ = try syscall("listen") { Glibc.listen(fd, backlog) }
            return fd
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    /// A TCP socket bound to `address` with SO_REUSEPORT but not listening: it holds the port
    /// (port 0 picks one) so that a later `listenTCP(_, reusePort: true)` on it succeeds, and it
    /// never receives connections itself. Close it once the real listener is up.
    package static func reserveTCP(_ address: SocketAddress) throws(SystemError) -> (descriptor: CInt, address: SocketAddress) {
        let fd = try open(family: address.family, type: CInt(SOCK_STREAM.rawValue))
        do throws(SystemError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
            try bind(fd, address)
            guard let bound = localAddress(fd) else { throw SystemError(call: "getsockname", errno: cglb_errno()) }
            return (fd, bound)
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    /// Whether some socket already holds `address` (TCP listening, or UDP bound), found by binding
    /// a probe socket without SO_REUSEPORT and closing it. Our listeners set SO_REUSEPORT so that
    /// each loop can bind its own socket, and Linux lets any process of the same user join such a
    /// group (socket(7)): without this check a second agent would silently share the first one's
    /// ports and each would get half of the traffic. The probe has SO_REUSEADDR for TCP, so a port
    /// left in TIME_WAIT by a previous run does not count as taken. Port 0 is never taken.
    package static func addressInUse(_ address: SocketAddress, datagram: Bool) -> Bool {
        guard address.port != 0,
              let fd = try? open(family: address.family, type: CInt(datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)) else { return false }
        defer { closeDescriptor(fd) }
        if !datagram { try? setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
        do {
            try bind(fd, address)
            return false
        } catch {
            return error.errno == EADDRINUSE
        }
    }

    /// A UDP socket bound to `address`: non-blocking, or `blocking` for a thread that does
    /// nothing but wait on it (the DNS UDP readers).
    package static func bindUDP(_ address: SocketAddress, reusePort: Bool, blocking: Bool = false) throws(SystemError) -> CInt {
        let fd = try open(family: address.family, type: CInt(SOCK_DGRAM.rawValue))
        do throws(SystemError) {
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            try bind(fd, address)
            if blocking {
                let flags = try syscall("fcntl F_GETFL") { fcntl(fd, F_GETFL) } ?? 0
                _ = try syscall("fcntl F_SETFL") { fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
            }
            return fd
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    /// Starts a non-blocking TCP connect. Returns the descriptor; the connection is complete when
    /// it turns writable and `pendingError` reads 0 (connect(2), "EINPROGRESS").
    package static func connectTCP(_ address: SocketAddress) throws(SystemError) -> CInt {
        let fd = try open(family: address.family, type: CInt(SOCK_STREAM.rawValue))
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc == -1 {
            let code = cglb_errno()
            if code != EINPROGRESS && code != EINTR {
                closeDescriptor(fd)
                throw SystemError(call: "connect", errno: code)
            }
        }
        return fd
    }

    /// The result of a non-blocking connect, or any error pending on the socket (SO_ERROR).
    package static func pendingError(_ fd: CInt) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return cglb_errno() }
        return value
    }

    /// Accepts one connection as a non-blocking descriptor; nil when none is waiting.
    package static func accept(_ listener: CInt) throws(SystemError) -> (fd: CInt, peer: SocketAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("accept4") { cglb_accept_nonblocking(listener, sa, &length) }
            }
        }
        guard let fd else { return nil }
        return (fd, SocketAddress(storage: storage))
    }

    /// The address a socket is bound to (for port 0 listeners in tests).
    package static func localAddress(_ fd: CInt) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    /// Reads into `buffer`'s writable space, growing it to at least `chunk` bytes first.
    /// Returns the byte count, 0 at end of stream, or nil when nothing is ready.
    package static func read(_ fd: CInt, into buffer: inout ByteBuffer, chunk: Int = 16384) throws(SystemError) -> Int? {
        buffer.reserveWritable(chunk)
        var wouldBlock = false
        let count = try buffer.writeWithUnsafeMutableBytes { raw throws(SystemError) in
            guard let n = try syscall("recv", { cglb_recv(fd, raw.baseAddress, raw.count) }) else {
                wouldBlock = true
                return 0
            }
            return n
        }
        return wouldBlock ? nil : count
    }

    /// Writes as much of `buffer` as the socket takes and consumes it. Returns false when the
    /// socket is full and bytes remain (wait for EPOLLOUT). MSG_NOSIGNAL: a reset peer is an
    /// error, not a SIGPIPE.
    package static func flush(_ fd: CInt, _ buffer: inout ByteBuffer) throws(SystemError) -> Bool {
        while buffer.readableBytes > 0 {
            let result: Result<Int?, SystemError> = buffer.withUnsafeReadableBytes { raw in
                do throws(SystemError) {
                    return .success(try syscall("send") { cglb_send(fd, raw.baseAddress, raw.count, CInt(MSG_NOSIGNAL)) })
                } catch {
                    return .failure(error)
                }
            }
            guard let sent = try result.get() else { return false }
            buffer.moveReaderIndex(forwardBy: sent)
        }
        return true
    }

    /// Receives one datagram into `buffer` (which must have capacity); returns its length and
    /// sender, or nil when none is waiting. A datagram longer than the buffer is truncated
    /// (MSG_TRUNC is not asked for: DNS queries longer than the buffer are malformed anyway).
    package static func receive(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> (count: Int, peer: SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("recvfrom") { recvfrom(fd, buffer.baseAddress, buffer.count, 0, sa, &length) }
            }
        }
        guard let count, let peer = SocketAddress(storage: storage) else { return nil }
        return (count, peer)
    }

    /// Sends one datagram. Returns false when the socket buffer is full (the datagram is dropped,
    /// as UDP would drop it on the wire; the client retries).
    package static func send(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, to peer: SocketAddress) throws(SystemError) -> Bool {
        let result: Result<Int?, SystemError> = peer.withSockAddr { sa, length in
            do throws(SystemError) {
                return .success(try syscall("sendto") { sendto(fd, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL), sa, length) })
            } catch {
                return .failure(error)
            }
        }
        return try result.get() != nil
    }

    /// Sets the Don't Fragment bit on every datagram sent and ignores path-MTU updates
    /// (IP_PMTUDISC_PROBE): RFC 9715 §3.1 asks DNS responders not to fragment, and an answer
    /// over UDP is at most the 1232 bytes GLB advertises, under any real path's MTU. Not trusting
    /// ICMP "fragmentation needed" also takes away a forged one's way to shrink our packets
    /// (Linux commit 482fc609). The kernel's default, IP_PMTUDISC_WANT, leaves DF off on
    /// loopback and then draws each packet's IP ID from a shared hashed table.
    package static func setDontFragment(_ fd: CInt, family: CInt) throws(SystemError) {
        if family == AF_INET6 {
            try setOption(fd, CInt(IPPROTO_IPV6), IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
        } else {
            try setOption(fd, CInt(IPPROTO_IP), IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        }
    }

    /// Shuts down the reading side: a thread blocked in a receive on `fd` wakes with nothing
    /// received. Linux does this for unconnected UDP sockets too (and returns ENOTCONN, ignored).
    package static func shutdownReading(_ fd: CInt) {
        _ = Glibc.shutdown(fd, CInt(SHUT_RD))
    }

    package static func setNoDelay(_ fd: CInt) {
        var one: CInt = 1
        _ = setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
    }

    private static func open(family: CInt, type: CInt) throws(SystemError) -> CInt {
        try syscall("socket") { Glibc.socket(family, type | cglb_sock_flags(), 0) } ?? -1
    }

    private static func setOption(_ fd: CInt, _ level: CInt, _ name: CInt, _ value: CInt) throws(SystemError) {
        var value = value
        _ = try syscall("setsockopt") { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) }
    }

    private static func bind(_ fd: CInt, _ address: SocketAddress) throws(SystemError) {
        if address.family == AF_INET6 { try setOption(fd, CInt(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        let rc = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        if rc == -1 {
            let code = cglb_errno()
            throw SystemError(call: "bind \(address)", errno: code)
        }
    }
}
